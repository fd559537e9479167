-- The inspector's phone page (service/web/inspect/) records market checks
-- made offline and sends them when the network is back, so a check may
-- arrive twice: with an Idempotency-Key, the second is answered from the
-- first (handlers/inspections.c). Also the markets' stalls, which the page
-- offers to pick from, and `agricert import markets`.

-- A market check sent with an Idempotency-Key: the key, per inspector, the
-- request's fingerprint (a retry must send the same body) and the answer
-- given, stored before it is sent.
CREATE TABLE inspection_request (
	inspector_id integer NOT NULL REFERENCES subject (id),
	idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 512),
	request_fp text NOT NULL,
	inspection_id bigint NOT NULL UNIQUE REFERENCES inspection (id),
	answer json,
	PRIMARY KEY (inspector_id, idempotency_key)
);

-- record_inspection() of 0014 with an optional idempotency key p_idem and
-- the request body p_body it fingerprints. A key the inspector used before
-- stores nothing: one row comes back with replayed true, the stored check's
-- id, whether the body is the same, and the answer given then. While that
-- answer is being stored (for 30 seconds after the check) answer is NULL:
-- the first request is still under way. Past that, a check whose answer was
-- never stored (the service stopped in between) is answered from the stored
-- check, without its per-label results. Requests with the same key wait for
-- each other. Otherwise the rows of record_inspection(), replayed false, and
-- the key is kept with the stored check.
CREATE FUNCTION record_inspection_once(p_market integer, p_inspector integer, p_seller text,
	p_seller_subject integer, p_notes text, p_serial bigint[], p_item integer[],
	p_payload text[], p_idx integer[], p_codes integer, p_problems integer,
	p_region_lo bigint, p_region_hi bigint, p_idem text DEFAULT NULL,
	p_body text DEFAULT NULL)
RETURNS TABLE (id bigint, market_found boolean, replayed boolean, same_request boolean,
	answer json, idx integer, known boolean, revoked boolean, issued boolean, product text,
	issuer text, suspicion text)
LANGUAGE plpgsql AS $$
DECLARE
	rec record;
	stored boolean := false;
BEGIN
	IF p_idem IS NOT NULL THEN
		PERFORM pg_advisory_xact_lock(hashtextextended('inspection:' || p_inspector || ':'
			|| p_idem, 0));
		RETURN QUERY
		SELECT q.inspection_id, true, true, q.request_fp = md5(coalesce(p_body, '')),
			CASE WHEN q.answer IS NOT NULL THEN q.answer
				WHEN i.inspected_at > now() - interval '30 seconds' THEN NULL
				ELSE json_build_object('id', i.id, 'market', i.market_id,
					'codes', i.codes, 'problems', i.problems, 'results', '[]'::json,
					'message_zh', format('该次查验已于 %s 记录',
						cst_text(i.inspected_at))) END,
			NULL::integer, NULL::boolean, NULL::boolean, NULL::boolean, NULL::text,
			NULL::text, NULL::text
		FROM inspection_request q JOIN inspection i ON i.id = q.inspection_id
		WHERE q.inspector_id = p_inspector AND q.idempotency_key = p_idem;
		IF FOUND THEN
			RETURN;
		END IF;
	END IF;
	FOR rec IN SELECT * FROM record_inspection(p_market, p_inspector, p_seller,
			p_seller_subject, p_notes, p_serial, p_item, p_payload, p_idx, p_codes,
			p_problems, p_region_lo, p_region_hi) LOOP
		IF p_idem IS NOT NULL AND rec.id IS NOT NULL AND NOT stored THEN
			INSERT INTO inspection_request (inspector_id, idempotency_key, request_fp,
				inspection_id)
			VALUES (p_inspector, p_idem, md5(coalesce(p_body, '')), rec.id);
			stored := true;
		END IF;
		RETURN QUERY SELECT rec.id, rec.market_found, false, true, NULL::json, rec.idx,
			rec.known, rec.revoked, rec.issued, rec.product, rec.issuer, rec.suspicion;
	END LOOP;
END $$;

-- The answer given to a check sent with an Idempotency-Key, for its retries.
CREATE FUNCTION store_inspection_answer(p_inspection bigint, p_answer json)
RETURNS TABLE (stored boolean)
LANGUAGE sql AS $$
	WITH u AS (UPDATE inspection_request SET answer = p_answer
		WHERE inspection_id = p_inspection RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

-- A market's stalls (摊位): a number and who sells there, so that an
-- inspector picks the stall of a check instead of typing it.
CREATE TABLE market_stall (
	market_id integer NOT NULL REFERENCES market (id),
	code text NOT NULL CHECK (length(code) BETWEEN 1 AND 20),
	seller text CHECK (length(seller) <= 100),
	seller_id integer REFERENCES subject (id),
	PRIMARY KEY (market_id, code)
);
SELECT audit_attach('market_stall', 'code', 'create', 'update', 'delete');

-- The stalls of market p_market, in the order of their numbers; found is
-- false when there is no such market.
CREATE FUNCTION market_stalls(p_market integer)
RETURNS TABLE (found boolean, doc json)
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM market WHERE market.id = p_market),
		json_build_object('market', p_market, 'stalls',
			(SELECT coalesce(json_agg(json_build_object('code', s.code, 'seller', s.seller,
				'seller_subject', s.seller_id) ORDER BY length(s.code), s.code), '[]')
			FROM market_stall s WHERE s.market_id = p_market))
$$;

-- One line of `agricert import markets`: a market (found by name and
-- region, else added; its kind and address replaced) and, with p_stall,
-- one of its stalls (added, or its seller replaced). Returns the market.
CREATE FUNCTION cli_import_market(p_name text, p_region_code bigint, p_kind text,
	p_address text, p_stall text, p_seller text)
RETURNS TABLE (market_id integer)
LANGUAGE plpgsql AS $$
DECLARE
	m integer;
BEGIN
	SELECT mk.id INTO m FROM market mk WHERE mk.name = p_name
		AND mk.region_code = p_region_code ORDER BY mk.id LIMIT 1;
	IF m IS NULL THEN
		INSERT INTO market (name, region_code, kind, address)
		VALUES (p_name, p_region_code, p_kind, p_address) RETURNING market.id INTO m;
	ELSE
		UPDATE market SET kind = p_kind, address = p_address
		WHERE market.id = m AND (kind, address) IS DISTINCT FROM (p_kind, p_address);
	END IF;
	IF p_stall IS NOT NULL THEN
		INSERT INTO market_stall (market_id, code, seller) VALUES (m, p_stall, p_seller)
		ON CONFLICT ON CONSTRAINT market_stall_pkey DO UPDATE SET seller = EXCLUDED.seller
		WHERE market_stall.seller IS DISTINCT FROM EXCLUDED.seller;
	END IF;
	market_id := m;
	RETURN NEXT;
END $$;

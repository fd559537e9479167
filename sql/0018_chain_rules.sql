-- The supply chain's quantity rules, in the database (issue 10, part 1), so
-- that no client path and no race can break them:
--
-- * Units: kg, g, t and 斤 convert to each other (through grams); a count
--   unit (个, 头, 箱, 袋, 捆, 只) converts to nothing else.
-- * Collecting (record_receipts()): a receipt is stored in its
--   certificate's unit; the receipts of a certificate, over all its items
--   and all purchasers, never add up to more than its quantity; without a
--   quantity a receipt takes the package's share; nobody collects their own
--   certificates. The certificates' rows are locked first (FOR NO KEY
--   UPDATE, in serial order), so two purchasers racing for the last
--   kilograms queue, and the second sees the first's receipt.
-- * Re-issuing (reissue()): each input is covered by what the purchaser
--   holds of it (chain_stock: received and not yet used, in the source's
--   unit), its product is the new certificate's or one the new (mixed)
--   product is declared to contain (product_mix), and the new quantity is
--   at most what the inputs give, converted (loss allowed, gain not). The
--   purchaser's subject row is locked first: only its own re-issues use up
--   what it holds, so they queue there and each check sees the ones before.
-- * A suspended or blacklisted subject neither collects nor re-issues: both
--   check its status under the lock on its subject row, which a status
--   change (UPDATE subject) waits for.
--
-- Inputs may also be external lots (外来合格证: a paper certificate, another
-- system's, a test report, or the purchaser's own passing rapid test),
-- which 0019_external.sql registers: their tables are here because the
-- rules cover them. A refusal raises SQLSTATE AC001 with a JSON message
-- {"code": ..., ...} that the service turns into its answer
-- (handlers/ac_chain.c). Rows that break these rules from before are
-- reported (chain_rule_violations), not changed.

-- Units, as proto/ac_code.h numbers them: grams per unit, NULL for a count.
CREATE FUNCTION unit_grams(p_unit smallint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT (CASE p_unit WHEN 1 THEN 1000 WHEN 2 THEN 1 WHEN 3 THEN 1000000 WHEN 4 THEN 500
		END)::numeric
$$;

-- p_milli thousandths of p_from in thousandths of p_to, exactly; NULL when
-- the units do not convert.
CREATE FUNCTION unit_convert(p_milli numeric, p_from smallint, p_to smallint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_from = p_to THEN p_milli
		ELSE p_milli * unit_grams(p_from) / unit_grams(p_to) END
$$;

-- Item p_item's share of a certificate of p_quantity thousandths on
-- p_labels packages: the shares of all items add up to the quantity exactly.
CREATE FUNCTION package_share(p_quantity bigint, p_labels integer, p_item integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_quantity * p_item / p_labels - p_quantity * (p_item - 1) / p_labels
$$;

-- A declared mix product (e.g. 混合蔬菜) and the products it may contain.
CREATE TABLE product_mix (
	product_id integer NOT NULL REFERENCES product (id),
	member_id integer NOT NULL REFERENCES product (id),
	PRIMARY KEY (product_id, member_id),
	CHECK (member_id <> product_id)
);
SELECT audit_attach('product_mix', 'product_id', 'create', 'update', 'delete');

-- Whether a certificate of p_product may be made from p_member.
CREATE FUNCTION product_may_contain(p_product integer, p_member integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_member = p_product OR EXISTS (SELECT 1 FROM product_mix m
		WHERE m.product_id = p_product AND m.member_id = p_member)
$$;

-- A product's mix (handlers/mixes.c): whether the product exists, and the
-- names of the products it may contain.
CREATE FUNCTION product_mix_of(p_product integer)
RETURNS TABLE (found boolean, name text, may_contain json)
LANGUAGE sql STABLE AS $$
	SELECT p.id IS NOT NULL, p.name, coalesce((SELECT json_agg(x.name ORDER BY x.id)
		FROM product_mix m JOIN product x ON x.id = m.member_id
		WHERE m.product_id = p_product), '[]')
	FROM (SELECT 1) one LEFT JOIN product p ON p.id = p_product
$$;

-- Declares (again) what product p_product may contain: p_members replaces
-- the list (empty: no longer a mix). Answers as product_mix_of.
CREATE FUNCTION set_product_mix(p_product integer, p_members integer[])
RETURNS TABLE (found boolean, name text, may_contain json)
LANGUAGE sql AS $$
	DELETE FROM product_mix m WHERE m.product_id = p_product
		AND m.member_id <> ALL (p_members);
	INSERT INTO product_mix (product_id, member_id)
		SELECT p.id, x FROM product p, unnest(p_members) x WHERE p.id = p_product
		ON CONFLICT DO NOTHING;
	SELECT * FROM product_mix_of(p_product);
$$;

-- External lots a purchaser registered (0019_external.sql): a paper
-- certificate or one from another system (kind certificate: its number),
-- a test report (lab, report number, a passing result), or a lot bought
-- without a certificate and backed by the purchaser's own passing rapid
-- test (own_test). issuer_name is whoever sold it.
CREATE TABLE external_certificate (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	purchaser_id integer NOT NULL REFERENCES subject (id),
	kind text NOT NULL CHECK (kind IN ('certificate', 'test_report', 'own_test')),
	number text CHECK (length(number) BETWEEN 1 AND 64),
	issuer_name text NOT NULL CHECK (length(issuer_name) BETWEEN 1 AND 100),
	contact text CHECK (length(contact) <= 40),
	product_id integer NOT NULL REFERENCES product (id),
	quantity_milli bigint NOT NULL CHECK (quantity_milli > 0),
	unit smallint NOT NULL CHECK (unit BETWEEN 1 AND 10),
	origin text NOT NULL CHECK (length(origin) BETWEEN 1 AND 300),
	origin_code bigint,
	issued_on date NOT NULL,
	lab text CHECK (length(lab) BETWEEN 1 AND 100),
	report_number text CHECK (length(report_number) BETWEEN 1 AND 64),
	result text CHECK (result = 'pass'),
	test_id bigint REFERENCES rapid_test (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (kind <> 'certificate' OR number IS NOT NULL),
	CHECK (kind <> 'test_report' OR (lab IS NOT NULL AND report_number IS NOT NULL
		AND result IS NOT NULL)),
	CHECK (kind <> 'own_test' OR test_id IS NOT NULL)
);
CREATE INDEX external_certificate_purchaser ON external_certificate (purchaser_id, id);
SELECT audit_attach('external_certificate', 'id', 'create', 'update', 'delete');

-- What a re-issued certificate (serial) drew from an external lot.
CREATE TABLE external_input (
	serial bigint NOT NULL REFERENCES certificate (serial),
	external_id bigint NOT NULL REFERENCES external_certificate (id),
	quantity_milli bigint NOT NULL CHECK (quantity_milli > 0),
	unit smallint NOT NULL,
	PRIMARY KEY (serial, external_id, unit)
);
CREATE INDEX external_input_external ON external_input (external_id);
SELECT audit_attach('external_input', 'serial', 'create', 'update', 'delete');

-- What each purchaser (holder) may draw from: per inbound certificate, what
-- it received and what its re-issues used, in the certificate's unit; per
-- external lot it registered, the lot's quantity and what was used, in the
-- lot's unit. Replaces the per-unit view stock of 0007.
DROP FUNCTION purchaser_stock(integer);
DROP VIEW stock;
CREATE VIEW chain_stock AS
SELECT r.purchaser_id AS holder_id, 'certificate'::text AS kind, c.serial AS source_id,
	c.product_id, c.unit, sum(unit_convert(r.quantity_milli, r.unit, c.unit)) AS received_milli,
	coalesce((SELECT sum(unit_convert(ci.quantity_milli, ci.unit, c.unit))
		FROM certificate_input ci JOIN certificate o ON o.serial = ci.serial
		WHERE o.issuer_id = r.purchaser_id AND ci.input_serial = c.serial), 0) AS used_milli
FROM receipt r JOIN certificate c ON c.serial = r.serial
GROUP BY r.purchaser_id, c.serial
UNION ALL
SELECT e.purchaser_id, 'external', e.id, e.product_id, e.unit, e.quantity_milli,
	coalesce((SELECT sum(unit_convert(x.quantity_milli, x.unit, e.unit))
		FROM external_input x WHERE x.external_id = e.id), 0)
FROM external_certificate e;

-- A purchaser's stock (GET /api/v1/stock): chain_stock with each source's
-- number, product and issuer; at most 10,000 rows.
CREATE FUNCTION purchaser_stock(p_purchaser integer)
RETURNS TABLE (kind text, source_id bigint, number text, unit smallint, received_milli bigint,
	used_milli bigint, product text, issuer_id integer, issuer_name text)
LANGUAGE sql STABLE AS $$
	SELECT st.kind, st.source_id,
		coalesce(e.number, e.report_number, lpad(c.serial::text, 12, '0')), st.unit,
		round(st.received_milli)::bigint, round(st.used_milli)::bigint, p.name, c.issuer_id,
		coalesce(s.name, e.issuer_name)
	FROM chain_stock st
	JOIN product p ON p.id = st.product_id
	LEFT JOIN certificate c ON st.kind = 'certificate' AND c.serial = st.source_id
	LEFT JOIN subject s ON s.id = c.issuer_id
	LEFT JOIN external_certificate e ON st.kind = 'external' AND e.id = st.source_id
	WHERE st.holder_id = p_purchaser
	ORDER BY st.kind, st.source_id
	LIMIT 10000
$$;

-- A refusal: SQLSTATE AC001 with p_detail ({"code": ..., ...}) as message.
CREATE FUNCTION chain_refuse(p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'AC001', MESSAGE = p_detail::text;
END $$;

-- Locks the subject's row (its collecting and re-issuing queue there) and
-- refuses one that is suspended or blacklisted (code subject_inactive).
CREATE FUNCTION chain_lock_active(p_subject integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_status text;
BEGIN
	SELECT s.status INTO v_status FROM subject s WHERE s.id = p_subject FOR NO KEY UPDATE;
	IF v_status IS DISTINCT FROM 'active' THEN
		PERFORM chain_refuse(jsonb_build_object('code', 'subject_inactive', 'status', v_status));
	END IF;
END $$;

-- Collecting (收取): the item codes a purchaser scanned, whose signatures the
-- service has checked, one array per column; p_idx is each code's place in
-- the request; p_quantity NULL takes the package's share, p_unit NULL the
-- certificate's unit. Entries are judged in order, each seeing those before
-- it. Every entry comes back with its status (recorded, already_collected,
-- unknown_certificate, revoked, not_issued, own_certificate, unit_mismatch,
-- invalid_quantity, exceeds_certificate), what was recorded (in the
-- certificate's unit) and, for the quantity rules, what is left of the
-- certificate after it.
DROP FUNCTION record_receipts(integer, bigint[], integer[], text[], bigint[], smallint[],
	integer[]);
CREATE FUNCTION record_receipts(p_purchaser integer, p_serial bigint[], p_item integer[],
	p_payload text[], p_quantity bigint[], p_unit smallint[], p_idx integer[])
RETURNS TABLE (idx integer, status text, quantity_milli bigint, unit smallint,
	left_milli bigint)
LANGUAGE plpgsql AS $$
DECLARE
	c certificate;
	v_q numeric;
	v_left numeric;
BEGIN
	PERFORM chain_lock_active(p_purchaser);
	PERFORM 1 FROM certificate x WHERE x.serial = ANY (p_serial) ORDER BY x.serial
		FOR NO KEY UPDATE;
	FOR i IN 1 .. coalesce(array_length(p_serial, 1), 0) LOOP
		idx := p_idx[i];
		quantity_milli := NULL;
		unit := NULL;
		left_milli := NULL;
		SELECT * INTO c FROM certificate x WHERE x.serial = p_serial[i];
		status := CASE WHEN c.serial IS NULL THEN 'unknown_certificate'
			WHEN c.revoked_at IS NOT NULL THEN 'revoked'
			WHEN c.item_codes[p_item[i]] IS DISTINCT FROM p_payload[i] THEN 'not_issued'
			WHEN c.issuer_id = p_purchaser THEN 'own_certificate'
			WHEN EXISTS (SELECT 1 FROM receipt r WHERE r.serial = c.serial
				AND r.item = p_item[i]) THEN 'already_collected' END;
		IF status IS NULL THEN
			unit := c.unit;
			v_q := CASE WHEN p_quantity[i] IS NULL
				THEN package_share(c.quantity_milli, c.labels, p_item[i])
				ELSE round(unit_convert(p_quantity[i], coalesce(p_unit[i], c.unit),
					c.unit)) END;
			SELECT c.quantity_milli - coalesce(sum(unit_convert(r.quantity_milli, r.unit,
				c.unit)), 0) INTO v_left FROM receipt r WHERE r.serial = c.serial;
			left_milli := greatest(floor(v_left), 0);
			status := CASE WHEN v_q IS NULL THEN 'unit_mismatch'
				WHEN v_q < 1 THEN 'invalid_quantity'
				WHEN v_q > v_left THEN 'exceeds_certificate'
				ELSE 'recorded' END;
		END IF;
		IF status = 'recorded' THEN
			INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit)
			VALUES (p_purchaser, c.serial, p_item[i], v_q, c.unit);
			quantity_milli := v_q;
			left_milli := floor(v_left - v_q);
		END IF;
		RETURN NEXT;
	END LOOP;
END $$;

-- One input of a re-issue by p_issuer of p_product in p_unit: a draw of
-- p_qty thousandths of p_qty_unit from inbound certificate p_serial or
-- external lot p_external. Refuses (AC001) a unit that converts neither to
-- the source's nor to the new certificate's (unit_mismatch), an external
-- lot that is not the issuer's (unknown_external), a draw beyond what the
-- issuer holds of the source (insufficient_input, in the source's unit),
-- and a source whose product the new one may not contain
-- (product_mismatch). Returns the draw in the new certificate's unit.
CREATE FUNCTION reissue_draw(p_issuer integer, p_product integer, p_unit smallint,
	p_serial bigint, p_external bigint, p_qty bigint, p_qty_unit smallint) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
	s chain_stock;
	v_in jsonb := CASE WHEN p_external IS NULL THEN jsonb_build_object('input', p_serial)
		ELSE jsonb_build_object('external', p_external) END;
	v_req numeric;
	v_out numeric := unit_convert(p_qty, p_qty_unit, p_unit);
BEGIN
	SELECT * INTO s FROM chain_stock x WHERE x.holder_id = p_issuer
		AND x.kind = CASE WHEN p_external IS NULL THEN 'certificate' ELSE 'external' END
		AND x.source_id = coalesce(p_external, p_serial);
	IF s.source_id IS NULL AND p_external IS NOT NULL THEN
		PERFORM chain_refuse(v_in || jsonb_build_object('code', 'unknown_external'));
	END IF;
	v_req := unit_convert(p_qty, p_qty_unit, coalesce(s.unit, p_qty_unit));
	IF v_req IS NULL OR v_out IS NULL THEN
		PERFORM chain_refuse(v_in || jsonb_build_object('code', 'unit_mismatch',
			'unit', p_qty_unit, 'to_unit', CASE WHEN v_req IS NULL THEN s.unit ELSE p_unit END));
	END IF;
	IF coalesce(s.used_milli, 0) + v_req > coalesce(s.received_milli, 0) THEN
		PERFORM chain_refuse(v_in || jsonb_build_object('code', 'insufficient_input',
			'unit', coalesce(s.unit, p_qty_unit),
			'received_milli', round(coalesce(s.received_milli, 0)),
			'used_milli', round(coalesce(s.used_milli, 0)), 'requested_milli', round(v_req),
			'short_milli', ceil(coalesce(s.used_milli, 0) + v_req
				- coalesce(s.received_milli, 0))));
	END IF;
	IF NOT product_may_contain(p_product, s.product_id) THEN
		PERFORM chain_refuse(v_in || jsonb_build_object('code', 'product_mismatch',
			'product', (SELECT p.name FROM product p WHERE p.id = s.product_id),
			'to_product', (SELECT p.name FROM product p WHERE p.id = p_product)));
	END IF;
	RETURN v_out;
END $$;

-- Re-issues a certificate with its inputs (style 2): p_in_serial[i] (an
-- inbound certificate) or p_in_external[i] (an external lot), drawing
-- p_in_qty[i] thousandths of p_in_unit[i]. Each input is checked by
-- reissue_draw(); the new quantity may not exceed what they give in its
-- unit (output_exceeds_inputs). A key already taken (Idempotency-Key)
-- stores nothing and returns no row. Replaces 0007's reissue().
DROP FUNCTION reissue(bigint, int, int, smallint, int, bigint, smallint, text, bigint, text,
	timestamptz, int, text, text, text, text, bigint[], bigint[], smallint[]);
CREATE FUNCTION reissue(p_serial bigint, p_kid int, p_issuer int, p_basis smallint,
	p_product int, p_qty bigint, p_unit smallint, p_origin text, p_origin_code bigint,
	p_contact text, p_issued_at timestamptz, p_labels int, p_codes text,
	p_idem text, p_fp text, p_printer text,
	p_in_serial bigint[], p_in_external bigint[], p_in_qty bigint[], p_in_unit smallint[])
RETURNS TABLE (serial bigint, print_job_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_total numeric := 0;
	v_job bigint;
BEGIN
	PERFORM chain_lock_active(p_issuer);
	IF EXISTS (SELECT 1 FROM certificate c WHERE c.issuer_id = p_issuer
			AND c.idempotency_key = p_idem) THEN
		RETURN;
	END IF;
	FOR i IN 1 .. coalesce(array_length(p_in_qty, 1), 0) LOOP
		v_total := v_total + reissue_draw(p_issuer, p_product, p_unit, p_in_serial[i],
			p_in_external[i], p_in_qty[i], p_in_unit[i]);
	END LOOP;
	IF p_qty > v_total THEN
		PERFORM chain_refuse(jsonb_build_object('code', 'output_exceeds_inputs',
			'quantity_milli', p_qty, 'unit', p_unit, 'inputs_milli', floor(v_total)));
	END IF;
	INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id,
		quantity_milli, unit, origin, origin_code, contact, labels, item_codes,
		idempotency_key, request_fp, issued_at)
	VALUES (p_serial, p_kid, p_issuer, 2, p_basis, p_product, p_qty, p_unit, p_origin,
		p_origin_code, p_contact, p_labels, string_to_array(p_codes, ','), p_idem,
		p_fp, p_issued_at);
	INSERT INTO certificate_input (serial, input_serial, quantity_milli, unit)
		SELECT p_serial, t.s, t.q, t.u FROM unnest(p_in_serial, p_in_qty, p_in_unit)
			AS t(s, q, u) WHERE t.s IS NOT NULL;
	INSERT INTO external_input (serial, external_id, quantity_milli, unit)
		SELECT p_serial, t.e, t.q, t.u FROM unnest(p_in_external, p_in_qty, p_in_unit)
			AS t(e, q, u) WHERE t.e IS NOT NULL;
	IF p_printer IS NOT NULL THEN
		INSERT INTO print_job (serial, printer_id) VALUES (p_serial, p_printer)
			RETURNING id INTO v_job;
	END IF;
	serial := p_serial;
	print_job_id := v_job;
	RETURN NEXT;
END $$;

-- Every draw of every re-issued certificate (serial), from an inbound
-- certificate (input_serial) or an external lot (external_id), with the
-- source's product and unit.
CREATE VIEW chain_draw AS
SELECT ci.serial, ci.input_serial, NULL::bigint AS external_id, ci.quantity_milli, ci.unit,
	i.product_id AS source_product, i.unit AS source_unit
FROM certificate_input ci JOIN certificate i ON i.serial = ci.input_serial
UNION ALL
SELECT x.serial, NULL, x.external_id, x.quantity_milli, x.unit, e.product_id, e.unit
FROM external_input x JOIN external_certificate e ON e.id = x.external_id;

-- Rows from before these rules that break them, kept as they are for the
-- county office to look into: the rule, the certificate concerned (the one
-- collected, or the one re-issued), the external lot concerned, and what is
-- wrong.
CREATE VIEW chain_rule_violations AS
SELECT 'exceeds_certificate'::text AS rule, c.serial, NULL::bigint AS external_id,
	format('receipts add up to %s thousandths, the certificate says %s',
		sum(unit_convert(r.quantity_milli, r.unit, c.unit)), c.quantity_milli) AS detail
FROM receipt r JOIN certificate c ON c.serial = r.serial
GROUP BY c.serial
HAVING sum(unit_convert(r.quantity_milli, r.unit, c.unit)) > c.quantity_milli
UNION ALL
SELECT CASE WHEN r.purchaser_id = c.issuer_id THEN 'own_certificate' ELSE 'unit_mismatch' END,
	c.serial, NULL, format('receipt %s of item %s by subject %s', r.id, r.item, r.purchaser_id)
FROM receipt r JOIN certificate c ON c.serial = r.serial
WHERE r.purchaser_id = c.issuer_id OR unit_convert(r.quantity_milli, r.unit, c.unit) IS NULL
UNION ALL
SELECT CASE WHEN NOT product_may_contain(o.product_id, d.source_product)
		THEN 'product_mismatch' ELSE 'unit_mismatch' END,
	o.serial, d.external_id, format('drawn from certificate %s', d.input_serial)
FROM chain_draw d JOIN certificate o ON o.serial = d.serial
WHERE NOT product_may_contain(o.product_id, d.source_product)
	OR unit_convert(d.quantity_milli, d.unit, d.source_unit) IS NULL
	OR unit_convert(d.quantity_milli, d.unit, o.unit) IS NULL
UNION ALL
SELECT 'output_exceeds_inputs', o.serial, NULL,
	format('%s thousandths from inputs giving %s', o.quantity_milli,
		sum(unit_convert(d.quantity_milli, d.unit, o.unit)))
FROM chain_draw d JOIN certificate o ON o.serial = d.serial
GROUP BY o.serial
HAVING o.quantity_milli > sum(unit_convert(d.quantity_milli, d.unit, o.unit))
UNION ALL
SELECT 'insufficient_input', CASE WHEN st.kind = 'certificate' THEN st.source_id END,
	CASE WHEN st.kind = 'external' THEN st.source_id END,
	format('subject %s used %s thousandths of the %s it holds', st.holder_id,
		st.used_milli, st.received_milli)
FROM chain_stock st WHERE st.used_milli > st.received_milli;

SET LOCAL client_min_messages = notice;
DO $$
DECLARE
	v_n bigint := (SELECT count(*) FROM chain_rule_violations);
BEGIN
	IF v_n > 0 THEN
		RAISE NOTICE '% existing rows break the supply-chain rules of 0018_chain_rules.sql; they are kept as they are: SELECT * FROM chain_rule_violations', v_n;
	END IF;
END $$;

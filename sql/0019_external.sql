-- Certificates from outside (外来合格证, issue 10, part 3): a purchaser
-- registers a paper certificate or one from another system, a test report,
-- or a lot bought from a farmer without a certificate and backed by its own
-- passing rapid test (handlers/external.c). The tables and the rules that
-- make them re-issue inputs are in 0018_chain_rules.sql; here: registering,
-- listing, the photo, the retention floor, and the lots in the trace, the
-- EPCIS export and a recall.

-- Unit names as the API writes them (proto/ac_code.c).
CREATE FUNCTION unit_name(p_unit smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT (ARRAY['kg', 'g', 't', 'jin', 'piece', 'head', 'box', 'bag', 'bundle',
		'only'])[p_unit]
$$;

-- The photo of an external certificate: a JPEG of at most 2 MB (the service
-- checks the magic bytes), with its SHA-256 as hex. Kept apart from the
-- certificate so that lists and the audit log do not carry it.
CREATE TABLE external_photo (
	external_id bigint PRIMARY KEY REFERENCES external_certificate (id),
	jpeg bytea NOT NULL CHECK (octet_length(jpeg) BETWEEN 3 AND 2097152),
	sha256 text NOT NULL GENERATED ALWAYS AS (encode(sha256(jpeg), 'hex')) STORED,
	bytes integer NOT NULL GENERATED ALWAYS AS (octet_length(jpeg)) STORED,
	uploaded_at timestamptz NOT NULL DEFAULT now()
);
SELECT audit_attach('external_photo', 'external_id', 'create', 'update', 'delete', 'jpeg');

-- An external certificate as the API shows it, with what was used of it.
CREATE FUNCTION external_json(e external_certificate) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', e.id, 'kind', e.kind, 'number', e.number,
		'issuer_name', e.issuer_name, 'contact', e.contact, 'product', p.name,
		'quantity', trim_scale(e.quantity_milli / 1000.0), 'unit', unit_name(e.unit),
		'origin', e.origin, 'origin_code', lpad(e.origin_code::text, 12, '0'),
		'date', e.issued_on, 'lab', e.lab, 'report_number', e.report_number,
		'result', e.result, 'test', e.test_id,
		'purchaser', json_build_object('id', s.id, 'name', s.name),
		'used', trim_scale(round(st.used_milli) / 1000.0),
		'left', trim_scale(round(st.received_milli - st.used_milli) / 1000.0),
		'photo', CASE WHEN ph.sha256 IS NOT NULL THEN json_build_object('sha256', ph.sha256,
			'bytes', ph.bytes, 'href', '/api/v1/external-certificates/' || e.id || '/photo')
			END,
		'created_at', to_char(e.created_at AT TIME ZONE 'Asia/Shanghai',
			'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'))
	FROM product p, subject s, chain_stock st
	LEFT JOIN external_photo ph ON ph.external_id = e.id
	WHERE p.id = e.product_id AND s.id = e.purchaser_id AND st.kind = 'external'
		AND st.source_id = e.id AND st.holder_id = e.purchaser_id
$$;

-- Registers an external certificate for p_purchaser, who must be active
-- (AC001 subject_inactive). A lot backed by the purchaser's own rapid test
-- (own_test) names a passing test of the purchaser for that product, else
-- nothing is stored (tested false).
CREATE FUNCTION register_external(p_purchaser integer, p_kind text, p_number text,
	p_issuer_name text, p_contact text, p_product integer, p_quantity bigint,
	p_unit smallint, p_origin text, p_origin_code bigint, p_issued_on date, p_lab text,
	p_report_number text, p_result text, p_test bigint)
RETURNS TABLE (tested boolean, external json)
LANGUAGE plpgsql AS $$
DECLARE
	v_row external_certificate;
BEGIN
	PERFORM chain_lock_active(p_purchaser);
	tested := p_kind <> 'own_test' OR EXISTS (SELECT 1 FROM rapid_test t
		WHERE t.id = p_test AND t.subject_id = p_purchaser AND t.product_id = p_product
		AND t.result = 'pass');
	IF tested THEN
		INSERT INTO external_certificate (purchaser_id, kind, number, issuer_name, contact,
			product_id, quantity_milli, unit, origin, origin_code, issued_on, lab,
			report_number, result, test_id)
		VALUES (p_purchaser, p_kind, p_number, p_issuer_name, p_contact, p_product,
			p_quantity, p_unit, p_origin, p_origin_code, p_issued_on, p_lab,
			p_report_number, p_result, p_test)
		RETURNING * INTO v_row;
		external := external_json(v_row);
	END IF;
	RETURN NEXT;
END $$;

-- The external certificates a caller may see, newest first (at most 1,000):
-- p_purchaser's own, or (p_purchaser NULL, for staff) those of purchasers
-- in the regions p_region_lo..p_region_hi.
CREATE FUNCTION external_list(p_purchaser integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (items json)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(external_json(e) ORDER BY e.id DESC), '[]')
	FROM (SELECT e.* FROM external_certificate e JOIN subject s ON s.id = e.purchaser_id
		WHERE (p_purchaser IS NULL OR e.purchaser_id = p_purchaser)
			AND coalesce(s.region_code, 0) BETWEEN p_region_lo AND p_region_hi
		ORDER BY e.id DESC LIMIT 1000) e
$$;

-- Whether the caller (as for external_list) may see external certificate
-- p_id; found false when there is none.
CREATE FUNCTION external_visible(p_id bigint, p_purchaser integer, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (found boolean, allowed boolean)
LANGUAGE sql STABLE AS $$
	SELECT e.id IS NOT NULL, (p_purchaser IS NULL OR e.purchaser_id = p_purchaser)
		AND coalesce(s.region_code, 0) BETWEEN p_region_lo AND p_region_hi
	FROM (SELECT 1) one
	LEFT JOIN external_certificate e ON e.id = p_id
	LEFT JOIN subject s ON s.id = e.purchaser_id
$$;

-- Stores (or replaces) the photo of p_purchaser's external certificate p_id.
-- found false: no such certificate; mine false: another purchaser's.
CREATE FUNCTION put_external_photo(p_id bigint, p_purchaser integer, p_jpeg bytea)
RETURNS TABLE (found boolean, mine boolean, sha256 text, bytes integer)
LANGUAGE sql AS $$
	WITH e AS (SELECT x.purchaser_id = p_purchaser AS mine FROM external_certificate x
		WHERE x.id = p_id),
	ph AS (INSERT INTO external_photo (external_id, jpeg)
		SELECT p_id, p_jpeg FROM e WHERE e.mine
		ON CONFLICT (external_id) DO UPDATE SET jpeg = EXCLUDED.jpeg, uploaded_at = now()
		RETURNING external_photo.sha256, external_photo.bytes)
	SELECT EXISTS (SELECT 1 FROM e), coalesce((SELECT e.mine FROM e), false), ph.sha256,
		ph.bytes
	FROM (SELECT 1) one LEFT JOIN ph ON true
$$;

-- The photo of external certificate p_id for a caller (as external_list):
-- found and allowed as external_visible, then the JPEG (NULL: none yet).
CREATE FUNCTION external_photo_for(p_id bigint, p_purchaser integer, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (found boolean, allowed boolean, jpeg bytea, sha256 text)
LANGUAGE sql STABLE AS $$
	SELECT v.found, v.allowed, CASE WHEN v.allowed THEN ph.jpeg END, ph.sha256
	FROM external_visible(p_id, p_purchaser, p_region_lo, p_region_hi) v
	LEFT JOIN external_photo ph ON ph.external_id = p_id
$$;

-- External certificates are collected records too: kept at least as long
-- as receipts (0011: 6 months, whoever asks, SQLSTATE AC002), and the
-- service's role may not delete them. The floor, written for any table: the
-- trigger's argument names the column that says when a row was recorded.
CREATE FUNCTION retention_floor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
	v_at timestamptz;
BEGIN
	IF TG_OP = 'DELETE' THEN
		EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING OLD INTO v_at;
	ELSE
		EXECUTE format('SELECT max(%1$I) FROM %2$I.%3$I', TG_ARGV[0], TG_TABLE_SCHEMA,
			TG_TABLE_NAME) INTO v_at;
	END IF;
	IF v_at >= now() - interval '6 months' THEN
		RAISE EXCEPTION '% has a row recorded at %, less than 6 months ago: collected certificates are kept at least 6 months (收取的合格证至少保存6个月)',
			TG_TABLE_NAME, v_at
			USING ERRCODE = 'AC002';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER external_certificate_retention_floor BEFORE DELETE ON external_certificate
	FOR EACH ROW EXECUTE FUNCTION retention_floor('created_at');
CREATE TRIGGER external_certificate_retention_no_truncate BEFORE TRUNCATE
	ON external_certificate FOR EACH STATEMENT EXECUTE FUNCTION retention_floor('created_at');
CREATE TRIGGER external_photo_retention_floor BEFORE DELETE ON external_photo
	FOR EACH ROW EXECUTE FUNCTION retention_floor('uploaded_at');
CREATE TRIGGER external_photo_retention_no_truncate BEFORE TRUNCATE ON external_photo
	FOR EACH STATEMENT EXECUTE FUNCTION retention_floor('uploaded_at');
REVOKE DELETE, TRUNCATE ON external_certificate, external_photo FROM agricert_app;

-- The trace (handlers/trace.c): trace_nodes() (0012) and, upstream, the
-- external lots the certificates drew from, as leaves one step further
-- (serial NULL, external_id set, issuer_kind 'external', the lot's number).
CREATE FUNCTION trace_chain(p_serial bigint, p_downstream boolean)
RETURNS TABLE (depth integer, via bigint, serial bigint, drawn_milli bigint,
	drawn_unit smallint, issuer_id integer, issuer_name text, issuer_kind text,
	origin text, origin_code text, product text, quantity_milli bigint, unit smallint,
	style smallint, labels integer, collected_by text, revoked boolean,
	external_id bigint, external_kind text, number text)
LANGUAGE sql STABLE AS $$
	WITH t AS (SELECT * FROM trace_nodes(p_serial, p_downstream))
	SELECT * FROM (
		SELECT t.*, NULL::bigint, NULL::text, NULL::text FROM t
		UNION ALL
		SELECT n.depth + 1, n.serial, NULL, x.quantity_milli, x.unit, NULL, e.issuer_name,
			'external', e.origin, lpad(e.origin_code::text, 12, '0'), p.name,
			e.quantity_milli, e.unit, NULL, NULL, e.purchaser_id::text, false, e.id,
			e.kind, coalesce(e.number, e.report_number)
		FROM (SELECT DISTINCT t.depth, t.serial FROM t WHERE NOT p_downstream) n
		JOIN external_input x ON x.serial = n.serial
		JOIN external_certificate e ON e.id = x.external_id
		JOIN product p ON p.id = e.product_id) a
	ORDER BY 1, 3, 18
	LIMIT 100001
$$;

-- EPCIS: a quantity of a class (a lot, or an external lot) in UN/CEFACT
-- Rec. 20 units (斤 as half kilograms); epcis_quantity (0013) of a lot now
-- says it through this.
CREATE FUNCTION epcis_amount(p_class text, p_milli bigint, p_unit smallint) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('epcClass', p_class,
		'quantity', round(p_milli * u.factor / 1000, 3), 'uom', u.uom)
	FROM (VALUES (1, 'KGM', 1.0), (2, 'GRM', 1.0), (3, 'TNE', 1.0), (4, 'KGM', 0.5),
		(5, 'H87', 1.0), (6, 'HEA', 1.0), (7, 'BX', 1.0), (8, 'BG', 1.0),
		(9, 'BE', 1.0), (10, 'H87', 1.0)) AS u(unit, uom, factor)
	WHERE u.unit = p_unit
$$;

CREATE OR REPLACE FUNCTION epcis_quantity(p_lot bigint, p_milli bigint, p_unit smallint)
RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT epcis_amount('urn:agricert:lot:' || p_lot, p_milli, p_unit)
$$;

-- The class of what a draw came from: the inbound lot or the external lot.
CREATE FUNCTION epcis_source(p_serial bigint, p_external bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_external IS NULL THEN 'urn:agricert:lot:' || p_serial
		ELSE 'urn:agricert:external:' || p_external END
$$;

-- The EPCIS 2.0 document of 0013, with external lots: each external lot a
-- certificate of the chain drew from is an ObjectEvent (ADD, receiving, at
-- its registration, class urn:agricert:external:<id>, owned by the
-- purchaser), and the TransformationEvents consume them (chain_draw).
CREATE OR REPLACE FUNCTION epcis_document(p_serial bigint, p_item_prefix text)
RETURNS TABLE (issuer_id integer, document json)
LANGUAGE sql STABLE AS $$
	WITH chain AS (SELECT u.serial FROM chain_up(p_serial) u
		UNION SELECT d.serial FROM chain_down(ARRAY[p_serial]) d),
	c AS (SELECT c.*, s.region_code AS issuer_region FROM certificate c
		JOIN chain USING (serial) JOIN subject s ON s.id = c.issuer_id),
	ext AS (SELECT e.id, e.created_at, e.quantity_milli, e.unit, e.purchaser_id,
			s.region_code
		FROM external_certificate e JOIN subject s ON s.id = e.purchaser_id
		WHERE e.id IN (SELECT x.external_id FROM external_input x JOIN chain USING (serial))),
	ev AS (SELECT c.issued_at AS at, CASE WHEN c.style = 1 THEN json_build_object(
			'type', 'ObjectEvent', 'eventTime', epcis_time(c.issued_at),
			'eventTimeZoneOffset', '+08:00',
			'epcList', item_urls(p_item_prefix, c.item_codes),
			'action', 'ADD', 'bizStep', 'commissioning', 'disposition', 'active',
			'readPoint', epcis_place(c.origin_code),
			'quantityList', json_build_array(
				epcis_quantity(c.serial, c.quantity_milli, c.unit)),
			'sourceList', json_build_array(json_build_object('type', 'owning_party',
				'source', 'urn:agricert:subject:' || c.issuer_id)))
		ELSE json_build_object(
			'type', 'TransformationEvent', 'eventTime', epcis_time(c.issued_at),
			'eventTimeZoneOffset', '+08:00',
			'inputQuantityList', (SELECT json_agg(epcis_amount(
					epcis_source(d.input_serial, d.external_id), d.quantity_milli, d.unit)
					ORDER BY d.external_id NULLS FIRST, d.input_serial)
				FROM chain_draw d WHERE d.serial = c.serial),
			'outputEPCList', item_urls(p_item_prefix, c.item_codes),
			'outputQuantityList', json_build_array(
				epcis_quantity(c.serial, c.quantity_milli, c.unit)),
			'bizStep', 'repackaging', 'disposition', 'active',
			'readPoint', epcis_place(c.issuer_region)) END AS e
		FROM c
		UNION ALL
		SELECT r.received_at, json_build_object(
			'type', 'ObjectEvent', 'eventTime', epcis_time(r.received_at),
			'eventTimeZoneOffset', '+08:00',
			'epcList', json_build_array(p_item_prefix || c.item_codes[r.item]),
			'action', 'OBSERVE', 'bizStep', 'receiving', 'disposition', 'in_progress',
			'readPoint', epcis_place(coalesce(s.region_code, 0)),
			'quantityList', json_build_array(
				epcis_quantity(c.serial, r.quantity_milli, r.unit)),
			'destinationList', json_build_array(json_build_object('type', 'owning_party',
				'destination', 'urn:agricert:subject:' || r.purchaser_id)))
		FROM receipt r JOIN c ON c.serial = r.serial JOIN subject s ON s.id = r.purchaser_id
		UNION ALL
		SELECT x.created_at, json_build_object(
			'type', 'ObjectEvent', 'eventTime', epcis_time(x.created_at),
			'eventTimeZoneOffset', '+08:00', 'action', 'ADD', 'bizStep', 'receiving', 'disposition', 'in_progress',
			'readPoint', epcis_place(coalesce(x.region_code, 0)),
			'quantityList', json_build_array(epcis_amount(epcis_source(NULL, x.id),
				x.quantity_milli, x.unit)),
			'destinationList', json_build_array(json_build_object('type', 'owning_party',
				'destination', 'urn:agricert:subject:' || x.purchaser_id)))
		FROM ext x)
	SELECT (SELECT x.issuer_id FROM certificate x WHERE x.serial = p_serial),
		json_build_object('@context', json_build_array(
				'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'),
			'type', 'EPCISDocument', 'schemaVersion', '2.0',
			'creationDate', epcis_time(now()),
			'epcisBody', json_build_object('eventList',
				coalesce((SELECT json_agg(ev.e ORDER BY ev.at) FROM ev), '[]'::json)))
$$;

-- A recall from an external lot (a paper certificate later found false, a
-- farmer's failed batch): every certificate made from it at any depth, as
-- recall_report (0013) lists them from each certificate that drew from the
-- lot (depth 1), each once at its smallest depth. purchaser_id is the
-- lot's, for the caller's check; NULL when there is no such lot.
CREATE FUNCTION external_recall(p_external bigint, p_item_prefix text)
RETURNS TABLE (purchaser_id integer, document json)
LANGUAGE sql STABLE AS $$
	WITH a AS (SELECT DISTINCT ON ((x.a ->> 'certificate')::bigint)
			jsonb_set(x.a::jsonb, '{depth}', to_jsonb((x.a ->> 'depth')::int + 1)) AS a
		FROM (SELECT json_array_elements(r.document -> 'affected') AS a
			FROM external_input i, recall_report(i.serial, p_item_prefix) r
			WHERE i.external_id = p_external) x
		ORDER BY (x.a ->> 'certificate')::bigint, (x.a ->> 'depth')::int)
	SELECT e.purchaser_id, json_build_object('external', external_json(e),
		'affected', coalesce((SELECT json_agg(a.a ORDER BY (a.a ->> 'depth')::int,
			(a.a ->> 'certificate')::bigint) FROM a), '[]'::json))
	FROM (SELECT 1) one LEFT JOIN external_certificate e ON e.id = p_external
$$;

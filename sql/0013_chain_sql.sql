-- The supply chain's statements (handlers/receipts.c, handlers/trace.c),
-- moved out of C string literals: recording what a purchaser collected, its
-- stock, the GS1 EPCIS 2.0 export and the recall report. The chain itself is
-- chain_up() and chain_down() (0012): nothing here walks certificate_input
-- on its own.

-- Collecting (收取): the item codes a purchaser scanned, whose signatures the
-- service has checked, one array per column; p_idx is each code's place in
-- the request. An item that is the issued code of a certificate not revoked
-- is recorded, once (an item is collected once, by anyone). Every input row
-- comes back with what happened to it: recorded, already_collected,
-- unknown_certificate, revoked or not_issued.
CREATE FUNCTION record_receipts(p_purchaser integer, p_serial bigint[], p_item integer[],
	p_payload text[], p_quantity bigint[], p_unit smallint[], p_idx integer[])
RETURNS TABLE (idx integer, status text)
LANGUAGE sql AS $$
	WITH input AS (SELECT * FROM unnest(p_serial, p_item, p_payload, p_quantity, p_unit,
		p_idx) AS t(serial, item, payload, quantity_milli, unit, idx)),
	checked AS (SELECT i.*, c.serial IS NOT NULL AS known,
		c.revoked_at IS NOT NULL AS revoked, c.item_codes[i.item] = i.payload AS issued
		FROM input i LEFT JOIN certificate c ON c.serial = i.serial),
	ins AS (INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit)
		SELECT p_purchaser, k.serial, k.item, k.quantity_milli, k.unit FROM checked k
		WHERE k.known AND NOT k.revoked AND k.issued
		ON CONFLICT (serial, item) DO NOTHING
		RETURNING receipt.serial, receipt.item)
	SELECT k.idx,
		CASE WHEN NOT k.known THEN 'unknown_certificate'
			WHEN k.revoked THEN 'revoked'
			WHEN k.issued IS NOT TRUE THEN 'not_issued'
			WHEN ins.serial IS NOT NULL THEN 'recorded'
			ELSE 'already_collected' END
	FROM checked k LEFT JOIN ins ON ins.serial = k.serial AND ins.item = k.item
	ORDER BY k.idx
$$;

-- A purchaser's stock (the stock view of 0007) with each inbound
-- certificate's product and issuer; at most 10,000 rows.
CREATE FUNCTION purchaser_stock(p_purchaser integer)
RETURNS TABLE (serial bigint, unit smallint, received_milli bigint, used_milli bigint,
	product text, issuer_id integer, issuer_name text)
LANGUAGE sql STABLE AS $$
	SELECT st.serial, st.unit, st.received_milli::bigint, st.used_milli::bigint, p.name,
		c.issuer_id, s.name
	FROM stock st
	JOIN certificate c ON c.serial = st.serial
	JOIN product p ON p.id = c.product_id
	JOIN subject s ON s.id = c.issuer_id
	WHERE st.purchaser_id = p_purchaser
	ORDER BY st.serial
	LIMIT 10000
$$;

-- The item codes of a certificate as a JSON array of their URLs, in item
-- order: p_prefix is the URL up to the payload, as ac_code_url() writes it.
CREATE FUNCTION item_urls(p_prefix text, p_codes text[]) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_agg(p_prefix || x ORDER BY o) FROM unnest(p_codes) WITH ORDINALITY AS i(x, o)
$$;

-- EPCIS pieces: a time as EPCIS writes it (UTC, milliseconds), a place, and
-- a quantity of a lot in UN/CEFACT Rec. 20 units (斤 as half kilograms).
CREATE FUNCTION epcis_time(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION epcis_place(p_region bigint) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('id', 'urn:agricert:region:' || lpad(p_region::text, 12, '0'))
$$;

CREATE FUNCTION epcis_quantity(p_lot bigint, p_milli bigint, p_unit smallint) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('epcClass', 'urn:agricert:lot:' || p_lot,
		'quantity', round(p_milli * u.factor / 1000, 3), 'uom', u.uom)
	FROM (VALUES (1, 'KGM', 1.0), (2, 'GRM', 1.0), (3, 'TNE', 1.0), (4, 'KGM', 0.5),
		(5, 'H87', 1.0), (6, 'HEA', 1.0), (7, 'BX', 1.0), (8, 'BG', 1.0),
		(9, 'BE', 1.0), (10, 'H87', 1.0)) AS u(unit, uom, factor)
	WHERE u.unit = p_unit
$$;

-- The chain through a certificate, up and down, as a GS1 EPCIS 2.0 JSON-LD
-- document: producer certificates are ObjectEvents (ADD, commissioning),
-- receipts ObjectEvents (OBSERVE, receiving), re-issues TransformationEvents
-- (repackaging) from the inbound lots to the new items. Lots are
-- urn:agricert:lot:<serial>, items their URLs (p_item_prefix, see
-- item_urls), places urn:agricert:region:<code>, parties
-- urn:agricert:subject:<id>. issuer_id is the certificate's issuer, for the
-- caller's check; NULL when there is no such certificate.
CREATE FUNCTION epcis_document(p_serial bigint, p_item_prefix text)
RETURNS TABLE (issuer_id integer, document json)
LANGUAGE sql STABLE AS $$
	WITH chain AS (SELECT u.serial FROM chain_up(p_serial) u
		UNION SELECT d.serial FROM chain_down(ARRAY[p_serial]) d),
	c AS (SELECT c.*, s.region_code AS issuer_region FROM certificate c
		JOIN chain USING (serial) JOIN subject s ON s.id = c.issuer_id),
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
			'inputQuantityList', (SELECT json_agg(epcis_quantity(ci.input_serial,
					ci.quantity_milli, ci.unit) ORDER BY ci.input_serial)
				FROM certificate_input ci WHERE ci.serial = c.serial),
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
		FROM receipt r JOIN c ON c.serial = r.serial JOIN subject s ON s.id = r.purchaser_id)
	SELECT (SELECT x.issuer_id FROM certificate x WHERE x.serial = p_serial),
		json_build_object('@context', json_build_array(
				'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'),
			'type', 'EPCISDocument', 'schemaVersion', '2.0',
			'creationDate', epcis_time(now()),
			'epcisBody', json_build_object('eventList',
				coalesce((SELECT json_agg(ev.e ORDER BY ev.at) FROM ev), '[]'::json)))
$$;

-- The recall report: every certificate made from this one at any depth,
-- itself included, with its item codes (URLs, see item_urls) and the
-- purchasers who collected them and how to reach them, so that they can be
-- told. issuer_id as for epcis_document.
CREATE FUNCTION recall_report(p_serial bigint, p_item_prefix text)
RETURNS TABLE (issuer_id integer, document json)
LANGUAGE sql STABLE AS $$
	WITH d AS (SELECT t.serial, min(t.depth) AS depth FROM chain_down(ARRAY[p_serial]) t
		GROUP BY t.serial)
	SELECT (SELECT x.issuer_id FROM certificate x WHERE x.serial = p_serial),
		json_build_object('certificate', p_serial, 'affected', coalesce(json_agg(
			json_build_object('certificate', c.serial,
				'number', lpad(c.serial::text, 12, '0'), 'depth', d.depth,
				'product', p.name,
				'issuer', json_build_object('id', s.id, 'name', s.name,
					'contact', s.contact),
				'revoked', c.revoked_at IS NOT NULL,
				'items', item_urls(p_item_prefix, c.item_codes),
				'holders', coalesce((SELECT json_agg(json_build_object(
						'purchaser', ps.id, 'name', ps.name,
						'contact', ps.contact, 'item', r.item,
						'received_at', r.received_at) ORDER BY r.item)
					FROM receipt r JOIN subject ps ON ps.id = r.purchaser_id
					WHERE r.serial = c.serial), '[]'::json))
			ORDER BY d.depth, c.serial), '[]'::json))
	FROM d
	JOIN certificate c ON c.serial = d.serial
	JOIN subject s ON s.id = c.issuer_id
	JOIN product p ON p.id = c.product_id
$$;

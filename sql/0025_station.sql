-- Village service stations (村级服务站, issue 11): "支持有条件的地方设立村级农产品
-- 质量安全服务站点，为周边农户提供……承诺达标合格证便捷开具等服务" (Anxi 2023,
-- item 12). A station is a kiosk and the villages it serves; its operator
-- logs in with the role station (at that kiosk, or from a phone to enrol).
-- Station and township staff enrol household producers (散户): a subject of
-- kind household in one of the villages, a 6-digit PIN the farmer chooses,
-- optionally a phone to log in alone, and the products the farmer grows.
-- Assisted issuing (代开): at its kiosk, a station opens a session of a
-- producer of its villages once the farmer has typed the PIN; the farmer is
-- the issuer, and the session, every certificate issued in it and therefore
-- the audit log name the station that helped (assisted_by).
--
-- Also here, for the kiosk and the scan page: a producer's own certificates
-- page by page, the catalogue as a menu with the caller's usual products
-- first, and the township office to call about an issuer.

-- Roles: station accounts log in with a phone and PIN at their kiosk (or a
-- password); a household without a phone gets a PIN-only account (kind pin),
-- which opens only a session a station assists.
ALTER TABLE account DROP CONSTRAINT account_kind_check,
	DROP CONSTRAINT account_role_check,
	DROP CONSTRAINT account_check,
	ADD CONSTRAINT account_kind_check CHECK (kind IN ('phone_pin', 'password', 'pin')),
	ADD CONSTRAINT account_role_check CHECK (role IN ('producer', 'purchaser', 'inspector',
		'township_regulator', 'county_regulator', 'admin', 'station')),
	ADD CONSTRAINT account_check CHECK (kind <> 'phone_pin'
		OR role IN ('producer', 'purchaser', 'station')),
	ADD CONSTRAINT account_pin_check CHECK (kind <> 'pin' OR role = 'producer');
ALTER TABLE api_token DROP CONSTRAINT api_token_role_check,
	ADD CONSTRAINT api_token_role_check CHECK (role IN ('producer', 'purchaser', 'inspector',
		'township_regulator', 'county_regulator', 'admin', 'kiosk', 'system', 'station'));

-- A station: its kiosk, the subject its operators' accounts belong to (a
-- staff subject), and the villages (12-digit codes) it serves.
CREATE TABLE station (
	kiosk_id text PRIMARY KEY REFERENCES kiosk (id),
	subject_id integer NOT NULL UNIQUE REFERENCES subject (id),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE station_village (
	kiosk_id text NOT NULL REFERENCES station (kiosk_id),
	village_code bigint NOT NULL REFERENCES region (code) CHECK (village_code % 1000 <> 0),
	PRIMARY KEY (kiosk_id, village_code)
);
CREATE INDEX station_village_code ON station_village (village_code);
SELECT audit_attach('station', 'kiosk_id', 'create', 'update', 'delete');
SELECT audit_attach('station_village', 'kiosk_id', 'add', 'update', 'remove');

-- Who enrolled a household (a station's or a regulator's subject), and the
-- products a producer grows or raises (offered first at the kiosk).
ALTER TABLE subject ADD COLUMN enrolled_by integer REFERENCES subject (id),
	ADD COLUMN enrolled_at timestamptz;
CREATE TABLE producer_product (
	subject_id integer NOT NULL REFERENCES subject (id),
	product_id integer NOT NULL REFERENCES product (id),
	PRIMARY KEY (subject_id, product_id)
);
SELECT audit_attach('producer_product', 'subject_id', 'add', 'update', 'remove');

-- Who helped: on an assisted session and on every certificate issued in it.
ALTER TABLE api_token ADD COLUMN assisted_by integer REFERENCES subject (id);
ALTER TABLE certificate ADD COLUMN assisted_by integer REFERENCES subject (id);
CREATE INDEX certificate_assisted ON certificate (assisted_by, issued_at)
	WHERE assisted_by IS NOT NULL;

-- Whether the station of subject p_station serves village p_region.
CREATE FUNCTION station_covers(p_station integer, p_region bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM station s JOIN station_village v USING (kiosk_id)
		WHERE s.subject_id = p_station AND v.village_code = p_region)
$$;

-- A station as the API writes it: its kiosk, its operators' subject and its
-- villages with their names.
CREATE FUNCTION station_json(p_kiosk text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('kiosk', k.id, 'kiosk_name', k.name,
		'subject', json_build_object('id', s.id, 'name', s.name, 'contact', s.contact),
		'villages', (SELECT coalesce(json_agg(json_build_object('code', v.village_code::text,
				'name', r.name) ORDER BY v.village_code), '[]')
			FROM station_village v JOIN region r ON r.code = v.village_code
			WHERE v.kiosk_id = k.id))
	FROM station st JOIN kiosk k ON k.id = st.kiosk_id JOIN subject s ON s.id = st.subject_id
	WHERE st.kiosk_id = p_kiosk
$$;

-- Makes subject p_subject the station of kiosk p_kiosk serving p_villages
-- (replacing what the kiosk had), for a caller covering p_region_lo to
-- p_region_hi: the kiosk and every village must be within. status: ok,
-- unknown_kiosk, outside, unknown_subject (not a staff subject),
-- subject_taken (another kiosk's station), unknown_village.
CREATE FUNCTION station_set(p_kiosk text, p_subject integer, p_villages bigint[],
	p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (status text, doc json)
LANGUAGE plpgsql AS $$
DECLARE
	v_region bigint;
BEGIN
	SELECT region_code INTO v_region FROM kiosk WHERE id = p_kiosk;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'unknown_kiosk', NULL::json;
		RETURN;
	END IF;
	IF v_region NOT BETWEEN p_region_lo AND p_region_hi OR EXISTS (SELECT 1
			FROM unnest(p_villages) v WHERE v NOT BETWEEN p_region_lo AND p_region_hi) THEN
		RETURN QUERY SELECT 'outside', NULL::json;
	ELSIF NOT EXISTS (SELECT 1 FROM subject WHERE id = p_subject AND kind = 'staff') THEN
		RETURN QUERY SELECT 'unknown_subject', NULL::json;
	ELSIF EXISTS (SELECT 1 FROM station WHERE subject_id = p_subject AND kiosk_id <> p_kiosk) THEN
		RETURN QUERY SELECT 'subject_taken', NULL::json;
	ELSIF EXISTS (SELECT 1 FROM unnest(p_villages) v WHERE v % 1000 = 0
			OR NOT EXISTS (SELECT 1 FROM region r WHERE r.code = v)) THEN
		RETURN QUERY SELECT 'unknown_village', NULL::json;
	ELSE
		INSERT INTO station (kiosk_id, subject_id) VALUES (p_kiosk, p_subject)
		ON CONFLICT (kiosk_id) DO UPDATE SET subject_id = EXCLUDED.subject_id
		WHERE station.subject_id <> EXCLUDED.subject_id;
		DELETE FROM station_village WHERE kiosk_id = p_kiosk AND village_code <> ALL (p_villages);
		INSERT INTO station_village (kiosk_id, village_code)
		SELECT p_kiosk, v FROM unnest(p_villages) v ON CONFLICT DO NOTHING;
		RETURN QUERY SELECT 'ok', station_json(p_kiosk);
	END IF;
END $$;

-- A household as the station and the regulators see it: the phone masked
-- unless p_full, whether it can log in alone (a phone) and is locked.
CREATE FUNCTION household_json(t subject, p_full boolean) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', t.id, 'kind', t.kind, 'name', t.name,
		'village', t.region_code::text,
		'village_name', (SELECT r.name FROM region r WHERE r.code = t.region_code),
		'contact', CASE WHEN p_full OR length(t.contact) < 11 THEN t.contact
			ELSE left(t.contact, 3) || '****' || right(t.contact, 4) END,
		'products', (SELECT coalesce(json_agg(p.name ORDER BY p.id), '[]')
			FROM producer_product pp JOIN product p ON p.id = pp.product_id
			WHERE pp.subject_id = t.id),
		'phone_login', EXISTS (SELECT 1 FROM account a WHERE a.subject_id = t.id
			AND a.kind = 'phone_pin'),
		'locked', coalesce((SELECT a.locked_until > now() FROM account a
			WHERE a.subject_id = t.id AND a.kind IN ('phone_pin', 'pin')
			ORDER BY a.id LIMIT 1), false),
		'status', t.status,
		'enrolled_by', (SELECT e.name FROM subject e WHERE e.id = t.enrolled_by),
		'enrolled_at', cst_text(t.enrolled_at))
$$;

-- Enrols a household producer: the subject (kind household, in village
-- p_village), its PIN account (login: the phone, or for a farmer without
-- one a PIN-only account that opens only assisted sessions) and its
-- products. The enroller is a station (p_station: its subject) serving the
-- village, or staff covering p_region_lo to p_region_hi. status: ok,
-- outside, unknown_village, phone_taken.
CREATE FUNCTION enrol_household(p_name text, p_village bigint, p_phone text,
	p_id_number text, p_products integer[], p_pin_hash text, p_by integer,
	p_station integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (status text, doc json)
LANGUAGE plpgsql AS $$
DECLARE
	v_subject subject;
BEGIN
	IF p_village % 1000 = 0 OR NOT EXISTS (SELECT 1 FROM region WHERE code = p_village) THEN
		RETURN QUERY SELECT 'unknown_village', NULL::json;
		RETURN;
	END IF;
	IF (CASE WHEN p_station IS NOT NULL THEN NOT station_covers(p_station, p_village)
			ELSE p_village NOT BETWEEN p_region_lo AND p_region_hi END) THEN
		RETURN QUERY SELECT 'outside', NULL::json;
		RETURN;
	END IF;
	IF p_phone IS NOT NULL AND EXISTS (SELECT 1 FROM account WHERE login = p_phone) THEN
		RETURN QUERY SELECT 'phone_taken', NULL::json;
		RETURN;
	END IF;
	INSERT INTO subject (kind, name, contact, region_code, id_number, enrolled_by, enrolled_at)
	VALUES ('household', p_name, p_phone, p_village, p_id_number, p_by, now())
	RETURNING * INTO v_subject;
	INSERT INTO account (subject_id, kind, login, secret_hash, role)
	VALUES (v_subject.id, CASE WHEN p_phone IS NULL THEN 'pin' ELSE 'phone_pin' END,
		coalesce(p_phone, 'household-' || v_subject.id), p_pin_hash, 'producer');
	INSERT INTO producer_product (subject_id, product_id)
	SELECT DISTINCT v_subject.id, p FROM unnest(p_products) p;
	RETURN QUERY SELECT 'ok', household_json(v_subject, true);
END $$;

-- The producers a station (p_station) or staff (p_region_lo to p_region_hi)
-- may help: subjects with a PIN account in the station's villages or the
-- jurisdiction, matching p_q in their name or phone, by name, paged.
CREATE FUNCTION households_list(p_station integer, p_region_lo bigint, p_region_hi bigint,
	p_q text, p_limit integer, p_offset integer)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	WITH sel AS (SELECT s FROM subject s
		WHERE s.kind <> 'staff'
			AND EXISTS (SELECT 1 FROM account a WHERE a.subject_id = s.id
				AND a.role = 'producer' AND a.kind IN ('phone_pin', 'pin'))
			AND (p_station IS NULL AND s.region_code BETWEEN p_region_lo AND p_region_hi
				OR s.region_code IN (SELECT v.village_code FROM station st
					JOIN station_village v USING (kiosk_id)
					WHERE st.subject_id = p_station))
			AND (p_q IS NULL OR strpos(s.name, p_q) > 0 OR s.contact = p_q)),
	page AS (SELECT x.s FROM sel x ORDER BY (x.s).name, (x.s).id LIMIT p_limit OFFSET p_offset)
	SELECT json_build_object('items', coalesce((SELECT json_agg(household_json(p.s,
			p_station IS NULL) ORDER BY (p.s).name, (p.s).id) FROM page p), '[]'),
		'total', (SELECT count(*) FROM sel), 'limit', p_limit, 'offset', p_offset)
$$;

-- Logging in (handlers/sessions.c), as in 0012, and the kiosk of a station
-- account's station (it logs in at that kiosk only).
DROP FUNCTION account_for_login(text, text);
CREATE FUNCTION account_for_login(p_login text, p_kind text)
RETURNS TABLE (account_id integer, subject_id integer, secret_hash text, role text,
	locked boolean, disabled boolean, subject_name text, subject_status text,
	station_kiosk text)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.subject_id, a.secret_hash, a.role,
		coalesce(a.locked_until > now(), false), a.disabled OR s.status = 'blacklisted',
		s.name, s.status, (SELECT st.kiosk_id FROM station st WHERE st.subject_id = s.id)
	FROM account a JOIN subject s ON s.id = a.subject_id
	WHERE a.login = p_login AND a.kind = p_kind
$$;

-- Assisted login: the PIN account of producer p_producer, whether the
-- station p_station serves the producer's village, and the station's kiosk.
-- No row when the producer has no PIN account.
CREATE FUNCTION account_for_assist(p_producer integer, p_station integer)
RETURNS TABLE (account_id integer, subject_id integer, secret_hash text, role text,
	locked boolean, disabled boolean, subject_name text, covered boolean,
	station_kiosk text)
LANGUAGE sql STABLE AS $$
	SELECT a.id, s.id, a.secret_hash, a.role, coalesce(a.locked_until > now(), false),
		a.disabled OR s.status = 'blacklisted', s.name,
		station_covers(p_station, s.region_code),
		(SELECT st.kiosk_id FROM station st WHERE st.subject_id = p_station)
	FROM subject s JOIN account a ON a.subject_id = s.id
	WHERE s.id = p_producer AND a.role = 'producer' AND a.kind IN ('phone_pin', 'pin')
	ORDER BY a.id LIMIT 1
$$;

-- A wrong secret: counts it (a lock that has run out starts the count
-- again) and locks the account for p_lock_minutes at p_max failures in a
-- row. Says whether it is now locked and how many tries are left.
CREATE FUNCTION login_failed(p_account integer, p_max integer, p_lock_minutes integer)
RETURNS TABLE (locked boolean, tries_left integer)
LANGUAGE sql AS $$
	UPDATE account a SET failed_attempts = n.count,
		locked_until = CASE WHEN n.count >= p_max
			THEN now() + make_interval(mins => p_lock_minutes) END
	FROM (SELECT id, CASE WHEN locked_until <= now() THEN 1 ELSE failed_attempts + 1 END
		AS count FROM account WHERE id = p_account) n
	WHERE a.id = n.id
	RETURNING n.count >= p_max, greatest(p_max - n.count, 0)
$$;

-- The right secret, as in 0012; an assisted session names its station.
DROP FUNCTION open_session(text, integer, integer, text, integer, text);
CREATE FUNCTION open_session(p_token text, p_account integer, p_subject integer,
	p_role text, p_minutes integer, p_kiosk text, p_assisted_by integer DEFAULT NULL)
RETURNS TABLE (expires_at text)
LANGUAGE sql AS $$
	UPDATE account SET failed_attempts = 0, locked_until = NULL, last_login_at = now()
	WHERE id = p_account;
	INSERT INTO api_token (token_hash, subject_id, role, label, expires_at, kiosk_id,
		account_id, assisted_by)
	VALUES (sha256(convert_to(p_token, 'UTF8')), p_subject, p_role,
		CASE WHEN p_assisted_by IS NULL THEN 'session' ELSE 'assisted session' END,
		now() + make_interval(mins => p_minutes), p_kiosk, p_account, p_assisted_by)
	RETURNING to_char(api_token.expires_at AT TIME ZONE 'Asia/Shanghai',
		'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
$$;

-- The caller behind a token, as in 0012, and the station that assists the
-- session; a household without a phone is reached through that station.
DROP FUNCTION token_principal(text);
CREATE FUNCTION token_principal(p_token text)
RETURNS TABLE (subject_id integer, role text, name text, contact text, status text,
	region_code bigint, kiosk_id text, assisted_by integer, assisted_by_name text)
LANGUAGE sql STABLE AS $$
	SELECT t.subject_id, t.role, s.name, coalesce(nullif(s.contact, ''), h.contact, ''),
		s.status, coalesce(s.region_code, 0), coalesce(t.kiosk_id, ''),
		coalesce(t.assisted_by, 0), coalesce(h.name, '')
	FROM api_token t JOIN subject s ON s.id = t.subject_id
	LEFT JOIN subject h ON h.id = t.assisted_by
	WHERE t.token_hash = sha256(convert_to(p_token, 'UTF8')) AND t.revoked_at IS NULL
		AND (t.expires_at IS NULL OR t.expires_at > now())
$$;

-- The certificate as the API shows it (0012), and who assisted.
CREATE OR REPLACE VIEW certificate_view AS
SELECT c.serial, c.kid, c.issuer_id, s.name AS issuer_name, c.style, c.basis,
	c.product_id, p.name AS product_name, c.quantity_milli, c.unit, c.origin,
	c.origin_code, c.contact,
	to_char(c.issued_at AT TIME ZONE 'Asia/Shanghai',
		'YYYY-MM-DD"T"HH24:MI:SS.MS"+08:00"') AS issued_at,
	c.labels, c.item_codes,
	to_char(c.revoked_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')
		AS revoked_at,
	c.revoke_reason, pj.id AS print_job_id, pj.printer_id, pj.state AS print_state,
	c.request_fp, c.test_id, c.idempotency_key, c.assisted_by,
	h.name AS assisted_by_name
FROM certificate c
JOIN subject s ON s.id = c.issuer_id
JOIN product p ON p.id = c.product_id
LEFT JOIN subject h ON h.id = c.assisted_by
LEFT JOIN LATERAL (SELECT j.id, j.printer_id, j.state FROM print_job j
	WHERE j.serial = c.serial ORDER BY j.id DESC LIMIT 1) pj ON true;

-- The group commit, as in 0020, storing who assisted each certificate.
DROP FUNCTION issue_batch(bigint[], int[], int[], smallint[], smallint[], int[], bigint[],
	smallint[], text[], bigint[], text[], int[], text[], text[], text[], text[], bigint[],
	timestamptz);
CREATE FUNCTION issue_batch(p_serial bigint[], p_kid int[], p_issuer int[],
	p_style smallint[], p_basis smallint[], p_product int[], p_qty bigint[],
	p_unit smallint[], p_origin text[], p_origin_code bigint[], p_contact text[],
	p_labels int[], p_codes text[], p_idem text[], p_printer text[], p_fp text[],
	p_test bigint[], p_assisted int[], p_issued_at timestamptz)
RETURNS TABLE (serial bigint, print_job_id bigint, stored boolean, unblocked boolean,
	tested boolean, tested_for_sale boolean)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY
	WITH input AS (SELECT * FROM unnest(p_serial, p_kid, p_issuer, p_style, p_basis,
		p_product, p_qty, p_unit, p_origin, p_origin_code, p_contact, p_labels,
		p_codes, p_idem, p_printer, p_fp, p_test, p_assisted) AS t(serial, kid,
		issuer_id, style, basis, product_id, quantity_milli, unit, origin, origin_code,
		contact, labels, codes, idem, printer_id, fp, test_id, assisted_by)),
	ok AS (SELECT i.*,
		NOT EXISTS (SELECT 1 FROM rapid_block b WHERE b.subject_id = i.issuer_id
			AND b.product_id = i.product_id) AS unblocked,
		((i.basis = 0 AND i.test_id IS NULL) OR EXISTS (SELECT 1 FROM rapid_test t
			WHERE t.id = i.test_id AND t.subject_id = i.issuer_id
			AND t.product_id = i.product_id AND rapid_test_backs(t))) AS tested,
		tested_for_sale(i.issuer_id, i.product_id, p_issued_at) AS for_sale
		FROM input i),
	ins AS (INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id,
			quantity_milli, unit, origin, origin_code, contact, labels, item_codes,
			idempotency_key, request_fp, test_id, assisted_by, issued_at)
		SELECT o.serial, o.kid, o.issuer_id, o.style, o.basis, o.product_id,
			o.quantity_milli, o.unit, o.origin, o.origin_code, o.contact, o.labels,
			string_to_array(o.codes, ','), o.idem, o.fp, o.test_id, o.assisted_by,
			p_issued_at
		FROM ok o WHERE o.unblocked AND o.tested AND o.for_sale
		ON CONFLICT (issuer_id, idempotency_key) DO NOTHING
		RETURNING certificate.serial),
	pj AS (INSERT INTO print_job (serial, printer_id)
		SELECT i.serial, i.printer_id FROM input i JOIN ins USING (serial)
		WHERE i.printer_id IS NOT NULL
		RETURNING print_job.id, print_job.serial)
	SELECT o.serial, pj.id, ins.serial IS NOT NULL, o.unblocked, o.tested, o.for_sale
	FROM ok o LEFT JOIN ins USING (serial) LEFT JOIN pj USING (serial);
END $$;

-- 我的合格证: an issuer's certificates, newest first, page by page, with the
-- state of the latest print job and how often they were reprinted.
CREATE FUNCTION my_certificates(p_issuer integer, p_limit integer, p_offset integer)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	WITH page AS (SELECT c.* FROM certificate c WHERE c.issuer_id = p_issuer
		ORDER BY c.issued_at DESC, c.serial DESC LIMIT p_limit OFFSET p_offset)
	SELECT json_build_object('items', coalesce((SELECT json_agg(json_strip_nulls(
			json_build_object('id', c.serial, 'number', lpad(c.serial::text, 12, '0'),
			'product', p.name, 'quantity', trim_scale(c.quantity_milli / 1000.0),
			'unit', unit_name(c.unit), 'labels', c.labels, 'style', c.style,
			'basis', c.basis, 'issued_at', cst_text(c.issued_at),
			'revoked', c.revoked_at IS NOT NULL, 'revoke_reason', c.revoke_reason,
			'print_state', (SELECT j.state FROM print_job j WHERE j.serial = c.serial
				ORDER BY j.id DESC LIMIT 1),
			'reprints', (SELECT count(*) FROM print_job j WHERE j.serial = c.serial
				AND j.reprint),
			'assisted_by', (SELECT h.name FROM subject h WHERE h.id = c.assisted_by)))
			ORDER BY c.issued_at DESC, c.serial DESC)
			FROM page c JOIN product p ON p.id = c.product_id), '[]'),
		'total', (SELECT count(*) FROM certificate c WHERE c.issuer_id = p_issuer),
		'limit', p_limit, 'offset', p_offset)
$$;

-- The catalogue as the kiosk offers it: categories in the catalogue's order
-- (of their first product), each with its products, and "mine": the
-- products p_subject issued in the last year (most often first) or grows
-- (producer_product), at most 12. Each product carries "uses".
CREATE FUNCTION product_menu(p_subject integer)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	WITH uses AS (SELECT c.product_id, count(*) AS n, max(c.issued_at) AS last
		FROM certificate c WHERE c.issuer_id = p_subject
			AND c.issued_at > now() - interval '1 year'
		GROUP BY c.product_id),
	item AS (SELECT p.id, p.category, coalesce(u.n, 0) AS n, u.last,
			u.n IS NOT NULL OR EXISTS (SELECT 1 FROM producer_product pp
				WHERE pp.subject_id = p_subject AND pp.product_id = p.id) AS mine,
			(product_json(p)::jsonb || jsonb_build_object('uses', coalesce(u.n, 0))) AS j
		FROM product p LEFT JOIN uses u ON u.product_id = p.id),
	cat AS (SELECT i.category, min(i.id) AS first,
			jsonb_agg(i.j ORDER BY i.n DESC, i.id) AS products
		FROM item i GROUP BY i.category)
	SELECT json_build_object(
		'mine', (SELECT coalesce(jsonb_agg(m.j ORDER BY m.n DESC, m.last DESC NULLS LAST,
				m.id), '[]') FROM (SELECT * FROM item WHERE mine
				ORDER BY n DESC, last DESC NULLS LAST, id LIMIT 12) m),
		'categories', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', c.category,
				'products', c.products) ORDER BY c.first), '[]') FROM cat c))
$$;

-- The office to call about an issuer in region p_region: the staff of its
-- township (a regulator's account or token first, inspectors last), else of
-- its county; never a station. Its name and telephone. Every scan of a
-- genuine code asks: the roles are found through these small indexes, not
-- by reading every session.
CREATE INDEX account_subject ON account (subject_id);
CREATE INDEX api_token_staff ON api_token (subject_id, role)
	WHERE role IN ('township_regulator', 'county_regulator', 'inspector');
CREATE FUNCTION township_office(p_region bigint)
RETURNS TABLE (name text, contact text)
LANGUAGE sql STABLE AS $$
	SELECT s.name, s.contact FROM subject s
	WHERE s.kind = 'staff' AND s.region_code IN (p_region / 1000 * 1000,
			p_region / 1000000 * 1000000)
		AND NOT EXISTS (SELECT 1 FROM station st WHERE st.subject_id = s.id)
	ORDER BY s.region_code DESC,
		CASE WHEN EXISTS (SELECT 1 FROM account a WHERE a.subject_id = s.id
				AND a.role IN ('township_regulator', 'county_regulator'))
			OR EXISTS (SELECT 1 FROM api_token t WHERE t.subject_id = s.id
				AND t.role IN ('township_regulator', 'county_regulator')
				AND t.revoked_at IS NULL) THEN 0
		WHEN EXISTS (SELECT 1 FROM api_token t WHERE t.subject_id = s.id
				AND t.role = 'inspector') THEN 2
		ELSE 1 END, s.id
	LIMIT 1
$$;

-- Scans looked up in batches, as in 0012, with the issuer's township office
-- for the scan page to name.
DROP FUNCTION lookup_scans(bigint[], int[]);
CREATE FUNCTION lookup_scans(p_serial bigint[], p_item int[])
RETURNS TABLE (serial bigint, kid integer, issuer_id integer, issuer_name text,
	style smallint, basis smallint, product_id integer, product_name text,
	quantity_milli bigint, unit smallint, origin text, origin_code bigint, contact text,
	issued_at text, labels integer, item_codes text[], revoked_at text,
	revoke_reason text, scans integer, suspicion text, n bigint, office_name text,
	office_phone text)
LANGUAGE sql STABLE AS $$
	SELECT v.serial, v.kid, v.issuer_id, v.issuer_name, v.style, v.basis, v.product_id,
		v.product_name, v.quantity_milli, v.unit, v.origin, v.origin_code, v.contact,
		v.issued_at, v.labels, ARRAY[v.item_codes[q.item]], v.revoked_at,
		v.revoke_reason,
		coalesce((SELECT i.scans FROM item_scan i WHERE i.serial = q.serial
			AND i.item = q.item), 0),
		(SELECT string_agg(cs.detail, '；' ORDER BY cs.reason) FROM clone_suspicion cs
			WHERE cs.serial = q.serial AND cs.item = q.item),
		q.n, o.name, o.contact
	FROM unnest(p_serial, p_item) WITH ORDINALITY AS q(serial, item, n)
	JOIN certificate_view v ON v.serial = q.serial
	JOIN subject s ON s.id = v.issuer_id
	LEFT JOIN LATERAL township_office(coalesce(s.region_code, v.origin_code)) o ON true
$$;

-- A line of `agricert import products` from a file with a default_unit
-- column (p_default_unit; NULL: the category's, head for 畜禽, else kg, as in
-- 0020): a new product takes it, a known one keeps its unit unless the file
-- names one. Otherwise as 0020.
CREATE FUNCTION cli_import_product(p_name text, p_category text, p_key_risk boolean,
	p_test_required_days integer, p_has_test_days boolean, p_default_unit text)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO product AS p (id, name, category, key_risk, default_unit, test_required_days)
	SELECT coalesce(max(id), 0) + 1, p_name, p_category, p_key_risk,
		coalesce(p_default_unit, CASE WHEN p_category = '畜禽' THEN 'head' ELSE 'kg' END),
		p_test_required_days
	FROM product
	ON CONFLICT (name) DO UPDATE SET category = EXCLUDED.category,
		key_risk = EXCLUDED.key_risk,
		default_unit = coalesce(p_default_unit, p.default_unit),
		test_required_days = CASE WHEN p_has_test_days THEN EXCLUDED.test_required_days
			ELSE p.test_required_days END
$$;

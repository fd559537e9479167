-- The service's longer statements, moved out of C string literals into
-- functions and views that can be read, tested with psql and planned once:
-- who a token belongs to, a certificate as the API shows it, the group
-- commit, the chain of certificates made from one another (written once,
-- used by trace, export, recall and every revocation), and the trust
-- bundle's content. The C code calls them with named arguments.

-- The caller behind a bearer token (stored as its SHA-256), while the token
-- is neither revoked nor expired.
CREATE FUNCTION token_principal(p_token text)
RETURNS TABLE (subject_id integer, role text, name text, contact text, status text,
	region_code bigint, kiosk_id text)
LANGUAGE sql STABLE AS $$
	SELECT t.subject_id, t.role, s.name, coalesce(s.contact, ''), s.status,
		coalesce(s.region_code, 0), coalesce(t.kiosk_id, '')
	FROM api_token t JOIN subject s ON s.id = t.subject_id
	WHERE t.token_hash = sha256(convert_to(p_token, 'UTF8')) AND t.revoked_at IS NULL
		AND (t.expires_at IS NULL OR t.expires_at > now())
$$;

-- A certificate with its issuer, product and latest print job, times in
-- China Standard Time as the API writes them (daemon/ac_certdb.c reads it).
CREATE VIEW certificate_view AS
SELECT c.serial, c.kid, c.issuer_id, s.name AS issuer_name, c.style, c.basis,
	c.product_id, p.name AS product_name, c.quantity_milli, c.unit, c.origin,
	c.origin_code, c.contact,
	to_char(c.issued_at AT TIME ZONE 'Asia/Shanghai',
		'YYYY-MM-DD"T"HH24:MI:SS.MS"+08:00"') AS issued_at,
	c.labels, c.item_codes,
	to_char(c.revoked_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')
		AS revoked_at,
	c.revoke_reason, pj.id AS print_job_id, pj.printer_id, pj.state AS print_state,
	c.request_fp, c.test_id, c.idempotency_key
FROM certificate c
JOIN subject s ON s.id = c.issuer_id
JOIN product p ON p.id = c.product_id
LEFT JOIN LATERAL (SELECT j.id, j.printer_id, j.state FROM print_job j
	WHERE j.serial = c.serial ORDER BY j.id DESC LIMIT 1) pj ON true;

-- The group commit (daemon/ac_issuer.c): one call stores a batch, one array
-- per column. Rows whose producer is blocked by a failed rapid test, or whose
-- test-based basis names no passing test of theirs, are not stored; every
-- input row comes back saying what happened to it. A key already taken
-- (Idempotency-Key) stores nothing.
CREATE FUNCTION issue_batch(p_serial bigint[], p_kid int[], p_issuer int[],
	p_style smallint[], p_basis smallint[], p_product int[], p_qty bigint[],
	p_unit smallint[], p_origin text[], p_origin_code bigint[], p_contact text[],
	p_labels int[], p_codes text[], p_idem text[], p_printer text[], p_fp text[],
	p_test bigint[], p_issued_at timestamptz)
RETURNS TABLE (serial bigint, print_job_id bigint, stored boolean, unblocked boolean,
	tested boolean)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY
	WITH input AS (SELECT * FROM unnest(p_serial, p_kid, p_issuer, p_style, p_basis,
		p_product, p_qty, p_unit, p_origin, p_origin_code, p_contact, p_labels,
		p_codes, p_idem, p_printer, p_fp, p_test) AS t(serial, kid, issuer_id, style,
		basis, product_id, quantity_milli, unit, origin, origin_code, contact, labels,
		codes, idem, printer_id, fp, test_id)),
	ok AS (SELECT i.*,
		NOT EXISTS (SELECT 1 FROM rapid_block b WHERE b.subject_id = i.issuer_id
			AND b.product_id = i.product_id) AS unblocked,
		(i.basis = 0 OR EXISTS (SELECT 1 FROM rapid_test t WHERE t.id = i.test_id
			AND t.subject_id = i.issuer_id AND t.product_id = i.product_id
			AND t.result = 'pass')) AS tested
		FROM input i),
	ins AS (INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id,
			quantity_milli, unit, origin, origin_code, contact, labels, item_codes,
			idempotency_key, request_fp, test_id, issued_at)
		SELECT o.serial, o.kid, o.issuer_id, o.style, o.basis, o.product_id,
			o.quantity_milli, o.unit, o.origin, o.origin_code, o.contact, o.labels,
			string_to_array(o.codes, ','), o.idem, o.fp, o.test_id, p_issued_at
		FROM ok o WHERE o.unblocked AND o.tested
		ON CONFLICT (issuer_id, idempotency_key) DO NOTHING
		RETURNING certificate.serial),
	pj AS (INSERT INTO print_job (serial, printer_id)
		SELECT i.serial, i.printer_id FROM input i JOIN ins USING (serial)
		WHERE i.printer_id IS NOT NULL
		RETURNING print_job.id, print_job.serial)
	SELECT o.serial, pj.id, ins.serial IS NOT NULL, o.unblocked, o.tested
	FROM ok o LEFT JOIN ins USING (serial) LEFT JOIN pj USING (serial);
END $$;

-- Print jobs a crash left between the commit and CUPS, for the next start:
-- queued more than a minute ago (another instance may be submitting a newer
-- one) and less than a day ago.
CREATE FUNCTION print_jobs_left_queued() RETURNS SETOF certificate_view
LANGUAGE sql STABLE AS $$
	SELECT v.* FROM certificate_view v JOIN print_job j ON j.id = v.print_job_id
	WHERE j.state = 'queued' AND j.created_at < now() - interval '1 minute'
		AND j.created_at > now() - interval '1 day'
$$;

-- Scans looked up in batches (daemon/ac_lookup.c): each scanned item's
-- certificate with that item's code alone, its genuine scans so far and why
-- it looks copied (if it does); n numbers the scans of the batch from 1.
CREATE FUNCTION lookup_scans(p_serial bigint[], p_item int[])
RETURNS TABLE (serial bigint, kid integer, issuer_id integer, issuer_name text,
	style smallint, basis smallint, product_id integer, product_name text,
	quantity_milli bigint, unit smallint, origin text, origin_code bigint, contact text,
	issued_at text, labels integer, item_codes text[], revoked_at text,
	revoke_reason text, scans integer, suspicion text, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT v.serial, v.kid, v.issuer_id, v.issuer_name, v.style, v.basis, v.product_id,
		v.product_name, v.quantity_milli, v.unit, v.origin, v.origin_code, v.contact,
		v.issued_at, v.labels, ARRAY[v.item_codes[q.item]], v.revoked_at,
		v.revoke_reason,
		coalesce((SELECT i.scans FROM item_scan i WHERE i.serial = q.serial
			AND i.item = q.item), 0),
		(SELECT string_agg(cs.detail, '；' ORDER BY cs.reason) FROM clone_suspicion cs
			WHERE cs.serial = q.serial AND cs.item = q.item),
		q.n
	FROM unnest(p_serial, p_item) WITH ORDINALITY AS q(serial, item, n)
	JOIN certificate_view v ON v.serial = q.serial
$$;

-- What a trust bundle holds (base/ac_trust.c): the next version, then the
-- names of products, issuers and regions ("ID NAME" lines) and the revoked
-- serials, one per line.
CREATE FUNCTION trust_bundle_content()
RETURNS TABLE (version bigint, products text, issuers text, regions text, revoked text)
LANGUAGE sql AS $$
	SELECT nextval('trust_bundle_version'),
		(SELECT string_agg(id || ' ' || translate(name, E'\n\r\t', '   '), E'\n'
			ORDER BY id) FROM product),
		(SELECT string_agg(id || ' ' || translate(name, E'\n\r\t', '   '), E'\n'
			ORDER BY id) FROM subject WHERE kind <> 'staff'),
		(SELECT string_agg(code || ' ' || translate(name, E'\n\r\t', '   '), E'\n'
			ORDER BY code) FROM region),
		(SELECT string_agg(serial::text, E'\n' ORDER BY serial) FROM certificate
			WHERE revoked_at IS NOT NULL)
$$;

-- The chain, written once. Downstream from roots: every certificate made
-- from them at any depth (up to 64 steps), one row per edge and depth, with
-- what each step drew from the one before (via). Upstream from a
-- certificate: everything it was made from. A mixed chain reaches a
-- certificate by several paths: UNION keeps one row per edge and depth.
CREATE FUNCTION chain_down(p_roots bigint[], p_max_depth integer DEFAULT 64)
RETURNS TABLE (serial bigint, depth integer, via bigint, quantity_milli bigint,
	unit smallint)
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE t(serial, depth, via, quantity_milli, unit) AS (
		SELECT r, 0, NULL::bigint, NULL::bigint, NULL::smallint FROM unnest(p_roots) r
		UNION
		SELECT ci.serial, t.depth + 1, ci.input_serial, ci.quantity_milli, ci.unit
		FROM certificate_input ci JOIN t ON ci.input_serial = t.serial
		WHERE t.depth < p_max_depth)
	SELECT * FROM t
$$;

CREATE FUNCTION chain_up(p_serial bigint, p_max_depth integer DEFAULT 64)
RETURNS TABLE (serial bigint, depth integer, via bigint, quantity_milli bigint,
	unit smallint)
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE t(serial, depth, via, quantity_milli, unit) AS (
		SELECT p_serial, 0, NULL::bigint, NULL::bigint, NULL::smallint
		UNION
		SELECT ci.input_serial, t.depth + 1, ci.serial, ci.quantity_milli, ci.unit
		FROM certificate_input ci JOIN t ON ci.serial = t.serial
		WHERE t.depth < p_max_depth)
	SELECT * FROM t
$$;

-- Revokes a certificate and, with p_cascade, everything made from it; the
-- certificates revoked now come back (none when it was revoked already).
-- Those downstream say why: their upstream certificate was revoked.
CREATE FUNCTION revoke_certificate(p_serial bigint, p_reason text, p_cascade boolean)
RETURNS TABLE (serial bigint)
LANGUAGE sql AS $$
	UPDATE certificate c SET revoked_at = now(),
		revoke_reason = CASE WHEN c.serial = p_serial THEN p_reason
			ELSE p_reason || '（上游合格证 ' || lpad(p_serial::text, 12, '0')
				|| ' 已撤销）' END
	FROM (SELECT DISTINCT d.serial FROM chain_down(ARRAY[p_serial],
		CASE WHEN p_cascade THEN 64 ELSE 0 END) d) d
	WHERE c.serial = d.serial AND c.revoked_at IS NULL
	RETURNING c.serial
$$;

-- One trace node per edge and depth (handlers/chain.c): the certificate, its
-- issuer and product, what it drew, who collected it, and whether it is
-- revoked. At most 100,001 rows, so that the caller can say it cut the list.
CREATE FUNCTION trace_nodes(p_serial bigint, p_downstream boolean)
RETURNS TABLE (depth integer, via bigint, serial bigint, drawn_milli bigint,
	drawn_unit smallint, issuer_id integer, issuer_name text, issuer_kind text,
	origin text, origin_code text, product text, quantity_milli bigint, unit smallint,
	style smallint, labels integer, collected_by text, revoked boolean)
LANGUAGE sql STABLE AS $$
	SELECT t.depth, t.via, t.serial, t.quantity_milli, t.unit, c.issuer_id, s.name,
		s.kind, c.origin, lpad(c.origin_code::text, 12, '0'), p.name,
		c.quantity_milli, c.unit, c.style, c.labels,
		(SELECT string_agg(DISTINCT r.purchaser_id::text, ',') FROM receipt r
			WHERE r.serial = t.serial),
		c.revoked_at IS NOT NULL
	FROM (SELECT * FROM chain_down(ARRAY[p_serial]) WHERE p_downstream
		UNION ALL
		SELECT * FROM chain_up(p_serial) WHERE NOT p_downstream) t
	JOIN certificate c ON c.serial = t.serial
	JOIN subject s ON s.id = c.issuer_id
	JOIN product p ON p.id = c.product_id
	ORDER BY t.depth, t.serial
	LIMIT 100001
$$;

-- Logging in (handlers/sessions.c). The account behind a login, whether it
-- is locked or disabled (a blacklisted subject's accounts are disabled).
CREATE FUNCTION account_for_login(p_login text, p_kind text)
RETURNS TABLE (account_id integer, subject_id integer, secret_hash text, role text,
	locked boolean, disabled boolean, subject_name text, subject_status text)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.subject_id, a.secret_hash, a.role,
		coalesce(a.locked_until > now(), false), a.disabled OR s.status = 'blacklisted',
		s.name, s.status
	FROM account a JOIN subject s ON s.id = a.subject_id
	WHERE a.login = p_login AND a.kind = p_kind
$$;

-- A wrong secret: counts it, and locks the account for p_lock_minutes at
-- p_max failures in a row. Says whether the account is now locked.
CREATE FUNCTION count_failed_login(p_account integer, p_max integer, p_lock_minutes integer)
RETURNS TABLE (locked boolean)
LANGUAGE sql AS $$
	UPDATE account SET failed_attempts = failed_attempts + 1,
		locked_until = CASE WHEN failed_attempts + 1 >= p_max
			THEN now() + make_interval(mins => p_lock_minutes) ELSE locked_until END
	WHERE id = p_account
	RETURNING failed_attempts >= p_max
$$;

-- The right secret: the failures are forgotten and a session token (stored
-- as its SHA-256) opens for p_minutes, bound to the kiosk it was opened at.
CREATE FUNCTION open_session(p_token text, p_account integer, p_subject integer,
	p_role text, p_minutes integer, p_kiosk text)
RETURNS TABLE (expires_at text)
LANGUAGE sql AS $$
	UPDATE account SET failed_attempts = 0, locked_until = NULL, last_login_at = now()
	WHERE id = p_account;
	INSERT INTO api_token (token_hash, subject_id, role, label, expires_at, kiosk_id,
		account_id)
	VALUES (sha256(convert_to(p_token, 'UTF8')), p_subject, p_role, 'session',
		now() + make_interval(mins => p_minutes), p_kiosk, p_account)
	RETURNING to_char(api_token.expires_at AT TIME ZONE 'Asia/Shanghai',
		'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
$$;

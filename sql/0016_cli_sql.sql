-- The admin CLI's longer statements (service/cli/), moved out of C string
-- literals into functions the CLI calls with named arguments: the catalogue,
-- quota and registry imports, tokens and accounts, the receipt purge and the
-- audit log's tail. They run with the caller's rights: the CLI connects as
-- the service's role, and as the schema owner for the purge.
--
-- One statement stays in C on purpose: the expression with which `agricert
-- audit verify` recomputes each entry's hash (cli/ac_cli_audit.c), so that
-- whoever altered the log cannot also alter the check.

-- One line of `agricert import products`. A new product takes the next id
-- and a default unit for its category (head for livestock and poultry, else
-- kg); a known name keeps its id and unit and takes the new category and
-- key_risk.
CREATE FUNCTION cli_import_product(p_name text, p_category text, p_key_risk boolean)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO product (id, name, category, key_risk, default_unit)
	SELECT coalesce(max(id), 0) + 1, p_name, p_category, p_key_risk,
		CASE WHEN p_category = '畜禽' THEN 'head' ELSE 'kg' END
	FROM product
	ON CONFLICT (name) DO UPDATE SET category = EXCLUDED.category,
		key_risk = EXCLUDED.key_risk
$$;

-- One line of `agricert import regions`: added, or replaced by its code.
CREATE FUNCTION cli_import_region(p_code bigint, p_name text, p_level smallint, p_parent bigint)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO region (code, name, level, parent)
	VALUES (p_code, p_name, p_level, p_parent)
	ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
		parent = EXCLUDED.parent
$$;

-- One township's rapid-test quotas for a year (`agricert import quotas`),
-- the township named as in the region table. Returns its code, or no row
-- when no township has that name.
CREATE FUNCTION cli_import_quota(p_township text, p_year integer, p_total integer,
	p_colloidal_gold integer, p_enzyme_inhibition integer, p_veterinary integer)
RETURNS TABLE (region_code bigint)
LANGUAGE sql AS $$
	INSERT INTO rapid_test_quota (region_code, year, total, colloidal_gold,
		enzyme_inhibition, veterinary)
	SELECT code, p_year, p_total, p_colloidal_gold, p_enzyme_inhibition, p_veterinary
	FROM region WHERE name = p_township AND level = 4
	ON CONFLICT (region_code, year) DO UPDATE SET total = EXCLUDED.total,
		colloidal_gold = EXCLUDED.colloidal_gold,
		enzyme_inhibition = EXCLUDED.enzyme_inhibition, veterinary = EXCLUDED.veterinary
	RETURNING rapid_test_quota.region_code
$$;

-- One row of `agricert import subjects`, already checked by the CLI. Empty
-- fields are NULL; an empty grade or status means A or active. The subject
-- with the same credit code (or, without one, the same name and region) is
-- updated, else a new one is created. A grade or status that changed is
-- recorded in subject_change with p_reason; a new subject's is recorded
-- (with no old value) when it is not the default.
CREATE FUNCTION cli_import_subject(p_kind text, p_name text, p_credit_code text,
	p_id_number text, p_contact text, p_region_code bigint, p_address text,
	p_credit_grade text, p_status text, p_reason text)
RETURNS TABLE (subject_id integer, created boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_grade text := coalesce(nullif(p_credit_grade, ''), 'A');
	v_status text := coalesce(nullif(p_status, ''), 'active');
	v_old_grade text;
	v_old_status text;
BEGIN
	SELECT s.id, s.credit_grade, s.status INTO subject_id, v_old_grade, v_old_status
	FROM subject s
	WHERE s.kind <> 'staff' AND ((p_credit_code <> '' AND s.credit_code = p_credit_code)
		OR (coalesce(s.credit_code, '') = '' AND s.name = p_name
			AND s.region_code = p_region_code))
	ORDER BY s.credit_code IS NOT DISTINCT FROM p_credit_code DESC, s.id
	LIMIT 1;
	created := NOT FOUND;
	IF created THEN
		INSERT INTO subject AS s (kind, name, credit_code, id_number, contact,
			region_code, address, credit_grade, status)
		VALUES (p_kind, p_name, nullif(p_credit_code, ''), nullif(p_id_number, ''),
			nullif(p_contact, ''), p_region_code, nullif(p_address, ''), v_grade,
			v_status)
		RETURNING s.id INTO subject_id;
		v_old_grade := CASE WHEN v_grade = 'A' THEN 'A' END;
		v_old_status := CASE WHEN v_status = 'active' THEN 'active' END;
	ELSE
		UPDATE subject s SET kind = p_kind, name = p_name,
			credit_code = nullif(p_credit_code, ''), id_number = nullif(p_id_number, ''),
			contact = nullif(p_contact, ''), region_code = p_region_code,
			address = nullif(p_address, ''), credit_grade = v_grade, status = v_status
		WHERE s.id = subject_id;
	END IF;
	IF v_old_grade IS DISTINCT FROM v_grade THEN
		INSERT INTO subject_change (subject_id, field, old_value, new_value, reason,
			actor_role)
		VALUES (subject_id, 'credit_grade', v_old_grade, v_grade, p_reason, 'cli');
	END IF;
	IF v_old_status IS DISTINCT FROM v_status THEN
		INSERT INTO subject_change (subject_id, field, old_value, new_value, reason,
			actor_role)
		VALUES (subject_id, 'status', v_old_status, v_status, p_reason, 'cli');
	END IF;
	RETURN NEXT;
END
$$;

-- An access token (`agricert token create`, `agricert kiosk token`), stored
-- as its SHA-256 like every other.
CREATE FUNCTION cli_create_token(p_token text, p_subject integer, p_role text,
	p_label text DEFAULT NULL, p_kiosk text DEFAULT NULL)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO api_token (token_hash, subject_id, role, label, kiosk_id)
	VALUES (sha256(convert_to(p_token, 'UTF8')), p_subject, p_role, p_label, p_kiosk)
$$;

-- An account (`agricert account add`). A known login takes the new secret
-- and is unlocked; its subject, kind and role stay.
CREATE FUNCTION cli_save_account(p_subject integer, p_kind text, p_login text,
	p_secret_hash text, p_role text)
RETURNS integer
LANGUAGE sql AS $$
	INSERT INTO account (subject_id, kind, login, secret_hash, role)
	VALUES (p_subject, p_kind, p_login, p_secret_hash, p_role)
	ON CONFLICT (login) DO UPDATE SET secret_hash = EXCLUDED.secret_hash,
		failed_attempts = 0, locked_until = NULL
	RETURNING id
$$;

-- `agricert purge receipts`: deletes the receipts received more than
-- p_months ago (or, with p_dry_run, only counts them) in one statement, so
-- all or none. Returns how many and the cut-off as the CLI prints it. Only
-- the schema owner may delete receipts, and 0011 refuses any younger than 6
-- months whoever asks.
CREATE FUNCTION cli_purge_receipts(p_months integer, p_dry_run boolean)
RETURNS TABLE (receipts bigint, received_before text)
LANGUAGE plpgsql AS $$
DECLARE
	v_before timestamptz := now() - make_interval(months => p_months);
BEGIN
	IF p_dry_run THEN
		SELECT count(*) INTO receipts FROM receipt r WHERE r.received_at < v_before;
	ELSE
		WITH d AS (DELETE FROM receipt r WHERE r.received_at < v_before RETURNING 1)
		SELECT count(*) INTO receipts FROM d;
	END IF;
	received_before := to_char(v_before, 'YYYY-MM-DD HH24:MI:SSOF');
	RETURN NEXT;
END
$$;

-- The last p_limit entries of the audit log, oldest first, as `agricert
-- audit log` prints them (times in UTC).
CREATE FUNCTION cli_audit_tail(p_limit integer)
RETURNS TABLE (id bigint, at text, actor text, action text, object text, before text,
	after text)
LANGUAGE sql STABLE AS $$
	SELECT l.id, to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		l.actor, l.action, l.object, l.before::text, l.after::text
	FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT p_limit) l
	ORDER BY l.id
$$;

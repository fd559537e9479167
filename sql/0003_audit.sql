-- agricert schema, version 3: the tamper-evident audit log (sql/AUDIT.md).
--
-- Every change to an audited table appends one entry per statement to
-- audit_log, from AFTER ... FOR EACH STATEMENT triggers with transition
-- tables: a batch of 512 certificates costs one entry, not 512. Entries are
-- hash-chained (hash = sha256(prev_hash || canonical text), see AUDIT.md) and
-- numbered densely under a lock on audit_head, so a changed, deleted or
-- reordered entry is found by `agricert audit verify`.
--
-- The service is meant to connect as agricert_app, which may read and write
-- the business tables but only read audit_log. audit_log, audit_head and the
-- functions that write them belong to agricert_audit (NOLOGIN); the writers
-- are SECURITY DEFINER. This migration creates roles, so it must run as a
-- superuser (deploy/pg-up's postgres).

DO $$
BEGIN
	IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'migration 0003_audit must run as a superuser (it creates roles)';
	END IF;
	-- Roles are cluster-wide and several databases may migrate at once.
	BEGIN
		CREATE ROLE agricert_audit NOLOGIN;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN
		NULL;
	END;
	BEGIN
		CREATE ROLE agricert_app LOGIN;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN
		NULL;
	END;
END
$$;

CREATE TABLE audit_log (
	-- Dense: assigned as audit_head.last_id + 1 under the head's row lock,
	-- not from a sequence (a rolled-back nextval would leave a gap that
	-- could not be told from a deleted entry).
	id bigint PRIMARY KEY CHECK (id > 0),
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor text NOT NULL,
	action text NOT NULL,
	object text NOT NULL,
	before jsonb,
	after jsonb,
	prev_hash bytea NOT NULL,
	hash bytea NOT NULL
);

-- The end of the chain: one row, locked by every append until its
-- transaction ends, so that appends are serialized and the chain cannot fork.
CREATE TABLE audit_head (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	last_id bigint NOT NULL,
	hash bytea NOT NULL
);
INSERT INTO audit_head (last_id, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- The canonical text of an entry (AUDIT.md): each field as a netstring
-- "<octets>:<text>," or "~," for NULL. `agricert audit verify` inlines the
-- same expression rather than trusting this function.
CREATE FUNCTION audit_canonical(p_id bigint, p_at timestamptz, p_actor text, p_action text,
	p_object text, p_before jsonb, p_after jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT string_agg(CASE WHEN f IS NULL THEN '~,' ELSE octet_length(f) || ':' || f || ',' END,
			  '' ORDER BY n)
	FROM unnest(ARRAY[p_id::text,
			  to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
			  p_actor, p_action, p_object, p_before::text, p_after::text])
		WITH ORDINALITY AS t(f, n)
$$;

-- Who acts: the transaction's (or session's) agricert.actor setting, else the
-- database user and application_name.
CREATE FUNCTION audit_actor() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT coalesce(nullif(current_setting('agricert.actor', true), ''),
			'db:' || session_user ||
			coalesce('/' || nullif(current_setting('application_name', true), ''), ''))
$$;

-- Appends one entry to the chain. Internal: only the triggers and
-- audit_append call it.
CREATE FUNCTION audit_chain_append(p_actor text, p_action text, p_object text, p_before jsonb,
	p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	v_id bigint;
	v_prev bytea;
	v_at timestamptz;
	v_hash bytea;
BEGIN
	SELECT last_id + 1, hash INTO v_id, v_prev FROM audit_head FOR UPDATE;
	-- Read the clock under the lock, so that time grows with id.
	v_at := clock_timestamp();
	v_hash := sha256(v_prev || convert_to(audit_canonical(v_id, v_at, p_actor, p_action,
		p_object, p_before, p_after), 'UTF8'));
	INSERT INTO audit_log (id, at, actor, action, object, before, after, prev_hash, hash)
	VALUES (v_id, v_at, p_actor, p_action, p_object, p_before, p_after, v_prev, v_hash);
	UPDATE audit_head SET last_id = v_id, hash = v_hash;
	RETURN v_id;
END
$$;

-- For changes the database does not see (key files): the CLI calls this.
-- A NULL actor means audit_actor().
CREATE FUNCTION audit_append(actor text, action text, object text, before jsonb, after jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
	IF action IS NULL OR action !~ '^[a-z_]+\.[a-z_]+$' THEN
		RAISE EXCEPTION 'audit action must look like "thing.verb", not %', action;
	END IF;
	RETURN audit_chain_append(coalesce(nullif(actor, ''), audit_actor()), action,
		coalesce(object, ''), before, after);
END
$$;

-- The statement trigger. Arguments: the key column, the verbs for INSERT,
-- UPDATE and DELETE, then columns left out of before/after (bulky or
-- derived, e.g. the item codes). object is "<table>:<key>,<key>,..." in key
-- order. INSERT puts the new rows in after and DELETE the old rows in
-- before, column by column in key order ({"col": [row 1's, row 2's, ...]}:
-- one array per column is far cheaper to build than one object per row,
-- which matters for the certificate batches). UPDATE maps each key to the
-- columns that changed, before and after; rows it left unchanged are not
-- listed, and a statement that changed nothing is not logged.
CREATE FUNCTION audit_statement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	v_key text := TG_ARGV[0];
	v_omit text[] := coalesce(TG_ARGV[4:], '{}');
	v_verb text;
	v_keys text;
	v_cols text;
	v_rows jsonb;
	v_before jsonb;
	v_after jsonb;
	v_flag boolean;
BEGIN
	IF TG_OP IN ('INSERT', 'DELETE') THEN
		-- jsonb_build_object takes at most 100 arguments: 40 columns a call.
		SELECT string_agg('jsonb_build_object(' || c || ')', ' || ')
		INTO v_cols
		FROM (SELECT string_agg(format('%L, array_agg(%I)', attname, attname), ', '
				ORDER BY attnum) AS c
			FROM (SELECT attname, attnum, (row_number() OVER (ORDER BY attnum) - 1) / 40 AS part
				FROM pg_attribute
				WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped
					AND attname <> ALL (v_omit)) a
			GROUP BY part) p;
		-- Every aggregate reads the rows in the same order, so position i of
		-- each array and of the key list is the same row.
		EXECUTE format('SELECT string_agg(%I::text, '',''), %s FROM (SELECT * FROM %I ORDER BY %I) s',
			v_key, v_cols, CASE TG_OP WHEN 'INSERT' THEN 'new_rows' ELSE 'old_rows' END, v_key)
		INTO v_keys, v_rows;
		IF TG_OP = 'INSERT' THEN
			v_verb := TG_ARGV[1];
			v_after := v_rows;
			IF TG_TABLE_NAME = 'print_job' AND v_after -> 'reprint' @> 'true' THEN
				v_verb := 'reprint';
			END IF;
		ELSE
			v_verb := TG_ARGV[3];
			v_before := v_rows;
		END IF;
	ELSE
		v_verb := TG_ARGV[2];
		WITH o AS (SELECT to_jsonb(t) - v_omit AS j FROM old_rows t),
		n AS (SELECT to_jsonb(t) - v_omit AS j FROM new_rows t),
		pair AS (
			SELECT coalesce(n.j -> v_key, o.j -> v_key) AS k, coalesce(o.j, '{}') AS oj,
				coalesce(n.j, '{}') AS nj
			FROM n FULL JOIN o ON o.j -> v_key = n.j -> v_key),
		ch AS (
			SELECT k,
				(SELECT jsonb_object_agg(e.key, oj -> e.key) FROM jsonb_each(nj) e
				 WHERE oj -> e.key IS DISTINCT FROM e.value) AS b,
				(SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(nj) e
				 WHERE oj -> e.key IS DISTINCT FROM e.value) AS a,
				oj ? 'revoked_at' AND oj -> 'revoked_at' = 'null'
					AND nj -> 'revoked_at' <> 'null' AS revoked
			FROM pair)
		SELECT string_agg(k #>> '{}', ',' ORDER BY k), jsonb_object_agg(k #>> '{}', b),
			jsonb_object_agg(k #>> '{}', a), bool_and(revoked)
		INTO v_keys, v_before, v_after, v_flag
		FROM ch WHERE a IS NOT NULL;
		IF v_flag THEN
			v_verb := 'revoke';
		END IF;
	END IF;
	IF v_keys IS NOT NULL THEN
		PERFORM audit_chain_append(audit_actor(), TG_TABLE_NAME || '.' || v_verb,
			TG_TABLE_NAME || ':' || v_keys, v_before, v_after);
	END IF;
	RETURN NULL;
END
$$;

-- Puts the three statement triggers on a table (again: it replaces them).
-- Later migrations that add a table call it:
-- SELECT audit_attach('thing', 'id', 'create', 'update', 'delete');
CREATE FUNCTION audit_attach(p_table regclass, p_key text, p_insert text, p_update text,
	p_delete text, VARIADIC p_omit text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
	v_args text := array_to_string(ARRAY(SELECT quote_literal(a)
		FROM unnest(ARRAY[p_key, p_insert, p_update, p_delete] || p_omit) a), ', ');
	v_name text := (SELECT relname FROM pg_class WHERE oid = p_table);
BEGIN
	EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
		'FOR EACH STATEMENT EXECUTE FUNCTION audit_statement(%s)',
		'audit_' || v_name || '_ins', p_table, v_args);
	EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows '
		'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_statement(%s)',
		'audit_' || v_name || '_upd', p_table, v_args);
	EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
		'FOR EACH STATEMENT EXECUTE FUNCTION audit_statement(%s)',
		'audit_' || v_name || '_del', p_table, v_args);
END
$$;

SELECT audit_attach('certificate', 'serial', 'issue', 'update', 'delete', 'item_codes', 'request_fp');
SELECT audit_attach('print_job', 'id', 'print', 'state', 'delete');
SELECT audit_attach('subject', 'id', 'create', 'update', 'delete');
SELECT audit_attach('product', 'id', 'create', 'update', 'delete');
SELECT audit_attach('region', 'code', 'create', 'update', 'delete');
-- Token creation is the closest thing to a login today; its hash is the key.
SELECT audit_attach('api_token', 'token_hash', 'create', 'update', 'delete');
-- The registry tables of 0002 (written at the same time: guarded).
SELECT audit_attach(to_regclass('market'), 'id', 'create', 'update', 'delete')
WHERE to_regclass('market') IS NOT NULL;
SELECT audit_attach(to_regclass('kiosk'), 'id', 'create', 'update', 'delete')
WHERE to_regclass('kiosk') IS NOT NULL;
SELECT audit_attach(to_regclass('subject_change'), 'id', 'create', 'update', 'delete')
WHERE to_regclass('subject_change') IS NOT NULL;
-- Accounts (0005) exist here only where 0005 landed before this migration;
-- elsewhere a later migration attaches them (sql/AUDIT.md).
SELECT audit_attach(to_regclass('account'), 'id', 'create', 'update', 'delete', 'secret_hash')
WHERE to_regclass('account') IS NOT NULL;

-- Second line of defence: nobody, not even the owner, changes an entry
-- without first disabling this trigger (which takes a superuser or the owner).
CREATE FUNCTION audit_log_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
	FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

ALTER TABLE audit_log OWNER TO agricert_audit;
ALTER TABLE audit_head OWNER TO agricert_audit;
ALTER FUNCTION audit_chain_append(text, text, text, jsonb, jsonb) OWNER TO agricert_audit;
ALTER FUNCTION audit_append(text, text, text, jsonb, jsonb) OWNER TO agricert_audit;
ALTER FUNCTION audit_statement() OWNER TO agricert_audit;
REVOKE ALL ON FUNCTION audit_chain_append(text, text, text, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_append(text, text, text, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_attach(regclass, text, text, text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(text, text, text, jsonb, jsonb) TO agricert_app;

-- The service's role: the business tables and their sequences, nothing that
-- changes the schema, the audit log read-only. Tables and sequences that
-- later migrations create (as the same owner) get the same grants.
DO $$
BEGIN
	EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO agricert_app', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO agricert_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO agricert_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO agricert_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO agricert_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO agricert_app;
REVOKE ALL ON audit_log, audit_head FROM agricert_app;
GRANT SELECT ON audit_log, audit_head TO agricert_app;
-- Applied migrations are the owner's business.
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM agricert_app;

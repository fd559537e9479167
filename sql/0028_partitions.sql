-- agricert schema, version 28: monthly partitions of what grows without
-- limit (the scan log, the audit log, the receipts) and retention by
-- detaching and archiving whole months, never by deleting rows.
--
-- Plain declarative partitioning (PostgreSQL 15), not pg_partman: three
-- tables, one rule (a month per partition, China time), and the creation of
-- months ahead is one function the service calls (partitions_ensure) —
-- nothing to install on every node of a cluster. pg_partman is the
-- alternative where many more tables are partitioned.
--
-- * Each table is partitioned by RANGE of its time column, one partition a
--   month named <table>_YYYY_MM, plus <table>_default, which catches a row
--   of a month nobody created yet, so that no insert ever fails for want of
--   a partition. partitions_ensure() creates this month and the next two;
--   agricertd calls it at start and every day, the migration once.
-- * Retention (agricert archive, README "Retention"): partition_detach()
--   detaches a month only once its end lies keep_at_least back (the legal
--   minimum, partition_policy), the CLI writes its rows to a file, and
--   partition_archived() records the file's SHA-256 and row count, then
--   drops the detached table. Both write an audit entry. Nothing younger
--   than the minimum can be detached through these functions (AC002), and
--   the service's role can do neither.
-- * The audit log's chain runs across partitions unchanged (ids dense, each
--   entry's prev_hash the hash of the one before). A detached month of it
--   keeps its first and last id and hash in partition_archive and in the
--   partition.detach entry of the chain itself; `agricert audit verify`
--   starts after the newest detached entry, from its hash, and checks that
--   the chain's own partition.detach entry says the same. Months of the
--   audit log are detached oldest first, so the archived part has no holes.
-- * A receipt's item is collected once by anyone: a unique index cannot
--   span partitions, so receipt_once() checks it under a lock on the
--   certificate's serial (record_receipts() also locks the certificate row).

CREATE TABLE partition_policy (
	parent text PRIMARY KEY,
	key_column text NOT NULL,
	-- A month is detached only once its end is this far back.
	keep_at_least interval NOT NULL CHECK (keep_at_least >= interval '6 months'),
	why text NOT NULL
);
INSERT INTO partition_policy VALUES
	('scan_log', 'scanned_at', '6 months',
	 'scans back inspections and clone suspicions of certificates still on sale'),
	('receipt', 'received_at', '6 months',
	 '收取的合格证至少保存6个月: collected certificates are kept at least 6 months'),
	('audit_log', 'at', '2 years',
	 '生产记录至少保存二年: the records behind certificates are kept at least 2 years');

-- Months detached, then archived to a file (file, sha256, archived_at set
-- when the detached table was dropped).
CREATE TABLE partition_archive (
	name text PRIMARY KEY,
	parent text NOT NULL REFERENCES partition_policy (parent),
	month date NOT NULL,
	rows bigint NOT NULL,
	-- audit_log only: the detached entries' first and last.
	first_id bigint,
	first_prev_hash bytea,
	last_id bigint,
	last_hash bytea,
	detached_at timestamptz NOT NULL DEFAULT now(),
	file text,
	sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	archived_at timestamptz
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON partition_policy, partition_archive FROM agricert_app;

-- The bounds of month p_month (its first day) in China time.
CREATE FUNCTION partition_bounds(p_month date, OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT date_trunc('month', p_month)::timestamp AT TIME ZONE 'Asia/Shanghai',
		(date_trunc('month', p_month) + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai'
$$;

-- What every partition of p_parent gets besides what it inherits: the audit
-- log's owner, read-only grant and TRUNCATE guard; the receipts' TRUNCATE
-- guard and no DELETE for the service (statement triggers and grants are
-- not inherited).
CREATE FUNCTION partition_guard(p_name text, p_parent text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
	IF p_parent = 'audit_log' THEN
		EXECUTE format('ALTER TABLE %I OWNER TO agricert_audit', p_name);
		EXECUTE format('REVOKE ALL ON %I FROM agricert_app', p_name);
		EXECUTE format('GRANT SELECT ON %I TO agricert_app', p_name);
		EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I '
			'FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()', p_name);
	ELSIF p_parent = 'receipt' THEN
		EXECUTE format('REVOKE DELETE, TRUNCATE ON %I FROM agricert_app', p_name);
		EXECUTE format('CREATE TRIGGER receipt_retention_no_truncate BEFORE TRUNCATE ON %I '
			'FOR EACH STATEMENT EXECUTE FUNCTION receipt_retention_floor()', p_name);
	END IF;
END
$$;

-- Creates p_parent's partition for the month of p_month unless it exists or
-- was archived; returns its name, or NULL. Rows of that month already in
-- the default partition stay there (a WARNING says so): moving them would
-- mean deleting rows, which the audit log and the receipts refuse.
CREATE FUNCTION partition_create(p_parent text, p_month date) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
	v_name text := p_parent || '_' || to_char(p_month, 'YYYY_MM');
	v_key text;
	b record;
	v_busy boolean;
BEGIN
	IF to_regclass(v_name) IS NOT NULL
		OR EXISTS (SELECT 1 FROM partition_archive a WHERE a.name = v_name) THEN
		RETURN NULL;
	END IF;
	SELECT key_column INTO STRICT v_key FROM partition_policy WHERE parent = p_parent;
	b := partition_bounds(p_month);
	IF to_regclass(p_parent || '_default') IS NOT NULL THEN
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)',
			p_parent || '_default', v_key, v_key) INTO v_busy USING b.lo, b.hi;
		IF v_busy THEN
			RAISE WARNING '% has rows of %: partition % not created (they stay there)',
				p_parent || '_default', to_char(p_month, 'YYYY-MM'), v_name;
			RETURN NULL;
		END IF;
	END IF;
	EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)',
		v_name, p_parent, b.lo, b.hi);
	PERFORM partition_guard(v_name, p_parent);
	RETURN v_name;
END
$$;

-- This month's and the next p_ahead months' partitions of every table (and
-- from p_since's month on, for history loaded after the fact, such as the
-- demo month); returns the names created. The service calls it (as
-- agricert_app) at start and daily: SECURITY DEFINER, the schema owner's.
CREATE FUNCTION partitions_ensure(p_ahead integer DEFAULT 2, p_since date DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	p record;
	m date;
	v_name text;
	v_now date := date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
	FOR p IN SELECT parent FROM partition_policy ORDER BY parent LOOP
		FOR m IN SELECT generate_series(least(date_trunc('month', coalesce(p_since, v_now)),
				v_now), v_now + make_interval(months => greatest(p_ahead, 0)),
				interval '1 month')::date LOOP
			v_name := partition_create(p.parent, m);
			IF v_name IS NOT NULL THEN
				RETURN NEXT v_name;
			END IF;
		END LOOP;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION partitions_ensure(integer, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION partitions_ensure(integer, date) TO agricert_app;
REVOKE ALL ON FUNCTION partition_create(text, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION partition_guard(text, text) FROM PUBLIC;

-- The monthly partitions of the policy tables, attached or detached and not
-- yet archived, with whether their month may leave (its end keep_at_least
-- back). agricert archive reads it.
CREATE VIEW partition_months AS
SELECT c.relname::text AS name, p.parent, m.month,
	i.inhrelid IS NOT NULL AS attached,
	(partition_bounds(m.month)).hi <= now() - p.keep_at_least AS due
FROM partition_policy p
JOIN pg_class c ON c.relname ~ ('^' || p.parent || '_[0-9]{4}_[0-9]{2}$')
	AND c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
-- (NULL for another name: the planner may compute it before the join's test)
CROSS JOIN LATERAL (SELECT to_date(substring(c.relname FROM '_([0-9]{4}_[0-9]{2})$'),
	'YYYY_MM') AS month) m
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = p.parent::regclass
WHERE NOT EXISTS (SELECT 1 FROM partition_archive a WHERE a.name = c.relname
		AND a.archived_at IS NOT NULL);

-- Detaches p_name, a month of a policy table whose end lies keep_at_least
-- back (else AC002), the audit log's oldest first; records it and writes
-- an audit entry. Returns the partition_archive row as JSON.
CREATE FUNCTION partition_detach(p_name text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	m record;
	v_rows bigint;
	a partition_archive;
BEGIN
	SELECT * INTO m FROM partition_months WHERE name = p_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no month partition % to detach', p_name USING ERRCODE = 'AC001';
	END IF;
	IF NOT m.due THEN
		RAISE EXCEPTION '% holds % of %, kept at least % (%): not detached',
			p_name, m.parent, to_char(m.month, 'YYYY-MM'),
			(SELECT keep_at_least FROM partition_policy WHERE parent = m.parent),
			(SELECT why FROM partition_policy WHERE parent = m.parent)
			USING ERRCODE = 'AC002';
	END IF;
	IF NOT m.attached THEN
		SELECT * INTO a FROM partition_archive WHERE name = p_name;
		RETURN to_jsonb(a);
	END IF;
	IF m.parent = 'audit_log' AND EXISTS (SELECT 1 FROM partition_months o
			WHERE o.parent = 'audit_log' AND o.attached AND o.month < m.month) THEN
		RAISE EXCEPTION 'older months of the audit log are still attached: detach them first'
			USING ERRCODE = 'AC001';
	END IF;
	EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', m.parent, p_name);
	EXECUTE format('SELECT count(*) FROM %I', p_name) INTO v_rows;
	a.name := p_name;
	a.parent := m.parent;
	a.month := m.month;
	a.rows := v_rows;
	a.detached_at := now();
	IF m.parent = 'audit_log' AND v_rows > 0 THEN
		EXECUTE format('SELECT (SELECT id FROM %1$I ORDER BY id LIMIT 1), '
			'(SELECT prev_hash FROM %1$I ORDER BY id LIMIT 1), '
			'(SELECT id FROM %1$I ORDER BY id DESC LIMIT 1), '
			'(SELECT hash FROM %1$I ORDER BY id DESC LIMIT 1)', p_name)
			INTO a.first_id, a.first_prev_hash, a.last_id, a.last_hash;
	END IF;
	INSERT INTO partition_archive SELECT (a).*;
	PERFORM audit_append(NULL, 'partition.detach', m.parent || ':' || p_name, NULL,
		jsonb_build_object('rows', v_rows, 'month', to_char(m.month, 'YYYY-MM'),
			'first_id', a.first_id, 'last_id', a.last_id,
			'last_hash', encode(a.last_hash, 'hex')));
	RETURN to_jsonb(a);
END
$$;

-- After agricert archive wrote p_name's rows to p_file: checks the count,
-- records the file and its SHA-256, drops the detached table and writes an
-- audit entry.
CREATE FUNCTION partition_archived(p_name text, p_file text, p_sha256 text, p_rows bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	a partition_archive;
	v_rows bigint;
BEGIN
	SELECT * INTO a FROM partition_archive WHERE name = p_name AND archived_at IS NULL FOR UPDATE;
	IF NOT FOUND OR to_regclass(p_name) IS NULL THEN
		RAISE EXCEPTION 'no detached partition %', p_name USING ERRCODE = 'AC001';
	END IF;
	EXECUTE format('SELECT count(*) FROM %I', p_name) INTO v_rows;
	IF v_rows <> p_rows OR v_rows <> a.rows THEN
		RAISE EXCEPTION '% holds % rows, the file % and % at detaching: not dropped',
			p_name, v_rows, p_rows, a.rows USING ERRCODE = 'AC001';
	END IF;
	UPDATE partition_archive SET file = p_file, sha256 = p_sha256, archived_at = now()
	WHERE name = p_name;
	EXECUTE format('DROP TABLE %I', p_name);
	PERFORM audit_append(NULL, 'partition.archive', a.parent || ':' || p_name, NULL,
		jsonb_build_object('rows', v_rows, 'file', p_file, 'sha256', p_sha256));
END
$$;
REVOKE ALL ON FUNCTION partition_detach(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION partition_archived(text, text, text, bigint) FROM PUBLIC;

-- Where `agricert audit verify` starts: after the newest detached entry,
-- from its hash (0 and 32 zero bytes when nothing is detached), and whether
-- the chain's own partition.detach entry says the same.
CREATE FUNCTION audit_floor(OUT last_id bigint, OUT last_hash text, OUT in_chain boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
	SELECT coalesce(f.last_id, 0),
		coalesce(encode(f.last_hash, 'hex'), repeat('0', 64)),
		f.last_id IS NULL OR EXISTS (SELECT 1 FROM audit_log l
			WHERE l.action = 'partition.detach' AND l.object = 'audit_log:' || f.name
				AND l.after ->> 'last_id' = f.last_id::text
				AND l.after ->> 'last_hash' = encode(f.last_hash, 'hex'))
	FROM (SELECT NULL) x
	LEFT JOIN LATERAL (SELECT a.name, a.last_id, a.last_hash FROM partition_archive a
		WHERE a.parent = 'audit_log' AND a.last_id IS NOT NULL
		ORDER BY a.last_id DESC LIMIT 1) f ON true
$$;

-- The TRUNCATE guard of 0011 looked at the whole receipt table; a partition
-- is truncated alone, so the guard looks at the table truncated.
CREATE OR REPLACE FUNCTION receipt_retention_floor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
	v_id bigint;
	v_at timestamptz;
BEGIN
	IF TG_OP = 'DELETE' THEN
		v_id := OLD.id;
		v_at := OLD.received_at;
	ELSE
		EXECUTE format('SELECT r.id, r.received_at FROM %I.%I r '
			'WHERE r.received_at >= now() - interval ''6 months'' '
			'ORDER BY r.received_at LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME)
			INTO v_id, v_at;
	END IF;
	IF v_at >= now() - interval '6 months' THEN
		RAISE EXCEPTION 'receipt % was received at %, less than 6 months ago: collected certificates are kept at least 6 months (收取的合格证至少保存6个月)',
			v_id, v_at
			USING ERRCODE = 'AC002';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NULL;
END
$$;

-- An item is collected once, by anyone (0007's UNIQUE (serial, item)).
-- Under a lock on the serial, a fresh snapshot of each statement (READ
-- COMMITTED) sees a receipt a racing transaction committed meanwhile.
CREATE FUNCTION receipt_once() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('receipt:' || NEW.serial, 0));
	IF EXISTS (SELECT 1 FROM receipt r WHERE r.serial = NEW.serial AND r.item = NEW.item) THEN
		RAISE EXCEPTION 'item % of certificate % is already collected', NEW.item, NEW.serial
			USING ERRCODE = 'unique_violation', CONSTRAINT = 'receipt_serial_item_key';
	END IF;
	RETURN NEW;
END
$$;

-- Turns table p_table into one partitioned by p_key with the same rows:
-- p_create is the new table's CREATE statement. The views that read the
-- table are defined again over the new one (a rename carries views along).
CREATE FUNCTION pg_temp.partition_convert(p_table text, p_key text, p_create text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v record;
	m date;
	v_old bigint;
	v_new bigint;
BEGIN
	CREATE TEMP TABLE convert_views ON COMMIT DROP AS
	SELECT DISTINCT vc.oid::regclass::text AS name, pg_get_viewdef(vc.oid) AS def
	FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
	JOIN pg_class vc ON vc.oid = r.ev_class
	WHERE d.refobjid = p_table::regclass AND vc.oid <> p_table::regclass;
	EXECUTE format('ALTER TABLE %I RENAME TO %I', p_table, p_table || '_unpartitioned');
	-- Index names are the schema's: the old table's go first.
	FOR v IN SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = (p_table || '_unpartitioned')::regclass AND con.contype IN ('p', 'u') LOOP
		EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', p_table || '_unpartitioned', v.conname);
	END LOOP;
	FOR v IN SELECT i.indexrelid::regclass::text AS name FROM pg_index i
		WHERE i.indrelid = (p_table || '_unpartitioned')::regclass LOOP
		EXECUTE format('DROP INDEX %s', v.name);
	END LOOP;
	EXECUTE p_create;
	EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', p_table || '_default', p_table);
	PERFORM partition_guard(p_table || '_default', p_table);
	FOR m IN EXECUTE format('SELECT DISTINCT date_trunc(''month'', %I AT TIME ZONE ''Asia/Shanghai'')::date '
		'FROM %I', p_key, p_table || '_unpartitioned') LOOP
		PERFORM partition_create(p_table, m);
	END LOOP;
	FOR i IN 0 .. 2 LOOP
		PERFORM partition_create(p_table, (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')
			+ make_interval(months => i))::date);
	END LOOP;
	EXECUTE format('INSERT INTO %I SELECT * FROM %I', p_table, p_table || '_unpartitioned');
	EXECUTE format('SELECT (SELECT count(*) FROM %I), (SELECT count(*) FROM %I)',
		p_table, p_table || '_unpartitioned') INTO v_new, v_old;
	IF v_new <> v_old THEN
		RAISE EXCEPTION '% rows of % copied into its partitions, not %', v_new, p_table, v_old;
	END IF;
	FOR v IN SELECT * FROM convert_views LOOP
		EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', v.name, v.def);
	END LOOP;
	DROP TABLE convert_views;
	EXECUTE format('DROP TABLE %I', p_table || '_unpartitioned');
	RAISE NOTICE '% partitioned by month: % rows', p_table, v_new;
END
$$;

-- A bigint id from a sequence (identity columns on partitioned tables
-- arrive only in PostgreSQL 17), continuing after the rows there are.
CREATE FUNCTION pg_temp.id_sequence(p_table text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('CREATE SEQUENCE %I OWNED BY %I.id', p_table || '_id_seq', p_table);
	EXECUTE format('SELECT setval(%L, coalesce((SELECT max(id) FROM %I), 0) + 1, false)',
		p_table || '_id_seq', p_table);
	EXECUTE format('ALTER TABLE %I ALTER COLUMN id SET DEFAULT nextval(%L)', p_table,
		p_table || '_id_seq');
END
$$;

-- The scan log.
LOCK TABLE scan_log IN ACCESS EXCLUSIVE MODE;
SELECT pg_temp.partition_convert('scan_log', 'scanned_at', $sql$
CREATE TABLE scan_log (
	id bigint NOT NULL,
	scanned_at timestamptz NOT NULL,
	serial bigint,
	item integer,
	verdict text NOT NULL,
	market_id integer REFERENCES market (id),
	subject_id integer REFERENCES subject (id),
	peer inet,
	inspection_id bigint,
	PRIMARY KEY (id, scanned_at)
) PARTITION BY RANGE (scanned_at);
CREATE INDEX scan_log_item ON scan_log (serial, item) WHERE serial IS NOT NULL;
CREATE INDEX scan_log_at ON scan_log (scanned_at);
CREATE INDEX scan_log_inspection ON scan_log (inspection_id) WHERE inspection_id IS NOT NULL;
$sql$);
SELECT pg_temp.id_sequence('scan_log');

-- The receipts.
LOCK TABLE receipt IN ACCESS EXCLUSIVE MODE;
SELECT pg_temp.partition_convert('receipt', 'received_at', $sql$
CREATE TABLE receipt (
	id bigint NOT NULL,
	purchaser_id integer NOT NULL REFERENCES subject (id),
	serial bigint NOT NULL REFERENCES certificate (serial),
	item integer NOT NULL CHECK (item >= 1),
	quantity_milli bigint NOT NULL CHECK (quantity_milli > 0),
	unit smallint NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX receipt_serial_item ON receipt (serial, item);
CREATE INDEX receipt_purchaser ON receipt (purchaser_id, serial);
$sql$);
SELECT pg_temp.id_sequence('receipt');
CREATE TRIGGER receipt_once BEFORE INSERT ON receipt
	FOR EACH ROW EXECUTE FUNCTION receipt_once();
CREATE TRIGGER receipt_retention_floor BEFORE DELETE ON receipt
	FOR EACH ROW EXECUTE FUNCTION receipt_retention_floor();
CREATE TRIGGER receipt_retention_no_truncate BEFORE TRUNCATE ON receipt
	FOR EACH STATEMENT EXECUTE FUNCTION receipt_retention_floor();
REVOKE DELETE, TRUNCATE ON receipt FROM agricert_app;
SELECT audit_attach('receipt', 'id', 'create', 'update', 'delete');

-- The audit log, with no append in between (appends lock the head).
LOCK TABLE audit_head IN EXCLUSIVE MODE;
LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE;
SELECT pg_temp.partition_convert('audit_log', 'at', $sql$
CREATE TABLE audit_log (
	-- Dense, from audit_head (0003); unique because appends are serialized
	-- on the head and verify checks density.
	id bigint NOT NULL CHECK (id > 0),
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor text NOT NULL,
	action text NOT NULL,
	object text NOT NULL,
	before jsonb,
	after jsonb,
	prev_hash bytea NOT NULL,
	hash bytea NOT NULL,
	PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX audit_log_action ON audit_log (action) WHERE action LIKE 'partition.%';
ALTER TABLE audit_log OWNER TO agricert_audit;
REVOKE ALL ON audit_log FROM agricert_app;
GRANT SELECT ON audit_log TO agricert_app;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
$sql$);

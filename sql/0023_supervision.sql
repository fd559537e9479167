-- Supervision (issue 13): what township and county regulators keep and see
-- beside the certificates. Patrols (巡查) of producers with their photos;
-- animal quarantine certificates (动物检疫合格证明) reconciled against the
-- livestock and poultry certificates (动检证比对); monthly random sampling
-- plans (双随机) that anyone can redraw from their seed; the per-township
-- targets of the Anxi plan's annex 3; and the documents the regulator's
-- dashboard (service/web/dashboard/) reads. The C code (handlers/supervision/)
-- calls these functions with named arguments; a caller's jurisdiction is a
-- range of region codes, p_region_lo to p_region_hi (base/ac_perm.c).
-- Demo data (`agricert demo load`) is at the end.

-- Producers are the subjects that issue style-1 certificates.
CREATE FUNCTION is_producer_kind(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_kind IN ('enterprise', 'cooperative', 'family_farm', 'household')
$$;

-- The township (9 digits, then 000) of a 12-digit division code.
CREATE FUNCTION township_of(p_code bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_code / 1000 * 1000
$$;

-- CSV for spreadsheets. Excel opens a file as UTF-8 only with a byte order
-- mark; every cell is quoted (quotes doubled), so commas, quotes and line
-- breaks stay inside it; a cell a spreadsheet would take for a formula
-- (starting with = + - @, a tab or a carriage return) gets a leading
-- apostrophe (OWASP, "CSV injection"). Lines end with CRLF (RFC 4180).
-- The dashboard's own exports (service/web/dashboard/csv.js) follow the
-- same rules.
CREATE FUNCTION csv_cell(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT '"' || replace(CASE WHEN p_value ~ '^[=+@\t\r-]' THEN '''' || p_value
		ELSE coalesce(p_value, '') END, '"', '""') || '"'
$$;

CREATE FUNCTION csv_line(p_cells text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT string_agg(csv_cell(c), ',' ORDER BY n) || E'\r\n'
	FROM unnest(p_cells) WITH ORDINALITY AS t(c, n)
$$;

-- A whole file: the mark, the header line, then the lines (csv_line each).
CREATE FUNCTION csv_document(p_header text[], p_lines text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT E'\uFEFF' || csv_line(p_header) || coalesce(p_lines, '')
$$;

-- Splits one CSV line (RFC 4180 quoting, no line breaks inside fields) into
-- its fields; NULL for a stray or unterminated quote.
CREATE FUNCTION csv_split(p_line text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_out text[] := '{}';
	v_cell text := '';
	v_quoted boolean := false;
	v_i integer := 1;
	v_n integer := length(p_line);
	v_c text;
BEGIN
	WHILE v_i <= v_n LOOP
		v_c := substr(p_line, v_i, 1);
		IF v_quoted THEN
			IF v_c = '"' AND substr(p_line, v_i + 1, 1) = '"' THEN
				v_cell := v_cell || '"';
				v_i := v_i + 1;
			ELSIF v_c = '"' THEN
				v_quoted := false;
				IF v_i < v_n AND substr(p_line, v_i + 1, 1) <> ',' THEN
					RETURN NULL;
				END IF;
			ELSE
				v_cell := v_cell || v_c;
			END IF;
		ELSIF v_c = ',' THEN
			v_out := v_out || v_cell;
			v_cell := '';
		ELSIF v_c = '"' AND v_cell = '' THEN
			v_quoted := true;
		ELSIF v_c = '"' THEN
			RETURN NULL;
		ELSE
			v_cell := v_cell || v_c;
		END IF;
		v_i := v_i + 1;
	END LOOP;
	IF v_quoted THEN
		RETURN NULL;
	END IF;
	RETURN v_out || v_cell;
END $$;

-- Whether the demo data of `agricert demo load` is in this database: the
-- dashboard then says so on every page.
CREATE TABLE demo_subject (
	subject_id integer PRIMARY KEY REFERENCES subject (id)
);

-- A subject's status in words.
CREATE FUNCTION subject_status_zh(p_status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_status WHEN 'active' THEN '正常' WHEN 'suspended' THEN '暂停开具'
		WHEN 'blacklisted' THEN '黑名单' ELSE p_status END
$$;

CREATE FUNCTION demo_present() RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM demo_subject)
$$;

------------------------------------------------------------------------------
-- Targets per township and year (annex 3 of the Anxi plan: producers, daily
-- and monthly patrols, item codes and household certificates a year), from
-- `agricert import targets YEAR FILE`.
CREATE TABLE township_target (
	region_code bigint NOT NULL REFERENCES region (code),
	year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	producers integer NOT NULL CHECK (producers >= 0),
	daily_patrols integer NOT NULL CHECK (daily_patrols >= 0),
	monthly_patrols integer NOT NULL CHECK (monthly_patrols >= 0),
	item_codes integer NOT NULL CHECK (item_codes >= 0),
	household_certificates integer NOT NULL CHECK (household_certificates >= 0),
	PRIMARY KEY (region_code, year)
);

-- One township's targets (`agricert import targets`), the township named as
-- in the region table. Returns its code, or no row when no township has
-- that name.
CREATE FUNCTION cli_import_target(p_township text, p_year integer, p_producers integer,
	p_daily_patrols integer, p_monthly_patrols integer, p_item_codes integer,
	p_household_certificates integer)
RETURNS TABLE (region_code bigint)
LANGUAGE sql AS $$
	INSERT INTO township_target (region_code, year, producers, daily_patrols,
		monthly_patrols, item_codes, household_certificates)
	SELECT code, p_year, p_producers, p_daily_patrols, p_monthly_patrols, p_item_codes,
		p_household_certificates
	FROM region WHERE name = p_township AND level = 4
	ON CONFLICT (region_code, year) DO UPDATE SET producers = EXCLUDED.producers,
		daily_patrols = EXCLUDED.daily_patrols,
		monthly_patrols = EXCLUDED.monthly_patrols, item_codes = EXCLUDED.item_codes,
		household_certificates = EXCLUDED.household_certificates
	RETURNING township_target.region_code
$$;

------------------------------------------------------------------------------
-- Patrols (巡查): a visit to a producer (onsite) or a check of its records in
-- the system (online, the plan's daily online patrol), what was checked
-- (production records, certificate use, 亮证 display, a rapid test), what was
-- found and what follows (compliant, rectify: a deadline to correct,
-- referred: to law enforcement). The producer's region is kept as it was at
-- the visit: coverage and jurisdiction are judged by it.
CREATE TABLE patrol (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	subject_id integer NOT NULL REFERENCES subject (id),
	region_code bigint NOT NULL,
	visited_on date NOT NULL,
	mode text NOT NULL CHECK (mode IN ('onsite', 'online')),
	-- Comma-separated (the audit log keeps a statement's rows column by
	-- column, and arrays of different lengths do not stack).
	checks text NOT NULL CHECK (string_to_array(checks, ',')
		<@ ARRAY['records', 'certificate_use', 'display', 'rapid_test']
		AND cardinality(string_to_array(checks, ',')) BETWEEN 1 AND 4),
	rapid_test_id bigint REFERENCES rapid_test (id),
	findings text NOT NULL CHECK (length(findings) BETWEEN 1 AND 2000),
	outcome text NOT NULL CHECK (outcome IN ('compliant', 'rectify', 'referred')),
	recorded_by integer NOT NULL REFERENCES subject (id),
	recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patrol_region_day ON patrol (region_code, visited_on);
CREATE INDEX patrol_subject_day ON patrol (subject_id, visited_on);

-- Photos of a patrol: JPEG, at most 2 MiB each, at most 6 a patrol, kept
-- with their SHA-256 (computed here, so that the digest is of exactly what
-- is stored).
CREATE TABLE patrol_photo (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	patrol_id bigint NOT NULL REFERENCES patrol (id),
	jpeg bytea NOT NULL CHECK (octet_length(jpeg) BETWEEN 4 AND 2097152
		AND substr(jpeg, 1, 3) = '\xffd8ff'::bytea),
	sha256 bytea NOT NULL CHECK (octet_length(sha256) = 32),
	added_by integer NOT NULL REFERENCES subject (id),
	added_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (patrol_id, sha256)
);

-- Records a patrol of a producer within the caller's jurisdiction, dated
-- today (p_visited_on NULL) or in the 90 days before (China's days). Says what stopped it when
-- nothing was stored (id NULL): no such subject, not a producer, outside
-- the jurisdiction, a date out of range, or a rapid test that is not the
-- producer's.
CREATE FUNCTION record_patrol(p_subject integer, p_visited_on date, p_mode text,
	p_checks text[], p_rapid_test bigint, p_findings text, p_outcome text,
	p_recorded_by integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (subject_found boolean, producer boolean, covered boolean, date_ok boolean,
	test_ok boolean, id bigint)
LANGUAGE sql AS $$
	WITH s AS (SELECT sj.id, sj.region_code, is_producer_kind(sj.kind) AS producer,
			sj.region_code BETWEEN p_region_lo AND p_region_hi AS covered
		FROM subject sj WHERE sj.id = p_subject),
	c AS (SELECT coalesce(p_visited_on, cst_today()) AS day,
			coalesce(p_visited_on, cst_today()) BETWEEN cst_today() - 90 AND cst_today()
				AS date_ok,
			p_rapid_test IS NULL OR EXISTS (SELECT 1 FROM rapid_test t
				WHERE t.id = p_rapid_test AND t.subject_id = p_subject) AS test_ok),
	ins AS (INSERT INTO patrol (subject_id, region_code, visited_on, mode, checks,
			rapid_test_id, findings, outcome, recorded_by)
		SELECT s.id, s.region_code, c.day, p_mode, array_to_string(p_checks, ','), p_rapid_test,
			p_findings, p_outcome, p_recorded_by
		FROM s, c WHERE s.producer AND s.covered AND c.date_ok AND c.test_ok
		RETURNING patrol.id)
	SELECT EXISTS (SELECT 1 FROM s), coalesce((SELECT s.producer FROM s), false),
		coalesce((SELECT s.covered FROM s), false), c.date_ok, c.test_ok,
		(SELECT ins.id FROM ins)
	FROM c
$$;

-- Adds a photo (base64 of a JPEG) to a patrol the caller covers. status:
-- stored, duplicate (the same bytes are already there: that photo's id),
-- not_base64, not_jpeg, too_large (over 2 MiB), too_many (6 already);
-- patrol_found and covered say why nothing was done.
CREATE FUNCTION add_patrol_photo(p_patrol bigint, p_base64 text, p_added_by integer,
	p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (patrol_found boolean, covered boolean, status text, id bigint,
	sha256 text, bytes integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_region bigint;
	v_jpeg bytea;
	v_hash bytea;
BEGIN
	SELECT p.region_code INTO v_region FROM patrol p WHERE p.id = p_patrol FOR UPDATE;
	patrol_found := v_region IS NOT NULL;
	covered := patrol_found AND v_region BETWEEN p_region_lo AND p_region_hi;
	IF NOT covered THEN
		RETURN NEXT;
		RETURN;
	END IF;
	BEGIN
		v_jpeg := decode(p_base64, 'base64');
	EXCEPTION WHEN invalid_parameter_value THEN
		status := 'not_base64';
		RETURN NEXT;
		RETURN;
	END;
	bytes := octet_length(v_jpeg);
	status := CASE WHEN bytes > 2097152 THEN 'too_large'
		WHEN bytes < 4 OR substr(v_jpeg, 1, 3) <> '\xffd8ff'::bytea THEN 'not_jpeg' END;
	IF status IS NOT NULL THEN
		RETURN NEXT;
		RETURN;
	END IF;
	v_hash := pg_catalog.sha256(v_jpeg);
	sha256 := encode(v_hash, 'hex');
	SELECT ph.id INTO id FROM patrol_photo ph
	WHERE ph.patrol_id = p_patrol AND ph.sha256 = v_hash;
	IF id IS NOT NULL THEN
		status := 'duplicate';
	ELSIF (SELECT count(*) FROM patrol_photo ph WHERE ph.patrol_id = p_patrol) >= 6 THEN
		status := 'too_many';
	ELSE
		INSERT INTO patrol_photo (patrol_id, jpeg, sha256, added_by)
		VALUES (p_patrol, v_jpeg, v_hash, p_added_by) RETURNING patrol_photo.id INTO id;
		status := 'stored';
	END IF;
	RETURN NEXT;
END $$;

-- A photo's bytes, when the caller covers its patrol; found/covered as above.
CREATE FUNCTION patrol_photo_get(p_patrol bigint, p_photo bigint, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (found boolean, covered boolean, jpeg bytea, sha256 text)
LANGUAGE sql STABLE AS $$
	WITH x AS (SELECT ph.jpeg, ph.sha256, p.region_code FROM patrol_photo ph
		JOIN patrol p ON p.id = ph.patrol_id
		WHERE ph.id = p_photo AND ph.patrol_id = p_patrol)
	SELECT EXISTS (SELECT 1 FROM x),
		coalesce((SELECT x.region_code BETWEEN p_region_lo AND p_region_hi FROM x), false),
		(SELECT x.jpeg FROM x WHERE x.region_code BETWEEN p_region_lo AND p_region_hi),
		(SELECT encode(x.sha256, 'hex') FROM x)
$$;

-- A patrol as the API writes it, with its photos (id, SHA-256, size).
CREATE FUNCTION patrol_json(t patrol) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', t.id, 'subject', t.subject_id, 'subject_name', s.name,
		'subject_kind', s.kind, 'credit_grade', s.credit_grade,
		'region_code', t.region_code::text,
		'township', lpad(township_of(t.region_code)::text, 12, '0'),
		'township_name', (SELECT r.name FROM region r
			WHERE r.code = township_of(t.region_code)),
		'visited_on', t.visited_on, 'mode', t.mode,
		'checks', string_to_array(t.checks, ','),
		'rapid_test', t.rapid_test_id,
		'rapid_test_result', (SELECT rt.result FROM rapid_test rt
			WHERE rt.id = t.rapid_test_id),
		'findings', t.findings, 'outcome', t.outcome,
		'recorded_by', t.recorded_by,
		'recorded_by_name', (SELECT x.name FROM subject x WHERE x.id = t.recorded_by),
		'recorded_at', cst_text(t.recorded_at),
		'photos', (SELECT coalesce(json_agg(json_build_object('id', ph.id,
				'sha256', encode(ph.sha256, 'hex'), 'bytes', octet_length(ph.jpeg),
				'path', format('/api/v1/patrols/%s/photos/%s', t.id, ph.id))
				ORDER BY ph.id), '[]')
			FROM patrol_photo ph WHERE ph.patrol_id = t.id))
	FROM subject s WHERE s.id = t.subject_id
$$;

-- One patrol, when the caller covers it; found/covered say why not.
CREATE FUNCTION patrol_get(p_patrol bigint, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (found boolean, covered boolean, doc json)
LANGUAGE sql STABLE AS $$
	SELECT true, t.region_code BETWEEN p_region_lo AND p_region_hi,
		CASE WHEN t.region_code BETWEEN p_region_lo AND p_region_hi
			THEN patrol_json(t) END
	FROM patrol t WHERE t.id = p_patrol
	UNION ALL
	SELECT false, false, NULL WHERE NOT EXISTS (SELECT 1 FROM patrol WHERE id = p_patrol)
$$;

-- Patrols of the period (visit dates p_from to p_to, p_to excluded; by
-- default the last 30 days), newest first, at most 500; p_subject: of one
-- producer. As JSON and CSV.
CREATE FUNCTION patrols_list(p_from date, p_to date, p_subject bigint, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH x AS (SELECT t.*, patrol_json(t) AS j FROM patrol t
		WHERE t.visited_on >= coalesce(p_from, cst_today() - 30)
			AND t.visited_on < coalesce(p_to, cst_today() + 1)
			AND t.region_code BETWEEN p_region_lo AND p_region_hi
			AND (p_subject IS NULL OR t.subject_id = p_subject)
		ORDER BY t.visited_on DESC, t.id DESC LIMIT 500)
	SELECT json_build_object('demo', demo_present(),
			'patrols', coalesce(json_agg(x.j ORDER BY x.visited_on DESC, x.id DESC), '[]')),
		csv_document(ARRAY['编号', '日期', '方式', '乡镇', '生产主体', '主体编号', '信用等级',
				'检查内容', '快检记录', '发现问题', '处理', '记录人', '照片数'],
			string_agg(csv_line(ARRAY[x.id::text, x.visited_on::text,
				CASE x.mode WHEN 'online' THEN '线上' ELSE '现场' END,
				x.j->>'township_name', x.j->>'subject_name', x.subject_id::text,
				x.j->>'credit_grade',
				array_to_string(ARRAY(SELECT CASE c WHEN 'records' THEN '生产记录'
					WHEN 'certificate_use' THEN '合格证开具'
					WHEN 'display' THEN '亮证' ELSE '快检' END
					FROM unnest(string_to_array(x.checks, ',')) c), '、'),
				x.rapid_test_id::text, x.findings,
				CASE x.outcome WHEN 'compliant' THEN '合格' WHEN 'rectify' THEN '限期整改'
					ELSE '移交执法' END,
				x.j->>'recorded_by_name',
				json_array_length(x.j->'photos')::text]),
				'' ORDER BY x.visited_on DESC, x.id DESC))
	FROM x
$$;

-- Coverage per township and month of p_year: patrols onsite and online,
-- producers patrolled (either way) against the producers registered now,
-- and the month's target (annex 3) when there is one.
CREATE FUNCTION patrol_coverage_of(p_year integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH t AS (SELECT r.code, r.name,
			(SELECT count(*) FROM subject s WHERE township_of(s.region_code) = r.code
				AND is_producer_kind(s.kind)) AS producers,
			(SELECT g.monthly_patrols FROM township_target g WHERE g.region_code = r.code
				AND g.year = p_year) AS target
		FROM region r WHERE r.level = 4 AND r.code BETWEEN p_region_lo AND p_region_hi),
	m AS (SELECT t.*, mo, (SELECT count(*) FILTER (WHERE p.mode = 'onsite') FROM patrol p
				WHERE township_of(p.region_code) = t.code
				AND p.visited_on >= make_date(p_year, mo, 1)
				AND p.visited_on < make_date(p_year, mo, 1) + interval '1 month') AS onsite,
			(SELECT count(*) FILTER (WHERE p.mode = 'online') FROM patrol p
				WHERE township_of(p.region_code) = t.code
				AND p.visited_on >= make_date(p_year, mo, 1)
				AND p.visited_on < make_date(p_year, mo, 1) + interval '1 month') AS online,
			(SELECT count(DISTINCT p.subject_id) FROM patrol p
				WHERE township_of(p.region_code) = t.code
				AND p.visited_on >= make_date(p_year, mo, 1)
				AND p.visited_on < make_date(p_year, mo, 1) + interval '1 month')
				AS patrolled
		FROM t, generate_series(1, 12) AS mo)
	SELECT json_build_object('year', p_year, 'demo', demo_present(),
			'townships', coalesce((SELECT json_agg(json_build_object(
				'code', lpad(t.code::text, 12, '0'), 'name', t.name,
				'producers', t.producers, 'monthly_target', t.target,
				'months', (SELECT json_agg(json_build_object('month', m.mo,
						'onsite', m.onsite, 'online', m.online,
						'patrolled', m.patrolled,
						'coverage', CASE WHEN m.producers > 0 THEN
							round(100.0 * m.patrolled / m.producers, 1) END)
						ORDER BY m.mo) FROM m WHERE m.code = t.code))
				ORDER BY t.code) FROM t), '[]')),
		csv_document(ARRAY['乡镇代码', '乡镇', '月份', '生产主体数', '现场巡查家次',
				'线上巡查家次', '巡查覆盖主体数', '覆盖率(%)', '每月巡查任务(家次)'],
			(SELECT string_agg(csv_line(ARRAY[lpad(m.code::text, 12, '0'), m.name,
				format('%s-%s', p_year, lpad(m.mo::text, 2, '0')), m.producers::text,
				m.onsite::text, m.online::text, m.patrolled::text,
				CASE WHEN m.producers > 0 THEN
					round(100.0 * m.patrolled / m.producers, 1)::text END,
				m.target::text]), '' ORDER BY m.code, m.mo) FROM m))
$$;

-- The same for p_year, by default this year.
CREATE FUNCTION patrol_coverage(p_year integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	SELECT * FROM patrol_coverage_of(coalesce(p_year,
		extract(year FROM cst_today())::integer), p_region_lo, p_region_hi)
$$;

-- Producers of the townships the caller covers that had no onsite patrol in
-- the quarter holding p_day (by default today), with their last visit: the
-- next rounds' list.
CREATE FUNCTION producers_unvisited(p_day date, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH q AS (SELECT date_trunc('quarter', coalesce(p_day, cst_today()))::date AS f,
			(date_trunc('quarter', coalesce(p_day, cst_today())) + interval '3 months')::date
				AS u),
	x AS (SELECT s.id, s.name, s.kind, s.credit_grade, s.status, s.contact,
			township_of(s.region_code) AS township,
			(SELECT r.name FROM region r WHERE r.code = township_of(s.region_code))
				AS township_name,
			(SELECT max(p.visited_on) FROM patrol p WHERE p.subject_id = s.id
				AND p.mode = 'onsite') AS last_visit
		FROM subject s, q
		WHERE is_producer_kind(s.kind) AND s.region_code BETWEEN p_region_lo AND p_region_hi
			AND NOT EXISTS (SELECT 1 FROM patrol p WHERE p.subject_id = s.id
				AND p.mode = 'onsite' AND p.visited_on >= q.f AND p.visited_on < q.u))
	SELECT json_build_object('quarter', format('%s-Q%s', extract(year FROM q.f),
				extract(quarter FROM q.f)),
			'from', q.f, 'to', q.u, 'demo', demo_present(),
			'producers', coalesce((SELECT json_agg(json_build_object('id', x.id,
				'name', x.name, 'kind', x.kind, 'credit_grade', x.credit_grade,
				'status', x.status, 'contact', x.contact,
				'township', lpad(x.township::text, 12, '0'),
				'township_name', x.township_name, 'last_visit', x.last_visit)
				ORDER BY x.township, x.credit_grade DESC, x.id) FROM x), '[]')),
		csv_document(ARRAY['乡镇', '主体编号', '生产主体', '信用等级', '状态', '联系电话',
				'上次现场巡查'],
			(SELECT string_agg(csv_line(ARRAY[x.township_name, x.id::text, x.name,
				x.credit_grade, subject_status_zh(x.status), x.contact,
				x.last_visit::text]), ''
				ORDER BY x.township, x.credit_grade DESC, x.id) FROM x))
	FROM q
$$;

------------------------------------------------------------------------------
-- Animal quarantine certificates (动物检疫合格证明) and their daily
-- reconciliation with the livestock and poultry certificates (Anxi plan:
-- "每天开展承诺达标合格证与动检证数据比对"). Imported from CSV through the
-- API and `agricert import quarantine FILE.csv`, both by import_quarantine().
CREATE TABLE quarantine_certificate (
	number text PRIMARY KEY CHECK (number ~ '^[0-9A-Za-z-]{4,40}$'),
	owner text NOT NULL CHECK (length(owner) BETWEEN 1 AND 100),
	-- The registry's producer of that name, when there is one.
	owner_id integer REFERENCES subject (id),
	species text NOT NULL,
	product_id integer NOT NULL REFERENCES product (id),
	quantity_milli bigint NOT NULL CHECK (quantity_milli > 0),
	unit smallint NOT NULL CHECK (unit IN (1, 6, 10)),
	origin text NOT NULL CHECK (length(origin) BETWEEN 1 AND 200),
	-- The origin as a division code (the deepest region named in it).
	region_code bigint NOT NULL,
	issued_on date NOT NULL,
	imported_by integer REFERENCES subject (id),
	imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_certificate_day ON quarantine_certificate (issued_on, region_code);

-- Units of the code format (proto/CODE.md) by id, in Chinese; and quantities
-- in thousandths brought to a base per family (count: head, only, piece;
-- weight: kg), so that a certificate in 斤 compares with a quarantine
-- certificate in kg.
CREATE FUNCTION unit_zh(p_unit smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT (ARRAY['千克', '克', '吨', '斤', '个', '头', '箱', '袋', '捆', '只'])[p_unit]
$$;

CREATE FUNCTION unit_family(p_unit smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_unit IN (1, 2, 3, 4) THEN 'weight'
		WHEN p_unit IN (5, 6, 10) THEN 'count' END
$$;

CREATE FUNCTION unit_base_milli(p_milli bigint, p_unit smallint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_milli * CASE p_unit WHEN 2 THEN 0.001 WHEN 3 THEN 1000 WHEN 4 THEN 0.5
		ELSE 1 END
$$;

-- A quantity as people write it: 25, 2.5.
CREATE FUNCTION quantity_text(p_milli numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT trim_scale(round(p_milli / 1000.0, 3))::text
$$;

-- The livestock or poultry product a quarantine certificate's species names:
-- a catalogue name of category 畜禽, or 猪, 牛, 羊 for 生猪, 肉牛, 肉羊.
CREATE FUNCTION quarantine_product(p_species text) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT p.id FROM product p WHERE p.category = '畜禽'
		AND p.name = CASE p_species WHEN '猪' THEN '生猪' WHEN '牛' THEN '肉牛'
			WHEN '羊' THEN '肉羊' ELSE p_species END
$$;

-- The deepest region an origin names: a 12-digit code in the region table,
-- else the region of the highest level whose name the text holds (longest
-- name first); NULL when none.
CREATE FUNCTION region_in_text(p_text text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(
		(SELECT r.code FROM region r WHERE p_text ~ '^[0-9]{12}$' AND r.code = p_text::bigint),
		(SELECT r.code FROM region r WHERE p_text !~ '^[0-9]{12}$'
			AND strpos(p_text, r.name) > 0
			ORDER BY r.level DESC, length(r.name) DESC, r.code LIMIT 1))
$$;

-- One line of a quarantine file checked: the row to store, or why not.
CREATE TYPE quarantine_line AS (line integer, number text, owner text, owner_id integer,
	species text, product_id integer, quantity_milli bigint, unit smallint, origin text,
	region_code bigint, issued_on date, problem text, problem_zh text);

-- Checks the fields f of one line (number, owner, species, quantity, unit,
-- origin, date).
CREATE FUNCTION quarantine_check(p_line integer, f text[], p_region_lo bigint,
	p_region_hi bigint)
RETURNS quarantine_line
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v quarantine_line;
BEGIN
	v.line := p_line;
	IF f IS NULL OR cardinality(f) <> 7 THEN
		v.problem := 'expected 7 comma-separated fields (quote fields that hold commas)';
		v.problem_zh := '应为7个以逗号分隔的字段（含逗号的字段请加引号）';
		RETURN v;
	END IF;
	v.number := trim(f[1]);
	v.owner := trim(f[2]);
	v.species := trim(f[3]);
	v.origin := trim(f[6]);
	v.product_id := quarantine_product(v.species);
	v.unit := CASE trim(f[5]) WHEN 'head' THEN 6 WHEN '头' THEN 6 WHEN 'only' THEN 10
		WHEN '只' THEN 10 WHEN 'kg' THEN 1 WHEN '千克' THEN 1 WHEN '公斤' THEN 1 END;
	v.region_code := region_in_text(v.origin);
	IF trim(f[4]) ~ '^[0-9]{1,9}(\.[0-9]{1,3})?$' THEN
		v.quantity_milli := round(trim(f[4])::numeric * 1000);
	END IF;
	IF trim(f[7]) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		BEGIN
			v.issued_on := to_date(trim(f[7]), 'YYYY-MM-DD');
			IF to_char(v.issued_on, 'YYYY-MM-DD') <> trim(f[7]) THEN
				v.issued_on := NULL;
			END IF;
		EXCEPTION WHEN others THEN
			v.issued_on := NULL;
		END;
	END IF;
	SELECT s.id INTO v.owner_id FROM subject s
	WHERE s.name = v.owner AND is_producer_kind(s.kind)
	ORDER BY township_of(s.region_code) = township_of(v.region_code) DESC, s.id LIMIT 1;
	SELECT x.en, x.zh INTO v.problem, v.problem_zh FROM (VALUES
		(1, v.number !~ '^[0-9A-Za-z-]{4,40}$',
			'number: 4 to 40 letters, digits or -', '检疫证号应为4至40位字母、数字或-'),
		(2, length(v.owner) NOT BETWEEN 1 AND 100, 'owner: 1 to 100 characters',
			'货主应为1至100个字'),
		(3, v.product_id IS NULL, 'species: a livestock or poultry product of the catalogue',
			'动物种类应为产品目录中的畜禽产品'),
		(4, coalesce(v.quantity_milli, 0) <= 0,
			'quantity: a number above 0 with at most 3 decimals',
			'数量应为大于0的数（最多3位小数）'),
		(5, v.unit IS NULL, 'unit: head, only or kg (头, 只, 千克)', '单位应为头、只或千克'),
		(6, length(v.origin) NOT BETWEEN 1 AND 200 OR v.region_code IS NULL,
			'origin: a 12-digit division code or a place naming its township',
			'启运地点应为12位区划代码或包含乡镇名称'),
		(7, v.issued_on IS NULL OR v.issued_on > cst_today()
			OR v.issued_on < cst_today() - 730,
			'date: YYYY-MM-DD, within the last two years',
			'签发日期应为近两年内的日期（YYYY-MM-DD）'),
		(8, v.region_code NOT BETWEEN p_region_lo AND p_region_hi,
			'origin: outside your jurisdiction', '启运地点不在您的辖区内'))
		AS x(k, bad, en, zh)
	WHERE x.bad ORDER BY x.k LIMIT 1;
	RETURN v;
END $$;

-- Imports a CSV file of quarantine certificates: a header line
-- (number,owner,species,quantity,unit,origin,date or the same in Chinese:
-- 检疫证号,货主,动物种类,数量,单位,启运地点,签发日期; a byte order mark is
-- allowed), then one certificate a line. All lines or none: with a problem
-- anywhere nothing is stored and only the lines at fault come back
-- (status rejected); else every line, new or updated (a number seen before
-- is replaced, unless it is outside the caller's jurisdiction).
CREATE FUNCTION import_quarantine(p_csv text, p_imported_by integer, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (line integer, number text, status text, message text, message_zh text)
LANGUAGE plpgsql AS $$
DECLARE
	v_lines text[] := regexp_split_to_array(regexp_replace(p_csv, '^\uFEFF', ''), '\r?\n');
	v_rows quarantine_line[] := '{}';
	v quarantine_line;
	v_header text;
	v_first integer;
BEGIN
	SELECT k INTO v_first FROM generate_subscripts(v_lines, 1) k
	WHERE trim(v_lines[k]) <> '' ORDER BY k LIMIT 1;
	v_header := replace(coalesce(v_lines[v_first], ''), ' ', '');
	IF v_header NOT IN ('number,owner,species,quantity,unit,origin,date',
		'检疫证号,货主,动物种类,数量,单位,启运地点,签发日期') THEN
		RETURN QUERY SELECT coalesce(v_first, 1), NULL::text, 'rejected'::text,
			'the header must be number,owner,species,quantity,unit,origin,date'::text,
			'表头应为：检疫证号,货主,动物种类,数量,单位,启运地点,签发日期'::text;
		RETURN;
	END IF;
	IF cardinality(v_lines) > 20001 THEN
		RETURN QUERY SELECT 1, NULL::text, 'rejected'::text,
			'at most 20000 lines a file'::text, '每个文件最多20000行'::text;
		RETURN;
	END IF;
	FOR k IN v_first + 1 .. cardinality(v_lines) LOOP
		CONTINUE WHEN trim(v_lines[k]) = '';
		IF length(v_lines[k]) > 1000 THEN
			v := ROW(k, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				'longer than 1000 characters', '超过1000个字符')::quarantine_line;
		ELSE
			v := quarantine_check(k, csv_split(v_lines[k]), p_region_lo, p_region_hi);
		END IF;
		IF v.problem IS NULL AND EXISTS (SELECT 1 FROM quarantine_certificate q
			WHERE q.number = v.number
			AND q.region_code NOT BETWEEN p_region_lo AND p_region_hi) THEN
			v.problem := 'number: already imported for a place outside your jurisdiction';
			v.problem_zh := '该检疫证号已由其他辖区导入';
		END IF;
		v_rows := v_rows || v;
	END LOOP;
	-- A number on an earlier line too is a problem of the later one.
	RETURN QUERY
	WITH r AS (SELECT x.line, x.number, x.problem, x.problem_zh,
			row_number() OVER (PARTITION BY x.number ORDER BY x.line) AS seen
		FROM unnest(v_rows) x)
	SELECT r.line, r.number, 'rejected'::text,
		coalesce(r.problem, 'number: the same as an earlier line'),
		coalesce(r.problem_zh, '检疫证号与前面的行重复')
	FROM r WHERE r.problem IS NOT NULL OR (r.seen > 1 AND r.number IS NOT NULL)
	ORDER BY r.line;
	IF FOUND THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH old AS (SELECT q.number FROM quarantine_certificate q
		WHERE q.number IN (SELECT r.number FROM unnest(v_rows) r)),
	up AS (INSERT INTO quarantine_certificate AS q (number, owner, owner_id, species,
			product_id, quantity_milli, unit, origin, region_code, issued_on, imported_by)
		SELECT r.number, r.owner, r.owner_id, r.species, r.product_id, r.quantity_milli,
			r.unit, r.origin, r.region_code, r.issued_on, p_imported_by
		FROM unnest(v_rows) r
		ON CONFLICT ON CONSTRAINT quarantine_certificate_pkey DO UPDATE SET
			owner = EXCLUDED.owner, owner_id = EXCLUDED.owner_id,
			species = EXCLUDED.species, product_id = EXCLUDED.product_id,
			quantity_milli = EXCLUDED.quantity_milli, unit = EXCLUDED.unit,
			origin = EXCLUDED.origin, region_code = EXCLUDED.region_code,
			issued_on = EXCLUDED.issued_on, imported_by = EXCLUDED.imported_by,
			imported_at = now()
		RETURNING q.number)
	SELECT r.line, r.number,
		CASE WHEN r.number IN (SELECT o.number FROM old o) THEN 'updated' ELSE 'new' END,
		NULL::text, NULL::text
	FROM unnest(v_rows) r WHERE r.number IN (SELECT u.number FROM up u) ORDER BY r.line;
END $$;

-- The reconciliation of the days p_from to p_to (p_to excluded; by default
-- the last 7 days) within the caller's jurisdiction: each quarantine
-- certificate meets the producer certificates (style 1, not revoked) of
-- livestock and poultry of the same day, product and owner (the issuer).
-- What does not meet is listed:
--   quantity_over        the certificates of an owner's day and product
--                        carry more than the quarantine certificates
--                        (compared per unit family: heads, or weight)
--   owner_mismatch       a quarantine certificate without the owner's
--                        certificate, while someone else certified that
--                        product from the same township that day
--   missing_certificate  a quarantine certificate no certificate matches
--   missing_quarantine   a certificate no quarantine certificate matches
-- Certificates are judged by the issuer's region (jurisdiction) and their
-- origin's township (matching); quarantine certificates by their origin.
CREATE FUNCTION quarantine_reconciliation(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH p AS (SELECT coalesce(p_from, cst_today() - 6) AS f,
			coalesce(p_to, cst_today() + 1) AS u),
	q AS (SELECT qc.*, township_of(qc.region_code) AS township FROM quarantine_certificate qc, p
		WHERE qc.issued_on >= p.f AND qc.issued_on < p.u
			AND qc.region_code BETWEEN p_region_lo AND p_region_hi),
	c AS (SELECT c.serial, c.issuer_id, s.name AS issuer, c.product_id, c.quantity_milli,
			c.unit, (c.issued_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
			township_of(c.origin_code) AS township
		FROM certificate c JOIN subject s ON s.id = c.issuer_id
		JOIN product pr ON pr.id = c.product_id, p
		WHERE pr.category = '畜禽' AND c.style = 1 AND c.revoked_at IS NULL
			AND c.issued_at >= cst_day_start(p.f) AND c.issued_at < cst_day_start(p.u)
			AND s.region_code BETWEEN p_region_lo AND p_region_hi),
	-- Owner and day and product meet: groups, compared by quantity.
	g AS (SELECT q.issued_on AS day, q.product_id, q.owner_id,
			array_agg(DISTINCT q.number) AS numbers, min(q.owner) AS owner,
			min(q.township) AS township,
			min(unit_family(q.unit)) AS family, min(q.unit) AS unit,
			sum(unit_base_milli(q.quantity_milli, q.unit)) AS q_milli
		FROM q WHERE EXISTS (SELECT 1 FROM c WHERE c.day = q.issued_on
			AND c.product_id = q.product_id AND c.issuer_id = q.owner_id)
		GROUP BY q.issued_on, q.product_id, q.owner_id),
	over AS (SELECT g.*, x.c_milli, x.certs FROM g CROSS JOIN LATERAL (
			SELECT sum(unit_base_milli(c.quantity_milli, c.unit)) FILTER (
					WHERE unit_family(c.unit) = g.family) AS c_milli,
				json_agg(json_build_object('certificate', c.serial,
					'number', lpad(c.serial::text, 12, '0'), 'issuer', c.issuer,
					'quantity', quantity_text(c.quantity_milli), 'unit_zh', unit_zh(c.unit))
					ORDER BY c.serial) AS certs
			FROM c WHERE c.day = g.day AND c.product_id = g.product_id
				AND c.issuer_id = g.owner_id) x
		WHERE x.c_milli > g.q_milli),
	uq AS (SELECT q.* FROM q WHERE q.owner_id IS NULL OR NOT EXISTS (SELECT 1 FROM c
		WHERE c.day = q.issued_on AND c.product_id = q.product_id
			AND c.issuer_id = q.owner_id)),
	uc AS (SELECT c.* FROM c WHERE NOT EXISTS (SELECT 1 FROM q WHERE q.issued_on = c.day
		AND q.product_id = c.product_id AND q.owner_id = c.issuer_id)),
	cert_json AS (SELECT uc.*, json_build_object('certificate', uc.serial,
			'number', lpad(uc.serial::text, 12, '0'), 'issuer', uc.issuer,
			'quantity', quantity_text(uc.quantity_milli), 'unit_zh', unit_zh(uc.unit)) AS j
		FROM uc),
	found AS (
		SELECT 'quantity_over' AS kind, o.day, o.township, o.product_id,
			array_to_string(o.numbers, ' ') AS numbers, o.owner,
			quantity_text(o.q_milli) AS q_quantity, unit_zh(o.unit) AS q_unit, o.certs,
			format('合格证数量 %s%s，超过检疫证明的 %s%s', quantity_text(o.c_milli),
				CASE o.family WHEN 'weight' THEN '千克' ELSE unit_zh(o.unit) END,
				quantity_text(o.q_milli),
				CASE o.family WHEN 'weight' THEN '千克' ELSE unit_zh(o.unit) END)
				AS detail_zh
		FROM over o
		UNION ALL
		SELECT CASE WHEN x.certs IS NULL THEN 'missing_certificate' ELSE 'owner_mismatch' END,
			uq.issued_on, uq.township, uq.product_id, uq.number, uq.owner,
			quantity_text(uq.quantity_milli), unit_zh(uq.unit), x.certs,
			CASE WHEN x.certs IS NULL THEN '有检疫证明，无对应的合格证'
				ELSE format('检疫证明货主「%s」与当天同乡镇同品种合格证的开具主体不一致',
					uq.owner) END
		FROM uq LEFT JOIN LATERAL (SELECT json_agg(cj.j ORDER BY cj.serial) AS certs
			FROM cert_json cj WHERE cj.day = uq.issued_on AND cj.product_id = uq.product_id
				AND cj.township = uq.township) x ON true
		UNION ALL
		SELECT 'missing_quarantine', cj.day, cj.township, cj.product_id, NULL, NULL, NULL,
			NULL, json_build_array(cj.j), '有合格证，无对应的检疫证明'
		FROM cert_json cj WHERE NOT EXISTS (SELECT 1 FROM uq WHERE uq.issued_on = cj.day
			AND uq.product_id = cj.product_id AND uq.township = cj.township)),
	rows AS (SELECT f.*, pr.name AS product, r.name AS township_name,
			CASE f.kind WHEN 'quantity_over' THEN '数量超出检疫证明'
				WHEN 'owner_mismatch' THEN '货主不一致'
				WHEN 'missing_certificate' THEN '缺少合格证'
				ELSE '缺少检疫证明' END AS kind_zh
		FROM found f JOIN product pr ON pr.id = f.product_id
		LEFT JOIN region r ON r.code = f.township)
	SELECT json_build_object('from', p.f, 'to', p.u, 'demo', demo_present(),
			'summary', json_build_object(
				'quarantine_certificates', (SELECT count(*) FROM q),
				'certificates', (SELECT count(*) FROM c),
				'matched', (SELECT count(*) FROM q) - (SELECT count(*) FROM uq),
				'quantity_over', (SELECT count(*) FROM rows WHERE kind = 'quantity_over'),
				'owner_mismatch', (SELECT count(*) FROM rows WHERE kind = 'owner_mismatch'),
				'missing_certificate', (SELECT count(*) FROM rows
					WHERE kind = 'missing_certificate'),
				'missing_quarantine', (SELECT count(*) FROM rows
					WHERE kind = 'missing_quarantine')),
			'discrepancies', coalesce((SELECT json_agg(json_build_object('kind', rows.kind,
				'kind_zh', rows.kind_zh, 'day', rows.day,
				'township', lpad(rows.township::text, 12, '0'),
				'township_name', rows.township_name, 'product', rows.product,
				'quarantine', rows.numbers, 'owner', rows.owner,
				'quarantine_quantity', rows.q_quantity, 'quarantine_unit_zh', rows.q_unit,
				'certificates', coalesce(rows.certs, '[]'), 'detail_zh', rows.detail_zh)
				ORDER BY rows.day, rows.township, rows.kind, rows.numbers) FROM rows), '[]')),
		csv_document(ARRAY['日期', '问题类型', '乡镇', '品种', '检疫证号', '货主', '检疫数量',
				'单位', '合格证编号', '开具主体', '合格证数量', '说明'],
			(SELECT string_agg(csv_line(ARRAY[rows.day::text, rows.kind_zh,
				rows.township_name, rows.product, rows.numbers, rows.owner,
				rows.q_quantity, rows.q_unit,
				(SELECT string_agg(e->>'number', ' ') FROM json_array_elements(rows.certs) e),
				(SELECT string_agg(DISTINCT e->>'issuer', ' ')
					FROM json_array_elements(rows.certs) e),
				(SELECT string_agg((e->>'quantity') || (e->>'unit_zh'), ' ')
					FROM json_array_elements(rows.certs) e),
				rows.detail_zh]), '' ORDER BY rows.day, rows.township, rows.kind,
				rows.numbers) FROM rows))
	FROM p
$$;

------------------------------------------------------------------------------
-- Sampling plans (双随机): each month, per township, the producers to sample
-- drawn at random, weighted by risk, and an inspector drawn at random for
-- each. The draw is a pure function of the seed and of the candidates with
-- their weights, all recorded with the plan, so that anyone can redraw it
-- and get the same producers in the same order (sql/SAMPLING.md gives the
-- procedure and a reference implementation in Python):
--
--   r(j, stream)  = first 48 bits of SHA-256(UTF-8 "<seed>:<stream>:<j>")
--                   as an unsigned integer (sampling_random)
--   draw j = 1..size, while candidates remain, in ascending subject id:
--     x = r(j, "subject") mod (sum of the remaining weights); the pick is
--     the first candidate whose running sum of weights exceeds x; it leaves
--     the list. Its inspector is inspectors[r(j, "inspector") mod count]
--     (ascending id, counted from 0), none when the township has none.
--
-- Weights (sampling_weights), from the 12 months before the plan's month:
--   grade factor (A 1, B 2, C 4) × (1 + 2 if the producer certified or was
--   tested for a key-risk product + 3 per failed rapid test, at most 3 +
--   quarters since its last test by a station or a lab, at most 4; never
--   tested: 4).
CREATE TABLE sampling_plan (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	township bigint NOT NULL REFERENCES region (code),
	month date NOT NULL CHECK (extract(day FROM month) = 1),
	size integer NOT NULL CHECK (size BETWEEN 1 AND 200),
	seed text NOT NULL CHECK (seed ~ '^[0-9a-f]{32}$'),
	method text NOT NULL DEFAULT 'sha256-ctr-v1' CHECK (method = 'sha256-ctr-v1'),
	drawn_by integer REFERENCES subject (id),
	drawn_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (township, month)
);

-- Who could be drawn, as they stood when the plan was drawn: producers with
-- their weight and its parts, and the township's staff (role inspector,
-- weight 1).
CREATE TABLE sampling_candidate (
	plan_id bigint NOT NULL REFERENCES sampling_plan (id),
	role text NOT NULL CHECK (role IN ('subject', 'inspector')),
	subject_id integer NOT NULL REFERENCES subject (id),
	weight integer NOT NULL CHECK (weight BETWEEN 1 AND 1000),
	credit_grade char(1),
	key_risk boolean,
	failures integer,
	quarters_untested integer,
	product_id integer REFERENCES product (id),
	PRIMARY KEY (plan_id, role, subject_id)
);

CREATE TABLE sampling_pick (
	plan_id bigint NOT NULL REFERENCES sampling_plan (id),
	draw integer NOT NULL CHECK (draw >= 1),
	subject_id integer NOT NULL REFERENCES subject (id),
	inspector_id integer REFERENCES subject (id),
	PRIMARY KEY (plan_id, draw),
	UNIQUE (plan_id, subject_id)
);

CREATE FUNCTION sampling_random(p_seed text, p_stream text, p_n integer) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
	SELECT ('x' || left(encode(sha256(convert_to(p_seed || ':' || p_stream || ':' || p_n,
		'UTF8')), 'hex'), 12))::bit(48)::bigint
$$;

-- The draw itself: p_ids with p_weights (any order), p_inspectors.
CREATE FUNCTION sampling_draw(p_seed text, p_size integer, p_ids integer[],
	p_weights integer[], p_inspectors integer[])
RETURNS TABLE (draw integer, subject_id integer, inspector_id integer)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_ids integer[];
	v_w bigint[];
	v_insp integer[];
	v_x bigint;
	v_acc bigint;
	v_k integer;
BEGIN
	SELECT array_agg(t.i ORDER BY t.i), array_agg(t.w ORDER BY t.i) INTO v_ids, v_w
	FROM unnest(p_ids, p_weights) AS t(i, w);
	SELECT coalesce(array_agg(i ORDER BY i), '{}') INTO v_insp FROM unnest(p_inspectors) i;
	FOR j IN 1 .. least(p_size, coalesce(cardinality(v_ids), 0)) LOOP
		v_x := sampling_random(p_seed, 'subject', j) % (SELECT sum(w) FROM unnest(v_w) w);
		v_acc := 0;
		FOR k IN 1 .. cardinality(v_ids) LOOP
			v_acc := v_acc + v_w[k];
			IF v_x < v_acc THEN
				v_k := k;
				EXIT;
			END IF;
		END LOOP;
		draw := j;
		subject_id := v_ids[v_k];
		inspector_id := CASE WHEN cardinality(v_insp) > 0 THEN
			v_insp[1 + sampling_random(p_seed, 'inspector', j) % cardinality(v_insp)] END;
		RETURN NEXT;
		v_ids := v_ids[1:v_k - 1] || v_ids[v_k + 1:];
		v_w := v_w[1:v_k - 1] || v_w[v_k + 1:];
	END LOOP;
END $$;

-- The producers of a township with their weights for the plan of p_month.
CREATE FUNCTION sampling_weights(p_township bigint, p_month date)
RETURNS TABLE (subject_id integer, weight integer, credit_grade char(1), key_risk boolean,
	failures integer, quarters_untested integer, product_id integer)
LANGUAGE sql STABLE AS $$
	WITH w AS (SELECT cst_day_start(p_month) - interval '12 months' AS f,
			cst_day_start(p_month) AS u),
	x AS (SELECT s.id, s.credit_grade,
			EXISTS (SELECT 1 FROM certificate c JOIN product p ON p.id = c.product_id
				WHERE c.issuer_id = s.id AND p.key_risk
				AND c.issued_at >= w.f AND c.issued_at < w.u)
			OR EXISTS (SELECT 1 FROM rapid_test t JOIN product p ON p.id = t.product_id
				WHERE t.subject_id = s.id AND p.key_risk
				AND t.tested_at >= w.f AND t.tested_at < w.u) AS key_risk,
			(SELECT count(*) FROM rapid_test t WHERE t.subject_id = s.id
				AND t.result = 'fail' AND t.tested_at >= w.f AND t.tested_at < w.u)::integer
				AS failures,
			coalesce((SELECT least(4, floor(extract(epoch FROM w.u - max(t.tested_at))
					/ 86400 / 91))::integer
				FROM rapid_test t WHERE t.subject_id = s.id AND t.kind <> 'self'
				AND t.tested_at < w.u), 4) AS quarters,
			coalesce((SELECT t.product_id FROM rapid_test t WHERE t.subject_id = s.id
					AND t.result = 'fail' AND t.tested_at >= w.f AND t.tested_at < w.u
					ORDER BY t.tested_at DESC, t.id DESC LIMIT 1),
				(SELECT c.product_id FROM certificate c JOIN product p ON p.id = c.product_id
					WHERE c.issuer_id = s.id AND c.issued_at >= w.f AND c.issued_at < w.u
					GROUP BY c.product_id, p.key_risk
					ORDER BY p.key_risk DESC, count(*) DESC, c.product_id LIMIT 1))
				AS product_id
		FROM subject s, w
		WHERE township_of(s.region_code) = p_township AND is_producer_kind(s.kind))
	SELECT x.id, (CASE x.credit_grade WHEN 'C' THEN 4 WHEN 'B' THEN 2 ELSE 1 END)
			* (1 + CASE WHEN x.key_risk THEN 2 ELSE 0 END + 3 * least(x.failures, 3)
				+ x.quarters),
		x.credit_grade, x.key_risk, x.failures, x.quarters, x.product_id
	FROM x
$$;

-- The draw of a stored plan, from its recorded seed and candidates.
CREATE FUNCTION sampling_redraw(p_plan bigint)
RETURNS TABLE (draw integer, subject_id integer, inspector_id integer)
LANGUAGE sql STABLE AS $$
	SELECT d.* FROM sampling_plan sp, sampling_draw(sp.seed, sp.size,
		ARRAY(SELECT c.subject_id FROM sampling_candidate c WHERE c.plan_id = sp.id
			AND c.role = 'subject' ORDER BY c.subject_id),
		ARRAY(SELECT c.weight FROM sampling_candidate c WHERE c.plan_id = sp.id
			AND c.role = 'subject' ORDER BY c.subject_id),
		ARRAY(SELECT c.subject_id FROM sampling_candidate c WHERE c.plan_id = sp.id
			AND c.role = 'inspector')) d
	WHERE sp.id = p_plan
$$;

-- Draws the plan of a township the caller covers for p_month (its first
-- day; by default this month), of p_size producers (by default a tenth of them, 1 to 50), with a
-- fresh random seed: one plan per township and month, never drawn again
-- (a redraw until a convenient sample comes out is what the seed's record
-- prevents). id is NULL when nothing was drawn: the township is unknown or
-- outside the jurisdiction, a plan exists (existing), or it has no
-- producers.
CREATE FUNCTION sampling_plan_create(p_township bigint, p_month date, p_size integer,
	p_drawn_by integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (township_found boolean, covered boolean, existing bigint, candidates integer,
	id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_plan bigint;
	v_month date := coalesce(p_month, date_trunc('month', cst_today())::date);
BEGIN
	township_found := EXISTS (SELECT 1 FROM region r WHERE r.code = p_township
		AND r.level = 4);
	covered := township_found AND p_township BETWEEN p_region_lo AND p_region_hi;
	SELECT sp.id INTO existing FROM sampling_plan sp
	WHERE sp.township = p_township AND sp.month = v_month;
	SELECT count(*) INTO candidates FROM sampling_weights(p_township, v_month);
	IF NOT covered OR existing IS NOT NULL OR candidates = 0 THEN
		RETURN NEXT;
		RETURN;
	END IF;
	INSERT INTO sampling_plan (township, month, size, seed, drawn_by)
	VALUES (p_township, v_month,
		coalesce(p_size, greatest(1, least(50, ceil(candidates / 10.0)::integer))),
		replace(gen_random_uuid()::text, '-', ''), p_drawn_by)
	RETURNING sampling_plan.id INTO v_plan;
	INSERT INTO sampling_candidate (plan_id, role, subject_id, weight, credit_grade,
		key_risk, failures, quarters_untested, product_id)
	SELECT v_plan, 'subject', w.subject_id, w.weight, w.credit_grade, w.key_risk, w.failures,
		w.quarters_untested, w.product_id
	FROM sampling_weights(p_township, v_month) w;
	INSERT INTO sampling_candidate (plan_id, role, subject_id, weight)
	SELECT v_plan, 'inspector', s.id, 1 FROM subject s
	WHERE s.kind = 'staff' AND township_of(s.region_code) = p_township;
	INSERT INTO sampling_pick (plan_id, draw, subject_id, inspector_id)
	SELECT v_plan, d.draw, d.subject_id, d.inspector_id FROM sampling_redraw(v_plan) d;
	id := v_plan;
	RETURN NEXT;
END $$;

-- A plan as the API writes it: seed, method, every candidate with its
-- weight and, when drawn, its place in the draw and inspector; as JSON and
-- as CSV (one line a candidate). found/covered as elsewhere.
CREATE FUNCTION sampling_plan_doc(p_plan bigint, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (found boolean, covered boolean, doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH sp AS (SELECT sp.*, r.name AS township_name,
			sp.township BETWEEN p_region_lo AND p_region_hi AS covered
		FROM sampling_plan sp JOIN region r ON r.code = sp.township WHERE sp.id = p_plan),
	c AS (SELECT c.*, s.name, s.kind, pk.draw, pk.inspector_id,
			(SELECT i.name FROM subject i WHERE i.id = pk.inspector_id) AS inspector,
			(SELECT p.name FROM product p WHERE p.id = c.product_id) AS product
		FROM sp JOIN sampling_candidate c ON c.plan_id = sp.id AND c.role = 'subject'
		JOIN subject s ON s.id = c.subject_id
		LEFT JOIN sampling_pick pk ON pk.plan_id = sp.id AND pk.subject_id = c.subject_id
		WHERE sp.covered)
	SELECT true, sp.covered,
		CASE WHEN sp.covered THEN json_build_object('id', sp.id,
			'township', lpad(sp.township::text, 12, '0'), 'township_name', sp.township_name,
			'month', to_char(sp.month, 'YYYY-MM'), 'size', sp.size, 'seed', sp.seed,
			'method', sp.method, 'drawn_at', cst_text(sp.drawn_at),
			'drawn_by', (SELECT s.name FROM subject s WHERE s.id = sp.drawn_by),
			'demo', demo_present(),
			'inspectors', (SELECT coalesce(json_agg(json_build_object('id', s.id,
					'name', s.name) ORDER BY s.id), '[]')
				FROM sampling_candidate c JOIN subject s ON s.id = c.subject_id
				WHERE c.plan_id = sp.id AND c.role = 'inspector'),
			'picks', (SELECT coalesce(json_agg(json_build_object('draw', c.draw,
					'subject', c.subject_id, 'name', c.name, 'credit_grade', c.credit_grade,
					'weight', c.weight, 'product', c.product, 'inspector', c.inspector_id,
					'inspector_name', c.inspector) ORDER BY c.draw), '[]')
				FROM c WHERE c.draw IS NOT NULL),
			'candidates', (SELECT coalesce(json_agg(json_build_object(
					'subject', c.subject_id, 'name', c.name, 'kind', c.kind,
					'credit_grade', c.credit_grade, 'key_risk', c.key_risk,
					'failures', c.failures, 'quarters_untested', c.quarters_untested,
					'weight', c.weight, 'product', c.product, 'draw', c.draw)
					ORDER BY c.subject_id), '[]') FROM c)) END,
		CASE WHEN sp.covered THEN csv_document(ARRAY['计划编号', '乡镇', '月份', '随机种子',
				'算法', '主体编号', '生产主体', '信用等级', '重点品种', '近12个月快检不合格次数',
				'未快检季度数', '权重', '抽中顺序', '建议抽检产品', '检查人员'],
			(SELECT string_agg(csv_line(ARRAY[sp.id::text, sp.township_name,
				to_char(sp.month, 'YYYY-MM'), sp.seed, sp.method, c.subject_id::text,
				c.name, c.credit_grade, CASE WHEN c.key_risk THEN '是' ELSE '否' END,
				c.failures::text, c.quarters_untested::text, c.weight::text,
				c.draw::text, c.product, c.inspector]), ''
				ORDER BY c.draw NULLS LAST, c.subject_id) FROM c)) END
	FROM sp
	UNION ALL
	SELECT false, false, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM sp)
$$;

-- Plans of the townships the caller covers, newest month first; p_month
-- (its first day): that month's.
CREATE FUNCTION sampling_plans_list(p_month date, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('demo', demo_present(), 'plans', coalesce(json_agg(
		json_build_object('id', sp.id, 'township', lpad(sp.township::text, 12, '0'),
			'township_name', r.name, 'month', to_char(sp.month, 'YYYY-MM'),
			'size', sp.size, 'seed', sp.seed, 'drawn_at', cst_text(sp.drawn_at))
		ORDER BY sp.month DESC, sp.township), '[]'))
	FROM sampling_plan sp JOIN region r ON r.code = sp.township
	WHERE sp.township BETWEEN p_region_lo AND p_region_hi
		AND (p_month IS NULL OR sp.month = p_month)
$$;

------------------------------------------------------------------------------
-- The dashboard's documents (handlers/supervision/dashboard.c), each for
-- the period p_from to p_to (China's days, p_to excluded) and the caller's
-- jurisdiction, as JSON and, where a regulator exports it, as CSV.

-- Rapid tests as the quota table (annex 4) counts them, the testing
-- stations' alone (as township_stats() since sql/0020): pesticides by
-- colloidal gold, pesticides by enzyme inhibition, veterinary drugs (tests
-- of animal products, any rapid method); quantitative lab tests apart.
CREATE FUNCTION is_animal_category(p_category text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_category IN ('畜禽', '禽蛋', '水产')
$$;

-- The township table of the Anxi plan's annexes 3 and 4: every field of
-- township_stats() (read from it, so that it stays the one definition of
-- those figures), and beside them the households' share of the
-- certificates, patrols (onsite, online, producers patrolled and the share
-- of producers), the stations' rapid tests by quota column with the year's
-- quota per column, the producers' own tests, failed tests (of any kind), the year's targets (annex 3) and the progress of
-- the year of p_from quarter by quarter.
CREATE FUNCTION township_table(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH p AS (SELECT cst_day_start(p_from) AS f, cst_day_start(p_to) AS u,
			extract(year FROM p_from)::integer AS y),
	base AS (SELECT t::jsonb AS j, (t->>'code')::bigint AS code
		FROM township_stats(p_from, p_to, p_region_lo, p_region_hi) s,
			json_array_elements(s.doc->'townships') t),
	tests AS (SELECT township_of(s.region_code) AS code,
			count(*) FILTER (WHERE r.kind = 'station' AND r.method = 'colloidal_gold'
				AND NOT is_animal_category(pr.category)) AS gold,
			count(*) FILTER (WHERE r.kind = 'station' AND r.method = 'enzyme_inhibition'
				AND NOT is_animal_category(pr.category)) AS enzyme,
			count(*) FILTER (WHERE r.kind = 'station' AND r.method <> 'lab'
				AND is_animal_category(pr.category)) AS veterinary,
			count(*) FILTER (WHERE r.kind = 'station' AND r.method = 'lab') AS lab,
			count(*) FILTER (WHERE r.kind <> 'station') AS own,
			count(*) FILTER (WHERE r.result = 'fail') AS failed
		FROM rapid_test r JOIN subject s ON s.id = r.subject_id
		JOIN product pr ON pr.id = r.product_id, p
		WHERE r.tested_at >= p.f AND r.tested_at < p.u
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
		GROUP BY 1),
	pat AS (SELECT township_of(t.region_code) AS code,
			count(*) FILTER (WHERE t.mode = 'onsite') AS onsite,
			count(*) FILTER (WHERE t.mode = 'online') AS online,
			count(DISTINCT t.subject_id) AS patrolled
		FROM patrol t WHERE t.visited_on >= p_from AND t.visited_on < p_to
			AND t.region_code BETWEEN p_region_lo AND p_region_hi
		GROUP BY 1),
	-- The year of p_from, quarter by quarter.
	qc AS (SELECT township_of(s.region_code) AS code,
			extract(quarter FROM c.issued_at AT TIME ZONE 'Asia/Shanghai')::integer AS q,
			count(*) AS certificates, sum(c.labels) AS item_codes,
			count(*) FILTER (WHERE s.kind = 'household') AS households
		FROM certificate c JOIN subject s ON s.id = c.issuer_id, p
		WHERE c.issued_at >= cst_day_start(make_date(p.y, 1, 1))
			AND c.issued_at < cst_day_start(make_date(p.y + 1, 1, 1))
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
		GROUP BY 1, 2),
	qt AS (SELECT township_of(s.region_code) AS code,
			extract(quarter FROM r.tested_at AT TIME ZONE 'Asia/Shanghai')::integer AS q,
			count(*) AS tests
		FROM rapid_test r JOIN subject s ON s.id = r.subject_id, p
		WHERE r.kind = 'station' AND r.tested_at >= cst_day_start(make_date(p.y, 1, 1))
			AND r.tested_at < cst_day_start(make_date(p.y + 1, 1, 1))
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
		GROUP BY 1, 2),
	qp AS (SELECT township_of(t.region_code) AS code,
			extract(quarter FROM t.visited_on)::integer AS q, count(*) AS patrols
		FROM patrol t, p WHERE extract(year FROM t.visited_on) = p.y
			AND t.region_code BETWEEN p_region_lo AND p_region_hi
		GROUP BY 1, 2),
	rows AS (SELECT b.code, b.j, qu.total AS quota, qu.colloidal_gold AS quota_gold,
			qu.enzyme_inhibition AS quota_enzyme, qu.veterinary AS quota_veterinary,
			g.producers AS target_producers, g.monthly_patrols AS target_monthly_patrols,
			g.item_codes AS target_item_codes,
			g.household_certificates AS target_household_certificates,
			coalesce(t.gold, 0) AS gold, coalesce(t.enzyme, 0) AS enzyme,
			coalesce(t.veterinary, 0) AS veterinary, coalesce(t.lab, 0) AS lab,
			coalesce(t.own, 0) AS own, coalesce(t.failed, 0) AS failed, coalesce(pt.onsite, 0) AS onsite,
			coalesce(pt.online, 0) AS online, coalesce(pt.patrolled, 0) AS patrolled,
			(SELECT json_agg(json_build_object('quarter', n.k,
					'certificates', coalesce(qc.certificates, 0),
					'item_codes', coalesce(qc.item_codes, 0),
					'household_certificates', coalesce(qc.households, 0),
					'rapid_tests', coalesce(qt.tests, 0),
					'patrols', coalesce(qp.patrols, 0)) ORDER BY n.k)
				FROM generate_series(1, 4) AS n(k)
				LEFT JOIN qc ON qc.code = b.code AND qc.q = n.k
				LEFT JOIN qt ON qt.code = b.code AND qt.q = n.k
				LEFT JOIN qp ON qp.code = b.code AND qp.q = n.k) AS quarters
		FROM base b CROSS JOIN p
		LEFT JOIN rapid_test_quota qu ON qu.region_code = b.code AND qu.year = p.y
		LEFT JOIN township_target g ON g.region_code = b.code AND g.year = p.y
		LEFT JOIN tests t ON t.code = b.code
		LEFT JOIN pat pt ON pt.code = b.code),
	out AS (SELECT r.*, (r.j->>'producers')::bigint AS producers,
			(r.j->>'certificates')::bigint AS certificates,
			(r.j->>'household_certificates')::bigint AS households,
			(r.j || jsonb_build_object('household_share', CASE
					WHEN (r.j->>'certificates')::bigint > 0 THEN round(100.0
						* (r.j->>'household_certificates')::bigint
						/ (r.j->>'certificates')::bigint, 1) END,
				'patrols_onsite', r.onsite, 'patrols_online', r.online,
				'producers_patrolled', r.patrolled,
				'patrol_coverage', CASE WHEN (r.j->>'producers')::bigint > 0 THEN
					round(100.0 * r.patrolled / (r.j->>'producers')::bigint, 1) END,
				'rapid_tests_colloidal_gold', r.gold,
				'rapid_tests_enzyme_inhibition', r.enzyme,
				'rapid_tests_veterinary', r.veterinary, 'rapid_tests_lab', r.lab,
				'rapid_tests_own', r.own, 'rapid_tests_failed', r.failed,
				'quota_colloidal_gold', r.quota_gold, 'quota_enzyme_inhibition', r.quota_enzyme,
				'quota_veterinary', r.quota_veterinary,
				'target_producers', r.target_producers,
				'target_monthly_patrols', r.target_monthly_patrols,
				'target_item_codes', r.target_item_codes,
				'target_household_certificates', r.target_household_certificates,
				'quarters', r.quarters))::json AS obj
		FROM rows r)
	SELECT json_build_object('from', p_from, 'to', p_to, 'year', (SELECT y FROM p),
			'demo', demo_present(),
			'townships', coalesce((SELECT json_agg(o.obj ORDER BY o.code) FROM out o), '[]'),
			'totals', (SELECT json_build_object('producers', coalesce(sum(o.producers), 0),
				'certificates', coalesce(sum(o.certificates), 0),
				'item_codes', coalesce(sum((o.j->>'item_codes')::bigint), 0),
				'household_certificates', coalesce(sum(o.households), 0),
				'patrols_onsite', coalesce(sum(o.onsite), 0),
				'patrols_online', coalesce(sum(o.online), 0),
				'producers_patrolled', coalesce(sum(o.patrolled), 0),
				'rapid_tests', coalesce(sum((o.j->>'rapid_tests')::bigint), 0),
				'rapid_tests_colloidal_gold', coalesce(sum(o.gold), 0),
				'rapid_tests_enzyme_inhibition', coalesce(sum(o.enzyme), 0),
				'rapid_tests_veterinary', coalesce(sum(o.veterinary), 0),
				'rapid_tests_lab', coalesce(sum(o.lab), 0),
				'rapid_tests_own', coalesce(sum(o.own), 0),
				'rapid_tests_failed', coalesce(sum(o.failed), 0),
				'rapid_test_quota', sum(o.quota)) FROM out o)),
		csv_document(ARRAY['乡镇代码', '乡镇', '生产主体数', '开具合格证数', '赋码数',
				'农户开具数', '农户开具占比(%)', '开具不足20批的主体数', '现场巡查家次',
				'线上巡查家次', '巡查覆盖主体数', '巡查覆盖率(%)', '胶体金快检数',
				'胶体金任务', '酶抑制快检数', '酶抑制任务', '兽残快检数', '兽残任务',
				'定量检测数', '快检合计', '快检任务合计', '主体自检和委托检测数', '快检不合格数', '年度赋码任务',
				'年度农户开具任务', '每月巡查任务', '一季度赋码', '二季度赋码', '三季度赋码',
				'四季度赋码', '一季度快检', '二季度快检', '三季度快检', '四季度快检'],
			(SELECT string_agg(csv_line(ARRAY[o.obj->>'code', o.obj->>'name',
				o.obj->>'producers', o.obj->>'certificates', o.obj->>'item_codes',
				o.obj->>'household_certificates', o.obj->>'household_share',
				o.obj->>'producers_under_20', o.onsite::text, o.online::text,
				o.patrolled::text, o.obj->>'patrol_coverage', o.gold::text,
				o.quota_gold::text, o.enzyme::text, o.quota_enzyme::text,
				o.veterinary::text, o.quota_veterinary::text, o.lab::text,
				o.obj->>'rapid_tests', o.quota::text, o.own::text, o.failed::text,
				o.target_item_codes::text, o.target_household_certificates::text,
				o.target_monthly_patrols::text,
				o.quarters->0->>'item_codes', o.quarters->1->>'item_codes',
				o.quarters->2->>'item_codes', o.quarters->3->>'item_codes',
				o.quarters->0->>'rapid_tests', o.quarters->1->>'rapid_tests',
				o.quarters->2->>'rapid_tests', o.quarters->3->>'rapid_tests']), ''
				ORDER BY o.code) FROM out o))
$$;

-- The same for the period, by default this year (China's).
CREATE FUNCTION township_supervision(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	SELECT t.* FROM (SELECT coalesce(p_from, date_trunc('year', cst_today())::date) AS f) x,
		township_table(x.f, coalesce(p_to, (x.f + interval '1 year')::date), p_region_lo,
			p_region_hi) t
$$;

-- Certificates, item codes and households' certificates per day of the
-- period (every day, none skipped; by default the last 30 days, at most the
-- last 400 days of a longer period), by the issuer's region.
CREATE FUNCTION certificates_daily(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH b AS (SELECT coalesce(p_to, cst_today() + 1) AS u,
			greatest(coalesce(p_from, cst_today() - 29), coalesce(p_to, cst_today() + 1) - 400)
				AS f),
	d AS (SELECT day::date AS day FROM b, generate_series(b.f, b.u - 1, interval '1 day') day),
	c AS (SELECT (c.issued_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n,
			sum(c.labels) AS codes, count(*) FILTER (WHERE s.kind = 'household') AS households
		FROM certificate c JOIN subject s ON s.id = c.issuer_id, b
		WHERE c.issued_at >= cst_day_start(b.f) AND c.issued_at < cst_day_start(b.u)
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
		GROUP BY 1),
	x AS (SELECT d.day, coalesce(c.n, 0) AS n, coalesce(c.codes, 0) AS codes,
			coalesce(c.households, 0) AS households FROM d LEFT JOIN c USING (day))
	SELECT json_build_object('from', (SELECT f FROM b), 'to', (SELECT u FROM b),
			'demo', demo_present(), 'days', coalesce((SELECT json_agg(json_build_object('day', x.day,
				'certificates', x.n, 'item_codes', x.codes,
				'household_certificates', x.households) ORDER BY x.day) FROM x), '[]')),
		csv_document(ARRAY['日期', '开具合格证数', '赋码数', '农户开具数'],
			(SELECT string_agg(csv_line(ARRAY[x.day::text, x.n::text, x.codes::text,
				x.households::text]), '' ORDER BY x.day) FROM x))
$$;

-- Failed rapid tests of the period (newest first, at most 500) with the
-- producer, whether the failure still blocks it from issuing that product,
-- and how much of the batch is revoked; and every block in force now.
CREATE FUNCTION failed_tests_list(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH x AS (SELECT t.id, t.subject_id, s.name AS subject_name, s.credit_grade,
			township_of(s.region_code) AS township, p.name AS product, t.method, t.items,
			t.station, t.tester, t.batch, cst_text(t.tested_at) AS tested_at,
			EXISTS (SELECT 1 FROM rapid_block b WHERE b.test_id = t.id) AS blocking,
			(SELECT count(*) FROM rapid_test_batch(t.id, 7) b) AS batch_certificates,
			(SELECT count(*) FROM rapid_test_batch(t.id, 7) b JOIN certificate c
				ON c.serial = b WHERE c.revoked_at IS NOT NULL) AS batch_revoked
		FROM rapid_test t JOIN subject s ON s.id = t.subject_id
		JOIN product p ON p.id = t.product_id
		WHERE t.result = 'fail' AND in_list_period(t.tested_at, p_from, p_to)
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
		ORDER BY t.tested_at DESC, t.id DESC LIMIT 500),
	b AS (SELECT b.subject_id, s.name AS subject_name, p.name AS product, b.test_id,
			cst_text(b.since) AS since, township_of(s.region_code) AS township
		FROM rapid_block b JOIN subject s ON s.id = b.subject_id
		JOIN product p ON p.id = b.product_id
		WHERE s.region_code BETWEEN p_region_lo AND p_region_hi)
	SELECT json_build_object('demo', demo_present(),
			'tests', coalesce((SELECT json_agg(json_build_object('id', x.id,
				'subject', x.subject_id, 'subject_name', x.subject_name,
				'credit_grade', x.credit_grade,
				'township', lpad(x.township::text, 12, '0'),
				'township_name', (SELECT r.name FROM region r WHERE r.code = x.township),
				'product', x.product, 'method', x.method, 'items', x.items,
				'station', x.station, 'tester', x.tester, 'batch', x.batch,
				'tested_at', x.tested_at, 'blocking', x.blocking,
				'batch_certificates', x.batch_certificates,
				'batch_revoked', x.batch_revoked,
				'revocation', format('/api/v1/rapid-tests/%s/revocation', x.id))
				ORDER BY x.tested_at DESC, x.id DESC) FROM x), '[]'),
			'blocks', coalesce((SELECT json_agg(json_build_object('subject', b.subject_id,
				'subject_name', b.subject_name, 'product', b.product, 'test', b.test_id,
				'since', b.since, 'township', lpad(b.township::text, 12, '0'))
				ORDER BY b.since DESC) FROM b), '[]')),
		csv_document(ARRAY['快检编号', '检测时间', '乡镇', '生产主体', '产品', '方法',
				'检测项目', '检测点', '检测人', '批次', '仍在禁止开具', '批次合格证数',
				'已撤销'],
			(SELECT string_agg(csv_line(ARRAY[x.id::text, x.tested_at,
				(SELECT r.name FROM region r WHERE r.code = x.township), x.subject_name,
				x.product, CASE x.method WHEN 'colloidal_gold' THEN '胶体金'
					WHEN 'enzyme_inhibition' THEN '酶抑制' ELSE '定量检测' END,
				x.items, x.station, x.tester, x.batch,
				CASE WHEN x.blocking THEN '是' ELSE '否' END,
				x.batch_certificates::text, x.batch_revoked::text]), ''
				ORDER BY x.tested_at DESC, x.id DESC) FROM x))
$$;

-- Subjects by credit grade and status (now), per township, and the grade
-- and status changes of the period, newest first (at most 500).
CREATE FUNCTION registry_overview(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH s AS (SELECT s.* FROM subject s WHERE s.kind <> 'staff'
		AND s.region_code BETWEEN p_region_lo AND p_region_hi),
	ch AS (SELECT c.id, c.subject_id, s.name, c.field, c.old_value, c.new_value, c.reason,
			(SELECT a.name FROM subject a WHERE a.id = c.actor_subject_id) AS actor,
			c.actor_role, cst_text(c.at) AS at
		FROM subject_change c JOIN s ON s.id = c.subject_id
		WHERE c.field IN ('credit_grade', 'status') AND in_list_period(c.at, p_from, p_to)
		ORDER BY c.id DESC LIMIT 500)
	SELECT json_build_object('demo', demo_present(),
			'by_grade', (SELECT json_build_object('A', count(*) FILTER (WHERE credit_grade = 'A'),
				'B', count(*) FILTER (WHERE credit_grade = 'B'),
				'C', count(*) FILTER (WHERE credit_grade = 'C')) FROM s),
			'by_status', (SELECT json_build_object(
				'active', count(*) FILTER (WHERE status = 'active'),
				'suspended', count(*) FILTER (WHERE status = 'suspended'),
				'blacklisted', count(*) FILTER (WHERE status = 'blacklisted')) FROM s),
			'townships', coalesce((SELECT json_agg(json_build_object(
				'code', lpad(t.code::text, 12, '0'), 'name', t.name, 'A', t.a, 'B', t.b,
				'C', t.c, 'suspended', t.suspended, 'blacklisted', t.blacklisted)
				ORDER BY t.code)
				FROM (SELECT r.code, r.name,
						count(*) FILTER (WHERE s.credit_grade = 'A') AS a,
						count(*) FILTER (WHERE s.credit_grade = 'B') AS b,
						count(*) FILTER (WHERE s.credit_grade = 'C') AS c,
						count(*) FILTER (WHERE s.status = 'suspended') AS suspended,
						count(*) FILTER (WHERE s.status = 'blacklisted') AS blacklisted
					FROM s JOIN region r ON r.code = township_of(s.region_code)
					GROUP BY r.code, r.name) t), '[]'),
			'changes', coalesce((SELECT json_agg(json_build_object('id', ch.id,
				'subject', ch.subject_id, 'subject_name', ch.name, 'field', ch.field,
				'old_value', ch.old_value, 'new_value', ch.new_value, 'reason', ch.reason,
				'actor_name', ch.actor, 'actor_role', ch.actor_role, 'at', ch.at)
				ORDER BY ch.id DESC) FROM ch), '[]')),
		csv_document(ARRAY['时间', '主体编号', '主体', '项目', '原值', '新值', '原因', '操作人'],
			(SELECT string_agg(csv_line(ARRAY[ch.at, ch.subject_id::text, ch.name,
				CASE ch.field WHEN 'credit_grade' THEN '信用等级' ELSE '状态' END,
				CASE ch.field WHEN 'status' THEN subject_status_zh(ch.old_value)
					ELSE ch.old_value END,
				CASE ch.field WHEN 'status' THEN subject_status_zh(ch.new_value)
					ELSE ch.new_value END,
				ch.reason, coalesce(ch.actor, ch.actor_role)]), '' ORDER BY ch.id DESC)
				FROM ch))
$$;

-- Certificates revoked in the period (newest first, at most 500), by the
-- issuer's region, with why and how many certificates were made from them.
CREATE FUNCTION revocations_list(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('demo', demo_present(), 'revocations', coalesce(json_agg(
		json_build_object('certificate', x.serial, 'number', lpad(x.serial::text, 12, '0'),
			'product', x.product, 'issuer', x.issuer, 'issuer_id', x.issuer_id,
			'quantity', quantity_text(x.quantity_milli), 'unit_zh', unit_zh(x.unit),
			'issued_at', cst_text(x.issued_at), 'revoked_at', cst_text(x.revoked_at),
			'reason', x.revoke_reason,
			'downstream', (SELECT count(DISTINCT d.serial) - 1 FROM chain_down(
				ARRAY[x.serial]) d),
			'recall', format('/api/v1/certificates/%s/recall', x.serial))
		ORDER BY x.revoked_at DESC, x.serial), '[]'))
	FROM (SELECT c.*, p.name AS product, s.name AS issuer FROM certificate c
		JOIN subject s ON s.id = c.issuer_id JOIN product p ON p.id = c.product_id
		WHERE c.revoked_at IS NOT NULL AND in_list_period(c.revoked_at, p_from, p_to)
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
		ORDER BY c.revoked_at DESC LIMIT 500) x
$$;

-- What revoking a certificate would take (nothing is changed): itself and,
-- with p_cascade (by default), every certificate made from it (chain_down), each with
-- its issuer, whether it is revoked already, its labels and the purchasers
-- holding them. found/covered (the issuer's region) say why not.
CREATE FUNCTION revocation_preview(p_serial bigint, p_cascade boolean, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (found boolean, covered boolean, doc json)
LANGUAGE sql STABLE AS $$
	WITH root AS (SELECT c.serial, s.region_code BETWEEN p_region_lo AND p_region_hi AS covered
		FROM certificate c JOIN subject s ON s.id = c.issuer_id WHERE c.serial = p_serial),
	d AS (SELECT t.serial, min(t.depth) AS depth FROM root, chain_down(ARRAY[root.serial],
			CASE WHEN coalesce(p_cascade, true) THEN 64 ELSE 0 END) t
		WHERE root.covered GROUP BY t.serial),
	x AS (SELECT d.depth, c.serial, c.labels, c.revoked_at IS NOT NULL AS revoked,
			p.name AS product, s.name AS issuer, s.id AS issuer_id,
			quantity_text(c.quantity_milli) AS quantity, unit_zh(c.unit) AS unit_zh,
			(SELECT coalesce(json_agg(DISTINCT ps.name), '[]') FROM receipt r
				JOIN subject ps ON ps.id = r.purchaser_id WHERE r.serial = c.serial)
				AS holders
		FROM d JOIN certificate c ON c.serial = d.serial
		JOIN subject s ON s.id = c.issuer_id JOIN product p ON p.id = c.product_id)
	SELECT true, root.covered, CASE WHEN root.covered THEN json_build_object(
			'certificate', p_serial, 'cascade', coalesce(p_cascade, true),
			'already_revoked', (SELECT x.revoked FROM x WHERE x.serial = p_serial),
			'would_revoke', (SELECT count(*) FROM x WHERE NOT x.revoked),
			'would_cascade', (SELECT count(*) FROM x WHERE NOT x.revoked
				AND x.serial <> p_serial),
			'labels', (SELECT coalesce(sum(x.labels), 0) FROM x WHERE NOT x.revoked),
			'certificates', (SELECT json_agg(json_build_object('certificate', x.serial,
				'number', lpad(x.serial::text, 12, '0'), 'depth', x.depth,
				'product', x.product, 'issuer', x.issuer, 'issuer_id', x.issuer_id,
				'quantity', x.quantity, 'unit_zh', x.unit_zh, 'labels', x.labels,
				'revoked', x.revoked, 'holders', x.holders) ORDER BY x.depth, x.serial)
				FROM x)) END
	FROM root
	UNION ALL
	SELECT false, false, NULL WHERE NOT EXISTS (SELECT 1 FROM root)
$$;

-- A plan redrawn from its recorded seed and candidates (sampling_redraw),
-- beside the stored draw: matches says whether they are the same.
CREATE FUNCTION sampling_plan_check(p_plan bigint, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (found boolean, covered boolean, doc json)
LANGUAGE sql STABLE AS $$
	WITH sp AS (SELECT sp.* FROM sampling_plan sp WHERE sp.id = p_plan),
	d AS (SELECT * FROM sampling_redraw(p_plan)),
	k AS (SELECT pk.* FROM sampling_pick pk WHERE pk.plan_id = p_plan)
	SELECT true, sp.township BETWEEN p_region_lo AND p_region_hi,
		CASE WHEN sp.township BETWEEN p_region_lo AND p_region_hi THEN json_build_object(
			'plan', sp.id, 'seed', sp.seed, 'method', sp.method, 'size', sp.size,
			'matches', NOT EXISTS (SELECT d.draw, d.subject_id, d.inspector_id FROM d
					EXCEPT SELECT k.draw, k.subject_id, k.inspector_id FROM k)
				AND NOT EXISTS (SELECT k.draw, k.subject_id, k.inspector_id FROM k
					EXCEPT SELECT d.draw, d.subject_id, d.inspector_id FROM d),
			'picks', (SELECT coalesce(json_agg(json_build_object('draw', d.draw,
				'subject', d.subject_id, 'inspector', d.inspector_id) ORDER BY d.draw),
				'[]') FROM d)) END
	FROM sp
	UNION ALL
	SELECT false, false, NULL WHERE NOT EXISTS (SELECT 1 FROM sp)
$$;

-- Every table of this migration is in the audit log (sql/AUDIT.md); a
-- photo's bytes are left out (its SHA-256 is logged).
SELECT audit_attach('township_target', 'region_code', 'create', 'update', 'delete');
SELECT audit_attach('patrol', 'id', 'create', 'update', 'delete');
SELECT audit_attach('patrol_photo', 'id', 'create', 'update', 'delete', 'jpeg');
SELECT audit_attach('quarantine_certificate', 'number', 'create', 'update', 'delete');
SELECT audit_attach('sampling_plan', 'id', 'create', 'update', 'delete');
SELECT audit_attach('sampling_candidate', 'plan_id', 'create', 'update', 'delete');
SELECT audit_attach('sampling_pick', 'plan_id', 'create', 'update', 'delete');
SELECT audit_attach('demo_subject', 'subject_id', 'create', 'update', 'delete');

------------------------------------------------------------------------------
-- Demo data (`agricert demo load`, cli/ac_cli_demo.c): a month of activity
-- in Anxi county so that the dashboard shows figures on first run. Every
-- demo record hangs off a demo subject (demo_subject), so that the loader
-- can tell a database that holds other data, and refuses it. The loader
-- signs the certificates' codes itself (the keys never enter the
-- database): demo_certificate_plan() says what to sign, demo_store() stores
-- the signed certificates and everything else. Both run in the loader's
-- one transaction, whose now() they share, so that the plan they each
-- compute is the same. Choices are made by demo_rand(), a hash: the same
-- registry on the same day gives the same data.
ALTER TABLE demo_subject ADD COLUMN product_id integer REFERENCES product (id);

CREATE FUNCTION demo_rand(p_label text) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
	SELECT sampling_random('agricert-demo', p_label, 0)::double precision / 281474976710656.0
$$;

-- Whether the demo is loaded, and the first kind of record found that is
-- not demo data (NULL when none).
CREATE FUNCTION demo_state() RETURNS TABLE (loaded boolean, foreign_data text)
LANGUAGE sql STABLE AS $$
	WITH d AS (SELECT subject_id FROM demo_subject)
	SELECT demo_present(), (SELECT x.what FROM (VALUES
		(1, 'certificates', EXISTS (SELECT 1 FROM certificate c
			WHERE c.issuer_id NOT IN (SELECT * FROM d))),
		(2, 'receipts', EXISTS (SELECT 1 FROM receipt r
			WHERE r.purchaser_id NOT IN (SELECT * FROM d))),
		(3, 'rapid tests', EXISTS (SELECT 1 FROM rapid_test t
			WHERE t.subject_id NOT IN (SELECT * FROM d))),
		(4, 'patrols', EXISTS (SELECT 1 FROM patrol p
			WHERE p.subject_id NOT IN (SELECT * FROM d))),
		(5, 'inspections', EXISTS (SELECT 1 FROM inspection i
			WHERE i.inspector_id NOT IN (SELECT * FROM d))),
		(6, 'unlicensed-produce reports', EXISTS (SELECT 1 FROM unlicensed_report u
			WHERE u.reported_by NOT IN (SELECT * FROM d))),
		(7, 'quarantine certificates', EXISTS (SELECT 1 FROM quarantine_certificate q
			WHERE q.imported_by IS NULL OR q.imported_by NOT IN (SELECT * FROM d))),
		(8, 'sampling plans', EXISTS (SELECT 1 FROM sampling_plan s
			WHERE s.drawn_by IS NULL OR s.drawn_by NOT IN (SELECT * FROM d))),
		(9, 'scans', EXISTS (SELECT 1 FROM scan_log l WHERE l.serial IS NULL
			OR l.serial NOT IN (SELECT c.serial FROM certificate c
				WHERE c.issuer_id IN (SELECT * FROM d)))))
		AS x(k, what, found) WHERE x.found ORDER BY x.k LIMIT 1)
$$;

-- The demo's registry: producers in every township of Anxi (more in 凤城镇
-- and 湖头镇, where the demo logins of deploy/run-local look), each with its
-- main product; a regulator's office per township, the county's animal
-- health office, a market inspector, three purchasers and two markets.
CREATE FUNCTION demo_registry() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_surnames text[] := ARRAY['林', '陈', '王', '李', '张', '苏', '黄', '刘', '谢', '吴',
		'郑', '许', '周', '杨', '洪'];
	v_given text[] := ARRAY['金水', '秀英', '阿福', '文彬', '美华', '清泉', '玉珍', '国良',
		'志强', '丽娟', '建华', '春梅', '天赐', '宝珠', '明辉', '桂香'];
	v_products text[] := ARRAY['豇豆', '茶叶', '韭菜', '生猪', '芹菜', '茶树菇', '乌鸡', '肉牛',
		'鸡蛋', '芦笋', '肉羊', '姬松茸', '豇豆', '茶叶'];
	v_t record;
	v_n integer;
	v_id integer;
	v_product text;
	v_kind text;
	v_name text;
	v_count integer := 0;
BEGIN
	FOR v_t IN SELECT r.code, r.name, row_number() OVER (ORDER BY r.code) AS i FROM region r
		WHERE r.level = 4 AND r.code / 1000000 = 350524 ORDER BY r.code LOOP
		v_n := CASE v_t.code WHEN 350524103000 THEN 10 WHEN 350524105000 THEN 7
			ELSE 2 + floor(demo_rand('n:' || v_t.code) * 3)::integer END;
		FOR j IN 1 .. v_n LOOP
			v_product := v_products[1 + (v_t.i::integer * 3 + j * 5) % cardinality(v_products)];
			IF v_t.code = 350524103000 AND j <= 3 THEN
				v_product := (ARRAY['豇豆', '生猪', '韭菜'])[j];
			ELSIF v_t.code = 350524105000 AND j <= 3 THEN
				v_product := (ARRAY['生猪', '肉牛', '肉羊'])[j];
			END IF;
			v_kind := CASE WHEN j = 1 THEN 'cooperative' WHEN j = 2 THEN 'family_farm'
				WHEN j = 3 AND v_t.i % 2 = 0 THEN 'enterprise' ELSE 'household' END;
			v_name := CASE v_kind
				WHEN 'cooperative' THEN '安溪县' || v_t.name || v_product || '专业合作社'
				WHEN 'family_farm' THEN '安溪县' || v_t.name
					|| v_surnames[1 + (v_t.i::integer + j) % 15] || '氏家庭农场'
				WHEN 'enterprise' THEN '安溪县' || v_t.name || v_product || '有限公司'
				ELSE v_surnames[1 + (v_t.i::integer * 7 + j) % 15]
					|| v_given[1 + (v_t.i::integer * 5 + j * 3) % 16] END;
			INSERT INTO subject (kind, name, contact, region_code, address, credit_grade,
				status)
			VALUES (v_kind, v_name,
				'138' || lpad((v_t.i * 1000 + j * 37)::text, 8, '0'), v_t.code + 200 + j,
				'福建省泉州市安溪县' || v_t.name || '（演示数据）',
				CASE WHEN demo_rand('g:' || v_name) < 0.8 THEN 'A'
					WHEN demo_rand('g:' || v_name) < 0.95 THEN 'B' ELSE 'C' END, 'active')
			RETURNING id INTO v_id;
			INSERT INTO demo_subject (subject_id, product_id)
			VALUES (v_id, (SELECT p.id FROM product p WHERE p.name = v_product));
			v_count := v_count + 1;
		END LOOP;
		INSERT INTO subject (kind, name, contact, region_code, address)
		VALUES ('staff', v_t.name || '农产品质量安全监管站', '0595-2320' || lpad(v_t.i::text, 4, '0'),
			v_t.code, '福建省泉州市安溪县' || v_t.name || '（演示数据）')
		RETURNING id INTO v_id;
		INSERT INTO demo_subject (subject_id) VALUES (v_id);
	END LOOP;
	INSERT INTO subject (kind, name, contact, region_code, address)
	VALUES ('staff', '安溪县动物卫生监督所', '0595-23268888', 350524000000, '演示数据'),
		('staff', '安溪县城东市场协管员', '0595-23261111', 350524103000, '演示数据'),
		('collector', '安溪县城东果蔬收购站', '13859006001', 350524103000, '演示数据'),
		('collector', '安溪县湖头镇农产品批发部', '13859006002', 350524105000, '演示数据'),
		('collector', '安溪县官桥镇蔬菜收购点', '13859006003', 350524102000, '演示数据');
	INSERT INTO demo_subject (subject_id)
	SELECT s.id FROM subject s WHERE s.address = '演示数据'
		AND s.id NOT IN (SELECT subject_id FROM demo_subject);
	INSERT INTO market (name, region_code, kind, address)
	SELECT m.name, m.code, m.kind, '演示数据' FROM (VALUES
		('安溪县城东农贸市场', 350524103000, 'farmers_market'),
		('安溪县湖头镇农贸市场', 350524105000, 'farmers_market'),
		('安溪县农产品批发市场', 350524102000, 'wholesale')) AS m(name, code, kind)
	WHERE NOT EXISTS (SELECT 1 FROM market x WHERE x.name = m.name);
	RETURN v_count;
END $$;

-- A demo subject by role: the township's office, a purchaser of a township.
CREATE FUNCTION demo_staff(p_township bigint) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT s.id FROM subject s JOIN demo_subject d ON d.subject_id = s.id
	WHERE s.kind = 'staff' AND s.region_code = p_township ORDER BY s.id LIMIT 1
$$;

-- The failed rapid tests of the demo: the cowpea cooperative of 凤城镇 two
-- days ago (still blocking; its batch revoked with what was made from it),
-- a 湖头镇 pig farm twelve days ago (retested and passed four days later),
-- and a leek grower of another township five days ago (blocking, not yet
-- revoked). The certificate plan leaves out what a block forbids.
CREATE FUNCTION demo_failures()
RETURNS TABLE (k integer, subject_id integer, product_id integer, failed_on date,
	passed_on date, items text)
LANGUAGE sql STABLE AS $$
	WITH p AS (SELECT s.id, s.region_code, d.product_id, pr.name AS product, s.kind
		FROM demo_subject d JOIN subject s ON s.id = d.subject_id
		JOIN product pr ON pr.id = d.product_id)
	SELECT 1, (SELECT p.id FROM p WHERE township_of(p.region_code) = 350524103000
			AND p.product = '豇豆' ORDER BY p.id LIMIT 1),
		(SELECT id FROM product WHERE name = '豇豆'), cst_today() - 2, NULL::date,
		'毒死蜱（胶体金法阳性）'
	UNION ALL
	SELECT 2, (SELECT p.id FROM p WHERE township_of(p.region_code) = 350524105000
			AND p.product = '生猪' ORDER BY p.id LIMIT 1),
		(SELECT id FROM product WHERE name = '生猪'), cst_today() - 12, cst_today() - 8,
		'莱克多巴胺（胶体金法阳性）'
	UNION ALL
	SELECT 3, (SELECT p.id FROM p WHERE township_of(p.region_code) <> 350524103000
			AND p.product = '韭菜' ORDER BY p.id LIMIT 1),
		(SELECT id FROM product WHERE name = '韭菜'), cst_today() - 5, NULL,
		'有机磷和氨基甲酸酯类（酶抑制率 62%）'
$$;

-- The certificates to sign, over the p_days up to today: producers issue
-- for their main product on some days (more often the larger they are),
-- never while a failed test blocks them; a purchaser re-issues from some
-- vegetable certificates of its township (input_n: the row drawn from).
-- issue_day is what the code carries (days since 2020-01-01).
CREATE FUNCTION demo_certificate_plan(p_days integer)
RETURNS TABLE (n integer, issuer_id integer, style smallint, basis smallint,
	product_id integer, quantity_milli bigint, unit smallint, origin text, origin_code bigint,
	contact text, issued_at timestamptz, labels integer, issue_day integer, input_n integer,
	input_milli bigint)
LANGUAGE sql STABLE AS $$
	WITH prod AS (SELECT s.id, s.name, s.kind, s.region_code, s.contact, d.product_id,
			pr.name AS product, pr.category,
			CASE pr.default_unit WHEN 'head' THEN 6::smallint ELSE 1::smallint END AS unit,
			(SELECT r.name FROM region r WHERE r.code = township_of(s.region_code))
				AS township
		FROM demo_subject d JOIN subject s ON s.id = d.subject_id
		JOIN product pr ON pr.id = d.product_id WHERE s.status = 'active'),
	days AS (SELECT (cst_today() - k)::date AS day FROM generate_series(0, p_days - 1) k),
	raw AS (SELECT p.*, d.day,
			least(cst_day_start(d.day) + interval '6 hours 30 minutes'
				+ make_interval(mins => floor(demo_rand('t:' || p.id || d.day) * 600)::integer),
				now() - interval '5 minutes') AS at,
			demo_rand('q:' || p.id || d.day) AS q
		FROM prod p, days d
		WHERE demo_rand('i:' || p.id || d.day) < CASE p.kind WHEN 'cooperative' THEN 0.5
				WHEN 'enterprise' THEN 0.5 WHEN 'family_farm' THEN 0.35 ELSE 0.2 END
			AND NOT EXISTS (SELECT 1 FROM demo_failures() f WHERE f.subject_id = p.id
				AND f.product_id = p.product_id AND d.day >= f.failed_on
				AND (f.passed_on IS NULL OR d.day < f.passed_on))),
	issued AS (SELECT (row_number() OVER (ORDER BY r.at, r.id))::integer AS n, r.*,
			1000 * CASE r.product WHEN '生猪' THEN 5 + floor(r.q * 25) WHEN '肉牛' THEN
				1 + floor(r.q * 5) WHEN '肉羊' THEN 3 + floor(r.q * 12) WHEN '乌鸡' THEN
				50 + floor(r.q * 250) WHEN '茶叶' THEN 5 + floor(r.q * 45)
				ELSE 20 + floor(r.q * 180) END AS milli
		FROM raw r),
	producer AS (SELECT i.n, i.id, 1::smallint AS style, i.product_id, i.milli::bigint,
			CASE i.product WHEN '乌鸡' THEN 10::smallint ELSE i.unit END AS unit,
			'福建省泉州市安溪县' || i.township AS origin, i.region_code, i.contact, i.at,
			1 + floor(demo_rand('l:' || i.n) * 4)::integer AS labels, NULL::integer AS input_n,
			NULL::bigint AS input_milli
		FROM issued i),
	buyer AS (SELECT s.id, s.region_code, s.contact FROM demo_subject d
		JOIN subject s ON s.id = d.subject_id WHERE s.kind = 'collector'),
	resold AS (SELECT (SELECT count(*) FROM producer)::integer
				+ (row_number() OVER (ORDER BY p.at, p.n))::integer AS n,
			b.id, 2::smallint AS style, p.product_id,
			(p.milli * 6 / 10)::bigint AS milli, p.unit,
			'福建省泉州市安溪县' AS origin, b.region_code, b.contact,
			least(p.at + interval '3 hours', now() - interval '1 minute') AS at,
			2 AS labels, p.n AS input_n, (p.milli * 6 / 10)::bigint AS input_milli
		FROM producer p JOIN product pr ON pr.id = p.product_id
		JOIN buyer b ON township_of(b.region_code) = township_of(p.region_code)
		WHERE pr.category = '蔬菜' AND demo_rand('r:' || p.n) < 0.4)
	SELECT x.n, x.id, x.style, 0::smallint, x.product_id, x.milli, x.unit, x.origin,
		x.region_code, x.contact, x.at, x.labels,
		((x.at AT TIME ZONE 'Asia/Shanghai')::date - date '2020-01-01')::integer,
		x.input_n, x.input_milli
	FROM (SELECT * FROM producer UNION ALL SELECT * FROM resold) x
	ORDER BY x.n
$$;

-- The month's activity around the demo certificates: rapid tests (the
-- failures of demo_failures() among them, the first one's batch revoked
-- with what was made from it), grade and status changes, patrols (a few
-- with a photo), quarantine certificates for the livestock certificates
-- with one of each mismatch in the last week, market checks, a code that
-- looks copied, unlicensed produce, this month's sampling plans of 凤城镇
-- and 湖头镇, and this year's quotas and targets copied from the newest
-- year on record when this year has none.
CREATE FUNCTION demo_activity() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_jpeg bytea := decode('/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCx4E8KWPif7f8AbZbmP7P5ezyWUZ3bs5yD/dFHjvwpY+GPsH2KW5k+0eZv85lONu3GMAf3jXM2epX2n7/sV7c22/G/yZWTdjpnB56n86LzUr7UNn229ubnZnZ50rPtz1xk8dB+VePyT5+a+nY8D2lL2PJy+93+Z//Z', 'base64');
	v_test bigint;
	v_animal integer := (SELECT s.id FROM subject s JOIN demo_subject d ON d.subject_id = s.id
		WHERE s.name = '安溪县动物卫生监督所');
	v_inspector integer := (SELECT s.id FROM subject s JOIN demo_subject d
		ON d.subject_id = s.id WHERE s.name = '安溪县城东市场协管员');
BEGIN
	PERFORM demo_tests();
	SELECT t.id INTO v_test FROM rapid_test t JOIN demo_failures() f ON f.k = 1
		AND t.subject_id = f.subject_id AND t.result = 'fail';
	PERFORM revoke_test_batch(v_test, 7, true, NULL, 0, 999999999999);
	PERFORM demo_changes();
	PERFORM demo_patrols(v_jpeg);
	PERFORM demo_quarantine(v_animal);
	PERFORM demo_markets(v_inspector);
	PERFORM sampling_plan_create(t, NULL, 4, demo_staff(t), 0, 999999999999)
	FROM unnest(ARRAY[350524103000, 350524105000]) t;
	INSERT INTO rapid_test_quota (region_code, year, total, colloidal_gold, enzyme_inhibition,
		veterinary)
	SELECT q.region_code, extract(year FROM cst_today()), q.total, q.colloidal_gold,
		q.enzyme_inhibition, q.veterinary
	FROM rapid_test_quota q WHERE q.year = (SELECT max(year) FROM rapid_test_quota)
	ON CONFLICT DO NOTHING;
	INSERT INTO township_target (region_code, year, producers, daily_patrols, monthly_patrols,
		item_codes, household_certificates)
	SELECT g.region_code, extract(year FROM cst_today()), g.producers, g.daily_patrols,
		g.monthly_patrols, g.item_codes, g.household_certificates
	FROM township_target g WHERE g.year = (SELECT max(year) FROM township_target)
	ON CONFLICT DO NOTHING;
END $$;

-- Rapid tests of the month: passes first (routine tests, and the tests
-- before sale the certificates of key-risk products need), then the
-- failures and the retest, in that order (the trigger of 0008 keeps the
-- blocks).
CREATE FUNCTION demo_tests() RETURNS void
LANGUAGE sql AS $$
	WITH p AS (SELECT s.id, s.region_code, d.product_id, pr.category,
			(SELECT r.name FROM region r WHERE r.code = township_of(s.region_code))
				AS township
		FROM demo_subject d JOIN subject s ON s.id = d.subject_id
		JOIN product pr ON pr.id = d.product_id),
	t AS (SELECT p.*, (cst_today() - k)::date AS day,
			demo_rand('m:' || p.id || k) < 0.55 AS gold
		FROM p, generate_series(0, 29) k
		WHERE demo_rand('test:' || p.id || k) < CASE township_of(p.region_code)
				WHEN 350524103000 THEN 0.3 ELSE 0.12 END
			AND NOT EXISTS (SELECT 1 FROM demo_failures() f WHERE f.subject_id = p.id
				AND cst_today() - k >= f.failed_on - 1))
	INSERT INTO rapid_test (subject_id, product_id, method, items, result, station, tester,
		tested_at, recorded_by)
	SELECT t.id, t.product_id,
		CASE WHEN is_animal_category(t.category) OR t.gold THEN 'colloidal_gold'
			ELSE 'enzyme_inhibition' END,
		CASE WHEN is_animal_category(t.category) THEN '克伦特罗、莱克多巴胺、沙丁胺醇'
			WHEN t.gold THEN '毒死蜱、克百威、氧乐果、甲拌磷'
			ELSE '有机磷和氨基甲酸酯类' END,
		'pass', t.township || '农产品快检室', t.township || '快检员',
		least(cst_day_start(t.day) + interval '8 hours'
			+ make_interval(mins => floor(demo_rand('tt:' || t.id || t.day) * 480)::integer),
			now() - interval '10 minutes'),
		demo_staff(township_of(t.region_code))
	FROM t ORDER BY 8;
	-- Tested before sale (sql/0020): a station's pass the morning of each
	-- day a producer certified a product that requires one.
	INSERT INTO rapid_test (subject_id, product_id, method, items, result, station, tester,
		tested_at, recorded_by, batch)
	SELECT DISTINCT ON (c.issuer_id, c.product_id, c.day) c.issuer_id, c.product_id,
		'colloidal_gold', '上市前检测：毒死蜱、克百威、氧乐果、甲拌磷', 'pass',
		r.name || '农产品快检室', r.name || '快检员', c.issued_at - interval '1 hour',
		demo_staff(r.code), '上市前检测'
	FROM (SELECT c.issuer_id, c.product_id, c.issued_at,
			(c.issued_at AT TIME ZONE 'Asia/Shanghai')::date AS day, s.region_code
		FROM certificate c JOIN subject s ON s.id = c.issuer_id
		JOIN demo_subject d ON d.subject_id = s.id
		JOIN product p ON p.id = c.product_id
		WHERE c.style = 1 AND p.test_required_days IS NOT NULL) c
	JOIN region r ON r.code = township_of(c.region_code)
	WHERE NOT EXISTS (SELECT 1 FROM rapid_test t WHERE t.subject_id = c.issuer_id
		AND t.product_id = c.product_id AND t.result = 'pass'
		AND t.tested_at < c.issued_at
		AND (t.tested_at AT TIME ZONE 'Asia/Shanghai')::date = c.day)
	ORDER BY c.issuer_id, c.product_id, c.day, c.issued_at;
	INSERT INTO rapid_test (subject_id, product_id, method, items, result, station, tester,
		tested_at, recorded_by, batch)
	SELECT f.subject_id, f.product_id,
		CASE WHEN f.k = 3 THEN 'enzyme_inhibition' ELSE 'colloidal_gold' END, f.items, 'fail',
		r.name || '农产品快检室', r.name || '快检员',
		least(cst_day_start(f.failed_on) + interval '9 hours', now() - interval '10 minutes'),
		demo_staff(r.code), '采收前抽样'
	FROM demo_failures() f JOIN subject s ON s.id = f.subject_id
	JOIN region r ON r.code = township_of(s.region_code)
	ORDER BY f.k;
	INSERT INTO rapid_test (subject_id, product_id, method, items, result, station, tester,
		tested_at, recorded_by, batch)
	SELECT f.subject_id, f.product_id, 'colloidal_gold', '复检：' || f.items, 'pass',
		r.name || '农产品快检室', r.name || '快检员',
		cst_day_start(f.passed_on) + interval '10 hours', demo_staff(r.code), '整改后复检'
	FROM demo_failures() f JOIN subject s ON s.id = f.subject_id
	JOIN region r ON r.code = township_of(s.region_code)
	WHERE f.passed_on IS NOT NULL;
$$;

-- Grade and status changes: the failed cowpea cooperative falls to C, a
-- producer with missing records is suspended, another rises to A.
CREATE FUNCTION demo_changes() RETURNS void
LANGUAGE sql AS $$
	WITH c AS (SELECT x.subject_id, x.field, x.old_value, x.new_value, x.reason, x.at
		FROM (SELECT f.subject_id, 'credit_grade' AS field, s.credit_grade::text AS old_value,
				'C' AS new_value, '快检不合格（' || f.items || '），列为重点监管' AS reason,
				cst_day_start(f.failed_on) + interval '15 hours' AS at
			FROM demo_failures() f JOIN subject s ON s.id = f.subject_id WHERE f.k = 1
			UNION ALL
			(SELECT s.id, 'status', s.status, 'suspended',
				'巡查发现生产记录缺失，暂停开具合格证', now() - interval '3 days'
			FROM subject s JOIN demo_subject d ON d.subject_id = s.id
			WHERE s.kind = 'household' AND township_of(s.region_code) = 350524105000
				AND s.id NOT IN (SELECT subject_id FROM demo_failures())
			ORDER BY s.id DESC LIMIT 1)) x
		UNION ALL
		(SELECT s.id, 'credit_grade', s.credit_grade::text, 'A', '年度信用评价良好，上调为A级',
			now() - interval '20 days'
		FROM subject s JOIN demo_subject d ON d.subject_id = s.id
		WHERE s.credit_grade = 'B' AND township_of(s.region_code) = 350524103000
			AND s.id NOT IN (SELECT subject_id FROM demo_failures())
		ORDER BY s.id LIMIT 1)),
	ins AS (INSERT INTO subject_change (subject_id, field, old_value, new_value, reason,
			actor_subject_id, actor_role, at)
		SELECT c.subject_id, c.field, c.old_value, c.new_value, c.reason,
			demo_staff(township_of(s.region_code)), 'township_regulator', c.at
		FROM c JOIN subject s ON s.id = c.subject_id)
	UPDATE subject s SET
		credit_grade = coalesce((SELECT c.new_value FROM c WHERE c.subject_id = s.id
			AND c.field = 'credit_grade'), s.credit_grade),
		status = coalesce((SELECT c.new_value FROM c WHERE c.subject_id = s.id
			AND c.field = 'status'), s.status)
	WHERE s.id IN (SELECT c.subject_id FROM c)
$$;

-- Patrols: most producers visited once this month (all but two in
-- 凤城镇), online checks besides, the failed cooperative referred with its
-- test; the first visits of 凤城镇 with a photo.
CREATE FUNCTION demo_patrols(p_jpeg bytea) RETURNS void
LANGUAGE sql AS $$
	WITH p AS (SELECT s.id, s.region_code, row_number() OVER (PARTITION BY
				township_of(s.region_code) ORDER BY s.id) AS j
		FROM demo_subject d JOIN subject s ON s.id = d.subject_id
		WHERE is_producer_kind(s.kind)),
	v AS (SELECT p.id, p.region_code, 'onsite' AS mode,
			cst_today() - floor(demo_rand('v:' || p.id) * 25)::integer AS day,
			demo_rand('o:' || p.id) AS o
		FROM p WHERE CASE township_of(p.region_code) WHEN 350524103000 THEN p.j <= 8
			ELSE demo_rand('pv:' || p.id) < 0.55 END
		UNION ALL
		SELECT p.id, p.region_code, 'online', cst_today() - k, 0.0
		FROM p, generate_series(0, 27, 3) k WHERE demo_rand('on:' || p.id || k) < 0.5),
	ins AS (INSERT INTO patrol (subject_id, region_code, visited_on, mode, checks, findings,
			outcome, recorded_by, recorded_at)
		SELECT v.id, v.region_code, v.day, v.mode,
			CASE v.mode WHEN 'online' THEN 'records,certificate_use'
				ELSE 'records,certificate_use,display' END,
			CASE WHEN v.mode = 'online' THEN '线上查看生产记录和合格证开具记录，未见异常'
				WHEN v.o < 0.8 THEN '生产记录齐全，合格证按批开具，经营场所亮证'
				ELSE '农药使用记录不全，责令7日内补齐' END,
			CASE WHEN v.mode = 'onsite' AND v.o >= 0.8 THEN 'rectify' ELSE 'compliant' END,
			demo_staff(township_of(v.region_code)),
			cst_day_start(v.day) + interval '14 hours'
		FROM v ORDER BY v.day, v.id
		RETURNING patrol.id, patrol.subject_id, patrol.region_code, patrol.mode)
	INSERT INTO patrol_photo (patrol_id, jpeg, sha256, added_by)
	SELECT i.id, p_jpeg, sha256(p_jpeg), demo_staff(township_of(i.region_code))
	FROM ins i WHERE i.mode = 'onsite' AND township_of(i.region_code) = 350524103000
		AND i.subject_id IN (SELECT p.id FROM p WHERE p.j <= 3);
	INSERT INTO patrol (subject_id, region_code, visited_on, mode, checks, rapid_test_id,
		findings, outcome, recorded_by, recorded_at)
	SELECT f.subject_id, s.region_code, f.failed_on, 'onsite',
		'records,certificate_use,rapid_test', t.id,
		'快检不合格，已停止采收上市，该批次合格证已撤销；案件线索移交执法大队', 'referred',
		demo_staff(township_of(s.region_code)),
		least(cst_day_start(f.failed_on) + interval '16 hours', now())
	FROM demo_failures() f JOIN subject s ON s.id = f.subject_id
	JOIN rapid_test t ON t.subject_id = f.subject_id AND t.result = 'fail'
	WHERE f.k = 1;
$$;

-- Quarantine certificates for the livestock and poultry certificates, each
-- as certified, but in the last week: one pig batch certified over its
-- quarantine certificate, cattle quarantined under another owner, sheep
-- without one, and chickens quarantined that nobody certified.
CREATE FUNCTION demo_quarantine(p_by integer) RETURNS void
LANGUAGE sql AS $$
	WITH c AS (SELECT c.serial, c.issuer_id, s.name, p.name AS product, c.product_id,
			c.quantity_milli, c.unit, township_of(s.region_code) AS township,
			(c.issued_at AT TIME ZONE 'Asia/Shanghai')::date AS day
		FROM certificate c JOIN subject s ON s.id = c.issuer_id
		JOIN demo_subject d ON d.subject_id = s.id
		JOIN product p ON p.id = c.product_id
		WHERE p.category = '畜禽' AND c.style = 1 AND c.revoked_at IS NULL),
	latest AS (SELECT DISTINCT ON (c.product) c.serial, c.product FROM c
		WHERE c.day >= cst_today() - 6 AND c.day < cst_today()
			AND c.product IN ('生猪', '肉牛', '肉羊')
		ORDER BY c.product, c.day DESC, c.serial DESC)
	INSERT INTO quarantine_certificate (number, owner, owner_id, species, product_id,
		quantity_milli, unit, origin, region_code, issued_on, imported_by)
	SELECT '3505' || lpad(c.serial::text, 10, '0'),
		CASE WHEN l.product = '肉牛' THEN '王某某（贩运户）' ELSE c.name END,
		CASE WHEN l.product = '肉牛' THEN NULL ELSE c.issuer_id END, c.product, c.product_id,
		CASE WHEN l.product = '生猪' THEN greatest(c.quantity_milli - 2000, 1000)
			ELSE c.quantity_milli END,
		CASE WHEN c.unit IN (1, 6, 10) THEN c.unit ELSE 6 END,
		'福建省泉州市安溪县' || (SELECT r.name FROM region r WHERE r.code = c.township),
		c.township, c.day, p_by
	FROM c LEFT JOIN latest l ON l.serial = c.serial
	WHERE l.product IS DISTINCT FROM '肉羊'
	UNION ALL
	(SELECT '35059999' || to_char(cst_today() - 1, 'YYMMDD'), s.name, s.id, '乌鸡',
		(SELECT id FROM product WHERE name = '乌鸡'), 120000, 10,
		'福建省泉州市安溪县湖头镇', 350524105000, cst_today() - 1, p_by
	FROM subject s JOIN demo_subject d ON d.subject_id = s.id
	WHERE s.kind = 'household' AND township_of(s.region_code) = 350524105000
		AND d.product_id <> (SELECT id FROM product WHERE name = '乌鸡')
	ORDER BY s.id LIMIT 1)
$$;

-- Market checks of the month (the last one finds a revoked item), a code
-- seen at two markets too far apart, and produce sold without certificate.
CREATE FUNCTION demo_markets(p_inspector integer) RETURNS void
LANGUAGE sql AS $$
	WITH m AS (SELECT x.id, row_number() OVER (ORDER BY x.id) - 1 AS k FROM market x
		WHERE x.address = '演示数据'),
	ch AS (SELECT g.i AS k, (SELECT m.id FROM m WHERE m.k = g.i % 3) AS market,
			least(cst_day_start(cst_today() - g.i * 3) + interval '10 hours',
				now() - interval '5 minutes') AS at
		FROM generate_series(0, 9) AS g(i)),
	codes AS (SELECT ch.k, ch.market, ch.at, c.serial, c.revoked_at IS NOT NULL AS revoked
		FROM ch CROSS JOIN LATERAL (SELECT c.serial, c.revoked_at FROM certificate c
			JOIN demo_subject d ON d.subject_id = c.issuer_id
			WHERE c.issued_at < ch.at AND c.issued_at > ch.at - CASE WHEN ch.k = 0
				THEN interval '10 days' ELSE interval '2 days' END
			ORDER BY (ch.k = 0 AND c.revoked_at IS NOT NULL) DESC,
				demo_rand('ic:' || c.serial) LIMIT 3) c),
	ins AS (INSERT INTO inspection (market_id, inspector_id, seller, codes, problems,
			inspected_at)
		SELECT ch.market, p_inspector, (ch.k % 5 + 1) || ' 号摊位',
			(SELECT count(*) FROM codes WHERE codes.k = ch.k),
			(SELECT count(*) FROM codes WHERE codes.k = ch.k AND ch.k = 0 AND codes.revoked),
			ch.at
		FROM ch RETURNING inspection.id, inspection.market_id, inspection.inspected_at)
	INSERT INTO scan_log (scanned_at, serial, item, verdict, market_id, subject_id, peer,
		inspection_id)
	SELECT i.inspected_at, codes.serial, 1,
		CASE WHEN codes.k = 0 AND codes.revoked THEN 'revoked' ELSE 'valid' END, i.market_id,
		p_inspector, '127.0.0.1', i.id
	FROM ins i JOIN codes ON codes.market = i.market_id AND codes.at = i.inspected_at;

	WITH c AS (SELECT c.serial FROM certificate c JOIN demo_subject d ON d.subject_id = c.issuer_id
			WHERE c.style = 1 AND c.revoked_at IS NULL AND c.issued_at < now() - interval '1 day'
			ORDER BY c.issued_at DESC LIMIT 1),
	m AS (SELECT x.id, x.name FROM market x WHERE x.address = '演示数据' ORDER BY x.id),
	s AS (INSERT INTO scan_log (scanned_at, serial, item, verdict, market_id, peer)
		SELECT now() - interval '3 hours' + (k * interval '12 minutes'), c.serial, 1, 'valid',
			(SELECT m.id FROM m ORDER BY (k = 0) DESC, m.id DESC LIMIT 1), '127.0.0.1'
		FROM c, generate_series(0, 1) k RETURNING 1)
	INSERT INTO clone_suspicion (serial, item, reason, detail, scans, flagged_at, updated_at)
	SELECT c.serial, 1, 'far_apart',
		'12 分钟内先后在「安溪县城东农贸市场」和「安溪县农产品批发市场」被扫描，两地相距约 30 公里',
		2, now() - interval '2 hours 48 minutes', now() - interval '2 hours 48 minutes'
	FROM c;

	INSERT INTO unlicensed_report (market_id, product_id, seller, quantity_milli, unit, notes,
		reported_by, reported_at)
	SELECT (SELECT x.id FROM market x WHERE x.address = '演示数据' ORDER BY x.id
			OFFSET k % 3 LIMIT 1),
		(SELECT p.id FROM product p WHERE p.name = (ARRAY['豇豆', '韭菜', '芹菜', '草莓',
			'鸡蛋', '豇豆'])[k + 1]),
		(ARRAY['流动摊贩', '早市摊位 12 号', '路边摊贩', '流动摊贩', '7 号档口',
			'临时摊位'])[k + 1], (10 + k * 7) * 1000, 1, '未能出示承诺达标合格证，已责令下架',
		p_inspector, least(cst_day_start(cst_today() - k * 4) + interval '9 hours',
			now() - interval '5 minutes')
	FROM generate_series(0, 5) k;
$$;

-- Stores the signed certificates of demo_certificate_plan(p_days) (row n:
-- serial p_serial[n], item codes p_codes[n] comma-separated, key p_kid),
-- the purchasers' receipts of what they re-issued from, and the month's
-- activity (demo_activity). Says how much was stored.
CREATE FUNCTION demo_store(p_days integer, p_kid integer, p_serial bigint[], p_codes text[])
RETURNS TABLE (subjects bigint, certificates bigint, item_codes bigint, rapid_tests bigint,
	patrols bigint, quarantine_certificates bigint)
LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMP TABLE demo_cert ON COMMIT DROP AS
	SELECT p.*, p_serial[p.n] AS serial, string_to_array(p_codes[p.n], ',') AS codes
	FROM demo_certificate_plan(p_days) p;
	IF EXISTS (SELECT 1 FROM demo_cert d WHERE d.serial IS NULL
		OR coalesce(cardinality(d.codes), 0) <> d.labels) THEN
		RAISE EXCEPTION 'demo_store: a planned certificate has no serial or not its codes'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id, quantity_milli,
		unit, origin, origin_code, contact, issued_at, labels, item_codes)
	SELECT d.serial, p_kid, d.issuer_id, d.style, d.basis, d.product_id, d.quantity_milli,
		d.unit, d.origin, d.origin_code, d.contact, d.issued_at, d.labels, d.codes
	FROM demo_cert d ORDER BY d.n;
	INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit, received_at)
	SELECT r.issuer_id, i.serial, k, i.quantity_milli / i.labels, i.unit,
		greatest(i.issued_at + interval '1 minute', r.issued_at - interval '1 hour')
	FROM demo_cert r JOIN demo_cert i ON i.n = r.input_n, generate_series(1, i.labels) k;
	INSERT INTO certificate_input (serial, input_serial, quantity_milli, unit)
	SELECT r.serial, i.serial, r.input_milli, i.unit
	FROM demo_cert r JOIN demo_cert i ON i.n = r.input_n;
	PERFORM demo_activity();
	RETURN QUERY SELECT (SELECT count(*) FROM demo_subject),
		(SELECT count(*) FROM demo_cert), (SELECT sum(d.labels) FROM demo_cert d),
		(SELECT count(*) FROM rapid_test), (SELECT count(*) FROM patrol),
		(SELECT count(*) FROM quarantine_certificate);
	DROP TABLE demo_cert;
END $$;

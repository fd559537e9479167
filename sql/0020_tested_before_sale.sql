-- Tested before sale (issue 10, part 4): "不合格不采收、不上市", and key-risk
-- varieties such as 豇豆 are tested before every sale (上市必检, 每天上市每天
-- 速测). A product may require a passing test of the producer and product
-- within its last test_required_days China days (1: tested the day of
-- sale) before a certificate is issued; issue_batch() refuses the others.
-- Producers record their own tests besides the stations' (kind): self tests
-- with a photo of the strip, commissioned tests with the lab's report number
-- and a photo of the report. An own test backs a certificate once its photo
-- is kept; the stations' tests alone count towards a township's quota.

-- Products: how many days a passing test stays good for sale, or NULL when
-- no test is required.
ALTER TABLE product ADD COLUMN test_required_days integer
	CHECK (test_required_days BETWEEN 1 AND 30);

CREATE OR REPLACE FUNCTION product_json(t product) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('id', t.id, 'name', t.name, 'category', t.category,
		'default_unit', t.default_unit, 'key_risk', t.key_risk,
		'test_required_days', t.test_required_days)
$$;

-- One line of `agricert import products` from a file that may carry a
-- test_required_days column (p_has_test_days): a file with the column sets
-- the setting (empty: no test required), a file without it (the older
-- layouts) leaves a known product's setting as it was. Otherwise as the
-- version of 0016.
CREATE FUNCTION cli_import_product(p_name text, p_category text, p_key_risk boolean,
	p_test_required_days integer, p_has_test_days boolean)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO product AS p (id, name, category, key_risk, default_unit, test_required_days)
	SELECT coalesce(max(id), 0) + 1, p_name, p_category, p_key_risk,
		CASE WHEN p_category = '畜禽' THEN 'head' ELSE 'kg' END, p_test_required_days
	FROM product
	ON CONFLICT (name) DO UPDATE SET category = EXCLUDED.category,
		key_risk = EXCLUDED.key_risk,
		test_required_days = CASE WHEN p_has_test_days THEN EXCLUDED.test_required_days
			ELSE p.test_required_days END
$$;

-- Who tested: a township's testing station (recorded by staff, as before),
-- the producer itself (self) or a lab it commissioned (commissioned). The
-- station column says where the test was done: the station's name, the
-- lab's name, or 自检; the tester is optional for the producer's own tests.
ALTER TABLE rapid_test
	ADD COLUMN kind text NOT NULL DEFAULT 'station'
		CHECK (kind IN ('station', 'self', 'commissioned')),
	ADD COLUMN report_number text CHECK (length(report_number) BETWEEN 1 AND 100),
	ALTER COLUMN tester DROP NOT NULL,
	ADD CONSTRAINT rapid_test_kind_fields CHECK (CASE kind
		WHEN 'station' THEN tester IS NOT NULL AND report_number IS NULL
		WHEN 'self' THEN method <> 'lab' AND report_number IS NULL AND serial IS NULL
		ELSE method = 'lab' AND report_number IS NOT NULL AND serial IS NULL END);

-- The photo of an own test's strip or report: a JPEG of at most 2 MB, kept
-- once (the service's role may neither replace nor delete it) with its
-- SHA-256, which the audit log records instead of the bytes.
CREATE TABLE rapid_test_photo (
	test_id bigint PRIMARY KEY REFERENCES rapid_test (id),
	jpeg bytea NOT NULL CHECK (octet_length(jpeg) BETWEEN 4 AND 2097152
		AND substring(jpeg FROM 1 FOR 3) = '\xffd8ff'::bytea),
	sha256 text NOT NULL GENERATED ALWAYS AS (encode(sha256(jpeg), 'hex')) STORED,
	uploaded_at timestamptz NOT NULL DEFAULT now()
);
REVOKE UPDATE, DELETE, TRUNCATE ON rapid_test_photo FROM agricert_app;
SELECT audit_attach('rapid_test_photo', 'test_id', 'create', 'update', 'delete', 'jpeg');

-- Whether t is a pass that backs a certificate: a station's test, or an own
-- test whose photo is kept.
CREATE FUNCTION rapid_test_backs(t rapid_test) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT t.result = 'pass' AND (t.kind = 'station'
		OR EXISTS (SELECT 1 FROM rapid_test_photo ph WHERE ph.test_id = t.id))
$$;

-- Whether p_subject may sell p_product at p_at: the product requires no
-- test, or a passing test that backs certificates was made within its last
-- test_required_days China days up to p_at (1: the same day).
CREATE FUNCTION tested_for_sale(p_subject integer, p_product integer, p_at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT pr.test_required_days IS NULL OR EXISTS (SELECT 1
			FROM rapid_test t WHERE t.subject_id = p_subject
			AND t.product_id = p_product AND rapid_test_backs(t)
			AND t.tested_at >= cst_day_start((p_at AT TIME ZONE 'Asia/Shanghai')::date
				- pr.test_required_days + 1))
		FROM product pr WHERE pr.id = p_product), true)
$$;

-- Lifts the block of p_test's producer and product when p_test is a pass
-- that backs certificates and came after the failed test: a self test lifts
-- only a block that a self test set; a station's or a lab's lifts any.
CREATE FUNCTION rapid_test_lift(p_test bigint) RETURNS void
LANGUAGE sql AS $$
	DELETE FROM rapid_block b USING rapid_test t, rapid_test f
	WHERE t.id = p_test AND rapid_test_backs(t) AND b.subject_id = t.subject_id
		AND b.product_id = t.product_id AND f.id = b.test_id AND f.id < t.id
		AND (t.kind <> 'self' OR f.kind = 'self')
$$;

-- As in 0008, a failed test of any kind blocks; a pass lifts the block
-- through rapid_test_lift(), and an own test's pass when its photo comes.
CREATE OR REPLACE FUNCTION rapid_test_effect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.result = 'fail' THEN
		INSERT INTO rapid_block (subject_id, product_id, test_id, since)
		VALUES (NEW.subject_id, NEW.product_id, NEW.id, NEW.tested_at)
		ON CONFLICT (subject_id, product_id) DO UPDATE
			SET test_id = EXCLUDED.test_id, since = EXCLUDED.since;
	ELSE
		PERFORM rapid_test_lift(NEW.id);
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION rapid_test_photo_effect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rapid_test_lift(NEW.test_id);
	RETURN NULL;
END $$;
CREATE TRIGGER rapid_test_photo_effect AFTER INSERT ON rapid_test_photo
	FOR EACH ROW EXECUTE FUNCTION rapid_test_photo_effect();

-- Records a producer's own test (handlers/rapid_tests.c checks the fields
-- of each kind; the table's constraints check them again).
CREATE FUNCTION record_own_test(p_subject integer, p_product integer, p_kind text,
	p_method text, p_items text, p_result text, p_tester text, p_lab text,
	p_report_number text, p_batch text)
RETURNS TABLE (id bigint)
LANGUAGE sql AS $$
	INSERT INTO rapid_test (subject_id, product_id, kind, method, items, result, station,
		tester, report_number, batch, recorded_by)
	VALUES (p_subject, p_product, p_kind,
		CASE WHEN p_kind = 'commissioned' THEN 'lab' ELSE p_method END, p_items, p_result,
		CASE WHEN p_kind = 'commissioned' THEN p_lab ELSE '自检' END, p_tester,
		p_report_number, p_batch, p_subject)
	RETURNING rapid_test.id
$$;

-- Keeps the photo (base64) of p_subject's own test p_test. Says whether the
-- test exists, whether it is p_subject's own, and the photo's SHA-256 (NULL
-- when the test has a photo already: nothing is replaced).
CREATE FUNCTION keep_test_photo(p_test bigint, p_subject integer, p_photo text)
RETURNS TABLE (found boolean, own boolean, sha256 text, bytes integer)
LANGUAGE sql AS $$
	WITH t AS (SELECT t.id, t.subject_id = p_subject AND t.kind <> 'station' AS own
		FROM rapid_test t WHERE t.id = p_test),
	ins AS (INSERT INTO rapid_test_photo (test_id, jpeg)
		SELECT t.id, decode(p_photo, 'base64') FROM t WHERE t.own
		ON CONFLICT (test_id) DO NOTHING
		RETURNING rapid_test_photo.sha256, octet_length(rapid_test_photo.jpeg) AS bytes)
	SELECT EXISTS (SELECT 1 FROM t), coalesce((SELECT t.own FROM t), false),
		(SELECT ins.sha256 FROM ins), (SELECT ins.bytes FROM ins)
$$;

-- Rapid tests, newest first, as one JSON document {"items", "total",
-- "limit", "offset"}: p_own's (a producer's own), or else those of
-- producers within the caller's jurisdiction; optionally of one subject and
-- one product. subject_covered is false when p_subject is outside.
CREATE FUNCTION rapid_tests_list(p_own integer, p_subject integer, p_product integer,
	p_limit integer, p_offset integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (subject_covered boolean, doc json)
LANGUAGE sql STABLE AS $$
	WITH sel AS (SELECT t.*, s.name AS subject_name, p.name AS product_name
		FROM rapid_test t
		JOIN subject s ON s.id = t.subject_id
		JOIN product p ON p.id = t.product_id
		WHERE (p_own IS NOT NULL AND t.subject_id = p_own
				OR p_own IS NULL AND s.region_code BETWEEN p_region_lo AND p_region_hi)
			AND (p_subject IS NULL OR t.subject_id = p_subject)
			AND (p_product IS NULL OR t.product_id = p_product)),
	page AS (SELECT * FROM sel ORDER BY sel.tested_at DESC, sel.id DESC
		LIMIT p_limit OFFSET p_offset)
	SELECT p_subject IS NULL OR p_own IS NOT NULL OR EXISTS (SELECT 1 FROM subject s
			WHERE s.id = p_subject AND s.region_code BETWEEN p_region_lo AND p_region_hi),
		json_build_object('items', coalesce((SELECT json_agg(json_strip_nulls(
				json_build_object('id', x.id, 'kind', x.kind, 'subject', x.subject_id,
				'subject_name', x.subject_name, 'product', x.product_name,
				'method', x.method, 'items', x.items, 'result', x.result,
				'station', CASE WHEN x.kind = 'station' THEN x.station END,
				'lab', CASE WHEN x.kind = 'commissioned' THEN x.station END,
				'report_number', x.report_number, 'tester', x.tester,
				'batch', x.batch, 'certificate', x.serial,
				'tested_at', cst_text(x.tested_at),
				'backs_certificates', rapid_test_backs(r),
				'photo', (SELECT json_build_object('sha256', ph.sha256,
						'bytes', octet_length(ph.jpeg),
						'uploaded_at', cst_text(ph.uploaded_at))
					FROM rapid_test_photo ph WHERE ph.test_id = x.id)))
				ORDER BY x.tested_at DESC, x.id DESC)
				FROM page x JOIN rapid_test r ON r.id = x.id), '[]'),
			'total', (SELECT count(*) FROM sel), 'limit', p_limit, 'offset', p_offset)
$$;

-- The group commit, as in 0017, and one more refusal: a product that must be
-- tested before sale (product.test_required_days) without a passing test of
-- the producer within the window (tested_for_sale()). Re-issues go through
-- reissue() and are not subject to it.
DROP FUNCTION issue_batch(bigint[], int[], int[], smallint[], smallint[], int[], bigint[],
	smallint[], text[], bigint[], text[], int[], text[], text[], text[], text[], bigint[],
	timestamptz);
CREATE FUNCTION issue_batch(p_serial bigint[], p_kid int[], p_issuer int[],
	p_style smallint[], p_basis smallint[], p_product int[], p_qty bigint[],
	p_unit smallint[], p_origin text[], p_origin_code bigint[], p_contact text[],
	p_labels int[], p_codes text[], p_idem text[], p_printer text[], p_fp text[],
	p_test bigint[], p_issued_at timestamptz)
RETURNS TABLE (serial bigint, print_job_id bigint, stored boolean, unblocked boolean,
	tested boolean, tested_for_sale boolean)
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
		((i.basis = 0 AND i.test_id IS NULL) OR EXISTS (SELECT 1 FROM rapid_test t
			WHERE t.id = i.test_id AND t.subject_id = i.issuer_id
			AND t.product_id = i.product_id AND rapid_test_backs(t))) AS tested,
		tested_for_sale(i.issuer_id, i.product_id, p_issued_at) AS for_sale
		FROM input i),
	ins AS (INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id,
			quantity_milli, unit, origin, origin_code, contact, labels, item_codes,
			idempotency_key, request_fp, test_id, issued_at)
		SELECT o.serial, o.kid, o.issuer_id, o.style, o.basis, o.product_id,
			o.quantity_milli, o.unit, o.origin, o.origin_code, o.contact, o.labels,
			string_to_array(o.codes, ','), o.idem, o.fp, o.test_id, p_issued_at
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

-- The township table, as in 0014, counting the stations' tests only: a
-- producer's own tests do not fill a township's quota.
CREATE OR REPLACE FUNCTION township_stats(p_from date, p_to date, p_region_lo bigint,
	p_region_hi bigint)
RETURNS TABLE (doc json, csv text)
LANGUAGE sql STABLE AS $$
	WITH p AS (SELECT cst_day_start(p_from) AS f, cst_day_start(p_to) AS u),
	producer AS (SELECT s.id, s.region_code / 1000 AS township FROM subject s
		WHERE s.kind IN ('enterprise', 'cooperative', 'family_farm', 'household')),
	rows AS (SELECT t.code, t.name,
			(SELECT count(*) FROM producer pr WHERE pr.township = t.code / 1000)
				AS producers,
			c.certificates, c.item_codes, c.household_certificates,
			(SELECT count(*) FROM producer pr WHERE pr.township = t.code / 1000
				AND (SELECT count(*) FROM certificate ci, p WHERE ci.issuer_id = pr.id
					AND ci.issued_at >= p.f AND ci.issued_at < p.u) < 20)
				AS producers_under_20,
			(SELECT count(*) FROM rapid_test r JOIN subject s ON s.id = r.subject_id, p
				WHERE s.region_code / 1000 = t.code / 1000 AND r.kind = 'station'
				AND r.tested_at >= p.f AND r.tested_at < p.u) AS rapid_tests,
			(SELECT q.total FROM rapid_test_quota q WHERE q.region_code = t.code
				AND q.year = extract(year FROM p_from)) AS rapid_test_quota
		FROM region t
		CROSS JOIN LATERAL (SELECT count(*) AS certificates,
				coalesce(sum(c.labels), 0) AS item_codes,
				count(*) FILTER (WHERE s.kind = 'household') AS household_certificates
			FROM certificate c JOIN subject s ON s.id = c.issuer_id, p
			WHERE s.region_code / 1000 = t.code / 1000
				AND c.issued_at >= p.f AND c.issued_at < p.u) c
		WHERE t.level = 4 AND t.code BETWEEN p_region_lo AND p_region_hi)
	SELECT json_build_object('from', p_from, 'to', p_to,
			'townships', coalesce(json_agg(json_build_object(
				'code', lpad(code::text, 12, '0'), 'name', name,
				'producers', producers, 'certificates', certificates,
				'item_codes', item_codes,
				'household_certificates', household_certificates,
				'producers_under_20', producers_under_20, 'rapid_tests', rapid_tests,
				'rapid_test_quota', rapid_test_quota) ORDER BY code), '[]'::json),
			'totals', json_build_object('producers', coalesce(sum(producers), 0),
				'certificates', coalesce(sum(certificates), 0),
				'item_codes', coalesce(sum(item_codes), 0),
				'rapid_tests', coalesce(sum(rapid_tests), 0))),
		-- concat_ws skips NULLs: a township with no quota still gets its column.
		'乡镇代码,乡镇,生产主体数,开具合格证数,赋码数,农户开具数,年开具不足20批的主体数,'
			|| '快检数,快检任务数' || E'\n'
			|| coalesce(string_agg(concat_ws(',', lpad(code::text, 12, '0'), name,
				producers, certificates, item_codes, household_certificates,
				producers_under_20, rapid_tests, coalesce(rapid_test_quota::text, '')),
				E'\n' ORDER BY code), '') || E'\n'
	FROM rows
$$;

-- The statements of rapid tests, market inspections and the township
-- statistics (handlers/rapid_tests.c, inspections.c, stats.c), moved out of
-- C string literals. The C code calls them with named arguments. A caller's
-- jurisdiction is a range of region codes (base/ac_perm.c, ac_perm_range):
-- p_region_lo to p_region_hi, inclusive.

-- Whether p_at falls in a list's period: p_from to p_to (dates, p_to
-- excluded), by default the last 30 days.
-- Days are China's: a date starts at midnight China Standard Time, whatever
-- the session's time zone.
CREATE FUNCTION cst_day_start(p_day date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_day::timestamp AT TIME ZONE 'Asia/Shanghai'
$$;

CREATE FUNCTION cst_today() RETURNS date
LANGUAGE sql STABLE AS $$
	SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date
$$;

CREATE FUNCTION in_list_period(p_at timestamptz, p_from date, p_to date) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_at >= cst_day_start(coalesce(p_from, cst_today() - 30))
		AND p_at < cst_day_start(coalesce(p_to, cst_today() + 1))
$$;

-- A time as the API writes it, in China Standard Time.
CREATE FUNCTION cst_text(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(p_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
$$;

-- Records a rapid test of a producer within the caller's jurisdiction. Says
-- whether the producer exists, the test's id (NULL when the producer is
-- outside the jurisdiction: nothing is stored) and how many certificates
-- the test condemns should it fail: the one sampled, or the producer's
-- valid certificates of that product from the last 7 days.
CREATE FUNCTION record_rapid_test(p_subject integer, p_product integer, p_serial bigint,
	p_method text, p_items text, p_result text, p_station text, p_tester text,
	p_batch text, p_recorded_by integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (subject_found boolean, id bigint, batch_certificates bigint)
LANGUAGE sql AS $$
	WITH s AS (SELECT sj.id, sj.region_code FROM subject sj WHERE sj.id = p_subject),
	ins AS (INSERT INTO rapid_test (subject_id, product_id, serial, method, items, result,
			station, tester, recorded_by, batch)
		SELECT s.id, p_product, p_serial, p_method, p_items, p_result, p_station,
			p_tester, p_recorded_by, p_batch
		FROM s WHERE s.region_code BETWEEN p_region_lo AND p_region_hi
		RETURNING rapid_test.id)
	SELECT EXISTS (SELECT 1 FROM s), (SELECT ins.id FROM ins),
		CASE WHEN p_serial IS NOT NULL THEN 1 ELSE (SELECT count(*) FROM certificate c
			WHERE c.issuer_id = p_subject AND c.product_id = p_product
			AND c.issued_at >= now() - interval '7 days' AND c.revoked_at IS NULL) END
$$;

-- Revokes the batch a failed rapid test condemns (rapid_test_batch(), the
-- p_days before the test) and, with p_cascade, everything made from it
-- (chain_down()). Only a failed test of a producer within the caller's
-- jurisdiction revokes anything. Says whether the test exists, its result,
-- whether the caller covers it, the batch's size, the batch's certificates
-- revoked now (a JSON array of serials, and how many) and how many were
-- revoked downstream. The reason defaults to the test's findings; those
-- downstream add that their upstream certificate was revoked.
CREATE FUNCTION revoke_test_batch(p_test bigint, p_days integer, p_cascade boolean,
	p_reason text, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (found boolean, result text, covered boolean, batch bigint, revoked json,
	revoked_count bigint, cascaded bigint)
LANGUAGE sql AS $$
	WITH t AS (SELECT t.id, t.result, s.region_code,
			coalesce(p_reason, format('快检不合格：%s（快检记录 %s，%s）', t.items, t.id,
				t.station)) AS why
		FROM rapid_test t JOIN subject s ON s.id = t.subject_id WHERE t.id = p_test),
	ok AS (SELECT * FROM t WHERE t.result = 'fail'
		AND t.region_code BETWEEN p_region_lo AND p_region_hi),
	roots AS (SELECT b AS serial FROM ok, rapid_test_batch(ok.id, p_days) AS b),
	down AS (SELECT DISTINCT d.serial FROM chain_down(ARRAY(SELECT serial FROM roots),
		CASE WHEN p_cascade THEN 64 ELSE 0 END) d),
	upd AS (UPDATE certificate c SET revoked_at = now(),
			revoke_reason = CASE WHEN c.serial IN (SELECT serial FROM roots) THEN ok.why
				ELSE ok.why || '（上游合格证已撤销）' END
		FROM down d, ok
		WHERE c.serial = d.serial AND c.revoked_at IS NULL
		RETURNING c.serial, c.serial IN (SELECT serial FROM roots) AS root)
	SELECT EXISTS (SELECT 1 FROM t), (SELECT t.result FROM t), EXISTS (SELECT 1 FROM ok),
		(SELECT count(*) FROM roots),
		(SELECT coalesce(json_agg(upd.serial ORDER BY upd.serial), '[]') FROM upd
			WHERE upd.root),
		(SELECT count(*) FROM upd WHERE upd.root),
		(SELECT count(*) FROM upd WHERE NOT upd.root)
$$;

-- Records a market check of the market p_market, when the caller's
-- jurisdiction covers it. The codes whose signature was found genuine come
-- as arrays, p_idx[k] being their index in the check: for each, whether the
-- certificate exists, is revoked, issued that code (NULL: no such item),
-- its product and issuer, and why the code looks copied. The check counts
-- p_problems found before (unreadable or forged codes) plus the problems
-- found here. One row per genuine code, or a single row with idx NULL;
-- id is NULL when nothing was stored (market_found says why).
CREATE FUNCTION record_inspection(p_market integer, p_inspector integer, p_seller text,
	p_seller_subject integer, p_notes text, p_serial bigint[], p_item integer[],
	p_payload text[], p_idx integer[], p_codes integer, p_problems integer,
	p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (id bigint, market_found boolean, idx integer, known boolean, revoked boolean,
	issued boolean, product text, issuer text, suspicion text)
LANGUAGE sql AS $$
	WITH m AS (SELECT mk.id, mk.region_code BETWEEN p_region_lo AND p_region_hi AS covered
		FROM market mk WHERE mk.id = p_market),
	checked AS (SELECT i.idx, c.serial IS NOT NULL AS known,
			c.revoked_at IS NOT NULL AS revoked, c.item_codes[i.item] = i.payload AS issued,
			p.name AS product, s.name AS issuer,
			(SELECT string_agg(cs.detail, '；' ORDER BY cs.reason) FROM clone_suspicion cs
				WHERE cs.serial = i.serial AND cs.item = i.item) AS suspicion
		FROM unnest(p_serial, p_item, p_payload, p_idx) AS i(serial, item, payload, idx)
		LEFT JOIN certificate c ON c.serial = i.serial
		LEFT JOIN product p ON p.id = c.product_id
		LEFT JOIN subject s ON s.id = c.issuer_id),
	ins AS (INSERT INTO inspection (market_id, inspector_id, seller, seller_id, notes, codes,
			problems)
		SELECT m.id, p_inspector, p_seller,
			(SELECT sj.id FROM subject sj WHERE sj.id = p_seller_subject), p_notes, p_codes,
			p_problems + (SELECT count(*) FROM checked ch WHERE NOT (ch.known
				AND NOT ch.revoked AND coalesce(ch.issued, false))
				OR ch.suspicion IS NOT NULL)
		FROM m WHERE m.covered
		RETURNING inspection.id)
	SELECT (SELECT ins.id FROM ins), EXISTS (SELECT 1 FROM m), ch.idx, ch.known, ch.revoked,
		ch.issued, ch.product, ch.issuer, ch.suspicion
	FROM (SELECT 1) one LEFT JOIN checked ch ON true
	ORDER BY ch.idx
$$;

-- Records produce found on sale without a certificate at p_market, when the
-- caller's jurisdiction covers it. id is NULL when nothing was stored
-- (market_found says why).
CREATE FUNCTION record_unlicensed_report(p_market integer, p_product integer, p_seller text,
	p_seller_subject integer, p_quantity_milli bigint, p_unit smallint, p_notes text,
	p_reporter integer, p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (market_found boolean, id bigint)
LANGUAGE sql AS $$
	WITH m AS (SELECT mk.id, mk.region_code FROM market mk WHERE mk.id = p_market),
	ins AS (INSERT INTO unlicensed_report (market_id, product_id, seller, seller_id,
			quantity_milli, unit, notes, reported_by)
		SELECT m.id, p_product, p_seller,
			(SELECT sj.id FROM subject sj WHERE sj.id = p_seller_subject),
			p_quantity_milli, p_unit, p_notes, p_reporter
		FROM m WHERE m.region_code BETWEEN p_region_lo AND p_region_hi
		RETURNING unlicensed_report.id)
	SELECT EXISTS (SELECT 1 FROM m), (SELECT ins.id FROM ins)
$$;

-- The lists (GET), each one JSON document of at most 500 entries, newest
-- first, of the period (in_list_period), within the caller's jurisdiction
-- and, with p_market, of one market.

-- Market checks, each with what it found (the scans that were not valid).
CREATE FUNCTION inspections_list(p_from date, p_to date, p_market integer,
	p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('inspections', coalesce(json_agg(x ORDER BY x.id DESC), '[]'))
	FROM (SELECT i.id, i.market_id AS market, m.name AS market_name, s.name AS inspector,
			i.seller, i.seller_id AS seller_subject, i.codes, i.problems, i.notes,
			cst_text(i.inspected_at) AS inspected_at,
			(SELECT coalesce(json_agg(json_build_object('certificate', l.serial,
				'item', l.item, 'status', l.verdict) ORDER BY l.id), '[]')
				FROM scan_log l WHERE l.inspection_id = i.id AND l.verdict <> 'valid')
				AS findings
		FROM inspection i
		JOIN market m ON m.id = i.market_id
		JOIN subject s ON s.id = i.inspector_id
		WHERE in_list_period(i.inspected_at, p_from, p_to)
			AND m.region_code BETWEEN p_region_lo AND p_region_hi
			AND (p_market IS NULL OR m.id = p_market)
		ORDER BY i.id DESC LIMIT 500) x
$$;

-- Reports of unlicensed produce; the unit names are those of the code
-- format (proto/CODE.md), by id.
CREATE FUNCTION unlicensed_reports_list(p_from date, p_to date, p_market integer,
	p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('reports', coalesce(json_agg(x ORDER BY x.id DESC), '[]'))
	FROM (SELECT u.id, u.market_id AS market, m.name AS market_name, p.name AS product,
			u.seller, u.seller_id AS seller_subject, u.quantity_milli / 1000.0 AS quantity,
			(ARRAY['kg', 'g', 't', 'jin', 'piece', 'head', 'box', 'bag', 'bundle',
				'only'])[u.unit] AS unit,
			u.notes, s.name AS reported_by, cst_text(u.reported_at) AS reported_at
		FROM unlicensed_report u
		JOIN market m ON m.id = u.market_id
		JOIN product p ON p.id = u.product_id
		JOIN subject s ON s.id = u.reported_by
		WHERE in_list_period(u.reported_at, p_from, p_to)
			AND m.region_code BETWEEN p_region_lo AND p_region_hi
			AND (p_market IS NULL OR m.id = p_market)
		ORDER BY u.id DESC LIMIT 500) x
$$;

-- Item codes that look copied, judged by the issuer's region, with the
-- markets they were seen at; p_market: those seen at that market.
CREATE FUNCTION clone_suspicions_list(p_from date, p_to date, p_market integer,
	p_region_lo bigint, p_region_hi bigint)
RETURNS TABLE (doc json)
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('suspicions', coalesce(json_agg(x ORDER BY x.flagged_at DESC),
		'[]'))
	FROM (SELECT cs.serial AS certificate, lpad(cs.serial::text, 12, '0') AS number, cs.item,
			cs.reason, cs.detail, cs.scans, p.name AS product, s.name AS issuer,
			s.id AS issuer_id, s.region_code AS issuer_region,
			c.revoked_at IS NOT NULL AS revoked, cst_text(cs.flagged_at) AS flagged_at,
			(SELECT coalesce(json_agg(DISTINCT mk.name), '[]') FROM scan_log l
				JOIN market mk ON mk.id = l.market_id
				WHERE l.serial = cs.serial AND l.item = cs.item) AS markets
		FROM clone_suspicion cs
		JOIN certificate c ON c.serial = cs.serial
		JOIN subject s ON s.id = c.issuer_id
		JOIN product p ON p.id = c.product_id
		WHERE in_list_period(cs.updated_at, p_from, p_to)
			AND s.region_code BETWEEN p_region_lo AND p_region_hi
			AND (p_market IS NULL OR EXISTS (SELECT 1 FROM scan_log l
				WHERE l.serial = cs.serial AND l.item = cs.item
				AND l.market_id = p_market))
		ORDER BY cs.flagged_at DESC LIMIT 500) x
$$;

-- The table county offices report (Anxi plan, annexes 3 and 4), per
-- township of the caller's jurisdiction, for p_from to p_to (p_to
-- excluded): producers, certificates, item codes, certificates by
-- households, producers under 20 certificates in the period, rapid tests
-- against the year's quota; as JSON with totals, and as CSV.
CREATE FUNCTION township_stats(p_from date, p_to date, p_region_lo bigint, p_region_hi bigint)
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
				WHERE s.region_code / 1000 = t.code / 1000
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

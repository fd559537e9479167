-- The supply chain for tests/bench/trace, generated set-based as the
-- database owner (seconds, where issuing it over HTTP would take minutes).
--
--   psql -v base=SERIAL -v kid=KID -v producer=ID -v product=ID \
--        -v purchasers='{ID,...}' -v sizes='{1,N1,...,NS}' -f trace-chain.sql
--
-- Level 0 is one certificate (style 1) issued by the producer; level d
-- (1..S) holds sizes[d+1] re-issued certificates (style 2) issued by
-- purchasers[d]. Certificate i of level d draws from certificate
-- i * n(d-1) / n(d) of level d-1, so every parent has the floor or the ceiling
-- of the level ratio as children: a tree, as splitting (分装) makes it. Each
-- parent has one label per child; the child's purchaser collected that item
-- (receipt) and draws exactly what it received (certificate_input), so mass
-- balance holds. Leaves have one label and are not collected. Serials run
-- from base in level order, so the root is base and the last serial is a
-- deepest leaf. Item codes are fake 151-character payloads: nothing verifies
-- them here.
--
-- The audit triggers stay on: they are statement-level (sql/0003_audit.sql),
-- so the load costs a few audit entries, not one per row.
\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE lvl ON COMMIT DROP AS
SELECT (o - 1)::int AS depth, n::bigint AS n, (sum(n) OVER (ORDER BY o) - n)::bigint AS first
FROM unnest(:'sizes'::int[]) WITH ORDINALITY AS t(n, o);

CREATE TEMP TABLE node ON COMMIT DROP AS
SELECT l.depth, :base::bigint + l.first + i AS serial,
	CASE WHEN l.depth > 0 THEN :base::bigint + p.first + i * p.n / l.n END AS parent
FROM lvl l LEFT JOIN lvl p ON p.depth = l.depth - 1
	CROSS JOIN LATERAL generate_series(0::bigint, l.n - 1) AS i;

-- item: which of the parent's labels this child's purchaser collected.
CREATE TEMP TABLE edge ON COMMIT DROP AS
SELECT serial, parent, depth, row_number() OVER (PARTITION BY parent ORDER BY serial) AS item,
	count(*) OVER (PARTITION BY parent) AS siblings
FROM node WHERE parent IS NOT NULL;

-- 100 t at the farm, split evenly (rounded down) at every step.
CREATE TEMP TABLE qty ON COMMIT DROP AS
WITH RECURSIVE q(serial, qty) AS (
	SELECT serial, 100000000::bigint FROM node WHERE depth = 0
	UNION ALL
	SELECT e.serial, q.qty / e.siblings FROM q JOIN edge e ON e.parent = q.serial)
SELECT * FROM q;

INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id, quantity_milli, unit,
	origin, origin_code, contact, issued_at, labels, item_codes)
SELECT n.serial, :kid, s.id, CASE WHEN n.depth = 0 THEN 1 ELSE 2 END, 0, :product, q.qty, 1,
	CASE WHEN n.depth = 0 THEN '福建省安溪县凤城镇' ELSE '福建省安溪县' END,
	CASE WHEN n.depth = 0 THEN 350524103201 ELSE s.region_code END, s.contact,
	now() - make_interval(hours => (SELECT max(depth) FROM lvl) - n.depth), k.labels,
	ARRAY(SELECT substr(repeat(upper(md5(n.serial || '/' || x)), 5), 1, 151)
		FROM generate_series(1, k.labels) AS x)
FROM node n
JOIN qty q ON q.serial = n.serial
JOIN subject s ON s.id = CASE WHEN n.depth = 0 THEN :producer
	ELSE (:'purchasers'::int[])[n.depth] END
LEFT JOIN (SELECT parent, count(*)::int AS kids FROM edge GROUP BY parent) c
	ON c.parent = n.serial
CROSS JOIN LATERAL (SELECT coalesce(c.kids, 1) AS labels) k
ORDER BY n.serial;

INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit)
SELECT (:'purchasers'::int[])[e.depth], e.parent, e.item, q.qty, 1
FROM edge e JOIN qty q ON q.serial = e.serial ORDER BY e.parent, e.item;

INSERT INTO certificate_input (serial, input_serial, quantity_milli, unit)
SELECT e.serial, e.parent, q.qty, 1 FROM edge e JOIN qty q ON q.serial = e.serial
ORDER BY e.serial;

-- Keep the service's serial blocks clear of the generated range.
SELECT setval('certificate_serial_block',
	greatest((SELECT max(serial) FROM node) / 4096 + 1,
		 (SELECT last_value FROM certificate_serial_block)));
COMMIT;

-- Vacuumed too, as a live database would be, so that autovacuum does not
-- wake up during the timings and the first reads do not set hint bits.
VACUUM (ANALYZE) certificate, certificate_input, receipt, subject, product, audit_log;

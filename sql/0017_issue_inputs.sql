-- Input errors stay with their request (issue 10): a certificate that names
-- a rapid test names a passing test of its issuer and product, whatever its
-- basis. Before, with the quality-control basis a test id went in unchecked,
-- and one that did not exist broke the foreign key of the whole group-commit
-- statement, failing every other producer's certificate in that batch. The
-- issuer (daemon/ac_issuer.c) also sends a refused batch again job by job.
CREATE OR REPLACE FUNCTION issue_batch(p_serial bigint[], p_kid int[], p_issuer int[],
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
		((i.basis = 0 AND i.test_id IS NULL) OR EXISTS (SELECT 1 FROM rapid_test t
			WHERE t.id = i.test_id AND t.subject_id = i.issuer_id
			AND t.product_id = i.product_id AND t.result = 'pass')) AS tested
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

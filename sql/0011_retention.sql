-- Retention of collected records (收取记录). The law requires a purchaser to
-- keep the certificates it collected at least 6 months; agricert keeps them
-- retention_months (default 24, never less than 6: the configuration refuses
-- a smaller value) and `agricert purge receipts` deletes older ones, as the
-- schema owner.
--
-- This migration puts the legal minimum into the database itself, so that no
-- code path, script or hand-typed statement can go below it:
--
-- * A BEFORE DELETE row trigger refuses deleting any receipt received less
--   than 6 months ago, whoever asks (the owner and superusers included),
--   with SQLSTATE AC002. Updates are not blocked.
-- * A BEFORE TRUNCATE trigger does the same for TRUNCATE (which skips row
--   triggers), including a TRUNCATE ... CASCADE from certificate.
-- * The service's role agricert_app may not DELETE or TRUNCATE receipts at
--   all (0003 granted it DELETE on every table, present and future): the
--   service never deletes a receipt; only the owner purges.
--
-- Like the audit log's append-only triggers, this guards against mistakes and
-- the service's role, not against a superuser who disables the trigger first.
-- Deleting receipts leaves the chain intact: certificate_input references
-- certificates, not receipts, so trace upstream still works after a purge;
-- the audit triggers of 0007 log each purge as one receipt.delete entry.

CREATE FUNCTION receipt_retention_floor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
	v_id bigint;
	v_at timestamptz;
BEGIN
	IF TG_OP = 'DELETE' THEN
		v_id := OLD.id;
		v_at := OLD.received_at;
	ELSE
		SELECT r.id, r.received_at INTO v_id, v_at FROM receipt r
		WHERE r.received_at >= now() - interval '6 months'
		ORDER BY r.received_at LIMIT 1;
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

CREATE TRIGGER receipt_retention_floor BEFORE DELETE ON receipt
	FOR EACH ROW EXECUTE FUNCTION receipt_retention_floor();
CREATE TRIGGER receipt_retention_no_truncate BEFORE TRUNCATE ON receipt
	FOR EACH STATEMENT EXECUTE FUNCTION receipt_retention_floor();

REVOKE DELETE, TRUNCATE ON receipt FROM agricert_app;

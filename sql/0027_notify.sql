-- What other instances of agricertd must hear at once (db/ac_listen.h):
-- every instance caches bearer tokens (http/ac_auth.h) and the certificates
-- it has been asked to scan (daemon/ac_lookup.h), and drops an entry when
-- one of these notifications names it. The notifications are sent by the
-- statements that make the change, whoever runs them (the service, the CLI,
-- psql), and reach listeners when the transaction commits.
--
--   agricert_token        hex SHA-256 of a token revoked, expired early or deleted
--   agricert_subject      id of a subject changed (name, status, grade, region)
--   agricert_product      id of a product changed (its name is on scan answers)
--   agricert_certificate  serial of a certificate revoked or deleted
--   agricert_clone        "serial item" of an item code newly suspected of being
--                         copied, or whose suspicion changed or was removed

CREATE FUNCTION notify_token_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('agricert_token', encode(OLD.token_hash, 'hex'));
	RETURN NULL;
END $$;

CREATE TRIGGER api_token_ended AFTER UPDATE OF revoked_at, expires_at ON api_token
	FOR EACH ROW WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
		OR NEW.expires_at IS DISTINCT FROM OLD.expires_at)
	EXECUTE FUNCTION notify_token_ended();
CREATE TRIGGER api_token_deleted AFTER DELETE ON api_token
	FOR EACH ROW EXECUTE FUNCTION notify_token_ended();

-- A row of subject, product or certificate changed: its key (the trigger's
-- second argument names the column) on the channel of the first.
CREATE FUNCTION notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify(TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[1]);
	RETURN NULL;
END $$;

CREATE TRIGGER subject_changed AFTER UPDATE OR DELETE ON subject
	FOR EACH ROW EXECUTE FUNCTION notify_changed('agricert_subject', 'id');
CREATE TRIGGER product_changed AFTER UPDATE OR DELETE ON product
	FOR EACH ROW EXECUTE FUNCTION notify_changed('agricert_product', 'id');
CREATE TRIGGER certificate_revoked AFTER UPDATE OF revoked_at, revoke_reason ON certificate
	FOR EACH ROW WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
		OR NEW.revoke_reason IS DISTINCT FROM OLD.revoke_reason)
	EXECUTE FUNCTION notify_changed('agricert_certificate', 'serial');
CREATE TRIGGER certificate_deleted AFTER DELETE ON certificate
	FOR EACH ROW EXECUTE FUNCTION notify_changed('agricert_certificate', 'serial');

-- A too_many_scans suspicion is rewritten by every batch that scans its
-- code again (only its count changes): that is not worth a notification.
CREATE FUNCTION notify_clone_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('agricert_clone', OLD.serial || ' ' || OLD.item);
	ELSIF TG_OP = 'INSERT' OR NEW.reason = 'far_apart' AND NEW.detail IS DISTINCT FROM OLD.detail
	THEN
		PERFORM pg_notify('agricert_clone', NEW.serial || ' ' || NEW.item);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER clone_suspicion_changed AFTER INSERT OR UPDATE OR DELETE ON clone_suspicion
	FOR EACH ROW EXECUTE FUNCTION notify_clone_changed();

-- Accounts (0005) came after the audit log (0003): attach them too. The
-- secret hash is left out of the log. Logins appear as api_token.create,
-- failed attempts and lockouts as account.update.
SELECT audit_attach('account', 'id', 'create', 'update', 'delete', 'secret_hash');

/*
 * agricert audit verify / log, and audit entries for key changes. See
 * ac_cli_audit.h and sql/AUDIT.md.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_cli_audit.h"
#include "ac_dbsync.h"

/*
 * The canonical text of an entry (sql/AUDIT.md), inlined here so that a
 * changed audit_canonical() in the database cannot make a changed entry look
 * intact: each field as a netstring "<octets>:<text>," or "~," for NULL.
 */
/* clang-format off */
static const char verify_sql[] =
    "SELECT id, encode(prev_hash, 'hex'), encode(hash, 'hex'), encode(sha256(prev_hash || convert_to("
    "CASE WHEN id IS NULL THEN '~,' ELSE octet_length(id::text) || ':' || id::text || ',' END || "
    "CASE WHEN at IS NULL THEN '~,' ELSE "
    "octet_length(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')) || ':' || "
    "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || ',' END || "
    "CASE WHEN actor IS NULL THEN '~,' ELSE octet_length(actor) || ':' || actor || ',' END || "
    "CASE WHEN action IS NULL THEN '~,' ELSE octet_length(action) || ':' || action || ',' END || "
    "CASE WHEN object IS NULL THEN '~,' ELSE octet_length(object) || ':' || object || ',' END || "
    "CASE WHEN before IS NULL THEN '~,' ELSE "
    "octet_length(before::text) || ':' || before::text || ',' END || "
    "CASE WHEN after IS NULL THEN '~,' ELSE "
    "octet_length(after::text) || ':' || after::text || ',' END, "
    "'UTF8')), 'hex') "
    "FROM audit_log WHERE id > $1::bigint AND id <= $2::bigint ORDER BY id LIMIT $3::int";
/* clang-format on */

/* The hash the first entry follows: 32 zero bytes. */
static const char genesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

static int report(FILE *out, long long id, const char *what)
{
	fprintf(out, "audit log broken at entry %lld: %s\n", id, what);
	return 1;
}

/*
 * Entry id does not follow the entry before it. Says which entry it follows,
 * if any: that tells reordering from insertion. Only runs once, on failure.
 */
static int report_link(ac_dbsync *db, FILE *out, long long id, const char *prev_hex)
{
	const char *v[1] = { prev_hex };
	ac_db_result *res = NULL;
	char what[256];
	char err[512];

	if (ac_dbsync_exec(db,
			   "SELECT id FROM audit_log WHERE hash = decode($1, 'hex') ORDER BY id "
			   "LIMIT 1",
			   1, v, &res, err, sizeof(err)) == 0 &&
	    ac_db_rows(res) == 1 && strtoll(ac_db_get(res, 0, 0), NULL, 10) != id - 1)
		snprintf(what, sizeof(what),
			 "out of order: it follows entry %s, not entry %lld (entries reordered)",
			 ac_db_get(res, 0, 0), id - 1);
	else if (strcmp(prev_hex, genesis) == 0 && id != 1)
		snprintf(what, sizeof(what),
			 "it claims to be the first entry (entries before it deleted or replaced)");
	else
		snprintf(what, sizeof(what),
			 "its prev_hash is not the hash of entry %lld (an entry before it was "
			 "changed, deleted or inserted)",
			 id - 1);
	ac_db_result_free(res);
	return report(out, id, what);
}

int ac_cli_audit_verify(const char *conninfo, FILE *out)
{
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char prev[65];
	char err[512];
	char last_s[24];
	char head_s[24];
	char chunk_s[16];
	const char *v[3] = { last_s, head_s, chunk_s };
	char head_hash[65];
	long long head_id;
	long long last = 0;
	int rc = 2;

	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return 2;
	}
	/*
	 * The head first: rows up to it are committed (the head moves in the
	 * same transaction as the row it points to), later ones are not
	 * checked now.
	 */
	if (ac_dbsync_exec(db, "SELECT last_id, encode(hash, 'hex') FROM audit_head", 0, NULL, &res,
			   err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the audit log head: %s\n", err);
		goto out;
	}
	if (ac_db_rows(res) != 1 || ac_db_get(res, 0, 0) == NULL || ac_db_get(res, 0, 1) == NULL ||
	    strlen(ac_db_get(res, 0, 1)) != 64) {
		rc = report(out, 0, "audit_head does not hold exactly one valid row");
		goto out;
	}
	head_id = strtoll(ac_db_get(res, 0, 0), NULL, 10);
	memcpy(head_hash, ac_db_get(res, 0, 1), 65);
	ac_db_result_free(res);
	res = NULL;

	memcpy(prev, genesis, sizeof(prev));
	snprintf(head_s, sizeof(head_s), "%lld", head_id);
	snprintf(chunk_s, sizeof(chunk_s), "%d", AC_AUDIT_CHUNK);
	while (last < head_id) {
		int n;

		snprintf(last_s, sizeof(last_s), "%lld", last);
		if (ac_dbsync_exec(db, verify_sql, 3, v, &res, err, sizeof(err)) != 0) {
			fprintf(stderr, "agricert: could not read the audit log: %s\n", err);
			goto out;
		}
		n = ac_db_rows(res);
		if (n == 0) {
			char what[160];

			snprintf(what, sizeof(what),
				 "missing: the log ends at entry %lld but its head is entry %lld "
				 "(entries deleted from the end)",
				 last, head_id);
			rc = report(out, last + 1, what);
			goto out;
		}
		for (int i = 0; i < n; i++) {
			long long id = strtoll(ac_db_get(res, i, 0), NULL, 10);
			const char *prev_hash = ac_db_get(res, i, 1);
			const char *hash = ac_db_get(res, i, 2);
			const char *computed = ac_db_get(res, i, 3);

			if (prev_hash == NULL || hash == NULL) {
				rc = report(out, id, "changed: its hash or prev_hash is missing");
				goto out;
			}
			if (id != last + 1) {
				char what[160];

				snprintf(what, sizeof(what),
					 "missing: the log jumps from entry %lld to entry %lld "
					 "(entries deleted)",
					 last, id);
				rc = report(out, last + 1, what);
				goto out;
			}
			if (strcmp(prev_hash, prev) != 0) {
				rc = report_link(db, out, id, prev_hash);
				goto out;
			}
			if (computed == NULL || strcmp(computed, hash) != 0) {
				rc =
				    report(out, id, "changed: its content does not match its hash");
				goto out;
			}
			memcpy(prev, hash, sizeof(prev));
			last = id;
		}
		ac_db_result_free(res);
		res = NULL;
	}
	if (strcmp(prev, head_hash) != 0) {
		rc = report(out, head_id, "the head's hash is not this entry's hash");
		goto out;
	}
	fprintf(out, "audit log intact: %lld entries, head %s\n", head_id, head_hash);
	rc = 0;
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}

/* Writes s, cut at max bytes on a UTF-8 character boundary. */
static void put_cut(FILE *out, const char *s, size_t max)
{
	size_t len = strlen(s);
	size_t n = len;

	if (len > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	fwrite(s, 1, n, out);
	if (n < len)
		fprintf(out, "... (%zu bytes more)", len - n);
}

int ac_cli_audit_show(const char *conninfo, int limit, FILE *out)
{
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char limit_s[16];
	const char *v[1] = { limit_s };
	char err[512];
	int rc = 1;

	if (limit < 1)
		limit = 1;
	if (limit > AC_AUDIT_SHOW_MAX)
		limit = AC_AUDIT_SHOW_MAX;
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return 1;
	}
	if (ac_dbsync_exec(db,
			   "SELECT id, to_char(at AT TIME ZONE 'UTC', "
			   "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, action, object, "
			   "before::text, after::text FROM (SELECT * FROM audit_log ORDER BY id "
			   "DESC LIMIT $1::int) s ORDER BY id",
			   1, v, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the audit log: %s\n", err);
		goto out;
	}
	for (int i = 0; i < ac_db_rows(res); i++) {
		fprintf(out, "#%s %s %s %s ", ac_db_get(res, i, 0), ac_db_get(res, i, 1),
			ac_db_get(res, i, 2), ac_db_get(res, i, 3));
		put_cut(out, ac_db_get(res, i, 4), 400);
		fputc('\n', out);
		for (int col = 5; col <= 6; col++) {
			if (ac_db_get(res, i, col) == NULL)
				continue;
			fputs(col == 5 ? "    before " : "    after  ", out);
			put_cut(out, ac_db_get(res, i, col), 400);
			fputc('\n', out);
		}
	}
	rc = 0;
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}

int ac_cli_audit_append(const char *conninfo, const char *action, const char *object,
			const char *before, const char *after)
{
	struct passwd *pw = getpwuid(geteuid());
	ac_dbsync *db = NULL;
	char actor[160];
	const char *v[5];
	char err[512];
	int rc = 1;

	if (pw != NULL)
		snprintf(actor, sizeof(actor), "cli:%s", pw->pw_name);
	else
		snprintf(actor, sizeof(actor), "cli:uid %u", (unsigned)geteuid());
	v[0] = actor;
	v[1] = action;
	v[2] = object;
	v[3] = before;
	v[4] = after;
	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not write the audit entry for %s %s: %s\n", action,
			object, err);
		return 1;
	}
	if (ac_dbsync_exec(db, "SELECT audit_append($1, $2, $3, $4::jsonb, $5::jsonb)", 5, v, NULL,
			   err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not write the audit entry for %s %s: %s\n", action,
			object, err);
		goto out;
	}
	rc = 0;
out:
	ac_dbsync_close(db);
	return rc;
}

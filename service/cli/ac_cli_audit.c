/*
 * agricert audit verify / log, and audit entries for key changes. See
 * ac_cli_audit.h and sql/AUDIT.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_cli.h"
#include "ac_cli_audit.h"

/*
 * The canonical text of an entry (sql/AUDIT.md), inlined here so that a
 * changed audit_canonical() in the database cannot make a changed entry look
 * intact: each field as a netstring "<octets>:<text>," or "~," for NULL.
 */
/* clang-format off */
static const char verify_sql[] =
    "SELECT id, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash, "
    "encode(sha256(prev_hash || convert_to("
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
    "'UTF8')), 'hex') AS computed "
    "FROM %s WHERE id > $1::bigint AND id <= $2::bigint ORDER BY id LIMIT $3::int";
/* clang-format on */

/* The hash the first entry follows: 32 zero bytes. */
static const char genesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* Where the check is: the head it checks up to, the last entry checked. */
typedef struct chain {
	ac_dbsync *db;
	FILE *out;
	long long head;
	char head_hash[65];
	long long floor; /* entries up to it are archived (sql/0028) */
	long long last;
	char prev[65]; /* the last entry's hash */
	const ac_anchors *anchors;
	int next_anchor;   /* the first anchor not yet compared */
	const char *table; /* audit_log, or a loaded archive (ac_cli_audit_check) */
} chain;

static int report(FILE *out, long long id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "audit log broken at entry ID: WHAT" and returns 1. */
static int report(FILE *out, long long id, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "audit log broken at entry %lld: ", id);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	return 1;
}

/*
 * Entry id does not follow the entry before it. Says which entry it follows,
 * if any: that tells reordering from insertion. Only runs once, on failure.
 */
static int report_link(const chain *c, long long id, const char *prev_hex)
{
	const char *v[1] = { prev_hex };
	ac_db_result *res = NULL;
	const char *follows = NULL;
	FILE *out = c->out;
	char sql[160];
	char err[512];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT id FROM %s WHERE hash = decode($1, 'hex') ORDER BY id LIMIT 1", c->table);
	if (ac_dbsync_exec(c->db, sql, 1, v, &res, err, sizeof(err)) == 0)
		follows = ac_db_field(res, 0, "id");
	if (follows != NULL && strtoll(follows, NULL, 10) != id - 1)
		rc = report(out, id,
			    "out of order: it follows entry %s, not entry %lld (entries reordered)",
			    follows, id - 1);
	else if (strcmp(prev_hex, genesis) == 0 && id != 1)
		rc = report(
		    out, id,
		    "it claims to be the first entry (entries before it deleted or replaced)");
	else
		rc = report(out, id,
			    "its prev_hash is not the hash of entry %lld (an entry before it was "
			    "changed, deleted or inserted)",
			    id - 1);
	ac_db_result_free(res);
	return rc;
}

/*
 * The head first: rows up to it are committed (the head moves in the same
 * transaction as the row it points to), later ones are not checked now.
 * Returns 0, 1 (reported) or 2.
 */
static int read_head(chain *c)
{
	ac_db_result *res = NULL;
	const char *id;
	const char *hash;
	char err[512];

	if (ac_dbsync_exec(c->db, "SELECT last_id, encode(hash, 'hex') AS hash FROM audit_head", 0,
			   NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the audit log head: %s\n", err);
		return 2;
	}
	id = ac_db_field(res, 0, "last_id");
	hash = ac_db_field(res, 0, "hash");
	if (ac_db_rows(res) != 1 || id == NULL || hash == NULL || strlen(hash) != 64) {
		ac_db_result_free(res);
		return report(c->out, 0, "audit_head does not hold exactly one valid row");
	}
	c->head = strtoll(id, NULL, 10);
	memcpy(c->head_hash, hash, sizeof(c->head_hash));
	ac_db_result_free(res);
	return 0;
}

/*
 * Where the check starts: after the newest archived entry, from its hash
 * (sql/0028's audit_floor), which the chain's own partition.detach entry
 * must confirm. Returns 0, 1 (reported) or 2.
 */
static int read_floor(chain *c)
{
	ac_db_result *res = NULL;
	const char *id;
	const char *hash;
	const char *in_chain;
	char err[512];
	int rc = 0;

	if (ac_dbsync_exec(c->db, "SELECT * FROM audit_floor()", 0, NULL, &res, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "agricert: could not read the archived part of the audit log: %s\n",
			err);
		return 2;
	}
	id = ac_db_field(res, 0, "last_id");
	hash = ac_db_field(res, 0, "last_hash");
	in_chain = ac_db_field(res, 0, "in_chain");
	if (id == NULL || hash == NULL || strlen(hash) != 64 || in_chain == NULL)
		rc = report(c->out, 0,
			    "partition_archive does not say where the archived part ends");
	else if (strcmp(in_chain, "t") != 0)
		rc = report(c->out, strtoll(id, NULL, 10) + 1,
			    "partition_archive says entries up to %s are archived, but no "
			    "partition.detach entry of the chain says so",
			    id);
	if (rc == 0) {
		c->floor = c->last = strtoll(id, NULL, 10);
		memcpy(c->prev, hash, sizeof(c->prev));
	}
	ac_db_result_free(res);
	return rc;
}

/*
 * Compares the anchors of entries up to c->last (anchors of entry 0, an
 * empty log, hold nothing to compare). Returns 0 or 1 (reported).
 */
static int check_anchors(chain *c)
{
	const ac_anchors *a = c->anchors;

	for (; a != NULL && c->next_anchor < a->n && a->v[c->next_anchor].id <= c->last;
	     c->next_anchor++) {
		const ac_anchor *an = &a->v[c->next_anchor];

		if (an->id == c->last && strcmp(an->hash, c->prev) != 0)
			return report(c->out, c->last,
				      "its hash is not the one anchored at %s (%s line %d): the "
				      "chain was rewritten after that anchor",
				      an->at, a->path, an->line);
	}
	return 0;
}

/* Anchors of entries beyond the head: entries removed after they were anchored. */
static int check_anchors_beyond(const chain *c)
{
	const ac_anchors *a = c->anchors;

	if (a == NULL || a->n == 0 || a->v[a->n - 1].id <= c->head)
		return 0;
	return report(c->out, c->head + 1,
		      "missing: the log ends at entry %lld but the anchor of %s (%s line %d) "
		      "holds entry %lld (entries removed after that anchor)",
		      c->head, a->v[a->n - 1].at, a->path, a->v[a->n - 1].line, a->v[a->n - 1].id);
}

/* Checks the entry after c->last and moves on to it. Returns 0 or 1 (reported). */
static int check_entry(chain *c, long long id, const char *prev_hash, const char *hash,
		       const char *computed)
{
	if (prev_hash == NULL || hash == NULL)
		return report(c->out, id, "changed: its hash or prev_hash is missing");
	if (id != c->last + 1)
		return report(
		    c->out, c->last + 1,
		    "missing: the log jumps from entry %lld to entry %lld (entries deleted)",
		    c->last, id);
	if (strcmp(prev_hash, c->prev) != 0)
		return report_link(c, id, prev_hash);
	if (computed == NULL || strcmp(computed, hash) != 0)
		return report(c->out, id, "changed: its content does not match its hash");
	snprintf(c->prev, sizeof(c->prev), "%s", hash);
	c->last = id;
	return check_anchors(c);
}

/* Checks the next AC_AUDIT_CHUNK entries. Returns 0, 1 (reported) or 2. */
static int check_chunk(chain *c)
{
	char last_s[24];
	char head_s[24];
	char chunk_s[16];
	const char *v[3] = { last_s, head_s, chunk_s };
	ac_db_result *res = NULL;
	char sql[sizeof(verify_sql) + 64];
	char err[512];
	int id;
	int prev_hash;
	int hash;
	int computed;
	int rc = 0;

	snprintf(last_s, sizeof(last_s), "%lld", c->last);
	snprintf(head_s, sizeof(head_s), "%lld", c->head);
	snprintf(chunk_s, sizeof(chunk_s), "%d", AC_AUDIT_CHUNK);
	snprintf(sql, sizeof(sql), verify_sql, c->table);
	if (ac_dbsync_exec(c->db, sql, 3, v, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the audit log: %s\n", err);
		return 2;
	}
	if (ac_db_rows(res) == 0)
		rc = report(
		    c->out, c->last + 1,
		    "missing: the log ends at entry %lld but its head is entry %lld (entries "
		    "deleted from the end)",
		    c->last, c->head);
	id = ac_db_col(res, "id");
	prev_hash = ac_db_col(res, "prev_hash");
	hash = ac_db_col(res, "hash");
	computed = ac_db_col(res, "computed");
	for (int i = 0; rc == 0 && i < ac_db_rows(res); i++)
		rc = check_entry(c, strtoll(ac_db_get(res, i, id), NULL, 10),
				 ac_db_get(res, i, prev_hash), ac_db_get(res, i, hash),
				 ac_db_get(res, i, computed));
	ac_db_result_free(res);
	return rc;
}

int ac_cli_audit_verify(const char *conninfo, const ac_anchors *anchors, ac_audit_head *head,
			FILE *out)
{
	chain c = { .out = out, .anchors = anchors, .table = "audit_log" };
	int rc;

	c.db = ac_cli_open(conninfo);
	if (c.db == NULL)
		return 2;
	memcpy(c.prev, genesis, sizeof(c.prev));
	rc = read_head(&c);
	if (rc == 0)
		rc = read_floor(&c);
	if (rc == 0)
		rc = check_anchors(&c); /* an anchor of the last archived entry */
	if (rc == 0)
		rc = check_anchors_beyond(&c);
	while (rc == 0 && c.last < c.head)
		rc = check_chunk(&c);
	if (rc == 0 && strcmp(c.prev, c.head_hash) != 0)
		rc = report(out, c.head, "the head's hash is not this entry's hash");
	if (rc == 0 && c.floor > 0)
		fprintf(out,
			"entries 1 to %lld are archived (agricert archive); the chain is checked "
			"from entry %lld on\n",
			c.floor, c.floor + 1);
	if (rc == 0 && anchors != NULL)
		fprintf(out, "audit log intact: %lld entries, head %s, %d anchors matched\n",
			c.head, c.head_hash, anchors->n);
	else if (rc == 0)
		fprintf(out, "audit log intact: %lld entries, head %s\n", c.head, c.head_hash);
	if (rc == 0 && head != NULL) {
		head->id = c.head;
		memcpy(head->hash, c.head_hash, sizeof(head->hash));
	}
	ac_dbsync_close(c.db);
	return rc;
}

int ac_cli_audit_check(ac_dbsync *db, const char *table, long long after, const char *after_hash,
		       long long last, char *last_hash, FILE *out)
{
	chain c = { .db = db, .out = out, .table = table, .head = last, .last = after };
	int rc = 0;

	snprintf(c.prev, sizeof(c.prev), "%s", after_hash);
	while (rc == 0 && c.last < c.head)
		rc = check_chunk(&c);
	if (rc == 0)
		memcpy(last_hash, c.prev, sizeof(c.prev));
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

/* One entry as ac_cli_audit_show writes it. */
static void show_entry(FILE *out, const ac_db_result *res, int row)
{
	static const struct {
		const char *column;
		const char *label;
	} values[] = { { "before", "    before " }, { "after", "    after  " } };

	fprintf(out, "#%s %s %s %s ", ac_db_field(res, row, "id"), ac_db_field(res, row, "at"),
		ac_db_field(res, row, "actor"), ac_db_field(res, row, "action"));
	put_cut(out, ac_db_field(res, row, "object"), 400);
	fputc('\n', out);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *value = ac_db_field(res, row, values[i].column);

		if (value == NULL)
			continue;
		fputs(values[i].label, out);
		put_cut(out, value, 400);
		fputc('\n', out);
	}
}

int ac_cli_audit_show(const char *conninfo, int limit, FILE *out)
{
	ac_db_result *res = NULL;
	ac_dbsync *db;
	ac_db_call call;
	char err[512];

	if (limit < 1)
		limit = 1;
	if (limit > AC_AUDIT_SHOW_MAX)
		limit = AC_AUDIT_SHOW_MAX;
	db = ac_cli_open(conninfo);
	if (db == NULL)
		return 1;
	ac_db_call_init(&call, "cli_audit_tail");
	ac_db_arg_int(&call, "p_limit", "integer", limit);
	if (ac_cli_call(db, &call, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the audit log: %s\n", err);
		ac_dbsync_close(db);
		return 1;
	}
	for (int i = 0; i < ac_db_rows(res); i++)
		show_entry(out, res, i);
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return 0;
}

int ac_cli_audit_append(const char *conninfo, const char *action, const char *object,
			const char *before, const char *after)
{
	char actor[AC_CLI_ACTOR_MAX];
	ac_dbsync *db = NULL;
	ac_db_call call;
	char err[512] = "out of memory";
	int rc = 1;

	ac_cli_actor(actor, sizeof(actor));
	ac_db_call_init(&call, "audit_append");
	ac_db_arg(&call, "actor", "text", actor);
	ac_db_arg(&call, "action", "text", action);
	ac_db_arg(&call, "object", "text", object);
	ac_db_arg(&call, "before", "jsonb", before);
	ac_db_arg(&call, "after", "jsonb", after);
	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) == 0 &&
	    ac_cli_call(db, &call, NULL, err, sizeof(err)) == 0)
		rc = 0;
	else
		fprintf(stderr, "agricert: could not write the audit entry for %s %s: %s\n", action,
			object, err);
	ac_dbsync_close(db);
	return rc;
}

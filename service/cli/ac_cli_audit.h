/*
 * The audit log's admin command line: `agricert audit verify`, `agricert
 * audit log [N]`, and the entries the CLI appends for changes the database
 * does not see (key files). The log itself is written by triggers in
 * PostgreSQL (sql/0003_audit.sql; the design and the canonical form of an
 * entry are in sql/AUDIT.md). Blocking libpq (ac_dbsync): for the agricert
 * CLI only, never on the service's loop.
 */
#ifndef AC_CLI_AUDIT_H
#define AC_CLI_AUDIT_H

#include <stdio.h>

#include "ac_cli_anchor.h"
#include "ac_dbsync.h"

/* Entries read per query by ac_cli_audit_verify: memory stays bounded. */
#define AC_AUDIT_CHUNK 10000

/* The most entries ac_cli_audit_show prints. */
#define AC_AUDIT_SHOW_MAX 10000

/*
 * Checks the whole hash chain up to the head recorded in audit_head when the
 * check starts (entries appended meanwhile are left for the next run): ids
 * dense from 1, each entry's prev_hash the hash of the one before (the first
 * follows 32 zero bytes), each hash the SHA-256 of prev_hash and the entry's
 * canonical text, and the last entry the head. PostgreSQL computes each
 * entry's canonical text and SHA-256 from an expression compiled into this
 * file (not from a function stored in the database); the links are compared
 * here.
 *
 * With anchors (ac_cli_anchor.h; NULL for none), entry ID of each anchor
 * must still have the anchored hash, and no anchor may lie beyond the head.
 *
 * Writes "audit log intact: N entries, head HEX" (and ", K anchors
 * matched") to out and returns 0, or "audit log broken at entry ID: WHAT"
 * (the first broken entry: changed, missing, out of order, the head
 * disagreeing, or an anchor not matching) and returns 1. Returns 2, with a
 * message on stderr, when the log could not be read. When head is not NULL
 * it receives the head checked (on 0).
 */
typedef struct ac_audit_head {
	long long id;
	char hash[65];
} ac_audit_head;

int ac_cli_audit_verify(const char *conninfo, const ac_anchors *anchors, ac_audit_head *head,
			FILE *out);

/*
 * Checks entries after+1 .. last of table (audit_log's columns, e.g. an
 * archived month loaded into a temporary table) as ac_cli_audit_verify
 * does, the first following after_hash (64 hex digits). On 0, last_hash (65
 * bytes) receives the last entry's hash; 1 after "audit log broken at entry
 * ..." on out, 2 when table could not be read.
 */
int ac_cli_audit_check(ac_dbsync *db, const char *table, long long after, const char *after_hash,
		       long long last, char *last_hash, FILE *out);

/*
 * Writes the last limit entries (1 to AC_AUDIT_SHOW_MAX; larger values are
 * capped), oldest first: a line "#ID TIME ACTOR ACTION OBJECT" (TIME in UTC),
 * then "    before JSON" and "    after JSON" when present, each value cut
 * at 400 bytes. Returns 0, or 1 (message on stderr) on a database error.
 */
int ac_cli_audit_show(const char *conninfo, int limit, FILE *out);

/*
 * Appends one entry through the SQL function audit_append, attributed to
 * "cli:<login name>": for changes made outside the database, such as a key
 * file's creation or status. action is "thing.verb" (e.g. "key.status"),
 * object names what changed (e.g. "key:2"), before and after are JSON text
 * or NULL. Returns 0, or 1 with a message on stderr.
 */
int ac_cli_audit_append(const char *conninfo, const char *action, const char *object,
			const char *before, const char *after);

#endif

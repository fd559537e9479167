/*
 * What the agricert CLI's commands share: opening the database and files
 * with the CLI's messages, transactions, calls of SQL functions with named
 * arguments (db/ac_db_call.h) over blocking libpq, and the name the audit
 * log gives the CLI's user. For the agricert CLI only, never on the
 * service's loop. Messages go to stderr, prefixed "agricert: ".
 */
#ifndef AC_CLI_H
#define AC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "ac_db_call.h"
#include "ac_dbsync.h"

/* The longest actor ac_cli_actor writes, with its NUL. */
#define AC_CLI_ACTOR_MAX 300

/* Connects to conninfo. Returns the connection (close it with
 * ac_dbsync_close), or NULL after "agricert: REASON" on stderr. */
ac_dbsync *ac_cli_open(const char *conninfo);

/* fopen(path, mode), or NULL after "agricert: could not open file ..." on
 * stderr. */
FILE *ac_cli_fopen(const char *path, const char *mode);

/* Runs sql, a statement without parameters such as "BEGIN" or "COMMIT".
 * Returns 0, or AC_EDB with the reason in err. */
int ac_cli_run(ac_dbsync *db, const char *sql, char *err, size_t errsz);

/*
 * Sends call (SELECT * FROM fn(name => $1::type, ...)). *res (if res is not
 * NULL) must be freed with ac_db_result_free. Returns 0, or AC_EDB (the
 * database's reason in err) or AC_ETOOBIG (the call did not fit, nothing
 * sent).
 */
int ac_cli_call(ac_dbsync *db, const ac_db_call *call, ac_db_result **res, char *err, size_t errsz);

/* The audit log's name for the user running the CLI, "cli:LOGIN" (or
 * "cli:uid N" without a passwd entry), into out (AC_CLI_ACTOR_MAX bytes). */
void ac_cli_actor(char *out, size_t outsz);

/* Makes the user running the CLI (ac_cli_actor) the actor the audit
 * triggers record for db's session. Returns 0, or AC_EDB with err. */
int ac_cli_set_actor(ac_dbsync *db, char *err, size_t errsz);

#endif

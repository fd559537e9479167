/*
 * Helpers of the agricert CLI's commands. See ac_cli.h.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ac_cli.h"
#include "ac_error.h"

ac_dbsync *ac_cli_open(const char *conninfo)
{
	ac_dbsync *db = NULL;
	char err[512] = "out of memory";

	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return NULL;
	}
	return db;
}

FILE *ac_cli_fopen(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (f == NULL)
		fprintf(stderr, "agricert: could not open file \"%s\": %s\n", path,
			strerror(errno));
	return f;
}

int ac_cli_run(ac_dbsync *db, const char *sql, char *err, size_t errsz)
{
	return ac_dbsync_exec(db, sql, 0, NULL, NULL, err, errsz);
}

int ac_cli_call(ac_dbsync *db, const ac_db_call *call, ac_db_result **res, char *err, size_t errsz)
{
	char sql[AC_DB_CALL_SQL + 2];

	if (ac_db_call_sql(call, sql, sizeof(sql)) != 0) {
		if (res != NULL)
			*res = NULL;
		snprintf(err, errsz, "%s", ac_strerror(AC_ETOOBIG));
		return AC_ETOOBIG;
	}
	return ac_dbsync_exec(db, sql, call->n, call->values, res, err, errsz);
}

void ac_cli_actor(char *out, size_t outsz)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		snprintf(out, outsz, "cli:%s", pw->pw_name);
	else
		snprintf(out, outsz, "cli:uid %u", (unsigned)geteuid());
}

int ac_cli_set_actor(ac_dbsync *db, char *err, size_t errsz)
{
	char actor[AC_CLI_ACTOR_MAX];
	const char *v[1] = { actor };

	ac_cli_actor(actor, sizeof(actor));
	return ac_dbsync_exec(db, "SELECT set_config('agricert.actor', $1, false)", 1, v, NULL, err,
			      errsz);
}

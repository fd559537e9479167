#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_dbsync.h"
#include "ac_error.h"
#include "ac_log.h"

#define MAX_MIGRATIONS 1000

struct ac_dbsync {
	PGconn *pg;
};

static void strip_newline(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* err receives the connection's last message, without its newline. */
static void db_error(ac_dbsync *db, char *err, size_t errsz)
{
	snprintf(err, errsz, "%s", PQerrorMessage(db->pg));
	strip_newline(err);
}

int ac_dbsync_open(const char *conninfo, ac_dbsync **out, char *err, size_t errsz)
{
	ac_dbsync *db;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return -ENOMEM;
	db->pg = PQconnectdb(conninfo);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		snprintf(err, errsz, "could not connect to database: %s", PQerrorMessage(db->pg));
		strip_newline(err);
		PQfinish(db->pg);
		free(db);
		return AC_EDB;
	}
	PQclear(PQexec(db->pg, "SET client_min_messages = warning"));
	*out = db;
	return 0;
}

int ac_dbsync_exec(ac_dbsync *db, const char *sql, int nparams, const char *const *values,
		   ac_db_result **res, char *err, size_t errsz)
{
	PGresult *pr = PQexecParams(db->pg, sql, nparams, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(pr);

	if (res != NULL)
		*res = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_error(db, err, errsz);
		PQclear(pr);
		return AC_EDB;
	}
	if (res != NULL)
		*res = pr;
	else
		PQclear(pr);
	return 0;
}

/* Reads what is left of a COPY's results; the last one says how it ended.
 * Keeps an earlier failure (rc) and its message. */
static int copy_end(ac_dbsync *db, int rc, long long *rows, char *err, size_t errsz)
{
	PGresult *pr;

	while ((pr = PQgetResult(db->pg)) != NULL) {
		if (PQresultStatus(pr) == PGRES_COMMAND_OK) {
			*rows = strtoll(PQcmdTuples(pr), NULL, 10);
		} else if (rc == 0) {
			db_error(db, err, errsz);
			rc = AC_EDB;
		}
		PQclear(pr);
	}
	return rc;
}

/* Sends sql, a COPY, and checks that the server went into state want. */
static int copy_start(ac_dbsync *db, const char *sql, ExecStatusType want, long long *rows,
		      char *err, size_t errsz)
{
	PGresult *pr = PQexec(db->pg, sql);
	int ok = PQresultStatus(pr) == want;

	*rows = 0;
	if (!ok)
		db_error(db, err, errsz);
	PQclear(pr);
	return ok ? 0 : copy_end(db, AC_EDB, rows, err, errsz);
}

int ac_dbsync_copy_out(ac_dbsync *db, const char *sql,
		       int (*sink)(void *arg, const char *bytes, size_t len), void *arg,
		       long long *rows, char *err, size_t errsz)
{
	char *chunk = NULL;
	int n;
	int rc = copy_start(db, sql, PGRES_COPY_OUT, rows, err, errsz);

	if (rc != 0)
		return rc;
	while ((n = PQgetCopyData(db->pg, &chunk, 0)) > 0) {
		if (rc == 0 && sink(arg, chunk, (size_t)n) != 0) {
			snprintf(err, errsz, "could not write the copied rows");
			rc = -EIO;
		}
		PQfreemem(chunk);
	}
	if (n == -2 && rc == 0) {
		db_error(db, err, errsz);
		rc = AC_EDB;
	}
	return copy_end(db, rc, rows, err, errsz);
}

int ac_dbsync_copy_in(ac_dbsync *db, const char *sql,
		      long (*source)(void *arg, char *buf, size_t size), void *arg, long long *rows,
		      char *err, size_t errsz)
{
	char buf[65536];
	long n;
	int rc = copy_start(db, sql, PGRES_COPY_IN, rows, err, errsz);

	if (rc != 0)
		return rc;
	while (rc == 0 && (n = source(arg, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			snprintf(err, errsz, "could not read the rows to copy");
			rc = -EIO;
		} else if (PQputCopyData(db->pg, buf, (int)n) != 1) {
			db_error(db, err, errsz);
			rc = AC_EDB;
		}
	}
	PQputCopyEnd(db->pg, rc != 0 ? "the input could not be copied" : NULL);
	return copy_end(db, rc, rows, err, errsz);
}

void ac_db_result_free(ac_db_result *res)
{
	PQclear(res);
}

void ac_dbsync_close(ac_dbsync *db)
{
	if (db == NULL)
		return;
	PQfinish(db->pg);
	free(db);
}

/* Migrations. */

typedef struct migration {
	char name[256];
	char version[5];
	char *sql;
} migration;

static int cmp_migrations(const void *a, const void *b)
{
	return strcmp(((const migration *)a)->name, ((const migration *)b)->name);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n + 1);
		if (buf != NULL && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL)
			buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static int is_migration_name(const char *name)
{
	size_t len = strlen(name);

	return len > 9 && len < 256 && strcmp(name + len - 4, ".sql") == 0 &&
	       strspn(name, "0123456789") == 4 && name[4] == '_';
}

/* Reads sql_dir's migrations, sorted; refuses two files with one number. */
static int list_migrations(const char *sql_dir, migration *m, int *n, char *err, size_t errsz)
{
	DIR *dir = opendir(sql_dir);
	struct dirent *de;
	char path[4096];

	*n = 0;
	if (dir == NULL) {
		snprintf(err, errsz, "could not open directory \"%s\": %s", sql_dir,
			 strerror(errno));
		return AC_ECONFIG;
	}
	while ((de = readdir(dir)) != NULL && *n < MAX_MIGRATIONS) {
		if (!is_migration_name(de->d_name))
			continue;
		snprintf(m[*n].name, sizeof(m[*n].name), "%s", de->d_name);
		memcpy(m[*n].version, de->d_name, 4);
		m[*n].version[4] = '\0';
		m[*n].sql = NULL;
		(*n)++;
	}
	closedir(dir);
	qsort(m, *n, sizeof(*m), cmp_migrations);
	for (int i = 0; i < *n; i++) {
		if (i > 0 && strcmp(m[i].version, m[i - 1].version) == 0) {
			snprintf(err, errsz,
				 "two migrations are numbered %s (%s and %s): renumber the new one",
				 m[i].version, m[i - 1].name, m[i].name);
			return AC_ECONFIG;
		}
		snprintf(path, sizeof(path), "%s/%s", sql_dir, m[i].name);
		m[i].sql = read_file(path);
		if (m[i].sql == NULL) {
			snprintf(err, errsz, "could not read file \"%s\": %s", path,
				 strerror(errno));
			return AC_ECONFIG;
		}
	}
	return 0;
}

/* Several statements: sent with PQexec, the simple protocol. */
static const char prepare_sql[] =
    "SELECT pg_advisory_lock(735001); "
    "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, "
    "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); "
    "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text";

/* What the database holds of m: -1 an error, 0 not applied, 1 applied and the same. */
static int check_applied(ac_dbsync *db, const migration *m, const char *sql_dir, char *err,
			 size_t errsz)
{
	const char *v[3] = { m->version, m->sql, m->name };
	ac_db_result *res = NULL;
	int rc;

	rc = ac_dbsync_exec(db,
			    "SELECT name, checksum, encode(sha256(convert_to($2, 'UTF8')), 'hex') "
			    "FROM schema_migrations WHERE version = $1::int",
			    2, v, &res, err, errsz);
	if (rc != 0)
		return -1;
	if (ac_db_rows(res) == 0) {
		rc = 0;
	} else if (strcmp(ac_db_get(res, 0, 0), m->name) != 0) {
		snprintf(err, errsz,
			 "migration %s was applied as %s, but the file is now %s/%s: migrations "
			 "are never renamed or renumbered",
			 m->version, ac_db_get(res, 0, 0), sql_dir, m->name);
		rc = -1;
	} else if (ac_db_get(res, 0, 1) == NULL) {
		/* Applied before checksums were kept: record this one. */
		rc = ac_dbsync_exec(db,
				    "UPDATE schema_migrations SET checksum = "
				    "encode(sha256(convert_to($2, 'UTF8')), 'hex') WHERE version = "
				    "$1::int",
				    2, v, NULL, err, errsz) == 0
			 ? 1
			 : -1;
	} else if (strcmp(ac_db_get(res, 0, 1), ac_db_get(res, 0, 2)) != 0) {
		snprintf(err, errsz,
			 "%s/%s was changed after it was applied: migrations are never edited "
			 "(put the change in a new migration, and restore this file)",
			 sql_dir, m->name);
		rc = -1;
	} else {
		rc = 1;
	}
	ac_db_result_free(res);
	return rc;
}

/* Runs a script of several statements (the simple protocol). */
static int exec_script(ac_dbsync *db, const char *sql, char *err, size_t errsz)
{
	PGresult *res = PQexec(db->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_error(db, err, errsz);
		r = AC_EDB;
	}
	PQclear(res);
	return r;
}

static int apply(ac_dbsync *db, const migration *m, char *err, size_t errsz)
{
	const char *v[3] = { m->version, m->name, m->sql };
	char inner[512];

	if (ac_dbsync_exec(db, "BEGIN", 0, NULL, NULL, err, errsz) != 0)
		return AC_EDB;
	if (exec_script(db, m->sql, inner, sizeof(inner)) != 0) {
		snprintf(err, errsz, "migration %s failed: %s", m->name, inner);
		PQclear(PQexec(db->pg, "ROLLBACK"));
		/* A broken migration does not mend itself: only a lost connection is retried. */
		return PQstatus(db->pg) == CONNECTION_OK ? AC_ECONFIG : AC_EDB;
	}
	if (ac_dbsync_exec(db,
			   "INSERT INTO schema_migrations (version, name, checksum) VALUES "
			   "($1::int, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))",
			   3, v, NULL, inner, sizeof(inner)) != 0) {
		snprintf(err, errsz, "could not record migration %s: %s", m->name, inner);
		PQclear(PQexec(db->pg, "ROLLBACK"));
		return AC_EDB;
	}
	if (ac_dbsync_exec(db, "COMMIT", 0, NULL, NULL, err, errsz) != 0)
		return AC_EDB;
	ac_log_info("db", "applied migration %s", m->name);
	return 0;
}

int ac_migrations_read(const char *sql_dir, int *count, char *err, size_t errsz)
{
	migration *m = calloc(MAX_MIGRATIONS, sizeof(*m));
	int r;

	*count = 0;
	err[0] = '\0';
	if (m == NULL)
		return -ENOMEM;
	r = list_migrations(sql_dir, m, count, err, errsz);
	for (int i = 0; i < *count; i++)
		free(m[i].sql);
	free(m);
	return r;
}

int ac_migrate(const char *conninfo, const char *sql_dir, char *err, size_t errsz)
{
	migration *m = calloc(MAX_MIGRATIONS, sizeof(*m));
	ac_dbsync *db = NULL;
	int n = 0;
	int r;

	err[0] = '\0';
	if (m == NULL)
		return -ENOMEM;
	r = list_migrations(sql_dir, m, &n, err, errsz);
	if (r == 0)
		r = ac_dbsync_open(conninfo, &db, err, errsz);
	if (r == 0)
		r = exec_script(db, prepare_sql, err, errsz);
	for (int i = 0; r == 0 && i < n; i++) {
		int applied = check_applied(db, &m[i], sql_dir, err, errsz);

		if (applied < 0)
			r = PQstatus(db->pg) == CONNECTION_OK ? AC_ECONFIG : AC_EDB;
		else if (!applied)
			r = apply(db, &m[i], err, errsz);
	}
	for (int i = 0; i < n; i++)
		free(m[i].sql);
	free(m);
	ac_dbsync_close(db);
	return r;
}

/*
 * Asynchronous PostgreSQL access on the libuv loop: a small pool of libpq
 * connections in non-blocking pipeline mode. This is the only module that
 * includes libpq.
 *
 * Each query is sent with its own pipeline sync, so it runs in its own
 * implicit transaction and commits (durably, with synchronous_commit on)
 * before its callback sees the result. Many queries are in flight on each
 * connection at once; results come back in order. A broken connection fails
 * its in-flight queries and reconnects with backoff; when no connection is
 * ready, queries wait (bounded) for one.
 *
 * Loop thread only.
 */
#ifndef AC_DB_H
#define AC_DB_H

#include <stddef.h>
#include <uv.h>

typedef struct ac_db ac_db;
/* A result, valid only during the callback (the pool frees it after). */
typedef struct pg_result ac_db_result;

/*
 * Called once per query. err is 0 with res set, or AC_EDB with msg saying
 * why: res is set for an SQL error (see ac_db_sqlstate) and NULL when the
 * connection failed or the pool is closing. May submit further queries.
 */
typedef void (*ac_db_cb)(void *data, const ac_db_result *res, int err, const char *msg);

/* Starts connecting nconn connections; returns at once. */
int ac_db_new(uv_loop_t *loop, const char *conninfo, int nconn, ac_db **out);

/*
 * Sends a query with text parameters (NULL values are SQL NULL; lengths may
 * be NULL for NUL-terminated text). The pool copies what it needs before
 * returning. Returns 0 (cb will be called exactly once), or a negative code
 * when the pool is closed, no connection can be had or the wait queue is full
 * (cb is not called).
 */
int ac_db_query(ac_db *db, const char *sql, int nparams, const char *const *values,
		const int *lengths, ac_db_cb cb, void *data);

/*
 * The same, with the acting person recorded by the audit triggers
 * (sql/AUDIT.md): actor, e.g. "17:county_regulator", is set for the
 * statement's transaction. NULL: the service itself.
 */
int ac_db_query_as(ac_db *db, const char *actor, const char *sql, int nparams,
		   const char *const *values, const int *lengths, ac_db_cb cb, void *data);

/* Number of connections ready now. */
int ac_db_ready(const ac_db *db);

/* Result access. Rows and columns from 0; ac_db_get returns NULL for NULL. */
int ac_db_rows(const ac_db_result *res);
const char *ac_db_get(const ac_db_result *res, int row, int col);
int ac_db_getlen(const ac_db_result *res, int row, int col);
const char *ac_db_sqlstate(const ac_db_result *res);

/*
 * Fails queries not yet answered, closes every connection and handle, then
 * calls cb. The pool is freed before cb runs; db must not be used after.
 */
void ac_db_close(ac_db *db, void (*cb)(void *data), void *data);

/*
 * Blocking helpers for the admin CLI and for start-up before the loop runs
 * (never on a running loop). ac_db_exec_file runs a whole SQL file in one
 * transaction. ac_db_migrate applies sql_dir/NNNN_*.sql files not yet
 * recorded in schema_migrations, in order, each in its own transaction, under
 * an advisory lock so that several instances can start at once.
 */
int ac_db_migrate(const char *conninfo, const char *sql_dir, char *err, size_t errsz);

/* A blocking connection, for the admin CLI only. */
typedef struct ac_dbsync ac_dbsync;
int ac_dbsync_open(const char *conninfo, ac_dbsync **out, char *err, size_t errsz);
/* Runs one statement; *res (if res is not NULL) must be freed with
 * ac_db_result_free. Returns 0 or AC_EDB with the message in err. */
int ac_dbsync_exec(ac_dbsync *db, const char *sql, int nparams, const char *const *values,
		   ac_db_result **res, char *err, size_t errsz);
void ac_db_result_free(ac_db_result *res);
void ac_dbsync_close(ac_dbsync *db);

#endif

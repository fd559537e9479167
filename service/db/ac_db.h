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
 * ready, queries wait (bounded) for one that is connecting; when none is
 * left connecting, the waiting queries fail.
 *
 * Loop thread only.
 */
#ifndef AC_DB_H
#define AC_DB_H

#include <stddef.h>
#include <uv.h>

#include "ac_buf.h"
#include "ac_db_call.h"

typedef struct ac_db ac_db;
/* A result, valid only during the callback (the pool frees it after). */
typedef struct pg_result ac_db_result;

/*
 * Called once per query. err is 0 with res set, or AC_EDB with msg saying
 * why: res is set for an SQL error (see ac_db_sqlstate) and NULL when the
 * connection failed or the pool is closing. May submit further queries.
 */
typedef void (*ac_db_cb)(void *data, const ac_db_result *res, int err, const char *msg);

/* Deadlines (milliseconds) unless set otherwise, and how often they are checked. */
#define AC_DB_CONNECT_MS  5000
#define AC_DB_QUERY_MS	  10000
#define AC_DB_WATCHDOG_MS 250

/* Starts connecting nconn connections; returns at once. */
int ac_db_new(uv_loop_t *loop, const char *conninfo, int nconn, ac_db **out);

/*
 * How long a connection may take to be made, and how long a query may wait
 * for its answer or for a connection, before it fails with AC_EDB (and the
 * connection is dropped and made again). A frozen or unreachable server so
 * answers every query within about query_ms.
 */
void ac_db_set_timeouts(ac_db *db, int connect_ms, int query_ms);

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

/* The same for a call with named arguments (ac_db_call.h). Returns
 * AC_ETOOBIG (cb not called) when the call's arguments did not fit. */
int ac_db_query_call(ac_db *db, const char *actor, const ac_db_call *call, ac_db_cb cb, void *data);

/* Appends the pool's metrics (ac_metrics.h) to b: connections by state,
 * queries in flight and waiting, queries, errors, lost connections, latency. */
void ac_db_metrics(const ac_db *db, ac_buf *b);

/* Number of connections ready now. */
int ac_db_ready(const ac_db *db);

/*
 * Result access. Rows and columns from 0; values are text, NULL for SQL
 * NULL (and for a row or column that is not there). Columns are best read
 * by name: ac_db_col finds one (-1 when absent; look it up once per result
 * in a loop over rows), ac_db_field reads row's value of it.
 */
int ac_db_rows(const ac_db_result *res);
int ac_db_col(const ac_db_result *res, const char *name);
const char *ac_db_get(const ac_db_result *res, int row, int col);
const char *ac_db_field(const ac_db_result *res, int row, const char *name);
int ac_db_getlen(const ac_db_result *res, int row, int col);
/* A boolean column: 1 for true, 0 for false or NULL. */
int ac_db_bool(const ac_db_result *res, int row, int col);
const char *ac_db_sqlstate(const ac_db_result *res);

/*
 * Fails queries not yet answered, closes every connection and handle, then
 * calls cb (from a close callback; cb may be NULL). From then on every query
 * fails at once with AC_EDB, so that late callers get an answer rather than
 * a freed pool; ac_db_free frees it once nothing can call any more.
 */
void ac_db_close(ac_db *db, void (*cb)(void *data), void *data);
void ac_db_free(ac_db *db);

#endif

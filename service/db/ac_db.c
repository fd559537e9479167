#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_db.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_metrics.h"

#define WAIT_MAX      100000
#define RECONNECT_MIN 100
/* Statements prepared per connection: the service has a few dozen. */
#define PREPARED_MAX  128
#define RECONNECT_MAX 5000

enum { CONN_DOWN, CONN_CONNECTING, CONN_READY };

typedef struct db_query db_query;
struct db_query {
	db_query *next;
	ac_db *db;
	uint64_t since_ns; /* for the latency histogram */
	ac_db_cb cb;
	void *data;
	PGresult *res;
	uint64_t since_ms; /* when it was asked for */
	/* Only for queries waiting for a connection: a copy of the request. */
	char *actor;
	char *sql;
	int nparams;
	char **values;
};

typedef struct db_conn {
	ac_db *db;
	int idx;
	PGconn *pg;
	uv_poll_t *poll;
	int fd;
	int events;
	int state;
	db_query *head;
	db_query *tail;
	int inflight;
	uv_timer_t timer;
	int backoff_ms;
	uint64_t connect_started_ms;
	/* Statements prepared on this connection, by text; forgotten with it. */
	char *prepared[PREPARED_MAX];
	int nprepared;
} db_conn;

struct ac_db {
	uv_loop_t *loop;
	char *conninfo;
	int n;
	db_conn *conns;
	db_query *wait_head;
	db_query *wait_tail;
	int nwait;
	int closing;
	int handles;
	void (*close_cb)(void *);
	void *close_data;
	/* Deadlines: a connection being made, an answer, a wait for a connection. */
	uv_timer_t watchdog;
	int connect_ms;
	int query_ms;
	/* Counts for GET /metrics (ac_db_metrics). */
	uint64_t queries; /* sent or queued */
	uint64_t failed;  /* answered with an error (SQL, connection, deadline) */
	uint64_t refused; /* not taken: no connection to be had, or the queue full */
	uint64_t lost;	  /* connections that broke */
	ac_hist latency;  /* from the query to its answer */
};

static void conn_connect(db_conn *c);
static void forget_prepared(db_conn *c);
static int any_connecting(const ac_db *db);
static void on_poll(uv_poll_t *poll, int status, int events);

static void on_reconnect_timer(uv_timer_t *timer)
{
	conn_connect(timer->data);
}

static void strip_newline(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void query_deliver(db_query *q, int err, const char *msg)
{
	ac_hist_observe(&q->db->latency, (double)(ac_now_ns() - q->since_ns) / 1e9);
	if (err != 0 || q->res == NULL ||
	    (PQresultStatus(q->res) != PGRES_TUPLES_OK &&
	     PQresultStatus(q->res) != PGRES_COMMAND_OK))
		q->db->failed++;
	if (err == 0 && q->res != NULL) {
		ExecStatusType st = PQresultStatus(q->res);

		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			char buf[512];
			const char *m = PQresultErrorField(q->res, PG_DIAG_MESSAGE_PRIMARY);

			snprintf(buf, sizeof(buf), "%s", m ? m : PQresStatus(st));
			q->cb(q->data, q->res, AC_EDB, buf);
			goto out;
		}
		q->cb(q->data, q->res, 0, NULL);
		goto out;
	}
	if (err == 0) {
		err = AC_EDB;
		msg = "no result";
	}
	q->cb(q->data, NULL, err, msg);
out:
	PQclear(q->res);
	if (q->values != NULL) {
		for (int i = 0; i < q->nparams; i++)
			free(q->values[i]);
	}
	free(q->values);
	free(q->actor);
	free(q->sql);
	free(q);
}

static void fail_list(db_query **head, db_query **tail, const char *msg)
{
	db_query *q = *head;

	*head = NULL;
	*tail = NULL;
	while (q != NULL) {
		db_query *next = q->next;

		query_deliver(q, AC_EDB, msg);
		q = next;
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	ac_db *db = h->data;

	if (h->type == UV_POLL)
		free(h);
	db->handles--;
	if (db->closing && db->handles == 0 && db->close_cb != NULL) {
		void (*cb)(void *) = db->close_cb;

		db->close_cb = NULL;
		cb(db->close_data);
	}
}

static void poll_close(db_conn *c)
{
	if (c->poll == NULL)
		return;
	uv_poll_stop(c->poll);
	uv_close((uv_handle_t *)c->poll, on_handle_closed);
	c->poll = NULL;
	c->fd = -1;
	c->events = 0;
}

static int poll_set(db_conn *c, int events)
{
	int fd = PQsocket(c->pg);
	int r;

	if (fd < 0)
		return AC_EDB;
	if (c->poll != NULL && c->fd != fd)
		poll_close(c);
	if (c->poll == NULL) {
		c->poll = malloc(sizeof(*c->poll));
		if (c->poll == NULL)
			return -ENOMEM;
		r = uv_poll_init(c->db->loop, c->poll, fd);
		if (r != 0) {
			free(c->poll);
			c->poll = NULL;
			return r;
		}
		c->poll->data = c->db;
		c->db->handles++;
		c->fd = fd;
		c->events = 0;
	}
	if (c->events == events)
		return 0;
	c->events = events;
	return uv_poll_start(c->poll, events, on_poll);
}

/* Drops the connection, fails what it carried and schedules a reconnect. */
static void conn_broken(db_conn *c, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", why);
	strip_newline(msg);
	if (!c->db->closing) {
		ac_log_warn("db", "connection %d lost: %s", c->idx, msg);
		c->db->lost++;
	}
	poll_close(c);
	PQfinish(c->pg);
	c->pg = NULL;
	forget_prepared(c);
	c->state = CONN_DOWN;
	c->inflight = 0;
	fail_list(&c->head, &c->tail, msg);
	if (c->db->closing)
		return;
	/* Queries wait for a connection being made; with none left, they fail now. */
	if (!any_connecting(c->db) && ac_db_ready(c->db) == 0) {
		fail_list(&c->db->wait_head, &c->db->wait_tail, msg);
		c->db->nwait = 0;
	}
	uv_timer_start(&c->timer, on_reconnect_timer, c->backoff_ms, 0);
	c->backoff_ms = c->backoff_ms * 2 > RECONNECT_MAX ? RECONNECT_MAX : c->backoff_ms * 2;
}

static void forget_prepared(db_conn *c)
{
	for (int i = 0; i < c->nprepared; i++)
		free(c->prepared[i]);
	c->nprepared = 0;
}

/*
 * Sends sql as a prepared statement, preparing it in the same pipeline the
 * first time this connection sees it, so that it is planned once per
 * connection rather than once per request. The prepare's result arrives
 * before the execution's; conn_read keeps the first error, else the last.
 */
static int conn_send(db_conn *c, const char *actor, const char *sql, int nparams,
		     const char *const *values, const int *lengths, db_query *q)
{
	char name[16];
	int found = -1;

	/* Same transaction (no sync in between): the audit triggers see who acts. */
	if (actor != NULL &&
	    !PQsendQueryParams(c->pg, "SELECT set_config('agricert.actor', $1, true)", 1, NULL,
			       &actor, NULL, NULL, 0))
		return AC_EDB;

	for (int i = 0; i < c->nprepared; i++) {
		if (strcmp(c->prepared[i], sql) == 0) {
			found = i;
			break;
		}
	}
	if (found < 0 && c->nprepared < PREPARED_MAX) {
		snprintf(name, sizeof(name), "s%d", c->nprepared);
		if (!PQsendPrepare(c->pg, name, sql, nparams, NULL))
			return AC_EDB;
		c->prepared[c->nprepared] = strdup(sql);
		if (c->prepared[c->nprepared] == NULL)
			return -ENOMEM;
		found = c->nprepared++;
	}
	if (found >= 0) {
		snprintf(name, sizeof(name), "s%d", found);
		if (!PQsendQueryPrepared(c->pg, name, nparams, values, lengths, NULL, 0))
			return AC_EDB;
	} else if (!PQsendQueryParams(c->pg, sql, nparams, NULL, values, lengths, NULL, 0)) {
		return AC_EDB;
	}
	if (!PQpipelineSync(c->pg))
		return AC_EDB;
	q->next = NULL;
	if (c->tail != NULL)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->inflight++;
	return 0;
}

static void conn_flush(db_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0) {
		conn_broken(c, PQerrorMessage(c->pg));
		return;
	}
	/* While output is pending, also read: the server may be blocked on us. */
	if (poll_set(c, r == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE) != 0)
		conn_broken(c, "could not poll socket");
}

static db_conn *pick_conn(ac_db *db)
{
	db_conn *best = NULL;

	for (int i = 0; i < db->n; i++) {
		db_conn *c = &db->conns[i];

		if (c->state != CONN_READY)
			continue;
		if (best == NULL || c->inflight < best->inflight)
			best = c;
	}
	return best;
}

static void dispatch_waiting(ac_db *db)
{
	while (db->wait_head != NULL) {
		db_conn *c = pick_conn(db);
		db_query *q = db->wait_head;

		if (c == NULL)
			return;
		db->wait_head = q->next;
		if (db->wait_head == NULL)
			db->wait_tail = NULL;
		db->nwait--;
		if (conn_send(c, q->actor, q->sql, q->nparams, (const char *const *)q->values, NULL,
			      q) != 0) {
			query_deliver(q, AC_EDB, "could not send query");
			conn_broken(c, PQerrorMessage(c->pg));
			continue;
		}
		conn_flush(c);
	}
}

static void conn_ready(db_conn *c)
{
	if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
		conn_broken(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = CONN_READY;
	c->backoff_ms = RECONNECT_MIN;
	if (poll_set(c, UV_READABLE) != 0) {
		conn_broken(c, "could not poll socket");
		return;
	}
	ac_log_debug("db", "connection %d ready", c->idx);
	dispatch_waiting(c->db);
}

static void conn_connect_step(db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (poll_set(c, UV_READABLE) != 0)
			conn_broken(c, "could not poll socket");
		return;
	case PGRES_POLLING_WRITING:
		if (poll_set(c, UV_WRITABLE) != 0)
			conn_broken(c, "could not poll socket");
		return;
	case PGRES_POLLING_OK:
		conn_ready(c);
		return;
	default:
		conn_broken(c, PQerrorMessage(c->pg));
		return;
	}
}

static void conn_connect(db_conn *c)
{
	c->pg = PQconnectStart(c->db->conninfo);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_broken(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = CONN_CONNECTING;
	c->connect_started_ms = uv_now(c->db->loop);
	conn_connect_step(c);
}

static void conn_read(db_conn *c)
{
	int nulls = 0;

	if (!PQconsumeInput(c->pg)) {
		conn_broken(c, PQerrorMessage(c->pg));
		return;
	}
	while (c->head != NULL && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		db_query *q = c->head;
		ExecStatusType st;

		if (res == NULL) {
			if (++nulls > 1)
				break;
			continue;
		}
		nulls = 0;
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			c->head = q->next;
			if (c->head == NULL)
				c->tail = NULL;
			c->inflight--;
			query_deliver(q, 0, NULL);
			/* The callback may have closed the pool or broken this connection. */
			if (c->pg == NULL)
				return;
			continue;
		}
		/* Keep the first error, else the last result. */
		if (q->res == NULL) {
			q->res = res;
		} else if (PQresultStatus(q->res) == PGRES_FATAL_ERROR) {
			PQclear(res);
		} else {
			PQclear(q->res);
			q->res = res;
		}
	}
	if (PQstatus(c->pg) == CONNECTION_BAD)
		conn_broken(c, PQerrorMessage(c->pg));
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
	ac_db *db = poll->data;
	db_conn *c = NULL;

	for (int i = 0; i < db->n; i++) {
		if (db->conns[i].poll == poll)
			c = &db->conns[i];
	}
	if (c == NULL || c->pg == NULL)
		return;
	if (status < 0) {
		conn_broken(c, uv_strerror(status));
		return;
	}
	if (c->state == CONN_CONNECTING) {
		conn_connect_step(c);
		return;
	}
	if (events & UV_READABLE) {
		conn_read(c);
		if (c->pg == NULL)
			return;
	}
	conn_flush(c);
}

/*
 * libpq has no deadline for a non-blocking connect nor for an answer: a
 * frozen or unreachable server would hold requests forever. Every tick, a
 * connection being made too long or whose oldest query waits too long for
 * its answer is dropped (its queries fail, it reconnects), and queries
 * waiting too long for any connection fail.
 */
static void on_watchdog(uv_timer_t *t)
{
	ac_db *db = t->data;
	uint64_t now = uv_now(db->loop);

	for (int i = 0; i < db->n; i++) {
		db_conn *c = &db->conns[i];

		if (c->state == CONN_CONNECTING &&
		    now - c->connect_started_ms > (uint64_t)db->connect_ms)
			conn_broken(c, "timed out connecting");
		else if (c->state == CONN_READY && c->head != NULL &&
			 now - c->head->since_ms > (uint64_t)db->query_ms)
			conn_broken(c, "timed out waiting for an answer");
	}
	while (db->wait_head != NULL && now - db->wait_head->since_ms > (uint64_t)db->query_ms) {
		db_query *q = db->wait_head;

		db->wait_head = q->next;
		if (db->wait_head == NULL)
			db->wait_tail = NULL;
		db->nwait--;
		query_deliver(q, AC_EDB, "timed out waiting for a connection");
	}
}

void ac_db_set_timeouts(ac_db *db, int connect_ms, int query_ms)
{
	db->connect_ms = connect_ms;
	db->query_ms = query_ms;
}

int ac_db_new(uv_loop_t *loop, const char *conninfo, int nconn, ac_db **out)
{
	ac_db *db;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return -ENOMEM;
	db->loop = loop;
	ac_hist_init(&db->latency, ac_hist_seconds, ac_hist_seconds_n);
	db->conninfo = strdup(conninfo);
	db->n = nconn;
	db->conns = calloc(nconn, sizeof(*db->conns));
	if (db->conninfo == NULL || db->conns == NULL) {
		free(db->conninfo);
		free(db->conns);
		free(db);
		return -ENOMEM;
	}
	for (int i = 0; i < nconn; i++) {
		db_conn *c = &db->conns[i];

		c->db = db;
		c->idx = i;
		c->fd = -1;
		c->backoff_ms = RECONNECT_MIN;
		uv_timer_init(loop, &c->timer);
		db->handles++;
		c->timer.data = c;
	}
	db->connect_ms = AC_DB_CONNECT_MS;
	db->query_ms = AC_DB_QUERY_MS;
	uv_timer_init(loop, &db->watchdog);
	db->watchdog.data = db;
	db->handles++;
	uv_timer_start(&db->watchdog, on_watchdog, AC_DB_WATCHDOG_MS, AC_DB_WATCHDOG_MS);
	for (int i = 0; i < nconn; i++)
		conn_connect(&db->conns[i]);
	*out = db;
	return 0;
}

static int any_connecting(const ac_db *db)
{
	for (int i = 0; i < db->n; i++) {
		if (db->conns[i].state == CONN_CONNECTING)
			return 1;
	}
	return 0;
}

int ac_db_query(ac_db *db, const char *sql, int nparams, const char *const *values,
		const int *lengths, ac_db_cb cb, void *data)
{
	return ac_db_query_as(db, NULL, sql, nparams, values, lengths, cb, data);
}

int ac_db_query_as(ac_db *db, const char *actor, const char *sql, int nparams,
		   const char *const *values, const int *lengths, ac_db_cb cb, void *data)
{
	db_conn *c;
	db_query *q;

	if (db == NULL || db->closing)
		return AC_EDB;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->cb = cb;
	q->data = data;
	q->db = db;
	q->since_ms = uv_now(db->loop);
	q->since_ns = ac_now_ns();
	db->queries++;
	c = pick_conn(db);
	if (c != NULL) {
		if (conn_send(c, actor, sql, nparams, values, lengths, q) != 0) {
			free(q);
			db->refused++;
			conn_broken(c, PQerrorMessage(c->pg));
			return AC_EDB;
		}
		conn_flush(c);
		return 0;
	}
	/* No connection ready: wait for one that is connecting, if any. */
	if (!any_connecting(db) || db->nwait >= WAIT_MAX) {
		free(q);
		db->refused++;
		return AC_EDB;
	}
	q->sql = strdup(sql);
	q->actor = actor ? strdup(actor) : NULL;
	q->nparams = nparams;
	q->values = calloc(nparams > 0 ? nparams : 1, sizeof(char *));
	if (q->sql == NULL || q->values == NULL || (actor != NULL && q->actor == NULL))
		goto nomem;
	for (int i = 0; i < nparams; i++) {
		if (values[i] == NULL)
			continue;
		q->values[i] = lengths ? strndup(values[i], lengths[i]) : strdup(values[i]);
		if (q->values[i] == NULL)
			goto nomem;
	}
	if (db->wait_tail != NULL)
		db->wait_tail->next = q;
	else
		db->wait_head = q;
	db->wait_tail = q;
	db->nwait++;
	return 0;
nomem:
	for (int i = 0; q->values != NULL && i < nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q->actor);
	free(q->sql);
	free(q);
	return -ENOMEM;
}

int ac_db_query_call(ac_db *db, const char *actor, const ac_db_call *call, ac_db_cb cb, void *data)
{
	char sql[AC_DB_CALL_SQL + 2];

	if (ac_db_call_sql(call, sql, sizeof(sql)) != 0)
		return AC_ETOOBIG;
	return ac_db_query_as(db, actor, sql, call->n, call->values, NULL, cb, data);
}

void ac_db_metrics(const ac_db *db, ac_buf *b)
{
	static const char *states[] = { "down", "connecting", "ready" };
	int n[3] = { 0, 0, 0 };
	int inflight = 0;

	if (db == NULL)
		return;
	for (int i = 0; i < db->n; i++) {
		n[db->conns[i].state]++;
		inflight += db->conns[i].inflight;
	}
	ac_metrics_head(b, "agricert_db_connections", "gauge",
			"Database pool connections by state");
	for (int i = 0; i < 3; i++) {
		char labels[32];

		snprintf(labels, sizeof(labels), "state=\"%s\"", states[i]);
		ac_metrics_value(b, "agricert_db_connections", labels, n[i]);
	}
	ac_metrics_head(b, "agricert_db_queries_in_flight", "gauge",
			"Queries sent and not yet answered");
	ac_metrics_value(b, "agricert_db_queries_in_flight", "", inflight);
	ac_metrics_head(b, "agricert_db_queries_waiting", "gauge",
			"Queries waiting for a connection");
	ac_metrics_value(b, "agricert_db_queries_waiting", "", db->nwait);
	ac_metrics_head(b, "agricert_db_queries_total", "counter", "Queries sent or queued");
	ac_metrics_value(b, "agricert_db_queries_total", "", (double)db->queries);
	ac_metrics_head(b, "agricert_db_query_errors_total", "counter",
			"Queries answered with an error (SQL, lost connection, deadline)");
	ac_metrics_value(b, "agricert_db_query_errors_total", "", (double)db->failed);
	ac_metrics_head(b, "agricert_db_queries_refused_total", "counter",
			"Queries refused at once: no connection to be had, or the wait queue full");
	ac_metrics_value(b, "agricert_db_queries_refused_total", "", (double)db->refused);
	ac_metrics_head(b, "agricert_db_connections_lost_total", "counter",
			"Connections that broke (and were made again)");
	ac_metrics_value(b, "agricert_db_connections_lost_total", "", (double)db->lost);
	ac_metrics_head(b, "agricert_db_query_duration_seconds", "histogram",
			"Time from a query to its answer");
	ac_metrics_hist(b, "agricert_db_query_duration_seconds", "", &db->latency);
}

int ac_db_ready(const ac_db *db)
{
	int n = 0;

	for (int i = 0; i < db->n; i++)
		n += db->conns[i].state == CONN_READY;
	return n;
}

int ac_db_rows(const ac_db_result *res)
{
	return res ? PQntuples(res) : 0;
}

int ac_db_col(const ac_db_result *res, const char *name)
{
	return res != NULL ? PQfnumber(res, name) : -1;
}

const char *ac_db_field(const ac_db_result *res, int row, const char *name)
{
	return ac_db_get(res, row, ac_db_col(res, name));
}

int ac_db_bool(const ac_db_result *res, int row, int col)
{
	const char *v = ac_db_get(res, row, col);

	return v != NULL && v[0] == 't';
}

const char *ac_db_get(const ac_db_result *res, int row, int col)
{
	if (res == NULL || row < 0 || col < 0 || row >= PQntuples(res) || col >= PQnfields(res))
		return NULL;
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int ac_db_getlen(const ac_db_result *res, int row, int col)
{
	if (ac_db_get(res, row, col) == NULL)
		return 0;
	return PQgetlength(res, row, col);
}

const char *ac_db_sqlstate(const ac_db_result *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

void ac_db_free(ac_db *db)
{
	if (db == NULL)
		return;
	free(db->conns);
	free(db->conninfo);
	free(db);
}

void ac_db_close(ac_db *db, void (*cb)(void *data), void *data)
{
	db->closing = 1;
	db->close_cb = cb;
	db->close_data = data;
	fail_list(&db->wait_head, &db->wait_tail, "shutting down");
	db->nwait = 0;
	uv_timer_stop(&db->watchdog);
	uv_close((uv_handle_t *)&db->watchdog, on_handle_closed);
	for (int i = 0; i < db->n; i++) {
		db_conn *c = &db->conns[i];

		uv_timer_stop(&c->timer);
		c->timer.data = db;
		uv_close((uv_handle_t *)&c->timer, on_handle_closed);
		if (c->pg != NULL)
			conn_broken(c, "shutting down");
	}
}

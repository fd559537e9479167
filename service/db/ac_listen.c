#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_buf.h"
#include "ac_closer.h"
#include "ac_error.h"
#include "ac_listen.h"
#include "ac_log.h"

#define TICK_MS	    50
#define CONNECT_MS  5000
#define BACKOFF_MIN 100
#define BACKOFF_MAX 5000
#define CHANNEL_MAX 63
#define APP_NAME    "agricertd-listen"

enum { L_DOWN, L_CONNECTING, L_SUBSCRIBING, L_LIVE };

typedef struct sub {
	char channel[CHANNEL_MAX + 1];
	ac_listen_notify_cb on_notify;
	ac_listen_state_cb on_state;
	void *data;
} sub;

struct ac_listen {
	uv_loop_t *loop;
	char *conninfo;
	PGconn *pg;
	uv_poll_t *poll;
	int fd;
	int events;
	uv_timer_t tick;
	int handles;
	int state;
	int busy;	   /* a query (the LISTENs or a ping) awaits its results */
	int failed;	   /* and one of its results was an error */
	uint64_t since_ms; /* connect started, or the ping was sent */
	uint64_t retry_ms; /* when DOWN: when to connect again */
	int backoff_ms;
	int started;
	sub subs[AC_LISTEN_MAX_SUBS];
	int nsubs;
	ac_closer close;
};

static void on_poll(uv_poll_t *poll, int status, int events);

static void tell_state(ac_listen *l, int live)
{
	for (int i = 0; i < l->nsubs; i++)
		l->subs[i].on_state(l->subs[i].data, live);
}

static void on_handle_closed(uv_handle_t *h)
{
	ac_listen *l = h->data;

	if (h->type == UV_POLL)
		free(h);
	if (--l->handles == 0 && l->close.closing) {
		ac_closer c = l->close;

		free(l->conninfo);
		free(l);
		ac_closer_finish(c);
	}
}

static void poll_close(ac_listen *l)
{
	if (l->poll == NULL)
		return;
	uv_poll_stop(l->poll);
	uv_close((uv_handle_t *)l->poll, on_handle_closed);
	l->poll = NULL;
	l->fd = -1;
	l->events = 0;
}

static int poll_set(ac_listen *l, int events)
{
	int fd = PQsocket(l->pg);

	if (fd < 0)
		return AC_EDB;
	if (l->poll != NULL && l->fd != fd)
		poll_close(l);
	if (l->poll == NULL) {
		l->poll = malloc(sizeof(*l->poll));
		if (l->poll == NULL)
			return -ENOMEM;
		if (uv_poll_init(l->loop, l->poll, fd) != 0) {
			free(l->poll);
			l->poll = NULL;
			return AC_EDB;
		}
		l->poll->data = l;
		l->handles++;
		l->fd = fd;
		l->events = 0;
	}
	if (l->events == events)
		return 0;
	l->events = events;
	return uv_poll_start(l->poll, events, on_poll);
}

/* Drops the connection; subscribers stop trusting their caches. */
static void broken(ac_listen *l, const char *why)
{
	char msg[256];
	int was_live = l->state == L_LIVE;
	size_t n;

	snprintf(msg, sizeof(msg), "%s", why);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* libpq's messages may run over several lines: the log has one per event. */
	for (char *p = msg; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	ac_log_warn("listen", "could not keep listening for notifications: %s", msg);
	poll_close(l);
	PQfinish(l->pg);
	l->pg = NULL;
	l->state = L_DOWN;
	l->busy = 0;
	l->retry_ms = uv_now(l->loop) + (uint64_t)l->backoff_ms;
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX ? BACKOFF_MAX : l->backoff_ms * 2;
	if (was_live)
		tell_state(l, 0);
}

static void flush_out(ac_listen *l)
{
	int r = PQflush(l->pg);

	if (r < 0)
		broken(l, PQerrorMessage(l->pg));
	else if (poll_set(l, r == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE) != 0)
		broken(l, "could not poll socket");
}

static void send_query(ac_listen *l, const char *sql)
{
	if (!PQsendQuery(l->pg, sql)) {
		broken(l, PQerrorMessage(l->pg));
		return;
	}
	l->busy = 1;
	l->failed = 0;
	l->since_ms = uv_now(l->loop);
	flush_out(l);
}

static void subscribe(ac_listen *l)
{
	ac_buf sql;

	if (PQsetnonblocking(l->pg, 1) != 0) {
		broken(l, PQerrorMessage(l->pg));
		return;
	}
	ac_buf_init(&sql);
	for (int i = 0; i < l->nsubs; i++)
		ac_buf_printf(&sql, "LISTEN %s;", l->subs[i].channel);
	ac_buf_puts(&sql, "SELECT 1");
	if (!ac_buf_ok(&sql))
		broken(l, "out of memory");
	else {
		l->state = L_SUBSCRIBING;
		send_query(l, sql.data);
	}
	ac_buf_free(&sql);
}

static void connect_step(ac_listen *l)
{
	switch (PQconnectPoll(l->pg)) {
	case PGRES_POLLING_READING:
		if (poll_set(l, UV_READABLE) != 0)
			broken(l, "could not poll socket");
		return;
	case PGRES_POLLING_WRITING:
		if (poll_set(l, UV_WRITABLE) != 0)
			broken(l, "could not poll socket");
		return;
	case PGRES_POLLING_OK:
		subscribe(l);
		return;
	default:
		broken(l, PQerrorMessage(l->pg));
		return;
	}
}

static void start_connect(ac_listen *l)
{
	const char *keys[] = { "dbname", "application_name", NULL };
	const char *values[] = { l->conninfo, APP_NAME, NULL };

	l->pg = PQconnectStartParams(keys, values, 1);
	l->since_ms = uv_now(l->loop);
	if (l->pg == NULL || PQstatus(l->pg) == CONNECTION_BAD) {
		broken(l, l->pg != NULL ? PQerrorMessage(l->pg) : "out of memory");
		return;
	}
	l->state = L_CONNECTING;
	connect_step(l);
}

/* A query's results have all come: the LISTENs are in place, or a ping answered. */
static void query_done(ac_listen *l)
{
	l->busy = 0;
	if (l->failed) {
		broken(l, "LISTEN failed");
		return;
	}
	if (l->state == L_SUBSCRIBING) {
		l->state = L_LIVE;
		l->backoff_ms = BACKOFF_MIN;
		ac_log_info("listen", "listening for notifications on %d channels", l->nsubs);
		tell_state(l, 1);
	}
}

static void dispatch(ac_listen *l, const PGnotify *n)
{
	for (int i = 0; i < l->nsubs; i++) {
		if (strcmp(l->subs[i].channel, n->relname) == 0)
			l->subs[i].on_notify(l->subs[i].data, n->extra != NULL ? n->extra : "");
	}
}

static void read_input(ac_listen *l)
{
	PGnotify *n;

	if (!PQconsumeInput(l->pg)) {
		broken(l, PQerrorMessage(l->pg));
		return;
	}
	while (l->busy && !PQisBusy(l->pg)) {
		PGresult *res = PQgetResult(l->pg);

		if (res == NULL) {
			query_done(l);
			if (l->pg == NULL)
				return;
			break;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK)
			l->failed = 1;
		PQclear(res);
	}
	/* Notifications only count once the LISTENs are known to be in place. */
	while ((n = PQnotifies(l->pg)) != NULL) {
		if (l->state == L_LIVE)
			dispatch(l, n);
		PQfreemem(n);
	}
	if (PQstatus(l->pg) == CONNECTION_BAD)
		broken(l, PQerrorMessage(l->pg));
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
	ac_listen *l = poll->data;

	if (l->pg == NULL || poll != l->poll)
		return;
	if (status < 0) {
		broken(l, uv_strerror(status));
		return;
	}
	if (l->state == L_CONNECTING) {
		connect_step(l);
		return;
	}
	if (events & UV_READABLE) {
		read_input(l);
		if (l->pg == NULL)
			return;
	}
	flush_out(l);
}

/* Reconnects when due, gives up on a connect that hangs, pings a live connection. */
static void on_tick(uv_timer_t *t)
{
	ac_listen *l = t->data;
	uint64_t now = uv_now(l->loop);

	switch (l->state) {
	case L_DOWN:
		if (now >= l->retry_ms)
			start_connect(l);
		break;
	case L_CONNECTING:
	case L_SUBSCRIBING:
		if (now - l->since_ms > CONNECT_MS)
			broken(l, "timed out connecting");
		break;
	default:
		if (l->busy && now - l->since_ms > AC_LISTEN_DEAD_MS)
			broken(l, "no answer to a ping");
		else if (!l->busy && now - l->since_ms >= AC_LISTEN_PING_MS)
			send_query(l, "SELECT 1");
		break;
	}
}

int ac_listen_new(uv_loop_t *loop, const char *conninfo, ac_listen **out)
{
	ac_listen *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (l == NULL || (l->conninfo = strdup(conninfo)) == NULL) {
		free(l);
		return -ENOMEM;
	}
	l->loop = loop;
	l->fd = -1;
	l->backoff_ms = BACKOFF_MIN;
	uv_timer_init(loop, &l->tick);
	l->tick.data = l;
	l->handles = 1;
	*out = l;
	return 0;
}

int ac_listen_on(ac_listen *l, const char *channel, ac_listen_notify_cb on_notify,
		 ac_listen_state_cb on_state, void *data)
{
	size_t len = strlen(channel);

	if (l->started || l->nsubs == AC_LISTEN_MAX_SUBS || len == 0 || len > CHANNEL_MAX ||
	    strspn(channel, "abcdefghijklmnopqrstuvwxyz_") != len)
		return AC_ERANGE;
	memcpy(l->subs[l->nsubs].channel, channel, len + 1);
	l->subs[l->nsubs].on_notify = on_notify;
	l->subs[l->nsubs].on_state = on_state;
	l->subs[l->nsubs].data = data;
	l->nsubs++;
	return 0;
}

void ac_listen_start(ac_listen *l)
{
	l->started = 1;
	start_connect(l);
	uv_timer_start(&l->tick, on_tick, TICK_MS, TICK_MS);
}

int ac_listen_live(const ac_listen *l)
{
	return l != NULL && l->state == L_LIVE;
}

void ac_listen_close(ac_listen *l, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(l, cb, data))
		return;
	ac_closer_start(&l->close, cb, data);
	/* What is cached is no longer kept fresh from here on. */
	if (l->state == L_LIVE)
		tell_state(l, 0);
	l->nsubs = 0;
	poll_close(l);
	PQfinish(l->pg);
	l->pg = NULL;
	l->state = L_DOWN;
	uv_timer_stop(&l->tick);
	uv_close((uv_handle_t *)&l->tick, on_handle_closed);
}

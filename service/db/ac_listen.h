/*
 * PostgreSQL LISTEN/NOTIFY on the loop: one dedicated libpq connection
 * (non-blocking, application_name "agricertd-listen") that listens on the
 * channels subscribers name and hands each notification to them, so that
 * what one instance changes (a logout, a revocation) reaches the caches of
 * every other instance within moments.
 *
 * Nothing may be missed across a lost connection, since notifications sent
 * while nobody listens are gone: a subscriber is told when the connection is
 * live (state 1: after every (re)connect, once its LISTENs are in place; it
 * reloads or flushes what it holds) and when it is lost (state 0: it stops
 * trusting its cache until the next state 1). The connection is pinged every
 * AC_LISTEN_PING_MS; one that does not answer within AC_LISTEN_DEAD_MS (a
 * frozen server, a lost network) counts as lost. Reconnects back off from
 * 100 ms to 5 s.
 *
 * So a subscriber that drops a cache entry on its notification and uses its
 * cache only while live sees a change committed elsewhere within about
 * AC_LISTEN_DEAD_MS at worst, and within milliseconds normally.
 *
 * Loop thread only.
 */
#ifndef AC_LISTEN_H
#define AC_LISTEN_H

#include <uv.h>

#define AC_LISTEN_MAX_SUBS 8
#define AC_LISTEN_PING_MS  250
#define AC_LISTEN_DEAD_MS  1000

typedef struct ac_listen ac_listen;

/* A notification on the subscriber's channel; payload may be "". */
typedef void (*ac_listen_notify_cb)(void *data, const char *payload);
/* 1: listening now (after every (re)connect); 0: the connection was lost. */
typedef void (*ac_listen_state_cb)(void *data, int live);

/* Starts connecting (after the subscribers are added: call ac_listen_start). */
int ac_listen_new(uv_loop_t *loop, const char *conninfo, ac_listen **out);

/*
 * Adds a subscriber to channel (a plain identifier, [a-z_]). Before
 * ac_listen_start only. Returns 0, AC_ERANGE (bad channel, too many) or
 * -ENOMEM.
 */
int ac_listen_on(ac_listen *l, const char *channel, ac_listen_notify_cb on_notify,
		 ac_listen_state_cb on_state, void *data);

/* Connects; subscribers hear state 1 once listening. */
void ac_listen_start(ac_listen *l);

/* Whether the connection is listening now. */
int ac_listen_live(const ac_listen *l);

/* Closes the connection (subscribers hear nothing more), frees, then cb.
 * NULL is fine. */
void ac_listen_close(ac_listen *l, void (*cb)(void *data), void *data);

#endif

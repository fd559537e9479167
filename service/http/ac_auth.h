/*
 * Bearer tokens: who is calling. A token is looked up by its SHA-256 in
 * api_token (joined with its subject) and the answer is cached for
 * AC_AUTH_CACHE_MS, so that a kiosk issuing many certificates costs one
 * query per half minute rather than one per request. On this instance
 * ac_auth_forget_* drop a token at once, and a look-up that was under way
 * when something was forgotten is not cached. Other instances hear of a
 * logout, a revoked token or a changed subject through PostgreSQL
 * notifications (sql/0027_notify.sql, daemon/ac_app.c) and drop it too,
 * within AC_LISTEN_DEAD_MS (db/ac_listen.h) at worst: nothing is cached
 * while the notifications are not heard (ac_auth_set_shared), and the cache
 * is emptied whenever they start or stop being heard. A token that merely
 * expires still works for up to AC_AUTH_CACHE_MS.
 *
 * The router (ac_handler.h) calls ac_auth_lookup for routes that need a
 * caller; handlers call the forget functions after a logout or a change to
 * a subject. Loop thread only.
 */
#ifndef AC_AUTH_H
#define AC_AUTH_H

#include <stddef.h>
#include <uv.h>

#include "ac_db.h"
#include "ac_perm.h"

#define AC_AUTH_CACHE_MS  30000
#define AC_AUTH_TOKEN_MAX 256

typedef struct ac_auth ac_auth;

int ac_auth_new(uv_loop_t *loop, ac_db *db, ac_auth **out);
/* Frees the cache; look-ups must have ended (their queries are answered). */
void ac_auth_free(ac_auth *a);

/*
 * Called once per look-up: found 1 with p (valid during the call), found 0
 * for an unknown, revoked or expired token, or err AC_EDB when the database
 * could not answer.
 */
typedef void (*ac_auth_cb)(void *data, int found, const ac_principal *p, int err);

/*
 * Looks token up. Calls cb now (cached) or later. Returns 0, or a negative
 * code (cb not called) when the query cannot be sent.
 */
int ac_auth_lookup(ac_auth *a, const char *token, ac_auth_cb cb, void *data);

/* Drops one token from the cache (after a logout). */
void ac_auth_forget_token(ac_auth *a, const char *token);
/* Drops the cached tokens of one subject (after a status or grade change). */
void ac_auth_forget_subject(ac_auth *a, int subject_id);
/* Drops the token whose hex SHA-256 is hex (a notification from elsewhere). */
void ac_auth_forget_hash(ac_auth *a, const char *hex);
/* Empties the cache; caches from now on only when shared is 1 (the other
 * instances' changes are heard). 0 at first. */
void ac_auth_set_shared(ac_auth *a, int shared);

#endif

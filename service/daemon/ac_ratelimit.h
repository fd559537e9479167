/*
 * A rate limit per key (a kiosk, a client address): at most limit attempts
 * per key in any minute (a sliding minute, estimated from this minute's and
 * the last minute's counts; refused attempts are not counted). Keys share a table of
 * AC_RATELIMIT_SLOTS slots by hash; a collision starts the newcomer's count
 * afresh, which errs on the side of letting a login through. Pure: the
 * caller passes the time. Loop thread only.
 */
#ifndef AC_RATELIMIT_H
#define AC_RATELIMIT_H

#include <stdint.h>

#define AC_RATELIMIT_SLOTS 1024

typedef struct ac_ratelimit ac_ratelimit;

int ac_ratelimit_new(int limit_per_minute, ac_ratelimit **out);
void ac_ratelimit_free(ac_ratelimit *rl);

/* Counts an attempt for key at now_ms; returns 1 when within the limit, 0 over. */
int ac_ratelimit_take(ac_ratelimit *rl, const char *key, uint64_t now_ms);

#endif

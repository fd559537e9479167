#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_ratelimit.h"

typedef struct slot {
	char key[72];
	uint64_t window; /* the minute of count */
	int count;
	int prev; /* attempts in the minute before */
} slot;

struct ac_ratelimit {
	int limit;
	slot slots[AC_RATELIMIT_SLOTS];
};

int ac_ratelimit_new(int limit_per_minute, ac_ratelimit **out)
{
	ac_ratelimit *rl = calloc(1, sizeof(*rl));

	*out = NULL;
	if (rl == NULL)
		return -ENOMEM;
	rl->limit = limit_per_minute;
	*out = rl;
	return 0;
}

void ac_ratelimit_free(ac_ratelimit *rl)
{
	free(rl);
}

int ac_ratelimit_take(ac_ratelimit *rl, const char *key, uint64_t now_ms)
{
	uint64_t h = 1469598103934665603ULL;
	uint64_t window = now_ms / 60000;
	uint64_t into = now_ms % 60000;
	slot *s;

	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	s = &rl->slots[h % AC_RATELIMIT_SLOTS];
	if (strncmp(s->key, key, sizeof(s->key) - 1) != 0) {
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window = window;
		s->count = 0;
		s->prev = 0;
	} else if (s->window != window) {
		s->prev = s->window + 1 == window ? s->count : 0;
		s->window = window;
		s->count = 0;
	}
	/* A sliding minute: the last minute's attempts weigh by how much of it
	 * the sliding minute still covers, so a burst across the turn of the
	 * minute is not let through twice. */
	if ((uint64_t)s->count * 60000 + (uint64_t)s->prev * (60000 - into) >=
	    (uint64_t)rl->limit * 60000)
		return 0;
	s->count++;
	return 1;
}

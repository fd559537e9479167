/*
 * How a module of agricertd closes: its close function records who to call
 * (ac_closer_start) and the module frees itself once its own work has ended
 * (threads, queries, timers), then calls that back (ac_closer_finish, from a
 * copy taken before the free). A close of a module that does not exist
 * (NULL) calls back at once (ac_closer_none). Loop thread only.
 */
#ifndef AC_CLOSER_H
#define AC_CLOSER_H

#include <stddef.h>

typedef struct ac_closer {
	int closing;
	void (*cb)(void *data);
	void *data;
} ac_closer;

/* For a close function: 1 (and cb has run) when module is NULL. */
static inline int ac_closer_none(const void *module, void (*cb)(void *data), void *data)
{
	if (module != NULL)
		return 0;
	if (cb != NULL)
		cb(data);
	return 1;
}

static inline void ac_closer_start(ac_closer *c, void (*cb)(void *data), void *data)
{
	c->closing = 1;
	c->cb = cb;
	c->data = data;
}

/* Runs the recorded callback; c is a copy taken before the module was freed. */
static inline void ac_closer_finish(ac_closer c)
{
	if (c.cb != NULL)
		c.cb(c.data);
}

#endif

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_arena.h"

#define ALIGN 16

struct ac_arena_chunk {
	ac_arena_chunk *next;
	size_t size; /* usable bytes after the header */
	_Alignas(ALIGN) unsigned char data[];
};

struct ac_arena_cleanup {
	ac_arena_cleanup *next;
	void (*fn)(void *);
	void *arg;
};

void ac_arena_init(ac_arena *a)
{
	memset(a, 0, sizeof(*a));
}

static void *new_chunk(ac_arena *a, size_t size)
{
	size_t cap = size > AC_ARENA_CHUNK ? size : AC_ARENA_CHUNK;
	ac_arena_chunk *c = malloc(sizeof(*c) + cap);

	if (c == NULL)
		return NULL;
	c->size = cap;
	if (size > AC_ARENA_CHUNK && a->chunks != NULL) {
		/* A large block goes behind the current chunk, which stays open. */
		c->next = a->chunks->next;
		a->chunks->next = c;
	} else {
		c->next = a->chunks;
		a->chunks = c;
		a->used = size;
	}
	memset(c->data, 0, size);
	return c->data;
}

void *ac_arena_alloc(ac_arena *a, size_t size)
{
	size_t at = (a->used + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - sizeof(ac_arena_chunk) - ALIGN)
		return NULL;
	if (a->chunks == NULL || at + size > a->chunks->size)
		return new_chunk(a, size);
	p = a->chunks->data + at;
	a->used = at + size;
	memset(p, 0, size);
	return p;
}

char *ac_arena_strndup(ac_arena *a, const char *s, size_t n)
{
	size_t len;
	char *p;

	if (s == NULL)
		return NULL;
	len = strnlen(s, n);
	p = ac_arena_alloc(a, len + 1);
	if (p != NULL)
		memcpy(p, s, len);
	return p;
}

char *ac_arena_strdup(ac_arena *a, const char *s)
{
	return ac_arena_strndup(a, s, SIZE_MAX);
}

char *ac_arena_printf(ac_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = ac_arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int ac_arena_defer(ac_arena *a, void (*fn)(void *), void *arg)
{
	ac_arena_cleanup *c = ac_arena_alloc(a, sizeof(*c));

	if (c == NULL) {
		fn(arg);
		return -ENOMEM;
	}
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

void ac_arena_clear(ac_arena *a)
{
	/* Cleanups live in the chunks: run them all before freeing any. */
	for (ac_arena_cleanup *c = a->cleanups; c != NULL; c = c->next)
		c->fn(c->arg);
	while (a->chunks != NULL) {
		ac_arena_chunk *next = a->chunks->next;

		free(a->chunks);
		a->chunks = next;
	}
	ac_arena_init(a);
}

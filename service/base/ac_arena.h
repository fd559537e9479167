/*
 * A memory arena: many small allocations that all end together, with
 * cleanups for what the arena does not allocate itself (a jansson value, a
 * certificate's members). Every request has one (ac_req_alloc), so that a
 * handler never frees by hand; a print job keeps its label texts in one.
 *
 * Allocations are zeroed and aligned for any type. Memory comes in chunks
 * of AC_ARENA_CHUNK bytes; a larger allocation gets a chunk of its own.
 * ac_arena_clear runs the cleanups (last registered first), frees every
 * chunk and leaves the arena empty and usable again.
 *
 * Not thread-safe: one owner at a time (a thread-pool job may use the arena
 * of the work item it owns).
 */
#ifndef AC_ARENA_H
#define AC_ARENA_H

#include <stddef.h>

#define AC_ARENA_CHUNK 4096

typedef struct ac_arena_chunk ac_arena_chunk;
typedef struct ac_arena_cleanup ac_arena_cleanup;

typedef struct ac_arena {
	ac_arena_chunk *chunks; /* the newest first */
	size_t used;		/* bytes taken from the newest chunk */
	ac_arena_cleanup *cleanups;
} ac_arena;

void ac_arena_init(ac_arena *a);

/* size zeroed bytes that live until ac_arena_clear, or NULL (out of memory). */
void *ac_arena_alloc(ac_arena *a, size_t size);

/* Copies of s (NULL for NULL), of at most n bytes of s, or formatted text;
 * NULL when out of memory. */
char *ac_arena_strdup(ac_arena *a, const char *s);
char *ac_arena_strndup(ac_arena *a, const char *s, size_t n);
char *ac_arena_printf(ac_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Registers fn(arg) to run at ac_arena_clear. Returns 0, or -ENOMEM after
 * running fn(arg) at once: either way the arena has taken care of arg.
 */
int ac_arena_defer(ac_arena *a, void (*fn)(void *), void *arg);

/* Runs the cleanups and frees everything; the arena is empty afterwards. */
void ac_arena_clear(ac_arena *a);

#endif

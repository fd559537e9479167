/* The arena: alignment, zeroing, large blocks, strings, cleanups in reverse order. */
#include <stdint.h>
#include <string.h>

#include "ac_arena.h"
#include "ac_test.h"

static char order[8];
static int norder;

static void note(void *arg)
{
	order[norder++] = *(const char *)arg;
}

int main(void)
{
	ac_arena a;
	char *small;
	unsigned char *big;
	int zero = 1;

	ac_arena_init(&a);
	small = ac_arena_alloc(&a, 3);
	AC_CHECK(small != NULL && ((uintptr_t)small & 15) == 0, "allocations are aligned");
	AC_CHECK(((uintptr_t)ac_arena_alloc(&a, 5) & 15) == 0, "the next one too");
	big = ac_arena_alloc(&a, 3 * AC_ARENA_CHUNK);
	for (size_t i = 0; big != NULL && i < 3 * AC_ARENA_CHUNK; i++)
		zero &= big[i] == 0;
	AC_CHECK(big != NULL && zero, "a block larger than a chunk is whole and zeroed");
	AC_CHECK(ac_arena_alloc(&a, 16) != NULL, "small blocks still come after a large one");
	for (int i = 0; i < 1000; i++)
		ac_arena_alloc(&a, 100);
	AC_CHECK(strcmp(ac_arena_strdup(&a, "豇豆"), "豇豆") == 0, "strdup copies UTF-8");
	AC_CHECK(ac_arena_strdup(&a, NULL) == NULL, "strdup of NULL is NULL");
	AC_CHECK(strcmp(ac_arena_strndup(&a, "abcdef", 3), "abc") == 0, "strndup stops at n");
	AC_CHECK(strcmp(ac_arena_printf(&a, "%s-%04d", "x", 7), "x-0007") == 0, "printf formats");
	ac_arena_defer(&a, note, "1");
	ac_arena_defer(&a, note, "2");
	ac_arena_defer(&a, note, "3");
	ac_arena_clear(&a);
	AC_CHECK(norder == 3 && memcmp(order, "321", 3) == 0, "cleanups run last first, once");
	AC_CHECK(a.chunks == NULL && a.cleanups == NULL, "a cleared arena is empty");
	AC_CHECK(ac_arena_alloc(&a, 8) != NULL, "and usable again");
	ac_arena_clear(&a);
	return ac_test_done();
}

/*
 * A minimal TAP producer for agricert's C tests (meson runs them with
 * protocol: 'tap', so each check counts as one test).
 *
 *	AC_CHECK(expr, "what is checked");
 *	return ac_test_done();
 *
 * Checks never abort: a failing check prints "not ok" with the expression,
 * file and line, and the run goes on so one run shows every failure.
 */
#ifndef AC_TEST_H
#define AC_TEST_H

#include <stdio.h>

static int ac_test_n;
static int ac_test_failed;

static inline int ac_test_check(int ok, const char *what, const char *expr, const char *file,
				int line)
{
	ac_test_n++;
	if (ok) {
		printf("ok %d - %s\n", ac_test_n, what);
	} else {
		ac_test_failed++;
		printf("not ok %d - %s\n#   %s (%s:%d)\n", ac_test_n, what, expr, file, line);
	}
	fflush(stdout);
	return ok;
}

#define AC_CHECK(expr, what) ac_test_check(!!(expr), (what), #expr, __FILE__, __LINE__)

static inline int ac_test_done(void)
{
	printf("1..%d\n", ac_test_n);
	return ac_test_failed ? 1 : 0;
}

#endif

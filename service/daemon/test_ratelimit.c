/* The login rate limit: per key, per minute. */
#include "ac_ratelimit.h"
#include "ac_test.h"

int main(void)
{
	ac_ratelimit *rl = NULL;
	int ok = 1;

	AC_CHECK(ac_ratelimit_new(10, &rl) == 0, "a limiter of 10 a minute");
	for (int i = 0; i < 10; i++)
		ok &= ac_ratelimit_take(rl, "kiosk-fc-01", 60000 * 5 + i);
	AC_CHECK(ok, "ten attempts in a minute pass");
	AC_CHECK(!ac_ratelimit_take(rl, "kiosk-fc-01", 60000 * 5 + 500), "the eleventh does not");
	AC_CHECK(ac_ratelimit_take(rl, "kiosk-fc-02", 60000 * 5 + 500), "another kiosk is apart");
	{
		int passed = 0;

		for (int i = 0; i < 10; i++)
			passed += ac_ratelimit_take(rl, "kiosk-fc-01", 60000 * 6 + 100 + i);
		AC_CHECK(passed <= 1,
			 "ten more just after the turn of the minute: not let through again");
	}
	AC_CHECK(ac_ratelimit_take(rl, "kiosk-fc-01", 60000 * 6 + 30000),
		 "half a minute later, half of it is allowed again");
	AC_CHECK(ac_ratelimit_take(rl, "kiosk-fc-01", 60000 * 8), "two minutes on, all of it");
	ac_ratelimit_free(rl);
	return ac_test_done();
}

/* Named-argument calls: the statement text and its values. */
#include <string.h>

#include "ac_db_call.h"
#include "ac_test.h"

int main(void)
{
	ac_db_call c;
	char sql[AC_DB_CALL_SQL + 2];

	ac_db_call_init(&c, "reissue");
	ac_db_arg_int(&c, "p_serial", "bigint", 4096);
	ac_db_arg(&c, "p_origin", "text", "福建省");
	ac_db_arg(&c, "p_idem", "text", NULL);
	AC_CHECK(ac_db_call_sql(&c, sql, sizeof(sql)) == 0 &&
		     strcmp(sql, "SELECT * FROM reissue(p_serial => $1::bigint, p_origin => "
				 "$2::text, p_idem => $3::text)") == 0,
		 "each argument named, numbered and cast in order");
	AC_CHECK(c.n == 3 && strcmp(c.values[0], "4096") == 0 &&
		     strcmp(c.values[1], "福建省") == 0 && c.values[2] == NULL,
		 "the values line up with their numbers; NULL stays NULL");
	ac_db_call_init(&c, "f");
	AC_CHECK(ac_db_call_sql(&c, sql, sizeof(sql)) == 0 && strcmp(sql, "SELECT * FROM f()") == 0,
		 "no arguments");
	for (int i = 0; i < AC_DB_CALL_MAX + 1; i++)
		ac_db_arg_int(&c, "p", "int", i);
	AC_CHECK(c.overflow && ac_db_call_sql(&c, sql, sizeof(sql)) != 0,
		 "one argument too many makes the call unsendable");
	AC_CHECK(ac_db_call_sql(&c, sql, 4) != 0, "so does a buffer too small");
	return ac_test_done();
}

/* Field checks: text, division codes, credit codes, ID numbers, phones, dates. */
#include <stdint.h>

#include "ac_check.h"
#include "ac_test.h"

static void check_text(void)
{
	AC_CHECK(ac_check_text("福建省安溪县", 300), "Chinese text is text");
	AC_CHECK(!ac_check_text("", 300), "empty is not");
	AC_CHECK(!ac_check_text("abcd", 3), "longer than allowed is not");
	AC_CHECK(!ac_check_text("line\nbreak", 300), "a control character is not");
	AC_CHECK(!ac_check_text("\xff\xfe", 300), "bytes that are not UTF-8 are not");
	AC_CHECK(!ac_check_text("\xe8\xb1", 300), "a cut UTF-8 sequence is not");
	AC_CHECK(!ac_check_text("\xc0\xaf", 300), "an overlong form is not");
	AC_CHECK(!ac_check_text("\xed\xa0\x80", 300), "a UTF-16 surrogate is not");
	AC_CHECK(ac_check_text("\xf0\xa0\xae\xb7", 300), "a character outside the BMP (𠮷) is");
	AC_CHECK(ac_check_chars("豇豆 20") == 5, "characters are counted, not bytes");
	AC_CHECK(ac_check_chars("a\tb") == -1, "chars refuses control characters");
}

static void check_codes(void)
{
	int64_t v = 0;

	AC_CHECK(ac_check_region_code("350524103201", &v) == 0 && v == 350524103201LL,
		 "a 12-digit division code");
	AC_CHECK(ac_check_region_code("990524103201", &v) != 0, "province 99 does not exist");
	AC_CHECK(ac_check_region_code("3505241032", &v) != 0, "10 digits are not a code");
	AC_CHECK(ac_check_region_code("35052410320x", &v) != 0, "letters are not a code");
	AC_CHECK(ac_check_credit_code("91350100M000100Y43"), "a valid unified social credit code");
	AC_CHECK(!ac_check_credit_code("91350100M000100Y44"), "a wrong check character");
	AC_CHECK(ac_check_id_number("11010519491231002X"), "a valid ID number with X");
	AC_CHECK(!ac_check_id_number("110105194912310021"), "a wrong check digit");
	AC_CHECK(ac_check_contact("0595-23221234") && ac_check_contact("+86 138 5900 1234"),
		 "phone numbers with - + and spaces");
	AC_CHECK(!ac_check_contact("call me") && !ac_check_contact("---"),
		 "words and bare punctuation are not phone numbers");
	AC_CHECK(ac_check_date("2026-02-28") && !ac_check_date("2026-2-28") &&
		     !ac_check_date("2026-02-28x") && !ac_check_date("2026-13-01"),
		 "dates are YYYY-MM-DD");
	AC_CHECK(ac_check_mobile("13859001234") && !ac_check_mobile("1385900123") &&
		     !ac_check_mobile("23859001234") && !ac_check_mobile("1385900123x"),
		 "mobile numbers are 1 and 10 more digits");
	AC_CHECK(ac_check_pin("246810") && ac_check_pin("135790") && ac_check_pin("012345x") == 0,
		 "a PIN is 6 digits");
	AC_CHECK(!ac_check_pin("111111") && !ac_check_pin("123456") && !ac_check_pin("654321") &&
		     !ac_check_pin("12345") && ac_check_pin("123457"),
		 "a PIN anyone would try first is refused");
}

int main(void)
{
	check_text();
	check_codes();
	return ac_test_done();
}

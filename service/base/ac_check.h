/*
 * Syntax checks of fields that requests and imports carry, shared by
 * agricertd's handlers and the agricert CLI. Pure functions; any thread.
 */
#ifndef AC_CHECK_H
#define AC_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Characters in a UTF-8 string, or -1 when it holds control characters. */
int ac_check_chars(const char *s);
/* Whether s is 1 to max_bytes bytes of valid UTF-8 without control characters. */
int ac_check_text(const char *s, size_t max_bytes);
/* A 12-digit administrative division code (province 11 to 82): 0 or -1. */
int ac_check_region_code(const char *s, int64_t *out);
/* Unified social credit code (GB 32100-2015), 18 characters with its check character. */
int ac_check_credit_code(const char *s);
/* Resident ID number (GB 11643-1999), 18 characters with its check digit. */
int ac_check_id_number(const char *s);
/* A phone number: 1 to 20 digits, with + - ( ) and spaces. */
int ac_check_contact(const char *s);
/* An 11-digit mainland mobile number (1 then 10 digits). */
int ac_check_mobile(const char *s);
/* A PIN a farmer may choose: 6 digits, neither one digit six times nor a
 * run up or down (123456, 654321), which anyone tries first. */
int ac_check_pin(const char *s);
/* Whether s is a date written YYYY-MM-DD. */
int ac_check_date(const char *s);

#endif

/*
 * Syntax checks of registry fields, shared by agricertd's registry API and the
 * agricert CLI's import. Pure functions; any thread.
 */
#ifndef AC_CHECK_H
#define AC_CHECK_H

#include <stdint.h>

/* Characters in a UTF-8 string, or -1 when it holds control characters. */
int ac_registry_chars(const char *s);
/* A 12-digit administrative division code (province 11 to 82): 0 or -1. */
int ac_registry_region_code(const char *s, int64_t *out);
/* Unified social credit code (GB 32100-2015), 18 characters with its check character. */
int ac_registry_valid_credit_code(const char *s);
/* Resident ID number (GB 11643-1999), 18 characters with its check digit. */
int ac_registry_valid_id_number(const char *s);
/* A phone number: 1 to 20 digits, with + - ( ) and spaces. */
int ac_registry_valid_contact(const char *s);

#endif

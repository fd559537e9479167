/*
 * The parts of a request URL agricertd reads: percent-decoding and query
 * parameters. Pure functions on strings; any thread.
 */
#ifndef AC_URL_H
#define AC_URL_H

#include <stddef.h>

/*
 * Percent-decodes s in place ('+' becomes a space when plus_is_space, as in
 * a query string). Returns 0, or -1 on a bad escape or an escaped NUL (s is
 * then partly decoded and must not be used).
 */
int ac_url_decode(char *s, int plus_is_space);

/*
 * Finds name=value in the raw query string (without the '?'; may be NULL)
 * and writes the decoded value to buf. Returns 1 when found and decoded, 0
 * when absent, -1 when present but too long for buf or badly encoded.
 */
int ac_url_query_param(const char *query, const char *name, char *buf, size_t bufsz);

#endif

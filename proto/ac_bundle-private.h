/*
 * Internals of the trust bundle (ac_bundle.h) for its tests and fuzzer only;
 * nothing that verifies bundles for real may include this header.
 */
#ifndef AC_BUNDLE_PRIVATE_H
#define AC_BUNDLE_PRIVATE_H

#include <stddef.h>

#include "ac_bundle.h"

/*
 * ac_bundle_parse() without the signature check: the signature line must
 * still be well formed, but its signature is not verified, so a fuzzer or a
 * test reaches the record parser with any bytes. Same returns, never
 * AC_EBADSIG or AC_EUNKNOWNKEY.
 */
int ac_bundle_parse_unverified(const char *text, size_t len, ac_bundle **out);

#endif

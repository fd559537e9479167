/*
 * RFC 4648 base32 (alphabet A-Z 2-7) without padding, in canonical form only.
 *
 * The encoder writes upper case, which keeps a QR code in alphanumeric mode.
 * The decoder accepts upper and lower case but rejects every other character,
 * '=' padding, a length that no byte string encodes to (1, 3 or 6 characters
 * past a multiple of 8) and non-zero unused bits in the last character, so
 * each byte string has exactly one upper-case text and a decoder cannot be
 * fooled into reading two texts as one code.
 *
 * Pure functions of their arguments: callable from any thread.
 */
#ifndef AC_BASE32_H
#define AC_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for len bytes, without the terminating NUL. */
#define AC_BASE32_ENCLEN(len) (((len)*8 + 4) / 5)

/*
 * Encodes len bytes of in into out (outsz bytes, owned by the caller) and
 * NUL-terminates it. Returns the text length, or AC_ETOOBIG when out cannot
 * hold AC_BASE32_ENCLEN(len) + 1 bytes (out is then an empty string if
 * outsz > 0).
 */
int ac_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz);

/*
 * Decodes len characters of in (no NUL needed) into out (outsz bytes) and sets
 * *outlen to the number of bytes written. Returns 0, AC_EMALFORMED for a
 * character outside the alphabet (including '=' and NUL), an impossible
 * length or non-zero trailing bits, or AC_ETOOBIG when out is too small.
 * *outlen is 0 on error; out may hold partial output.
 */
int ac_base32_decode(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen);

#endif

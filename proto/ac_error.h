/*
 * Error codes shared by every agricert module.
 *
 * Functions return 0 on success or a negative code: system errors as -errno
 * (or the equal UV_E* values), domain errors as the AC_E* values below, which
 * sit far below any errno. ac_strerror() names either kind; it is thread-safe
 * and returns a static string.
 */
#ifndef AC_ERROR_H
#define AC_ERROR_H

enum {
	AC_EBASE = -10000,
	AC_EMALFORMED = -10001,	 /* bytes do not follow the format */
	AC_ETRUNCATED = -10002,	 /* input ends before the format does */
	AC_EVERSION = -10003,	 /* unknown format version */
	AC_ERANGE = -10004,	 /* a field is outside its allowed range */
	AC_EBADSIG = -10005,	 /* signature does not verify */
	AC_EUNKNOWNKEY = -10006, /* no key with that id */
	AC_EKEY = -10007,	 /* key unusable: wrong type, unreadable, bad PEM */
	AC_ECRYPTO = -10008,	 /* the crypto library failed */
	AC_ETOOBIG = -10009,	 /* output buffer or limit too small */
	AC_ERENDER = -10010,	 /* label rendering failed */
	AC_EPRINTER = -10011,	 /* CUPS refused or could not be reached */
	AC_ENOTFOUND = -10012,	 /* no such object */
	AC_EDB = -10013,	 /* database error */
	AC_ECONFIG = -10014,	 /* configuration invalid */
	AC_EPERM = -10015,	 /* file permissions unsafe */
	AC_EDUPLICATE = -10016,	 /* an id appears twice where ids are unique */
	AC_ECHAIN = -10017,	 /* a supply-chain rule refused it */
	AC_EINPUT = -10018,	 /* the database refused a value of the request */
	AC_EGLYPH = -10019,	 /* a character has no glyph in any label font */
	AC_ELAST = -10020,
};

/* Returns a lower-case English description of err (AC_E* or -errno). */
const char *ac_strerror(int err);

#endif

#include <string.h>

#include "ac_error.h"

const char *ac_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case AC_EMALFORMED:
		return "malformed input";
	case AC_ETRUNCATED:
		return "input truncated";
	case AC_EVERSION:
		return "unknown format version";
	case AC_ERANGE:
		return "value out of range";
	case AC_EBADSIG:
		return "signature does not verify";
	case AC_EUNKNOWNKEY:
		return "unknown key id";
	case AC_EKEY:
		return "unusable key";
	case AC_ECRYPTO:
		return "cryptographic library failure";
	case AC_ETOOBIG:
		return "too large";
	case AC_ERENDER:
		return "label rendering failed";
	case AC_EPRINTER:
		return "printing system error";
	case AC_ENOTFOUND:
		return "not found";
	case AC_EDB:
		return "database error";
	case AC_ECONFIG:
		return "invalid configuration";
	case AC_EPERM:
		return "unsafe file permissions";
	case AC_ECHAIN:
		return "a supply-chain rule refused it";
	case AC_EDUPLICATE:
		return "duplicate id";
	case AC_EINPUT:
		return "a value was refused";
	case AC_EGLYPH:
		return "a character has no glyph in any label font";
	default:
		break;
	}
	if (err < 0 && err > AC_EBASE)
		return strerrordesc_np(-err) ? strerrordesc_np(-err) : "unknown error";
	return "unknown error";
}

/*
 * What the handlers that touch printing share: refusing text no label font
 * can print, and the print faults in words for the kiosk.
 *
 * Loop thread only.
 */
#ifndef AC_PRINTING_H
#define AC_PRINTING_H

#include <jansson.h>

#include "ac_handler.h"

/*
 * Answers 422 unprintable_character (naming the field and the character,
 * e.g. U+20BB7) and returns -1 when s has a character no label font has;
 * else returns 0.
 */
int ac_printing_refuse_text(ac_req *r, const char *field, const char *s);

/*
 * A print fault keyword (ac_cups_fault, ac_cups_error_fault, "timeout",
 * "label-too-small", "unprintable-character") as the API shows it:
 * {"code", "message", "message_zh"} with what to do; JSON null for NULL.
 * A new reference.
 */
json_t *ac_printing_fault_json(const char *fault);

#endif

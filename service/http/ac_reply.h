/*
 * Answers and what handlers read from a request: JSON responses, the error
 * shape every handler uses, one function per kind of error with one wording,
 * the JSON body and query parameters. Loop thread only.
 *
 * Errors are {"error": {"code", "message", "message_zh", "field"?,
 * "request_id"}}: a stable code for programs, an English and a Chinese
 * message for people that says what to do.
 */
#ifndef AC_REPLY_H
#define AC_REPLY_H

#include <jansson.h>

#include "ac_buf.h"
#include "ac_http.h"

/* Sends json (stolen) with status. */
void ac_req_json(ac_req *r, int status, json_t *json);
/* Sends b's bytes as JSON, or 500 when b ran out of memory. b stays the caller's. */
void ac_req_buf(ac_req *r, int status, const ac_buf *b);

/* The error shape, without and with the request field it is about. */
void ac_req_error(ac_req *r, int status, const char *code, const char *message,
		  const char *message_zh);
void ac_req_error_field(ac_req *r, int status, const char *code, const char *field,
			const char *message, const char *message_zh);

/*
 * The error shape with more members beside code and messages, from extra
 * (an object, stolen; NULL is none), e.g. {"tries_left": 3} after a wrong
 * PIN. Out of memory answers 500.
 */
void ac_req_error_more(ac_req *r, int status, const char *code, const char *message,
		       const char *message_zh, json_t *extra);

/* 500 internal: out of memory. */
void ac_req_nomem(ac_req *r);
/* 500 busy: the thread pool would not take the work. */
void ac_req_busy(ac_req *r);
/* 503 unavailable: the database could not be reached; nothing was changed. */
void ac_req_unavailable(ac_req *r);
/* 403 forbidden, saying why. */
void ac_req_forbidden(ac_req *r, const char *message, const char *message_zh);
/* 403 forbidden: the caller's role may not take act (the matrix's words). */
void ac_req_refuse(ac_req *r, ac_action act);
/* 404 not_found, naming what was not found. */
void ac_req_not_found(ac_req *r, const char *message, const char *message_zh);

/*
 * The body as a JSON object, released with the request. On failure answers
 * 400 invalid_json and returns NULL.
 */
json_t *ac_req_body_object(ac_req *r);

/*
 * Refuses a body with a member its handler does not know: table holds n
 * field descriptions of stride bytes each, every one starting with its key
 * (const char *). Returns 0, or answers 400 unknown_field (naming the
 * member) and returns -1.
 */
int ac_req_known_fields(ac_req *r, json_t *body, const void *table, size_t n, size_t stride);

/*
 * A query parameter, decoded, in buf. Returns 1 when present (possibly
 * empty), 0 when absent, or -1 after answering 400 invalid_parameter (too
 * long for buf or badly encoded).
 */
int ac_req_param(ac_req *r, const char *name, char *buf, size_t bufsz);

/*
 * An integer query parameter from min to max in *out, def when absent or
 * empty. Returns 0, or -1 after answering 400 invalid_parameter.
 */
int ac_req_param_int(ac_req *r, const char *name, int def, int min, int max, int *out);

/* Whether the client prefers JSON to HTML (Accept header). */
int ac_req_wants_json(const ac_req *r);

#endif

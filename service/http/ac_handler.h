/*
 * The one way to write a handler.
 *
 * A route (ac_router.h) names its handler, whether it needs a caller, and
 * the action the caller's role must allow. The router checks the path's
 * parameters (404), authenticates (401, 503) and checks the action (403)
 * before the handler runs; the handler then finds r->param[] decoded and
 * r->who set (NULL for an anonymous caller on an optional-auth route).
 *
 * A handler is a chain of steps. Each step either answers the request or
 * starts exactly the work it waits for: a query (ac_req_query and friends,
 * whose step gets the result), thread-pool work (ac_req_work), or a wait on
 * another module (ac_req_hold / ac_req_release). The helper holds a
 * reference on the request meanwhile, skips the next step when the client
 * has left, and answers a database failure itself with one wording. State
 * that steps share goes in r->ctx, allocated from the request's pool
 * (ac_req_new), as is everything else the handler needs until the end: no
 * handler frees by hand. When a step returns without an answer and without
 * work under way, the request is answered 500 and the slip is logged, so
 * that no request hangs.
 *
 * Loop thread only (the work function of ac_req_work runs in the pool).
 */
#ifndef AC_HANDLER_H
#define AC_HANDLER_H

#include "ac_db.h"
#include "ac_http.h"
#include "ac_reply.h"

/*
 * The usual start of a handler: its context (size zeroed bytes from the
 * pool, made r->ctx) and, when body is not NULL, the request body as a JSON
 * object (released with the request). Returns the context, or NULL after
 * answering (400 invalid_json, 500 out of memory).
 */
void *ac_req_context(ac_req *r, size_t size, json_t **body);
#define ac_req_ctx(r, type, body) ((type *)ac_req_context((r), sizeof(type), (body)))

/*
 * Runs sql with text parameters for r (values are copied before this
 * returns). On success calls next(r, res). A database error is answered
 * here: 503 when the database could not be reached, 409/422 for a
 * constraint the input broke (see ac_req_db_error), unless r->on_db_error,
 * when set, answers it first (returning 1). The hook gets the SQLSTATE,
 * "08006" when the database could not be reached at all.
 */
void ac_req_query(ac_req *r, const char *sql, int n, const char *const *values, ac_step next);

/* The same, with the caller (r->who) recorded as the actor by the audit
 * triggers (sql/AUDIT.md). For statements that change something. */
void ac_req_query_as(ac_req *r, const char *sql, int n, const char *const *values, ac_step next);

/* The same for a call built with named arguments (ac_db_call.h). */
void ac_req_call(ac_req *r, const ac_db_call *call, ac_step next);
void ac_req_call_as(ac_req *r, const ac_db_call *call, ac_step next);
/* With another actor than the caller (a login: the person logging in). */
void ac_req_call_by(ac_req *r, const char *actor, const ac_db_call *call, ac_step next);

/*
 * The same on the read connection (config db_read: a replica, or the
 * primary when none is set), for reads that tolerate a little lag: scans,
 * trace, statistics, EPCIS, registry lists. Never for a write, nor for
 * reading what the same client just wrote.
 */
void ac_req_query_read(ac_req *r, const char *sql, int n, const char *const *values, ac_step next);
void ac_req_call_read(ac_req *r, const ac_db_call *call, ac_step next);

/*
 * How a database error is answered when the handler did not: 503 for a lost
 * connection or any error the input did not cause; 409 conflict for a
 * unique violation; 422 unknown_reference for a foreign key; 422
 * invalid_value for other data errors (SQLSTATE classes 22 and 23).
 */
void ac_req_db_error(ac_req *r, const ac_db_result *res, const char *msg);

/*
 * Answers 200 with the document the database wrote (a list built by an SQL
 * function) in column col of res's row 0, as content_type; 503 when there
 * is none.
 */
void ac_req_db_document(ac_req *r, const ac_db_result *res, const char *col,
			const char *content_type);
/* A step that does that with the JSON in column "doc": a list an SQL function wrote. */
void ac_req_doc_step(ac_req *r, const ac_db_result *res);

/*
 * Runs work(arg) in the thread pool (it must touch nothing but arg), then
 * after(r, arg) on the loop, unless the client has left. Answers 500 busy
 * when the pool refuses the work.
 */
typedef void (*ac_work_fn)(void *arg);
typedef void (*ac_after_fn)(ac_req *r, void *arg);
void ac_req_work(ac_req *r, ac_work_fn work, ac_after_fn after, void *arg);

/*
 * A wait on another module (the issuer, the scan lookups): hold before
 * handing r over; release when the module is done with it, after answering
 * or starting the next step.
 */
void ac_req_hold(ac_req *r);
void ac_req_release(ac_req *r);

#endif

/*
 * A call of an SQL function with named arguments, so that C code binds each
 * value to the parameter's name rather than to a counted position:
 *
 *	ac_db_call c;
 *	ac_db_call_init(&c, "reissue");
 *	ac_db_arg_int(&c, "serial", "bigint", serial);
 *	ac_db_arg(&c, "origin", "text", origin);
 *
 * is sent as SELECT * FROM reissue(serial => $1::bigint, origin => $2::text)
 * with the values as text parameters. The same arguments in the same order
 * give the same statement text, so it is prepared once per connection.
 * Pure: no I/O; values are borrowed until the call is sent (integers are
 * kept in the call itself).
 */
#ifndef AC_DB_CALL_H
#define AC_DB_CALL_H

#include <stddef.h>

#include "ac_buf.h"

#define AC_DB_CALL_MAX 32
#define AC_DB_CALL_SQL 2048

typedef struct ac_db_call {
	int n;
	int overflow; /* an argument did not fit: the call must not be sent */
	const char *values[AC_DB_CALL_MAX];
	char ints[AC_DB_CALL_MAX][24];
	size_t len;
	char sql[AC_DB_CALL_SQL]; /* the statement so far, without the closing ")" */
} ac_db_call;

/* Starts SELECT * FROM fn(. fn is a trusted identifier from the code. */
void ac_db_call_init(ac_db_call *c, const char *fn);

/* Adds name => $k::type with value (NULL is SQL NULL); name and type are
 * trusted identifiers from the code. */
void ac_db_arg(ac_db_call *c, const char *name, const char *type, const char *value);
void ac_db_arg_int(ac_db_call *c, const char *name, const char *type, long long value);

/*
 * Array arguments, built as PostgreSQL array literals one element at a time
 * (ac_buf_pg_next...): a table of the function's parameters, and one buffer
 * each. ac_db_arrays_open starts every literal; ac_db_arrays_args ends them
 * and adds each as params[k].name => its buffer, returning 0 or -ENOMEM when
 * a buffer ran out of memory (the call must then not be sent); the buffers
 * must live until the call is sent, and are freed with ac_db_arrays_free.
 */
typedef struct ac_db_param {
	const char *name;
	const char *type;
} ac_db_param;

void ac_db_arrays_open(ac_buf *bufs, int n);
int ac_db_arrays_args(ac_db_call *c, const ac_db_param *params, ac_buf *bufs, int n);
void ac_db_arrays_free(ac_buf *bufs, int n);

/*
 * The complete statement into out (at least AC_DB_CALL_SQL + 2 bytes).
 * Returns 0, or -1 when an argument did not fit.
 */
int ac_db_call_sql(const ac_db_call *c, char *out, size_t outsz);

#endif

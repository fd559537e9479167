#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ac_db_call.h"

void ac_db_call_init(ac_db_call *c, const char *fn)
{
	int n;

	memset(c, 0, sizeof(*c));
	n = snprintf(c->sql, sizeof(c->sql), "SELECT * FROM %s(", fn);
	if (n < 0 || (size_t)n >= sizeof(c->sql))
		c->overflow = 1;
	else
		c->len = (size_t)n;
}

void ac_db_arg(ac_db_call *c, const char *name, const char *type, const char *value)
{
	int n;

	if (c->overflow || c->n == AC_DB_CALL_MAX) {
		c->overflow = 1;
		return;
	}
	n = snprintf(c->sql + c->len, sizeof(c->sql) - c->len, "%s%s => $%d::%s",
		     c->n > 0 ? ", " : "", name, c->n + 1, type);
	if (n < 0 || (size_t)n >= sizeof(c->sql) - c->len) {
		c->overflow = 1;
		return;
	}
	c->len += (size_t)n;
	c->values[c->n++] = value;
}

void ac_db_arg_int(ac_db_call *c, const char *name, const char *type, long long value)
{
	if (c->n < AC_DB_CALL_MAX) {
		snprintf(c->ints[c->n], sizeof(c->ints[c->n]), "%lld", value);
		ac_db_arg(c, name, type, c->ints[c->n]);
	} else {
		c->overflow = 1;
	}
}

int ac_db_call_sql(const ac_db_call *c, char *out, size_t outsz)
{
	if (c->overflow || c->len + 2 > outsz)
		return -1;
	memcpy(out, c->sql, c->len);
	out[c->len] = ')';
	out[c->len + 1] = '\0';
	return 0;
}

void ac_db_arrays_open(ac_buf *bufs, int n)
{
	for (int k = 0; k < n; k++) {
		ac_buf_init(&bufs[k]);
		ac_buf_add(&bufs[k], "{", 1);
	}
}

int ac_db_arrays_args(ac_db_call *c, const ac_db_param *params, ac_buf *bufs, int n)
{
	int ok = 1;

	for (int k = 0; k < n; k++) {
		ac_buf_add(&bufs[k], "}", 1);
		ok &= ac_buf_ok(&bufs[k]);
		ac_db_arg(c, params[k].name, params[k].type, bufs[k].data);
	}
	return ok ? 0 : -ENOMEM;
}

void ac_db_arrays_free(ac_buf *bufs, int n)
{
	for (int k = 0; k < n; k++)
		ac_buf_free(&bufs[k]);
}

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_certdb.h"

static char *dup_field(const ac_db_result *res, int row, const char *name, int *fail)
{
	const char *v = ac_db_field(res, row, name);
	char *s = v != NULL ? strdup(v) : NULL;

	*fail |= v != NULL && s == NULL;
	return s;
}

static long long int_field(const ac_db_result *res, int row, const char *name)
{
	const char *v = ac_db_field(res, row, name);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

/* The item codes, from a PostgreSQL array literal {A,B,...} (base32 needs no quoting). */
static int read_codes(ac_cert *c, const char *arr)
{
	c->codes = calloc(c->labels > 0 ? c->labels : 1, sizeof(char *));
	if (c->codes == NULL)
		return -ENOMEM;
	if (arr == NULL || arr[0] != '{')
		return 0;
	arr++;
	for (int i = 0; i < c->labels && *arr != '\0' && *arr != '}'; i++) {
		size_t len = strcspn(arr, ",}");

		if (len != 4 || strncmp(arr, "NULL", 4) != 0) {
			c->codes[i] = strndup(arr, len);
			if (c->codes[i] == NULL)
				return -ENOMEM;
		}
		arr += len;
		if (*arr == ',')
			arr++;
	}
	return 0;
}

int ac_certdb_read(const ac_db_result *res, int row, ac_cert *c)
{
	int fail = 0;
	const char *issued = ac_db_field(res, row, "issued_at");

	memset(c, 0, sizeof(*c));
	c->serial = (uint64_t)int_field(res, row, "serial");
	c->kid = (int)int_field(res, row, "kid");
	c->issuer_id = (int)int_field(res, row, "issuer_id");
	c->issuer_name = dup_field(res, row, "issuer_name", &fail);
	c->style = (int)int_field(res, row, "style");
	c->basis = (int)int_field(res, row, "basis");
	c->product_id = (int)int_field(res, row, "product_id");
	c->product_name = dup_field(res, row, "product_name", &fail);
	c->quantity_milli = int_field(res, row, "quantity_milli");
	c->unit = (int)int_field(res, row, "unit");
	c->origin = dup_field(res, row, "origin", &fail);
	c->origin_code = int_field(res, row, "origin_code");
	c->contact = dup_field(res, row, "contact", &fail);
	snprintf(c->issued_at, sizeof(c->issued_at), "%s", issued ? issued : "");
	c->labels = (int)int_field(res, row, "labels");
	c->revoked_at = dup_field(res, row, "revoked_at", &fail);
	c->revoke_reason = dup_field(res, row, "revoke_reason", &fail);
	c->print_job_id = int_field(res, row, "print_job_id");
	c->printer_id = dup_field(res, row, "printer_id", &fail);
	c->print_state = dup_field(res, row, "print_state", &fail);
	c->request_fp = dup_field(res, row, "request_fp", &fail);
	c->test_id = int_field(res, row, "test_id");
	c->assisted_by = (int)int_field(res, row, "assisted_by");
	c->assisted_by_name = dup_field(res, row, "assisted_by_name", &fail);
	if (read_codes(c, ac_db_field(res, row, "item_codes")) != 0)
		fail = 1;
	return fail ? -ENOMEM : 0;
}

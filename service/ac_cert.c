#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_cert.h"
#include "ac_code.h"

void ac_cert_clear(ac_cert *c)
{
	if (c == NULL)
		return;
	free(c->issuer_name);
	free(c->product_name);
	free(c->origin);
	free(c->contact);
	if (c->codes != NULL) {
		for (int i = 0; i < c->labels; i++)
			free(c->codes[i]);
	}
	free(c->codes);
	free(c->revoked_at);
	free(c->revoke_reason);
	free(c->printer_id);
	free(c->print_state);
	free(c->request_fp);
	memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static long long to_ll(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

int ac_cert_from_row(const ac_db_result *res, int row, ac_cert *c)
{
	const char *codes;

	memset(c, 0, sizeof(*c));
	c->serial = (uint64_t)to_ll(ac_db_get(res, row, 0));
	c->kid = (int)to_ll(ac_db_get(res, row, 1));
	c->issuer_id = (int)to_ll(ac_db_get(res, row, 2));
	c->issuer_name = dup_or_null(ac_db_get(res, row, 3));
	c->style = (int)to_ll(ac_db_get(res, row, 4));
	c->basis = (int)to_ll(ac_db_get(res, row, 5));
	c->product_id = (int)to_ll(ac_db_get(res, row, 6));
	c->product_name = dup_or_null(ac_db_get(res, row, 7));
	c->quantity_milli = to_ll(ac_db_get(res, row, 8));
	c->unit = (int)to_ll(ac_db_get(res, row, 9));
	c->origin = dup_or_null(ac_db_get(res, row, 10));
	c->origin_code = to_ll(ac_db_get(res, row, 11));
	c->contact = dup_or_null(ac_db_get(res, row, 12));
	snprintf(c->issued_at, sizeof(c->issued_at), "%s",
		 ac_db_get(res, row, 13) ? ac_db_get(res, row, 13) : "");
	c->labels = (int)to_ll(ac_db_get(res, row, 14));
	codes = ac_db_get(res, row, 15);
	c->codes = calloc(c->labels > 0 ? c->labels : 1, sizeof(char *));
	if (c->codes == NULL)
		return -1;
	for (int i = 0; codes != NULL && i < c->labels; i++) {
		const char *comma = strchr(codes, ',');
		size_t len = comma ? (size_t)(comma - codes) : strlen(codes);

		c->codes[i] = strndup(codes, len);
		codes = comma ? comma + 1 : NULL;
	}
	c->revoked_at = dup_or_null(ac_db_get(res, row, 16));
	c->revoke_reason = dup_or_null(ac_db_get(res, row, 17));
	c->print_job_id = to_ll(ac_db_get(res, row, 18));
	c->printer_id = dup_or_null(ac_db_get(res, row, 19));
	c->print_state = dup_or_null(ac_db_get(res, row, 20));
	c->request_fp = dup_or_null(ac_db_get(res, row, 21));
	return 0;
}

void ac_cert_number(uint64_t serial, char out[24])
{
	snprintf(out, 24, "%012llu", (unsigned long long)serial);
}

void ac_quantity_text(int64_t milli, char *out, size_t outsz)
{
	if (milli % 1000 == 0)
		snprintf(out, outsz, "%lld", (long long)(milli / 1000));
	else if (milli % 100 == 0)
		snprintf(out, outsz, "%lld.%01lld", (long long)(milli / 1000),
			 (long long)(milli % 1000 / 100));
	else if (milli % 10 == 0)
		snprintf(out, outsz, "%lld.%02lld", (long long)(milli / 1000),
			 (long long)(milli % 1000 / 10));
	else
		snprintf(out, outsz, "%lld.%03lld", (long long)(milli / 1000),
			 (long long)(milli % 1000));
}

void ac_mask_contact(const char *in, char *out, size_t outsz)
{
	size_t n = in ? strlen(in) : 0;

	if (n == 11 && strspn(in, "0123456789") == 11)
		snprintf(out, outsz, "%.3s****%.4s", in, in + 7);
	else
		snprintf(out, outsz, "%s", in ? in : "");
}

json_t *ac_cert_json(const ac_cert *c, const char *public_url, int with_items)
{
	char number[24];
	char origin_code[16];
	json_t *j;
	json_t *q;

	ac_cert_number(c->serial, number);
	snprintf(origin_code, sizeof(origin_code), "%012lld", (long long)c->origin_code);
	if (c->quantity_milli % 1000 == 0)
		q = json_integer(c->quantity_milli / 1000);
	else
		q = json_real((double)c->quantity_milli / 1000.0);
	j = json_pack("{s:I,s:s,s:i,s:s,s:s,s:{s:i,s:s?},s:{s:i,s:s?},s:o,s:s,s:s,s:s?,s:s,s:s,"
		      "s:s,s:s?,s:i,s:i,s:s}",
		      "id", (json_int_t)c->serial, "number", number, "style", c->style, "promise",
		      ac_style_promise_zh(c->style), "issued_at", c->issued_at, "issuer", "id",
		      c->issuer_id, "name", c->issuer_name, "product", "id", c->product_id, "name",
		      c->product_name, "quantity", q, "unit", ac_unit_name(c->unit), "unit_zh",
		      ac_unit_name_zh(c->unit), "origin", c->origin, "origin_code", origin_code,
		      "basis", ac_basis_name(c->basis), "basis_zh", ac_basis_name_zh(c->basis),
		      "contact", c->contact, "labels", c->labels, "key_id", c->kid, "status",
		      c->revoked_at ? "revoked" : "valid");
	if (j == NULL)
		return NULL;
	if (c->revoked_at != NULL) {
		json_object_set_new(j, "revoked_at", json_string(c->revoked_at));
		json_object_set_new(j, "revoke_reason",
				    c->revoke_reason ? json_string(c->revoke_reason) : json_null());
	}
	if (with_items) {
		json_t *items = json_array();

		for (int i = 0; i < c->labels && c->codes != NULL; i++) {
			char url[512];

			if (c->codes[i] == NULL ||
			    ac_code_url(public_url, c->codes[i], url, sizeof(url)) < 0)
				continue;
			json_array_append_new(items,
					      json_pack("{s:i,s:s}", "index", i + 1, "code", url));
		}
		json_object_set_new(j, "items", items);
	}
	if (c->print_job_id != 0)
		json_object_set_new(j, "print_job",
				    json_pack("{s:I,s:s?,s:s?}", "id", (json_int_t)c->print_job_id,
					      "printer", c->printer_id, "state", c->print_state));
	else
		json_object_set_new(j, "print_job", json_null());
	return j;
}

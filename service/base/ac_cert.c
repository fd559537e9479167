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
	free(c->assisted_by_name);
	memset(c, 0, sizeof(*c));
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

static void key_str(ac_buf *b, const char *key, const char *value)
{
	ac_buf_puts(b, ",\"");
	ac_buf_puts(b, key);
	ac_buf_puts(b, "\":");
	ac_buf_json_str(b, value);
}

static void key_int(ac_buf *b, const char *key, long long value)
{
	ac_buf_puts(b, ",\"");
	ac_buf_puts(b, key);
	ac_buf_puts(b, "\":");
	ac_buf_int(b, value);
}

void ac_cert_write_json(ac_buf *b, const ac_cert *c, const char *public_url, int flags)
{
	char number[24];
	char text[64];

	ac_cert_number(c->serial, number);
	ac_buf_puts(b, "{\"id\":");
	ac_buf_int(b, (long long)c->serial);
	key_str(b, "number", number);
	key_int(b, "style", c->style);
	key_str(b, "promise", ac_style_promise_zh(c->style));
	key_str(b, "issued_at", c->issued_at);
	ac_buf_puts(b, ",\"issuer\":{\"id\":");
	ac_buf_int(b, c->issuer_id);
	key_str(b, "name", c->issuer_name);
	ac_buf_puts(b, "},\"product\":{\"id\":");
	ac_buf_int(b, c->product_id);
	key_str(b, "name", c->product_name);
	ac_buf_puts(b, "},\"quantity\":");
	ac_quantity_text(c->quantity_milli, text, sizeof(text));
	ac_buf_puts(b, text);
	key_str(b, "unit", ac_unit_name(c->unit));
	key_str(b, "unit_zh", ac_unit_name_zh(c->unit));
	key_str(b, "origin", c->origin);
	snprintf(text, sizeof(text), "%012lld", (long long)c->origin_code);
	key_str(b, "origin_code", text);
	key_str(b, "basis", ac_basis_name(c->basis));
	key_str(b, "basis_zh", ac_basis_name_zh(c->basis));
	if (flags & AC_CERT_PUBLIC) {
		ac_mask_contact(c->contact, text, sizeof(text));
		key_str(b, "contact", text);
	} else {
		key_str(b, "contact", c->contact);
	}
	key_int(b, "labels", c->labels);
	key_int(b, "key_id", c->kid);
	key_str(b, "status", c->revoked_at ? "revoked" : "valid");
	if (c->revoked_at != NULL) {
		key_str(b, "revoked_at", c->revoked_at);
		key_str(b, "revoke_reason", c->revoke_reason);
	}
	if (flags & AC_CERT_ITEMS) {
		ac_buf_puts(b, ",\"items\":[");
		for (int i = 0, n = 0; i < c->labels && c->codes != NULL; i++) {
			char url[512];

			if (c->codes[i] == NULL ||
			    ac_code_url(public_url, c->codes[i], url, sizeof(url)) < 0)
				continue;
			ac_buf_puts(b, n++ ? ",{\"index\":" : "{\"index\":");
			ac_buf_int(b, i + 1);
			key_str(b, "code", url);
			ac_buf_puts(b, "}");
		}
		ac_buf_puts(b, "]");
	}
	if (!(flags & AC_CERT_PUBLIC)) {
		if (c->assisted_by != 0) {
			ac_buf_puts(b, ",\"assisted_by\":{\"id\":");
			ac_buf_int(b, c->assisted_by);
			key_str(b, "name", c->assisted_by_name ? c->assisted_by_name : "");
			ac_buf_puts(b, "}");
		}
		if (c->print_job_id != 0) {
			ac_buf_puts(b, ",\"print_job\":{\"id\":");
			ac_buf_int(b, (long long)c->print_job_id);
			key_str(b, "printer", c->printer_id);
			key_str(b, "state", c->print_state);
			ac_buf_puts(b, "}");
		} else {
			ac_buf_puts(b, ",\"print_job\":null");
		}
	}
	ac_buf_puts(b, "}");
}

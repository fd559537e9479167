#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ac_app.h"
#include "ac_cert.h"
#include "ac_chain.h"
#include "ac_code.h"
#include "ac_reply.h"

/*
 * The rules' answers. A message names the figures of the refusal as
 * {key}: a key ending in _milli is a quantity, one ending in unit a unit's
 * name, {input} the certificate or external lot the input draws from.
 */
static const struct chain_rule {
	const char *code;
	int status;
	const char *en;
	const char *zh;
} rules[] = {
	{ "insufficient_input", 409,
	  "{input} is short by {short_milli} {unit} (received {received_milli}, already used "
	  "{used_milli})",
	  "{input} 剩余数量不足：还差 {short_milli} {unit}（收取 {received_milli}，已用 "
	  "{used_milli}）" },
	{ "unit_mismatch", 422,
	  "{input}: {unit} cannot be converted to {to_unit}; give the quantity in {to_unit} (kg, "
	  "g, t and jin convert to each other, a count unit to nothing else)",
	  "{input} 的单位「{unit}」不能换算为「{to_unit}」，请按「{to_unit}」填写数量（千克、克、"
	  "吨、斤可以互相换算，个、头、箱、袋等计数单位不能）" },
	{ "product_mismatch", 422,
	  "{input} is {product}, which a certificate of {to_product} may not contain: re-issue it "
	  "as {product}, or ask the county office to declare {product} part of {to_product}",
	  "{input} 的产品是「{product}」，不能开入「{to_product}」的合格证：请按「{product}」开具，"
	  "或请县农安中心把「{product}」登记为「{to_product}」可含的品种" },
	{ "output_exceeds_inputs", 422,
	  "the certificate says {quantity_milli} {unit}, more than its inputs give "
	  "({inputs_milli} {unit}): give what there is (a loss is allowed, a gain is not)",
	  "合格证数量 {quantity_milli} {unit} 超过所用进货合计 {inputs_milli} "
	  "{unit}：请按实际数量填写（可以有损耗，不能多于进货）" },
	{ "unknown_external", 422, "{input} is not one you registered; check its id",
	  "{input} 不是您登记的，请核对编号" },
};

#define INACTIVE_EN                                                                                \
	"your registration is suspended or blacklisted: you may neither collect nor issue "        \
	"certificates; contact your township office"
#define INACTIVE_ZH "您的主体已被暂停或列入黑名单，暂不能收取或开具合格证，请联系乡镇农安办"

int ac_chain_quantity(json_t *v, int64_t *milli)
{
	double q = json_number_value(v);

	if (!json_is_number(v) || !(q > 0) || q > AC_CHAIN_MAX_QUANTITY ||
	    fabs(q * 1000 - round(q * 1000)) > 1e-6)
		return -1;
	*milli = (int64_t)llround(q * 1000);
	return 0;
}

const ac_product *ac_chain_product(ac_req *r, const char *field, json_t *v)
{
	const ac_product *p = json_is_string(v)
				  ? ac_catalog_by_name(ac_app_of(r)->catalog, json_string_value(v))
				  : NULL;

	if (p == NULL)
		ac_req_error_field(r, 422, "unknown_product", field,
				   "the product is not in the catalogue",
				   "产品不在产品目录中，请从列表中选择");
	return p;
}

void ac_chain_inactive(ac_req *r)
{
	ac_req_error(r, 403, "subject_inactive", INACTIVE_EN, INACTIVE_ZH);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* What an input draws from: an inbound certificate by its number, or an
 * external lot by its id. */
static void put_input(ac_buf *b, json_t *d, int zh)
{
	json_t *external = json_object_get(d, "external");
	char number[24];

	if (json_is_integer(external)) {
		ac_buf_puts(b, zh ? "外来合格证 " : "external certificate ");
		ac_buf_int(b, json_integer_value(external));
		return;
	}
	ac_cert_number((uint64_t)json_integer_value(json_object_get(d, "input")), number);
	ac_buf_puts(b, zh ? "进货合格证 " : "inbound certificate ");
	ac_buf_puts(b, number);
}

/* The value of {key}, as a person reads it. */
static void put_value(ac_buf *b, json_t *d, const char *key, int zh)
{
	json_t *v = json_object_get(d, key);
	char text[32];
	const char *name;

	if (strcmp(key, "input") == 0) {
		put_input(b, d, zh);
	} else if (ends_with(key, "_milli")) {
		ac_quantity_text(json_integer_value(v), text, sizeof(text));
		ac_buf_puts(b, text);
	} else if (ends_with(key, "unit")) {
		name = zh ? ac_unit_name_zh((int)json_integer_value(v))
			  : ac_unit_name((int)json_integer_value(v));
		ac_buf_puts(b, name != NULL ? name : "?");
	} else if (json_is_string(v)) {
		ac_buf_puts(b, json_string_value(v));
	}
}

/* The message template t with its {keys} filled in from d. */
static void expand(ac_buf *b, const char *t, json_t *d, int zh)
{
	const char *open, *close;
	char key[32];

	while ((open = strchr(t, '{')) != NULL && (close = strchr(open, '}')) != NULL) {
		ac_buf_add(b, t, (size_t)(open - t));
		snprintf(key, sizeof(key), "%.*s", (int)(close - open - 1), open + 1);
		put_value(b, d, key, zh);
		t = close + 1;
	}
	ac_buf_puts(b, t);
}

void ac_chain_refuse(ac_req *r, const char *detail)
{
	json_t *d = json_loads(detail, 0, NULL);
	const char *code = json_string_value(json_object_get(d, "code"));
	const struct chain_rule *rule = NULL;
	json_t *err;
	ac_buf en, zh;

	for (size_t i = 0; code != NULL && i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].code, code) == 0)
			rule = &rules[i];
	}
	if (rule == NULL) {
		if (code != NULL && strcmp(code, "subject_inactive") == 0)
			ac_chain_inactive(r);
		else
			ac_req_error(r, 422, "chain_rule", "a supply-chain rule refused this",
				     "不符合合格证收取和再次开具的规定");
		json_decref(d);
		return;
	}
	ac_buf_init(&en);
	ac_buf_init(&zh);
	expand(&en, rule->en, d, 0);
	expand(&zh, rule->zh, d, 1);
	err = ac_buf_ok(&en) && ac_buf_ok(&zh)
		  ? json_pack("{s:s,s:s,s:s,s:s,s:O}", "code", rule->code, "message", en.data,
			      "message_zh", zh.data, "request_id", r->id_str, "detail", d)
		  : NULL;
	/* Before the rules were the database's, the shortfall came as "input". */
	if (err != NULL && strcmp(rule->code, "insufficient_input") == 0)
		json_object_set(err, "input", d);
	ac_req_json(r, rule->status, err != NULL ? json_pack("{s:o}", "error", err) : NULL);
	ac_buf_free(&en);
	ac_buf_free(&zh);
	json_decref(d);
}

int ac_chain_db_error(ac_req *r, const char *sqlstate, const char *msg)
{
	if (strcmp(sqlstate, "AC001") != 0)
		return 0;
	ac_chain_refuse(r, msg);
	return 1;
}

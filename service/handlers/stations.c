/*
 * Village service stations (村级服务站) and the household producers they
 * serve (sql/0025_station.sql):
 *   PUT  /api/v1/kiosks/{kiosk}/station  makes a staff subject the station
 *                                        of a kiosk, serving villages
 *                                        (county regulators, admins)
 *   GET  /api/v1/kiosks/{kiosk}/station  the station (staff; the station)
 *   POST /api/v1/households               enrols a household producer: name,
 *                                        village, PIN, optional phone and
 *                                        products (a station for its
 *                                        villages, regulators within their
 *                                        jurisdiction)
 *   GET  /api/v1/households?q=           the producers they may help
 * The PIN is hashed with Argon2id in the thread pool. Assisted issuing
 * (代开) itself opens a session of the farmer: sessions.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_check.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_jurisdiction.h"
#include "ac_log.h"
#include "ac_secret.h"

#define MAX_VILLAGES 100 /* villages a station serves */
#define MAX_PRODUCTS 50	 /* products a household grows, at enrolment */
#define MAX_NAME     50	 /* characters of a farmer's name */
#define MAX_LIMIT    200
#define MAX_OFFSET   1000000
#define MAX_Q	     50

/* A database status (the functions' "status" column) and its answer. */
typedef struct status_answer {
	const char *status;
	int http;
	const char *code;
	const char *field; /* or NULL */
	const char *en;
	const char *zh;
} status_answer;

static const status_answer answers[] = {
	{ "unknown_kiosk", 404, "not_found", NULL, "no such kiosk", "查不到这台自助机" },
	{ "outside", 403, "outside_jurisdiction", NULL,
	  "the kiosk or a village is outside your jurisdiction",
	  "该自助机或所填的村不在您的管辖范围内" },
	{ "unknown_subject", 422, "unknown_subject", "subject",
	  "the station's subject must be a staff subject (agricert subject add staff ...)",
	  "服务站须先登记为工作人员主体" },
	{ "subject_taken", 409, "subject_taken", "subject",
	  "this subject is already the station of another kiosk",
	  "该主体已是另一台自助机的服务站" },
	{ "unknown_village", 422, "unknown_village", "village",
	  "a village code is not in the division table (12 digits, a village)",
	  "村代码不存在，请核对12位行政区划代码（到村一级）" },
	{ "phone_taken", 409, "phone_taken", "phone",
	  "this phone number already logs in to an account",
	  "这个手机号已经登记过了，请直接用它登录，或换一个号码" },
};

/* Answers what the database said (status "ok": nothing), by enroller. */
static int answer_status(ac_req *r, const char *status, int station)
{
	if (status != NULL && strcmp(status, "ok") == 0)
		return 0;
	if (status != NULL && strcmp(status, "outside") == 0 && station) {
		ac_req_error_field(r, 403, "outside_villages", "village",
				   "the village is not one this station serves",
				   "这个村不归本服务站，请到农户所在村的服务站或乡镇农安办登记");
		return -1;
	}
	for (size_t i = 0; status != NULL && i < sizeof(answers) / sizeof(answers[0]); i++) {
		const status_answer *a = &answers[i];

		if (strcmp(a->status, status) != 0)
			continue;
		if (a->field != NULL)
			ac_req_error_field(r, a->http, a->code, a->field, a->en, a->zh);
		else
			ac_req_error(r, a->http, a->code, a->en, a->zh);
		return -1;
	}
	ac_req_unavailable(r);
	return -1;
}

/* A 12-digit code given as a string or an integer, in buf; -1 when neither. */
static int village_text(json_t *v, char buf[24])
{
	int64_t code;

	if (json_is_integer(v))
		snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		snprintf(buf, 24, "%s", json_string_value(v));
	else
		return -1;
	return ac_check_region_code(buf, &code) == 0 && code % 1000 != 0 ? 0 : -1;
}

/* PUT /api/v1/kiosks/{kiosk}/station {"subject", "villages"} */

static void on_station_set(ac_req *r, const ac_db_result *res)
{
	if (answer_status(r, ac_db_field(res, 0, "status"), 0) != 0)
		return;
	ac_log_info("station", "kiosk %s: station set by subject %d id=%s", r->param[0],
		    r->who->subject_id, r->id_str);
	ac_req_doc_step(r, res);
}

/* The villages as a PostgreSQL array literal, into b; -1 after answering. */
static int villages_array(ac_req *r, json_t *v, ac_buf *b)
{
	size_t n = json_array_size(v);
	char code[24];

	if (!json_is_array(v) || n < 1 || n > MAX_VILLAGES) {
		ac_req_error_field(r, 400, "missing_field", "villages",
				   "villages lists the 1 to 100 villages (12-digit codes) served",
				   "请填写服务站服务的村（1到100个，12位代码）");
		return -1;
	}
	ac_buf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (village_text(json_array_get(v, i), code) != 0) {
			ac_req_error_field(r, 400, "invalid_field", "villages",
					   "each village is a 12-digit code of a village",
					   "村代码应为12位行政区划代码（到村一级）");
			return -1;
		}
		ac_buf_printf(b, "%s%s", i ? "," : "", code);
	}
	ac_buf_puts(b, "}");
	return 0;
}

static void handle_station_set(ac_req *r)
{
	json_t *body = ac_req_body_object(r);
	json_t *subject = json_object_get(body, "subject");
	ac_db_call call;
	ac_buf villages;

	if (body == NULL)
		return;
	if (!json_is_integer(subject) || json_integer_value(subject) < 1 ||
	    json_integer_value(subject) > INT32_MAX) {
		ac_req_error_field(r, 400, "missing_field", "subject",
				   "subject is the station's subject id", "请填写服务站的主体编号");
		return;
	}
	ac_buf_init(&villages);
	if (villages_array(r, json_object_get(body, "villages"), &villages) != 0)
		goto out;
	if (!ac_buf_ok(&villages)) {
		ac_req_nomem(r);
		goto out;
	}
	ac_db_call_init(&call, "station_set");
	ac_db_arg(&call, "p_kiosk", "text", r->param[0]);
	ac_db_arg_int(&call, "p_subject", "integer", json_integer_value(subject));
	ac_db_arg(&call, "p_villages", "bigint[]", villages.data);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_station_set);
out:
	ac_buf_free(&villages);
}

/* GET /api/v1/kiosks/{kiosk}/station */

static void on_station(ac_req *r, const ac_db_result *res)
{
	const char *subject = ac_db_field(res, 0, "subject_id");

	if (subject == NULL) {
		ac_req_not_found(r, "this kiosk is not a village station",
				 "这台自助机还不是村级服务站");
		return;
	}
	if (!ac_perm_may(r->who, AC_ACT_READ_REGISTRY) && atoi(subject) != r->who->subject_id) {
		ac_req_refuse(r, AC_ACT_READ_REGISTRY);
		return;
	}
	ac_req_doc_step(r, res);
}

static void handle_station_get(ac_req *r)
{
	ac_req_query(r,
		     "SELECT station_json($1) AS doc, (SELECT subject_id FROM station WHERE "
		     "kiosk_id = $1) AS subject_id",
		     1, r->param, on_station);
}

/* POST /api/v1/households */

typedef struct enrol_ctx {
	char pin[8];
	char hash[AC_SECRET_HASH_MAX];
	int hashed;
	const char *name, *phone, *id_number;
	char village[24];
	ac_buf products; /* {id,...} */
} enrol_ctx;

static void wipe_enrol(void *p)
{
	enrol_ctx *ctx = p;

	explicit_bzero(ctx->pin, sizeof(ctx->pin));
	explicit_bzero(ctx->hash, sizeof(ctx->hash));
	ac_buf_free(&ctx->products);
}

static void on_enrolled(ac_req *r, const ac_db_result *res)
{
	int station = ac_perm_is_role(r->who, "station");

	if (answer_status(r, ac_db_field(res, 0, "status"), station) != 0)
		return;
	ac_log_info("station", "a household enrolled by subject %d (%s) id=%s", r->who->subject_id,
		    r->who->role, r->id_str);
	ac_req_respond(r, 201, "application/json; charset=utf-8", ac_db_field(res, 0, "doc"),
		       strlen(ac_db_field(res, 0, "doc")));
}

/* Thread pool: the memory-hard hash of the PIN. */
static void hash_work(void *arg)
{
	enrol_ctx *ctx = arg;

	ctx->hashed = ac_secret_hash(ctx->pin, ctx->hash, sizeof(ctx->hash)) == 0;
}

static void after_hash(ac_req *r, void *arg)
{
	enrol_ctx *ctx = arg;
	int station = ac_perm_is_role(r->who, "station");
	ac_db_call call;

	if (!ctx->hashed) {
		ac_log_error("station", "could not hash a PIN id=%s", r->id_str);
		ac_req_error(r, 500, "internal", "could not keep the PIN", "服务器内部错误");
		return;
	}
	ac_db_call_init(&call, "enrol_household");
	ac_db_arg(&call, "p_name", "text", ctx->name);
	ac_db_arg(&call, "p_village", "bigint", ctx->village);
	ac_db_arg(&call, "p_phone", "text", ctx->phone);
	ac_db_arg(&call, "p_id_number", "text", ctx->id_number);
	ac_db_arg(&call, "p_products", "integer[]", ctx->products.data);
	ac_db_arg(&call, "p_pin_hash", "text", ctx->hash);
	ac_db_arg_int(&call, "p_by", "integer", r->who->subject_id);
	if (station)
		ac_db_arg_int(&call, "p_station", "integer", r->who->subject_id);
	else
		ac_db_arg(&call, "p_station", "integer", NULL);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_enrolled);
}

/* The products a household grows, as ids {1,2}; -1 after answering. */
static int parse_products(ac_req *r, enrol_ctx *ctx, json_t *v)
{
	const ac_catalog *cat = ac_app_of(r)->catalog;

	ac_buf_puts(&ctx->products, "{");
	if (v != NULL && (!json_is_array(v) || json_array_size(v) > MAX_PRODUCTS)) {
		ac_req_error_field(r, 400, "invalid_field", "products",
				   "products lists at most 50 product names", "产品最多填写50种");
		return -1;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		const char *name = json_string_value(json_array_get(v, i));
		const ac_product *p = name != NULL ? ac_catalog_by_name(cat, name) : NULL;

		if (p == NULL) {
			ac_req_error_field(r, 422, "unknown_product", "products",
					   "a product is not in the catalogue",
					   "产品名称不在产品目录中，请从目录中选择");
			return -1;
		}
		ac_buf_printf(&ctx->products, "%s%d", i ? "," : "", p->id);
	}
	ac_buf_puts(&ctx->products, "}");
	return 0;
}

/* An optional text field: NULL when absent or empty; -1 when invalid. */
static int optional_text(json_t *body, const char *key, int (*check)(const char *),
			 const char **out)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return 0;
	if (!json_is_string(v) || !check(json_string_value(v)))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* Name, village, phone and ID number; -1 after answering. */
static int parse_person(ac_req *r, enrol_ctx *ctx, json_t *body)
{
	json_t *name = json_object_get(body, "name");
	int chars = json_is_string(name) ? ac_check_chars(json_string_value(name)) : -1;

	if (chars < 1 || chars > MAX_NAME) {
		ac_req_error_field(r, 400, "missing_field", "name",
				   "name is the farmer's name, 1 to 50 characters",
				   "请填写农户姓名（1到50个字）");
		return -1;
	}
	ctx->name = json_string_value(name);
	if (village_text(json_object_get(body, "village"), ctx->village) != 0) {
		ac_req_error_field(r, 400, "invalid_field", "village",
				   "village is the 12-digit code of the farmer's village",
				   "请选择农户所在的村（12位代码）");
		return -1;
	}
	if (optional_text(body, "phone", ac_check_mobile, &ctx->phone) != 0) {
		ac_req_error_field(r, 400, "invalid_phone", "phone",
				   "phone is optional: an 11-digit mobile number",
				   "手机号应为11位（没有手机可以不填）");
		return -1;
	}
	if (optional_text(body, "id_number", ac_check_id_number, &ctx->id_number) != 0) {
		ac_req_error_field(r, 400, "invalid_field", "id_number",
				   "id_number must be an 18-character resident ID number",
				   "身份证号码应为18位且校验位正确，请核对");
		return -1;
	}
	return 0;
}

static const char *const enrol_keys[] = {
	"name", "village", "phone", "id_number", "products", "pin"
};

static void handle_enrol(ac_req *r)
{
	json_t *body;
	enrol_ctx *ctx = ac_req_ctx(r, enrol_ctx, &body);
	const char *pin;

	if (ctx == NULL)
		return;
	ac_buf_init(&ctx->products);
	if (ac_req_defer(r, wipe_enrol, ctx) != 0) {
		ac_req_nomem(r);
		return;
	}
	if (ac_req_known_fields(r, body, enrol_keys, 6, sizeof(enrol_keys[0])) != 0 ||
	    parse_person(r, ctx, body) != 0 ||
	    parse_products(r, ctx, json_object_get(body, "products")) != 0)
		return;
	pin = json_string_value(json_object_get(body, "pin"));
	if (pin == NULL || strlen(pin) != 6 || strspn(pin, "0123456789") != 6) {
		ac_req_error_field(r, 400, "invalid_pin", "pin",
				   "the farmer chooses a PIN of 6 digits",
				   "请农户设一个6位数字密码");
		return;
	}
	if (!ac_check_pin(pin)) {
		ac_req_error_field(r, 400, "weak_pin", "pin",
				   "the PIN is too easy to guess (like 123456 or 111111)",
				   "密码太简单（像123456、111111这样的别人容易猜到），请换一个");
		return;
	}
	if (!ac_buf_ok(&ctx->products)) {
		ac_req_nomem(r);
		return;
	}
	snprintf(ctx->pin, sizeof(ctx->pin), "%s", pin);
	ac_req_work(r, hash_work, after_hash, ctx);
}

/* GET /api/v1/households?q=&limit=&offset= */

static void handle_households(ac_req *r)
{
	char q[4 * MAX_Q + 1];
	int limit, offset;
	int rc = ac_req_param(r, "q", q, sizeof(q));
	ac_db_call call;

	if (rc < 0 || ac_req_param_int(r, "limit", 50, 1, MAX_LIMIT, &limit) != 0 ||
	    ac_req_param_int(r, "offset", 0, 0, MAX_OFFSET, &offset) != 0)
		return;
	if (rc == 1 && q[0] != '\0' && ac_check_chars(q) < 1) {
		ac_req_error_field(r, 400, "invalid_parameter", "q",
				   "q is a name or a phone number", "请输入姓名或手机号");
		return;
	}
	ac_db_call_init(&call, "households_list");
	if (ac_perm_is_role(r->who, "station"))
		ac_db_arg_int(&call, "p_station", "integer", r->who->subject_id);
	else
		ac_db_arg(&call, "p_station", "integer", NULL);
	ac_jurisdiction_args(&call, r->who);
	ac_db_arg(&call, "p_q", "text", rc == 1 && q[0] != '\0' ? q : NULL);
	ac_db_arg_int(&call, "p_limit", "integer", limit);
	ac_db_arg_int(&call, "p_offset", "integer", offset);
	ac_req_call(r, &call, ac_req_doc_step);
}

static const ac_route routes[] = {
	AC_ROUTE("PUT", "/api/v1/kiosks/{kiosk}/station", handle_station_set,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_WRITE_CATALOG),
	AC_ROUTE("GET", "/api/v1/kiosks/{kiosk}/station", handle_station_get,
		 .flags = AC_ROUTE_AUTH),
	AC_ROUTE("POST", "/api/v1/households", handle_enrol, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_ENROL),
	AC_ROUTE("GET", "/api/v1/households", handle_households, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_ENROL),
};

AC_ROUTE_TABLE(ac_station_routes, routes);

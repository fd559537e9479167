/*
 * POST /api/v1/sessions: log in. A producer, purchaser or village station
 * gives a phone number and a 6-digit PIN (at a kiosk, under the kiosk's
 * device token, which binds the session to that kiosk; a station only at its
 * own kiosk); staff give a username and a password. Five wrong attempts lock
 * the account for 15 minutes, and a wrong one says how many tries are left
 * ("tries_left"); each kiosk (or, without one, each client address) may try
 * at most AC_LOGINS_PER_MINUTE logins a minute. Argon2id verification runs
 * in the thread pool. The answer carries a session token (stored hashed,
 * expiring). DELETE /api/v1/sessions/current logs out.
 *
 * POST /api/v1/sessions/assisted {"producer", "pin"}: assisted issuing
 * (代开). A station's session at its kiosk opens a session of a producer of
 * its villages once the farmer has typed the PIN; wrong PINs count toward
 * the farmer's lockout like any login. The session is the farmer's, bound
 * to the kiosk, and names the station (assisted_by): every certificate
 * issued in it records it, as does the audit log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"
#include "ac_secret.h"

#define MAX_FAILED	  5
#define LOCK_MINUTES	  15
#define KIOSK_SESSION_MIN 15
#define PHONE_SESSION_MIN (12 * 60)
#define STAFF_SESSION_MIN (8 * 60)

/* A dummy hash verified when the login is unknown, so that the answer takes
 * as long as for a wrong secret. */
static const char dummy_hash[] = "$argon2id$v=19$m=19456,t=2,p=1$"
				 "c29tZXNhbHRzb21lc2FsdA$"
				 "oIjOi3CF0qY0zn0wGQ6Oe8v3W8D7yQ0fFGrGz0cR6cs";

typedef struct login_ctx {
	char kind[16]; /* phone_pin | password | assisted */
	char login[72];
	char secret[136];
	const char *kiosk_id; /* or "" */
	int assisted_by;      /* the station's subject in an assisted login, or 0 */
	/* The account, from the database. */
	int found;
	char account_id[16];
	char subject_id[16];
	char subject_name[256];
	char role[24];
	char station_kiosk[72]; /* a station account's kiosk, or "" */
	char hash[AC_SECRET_HASH_MAX];
	int match;
	char token[64];
} login_ctx;

/* Secrets leave no trace in freed memory. */
static void wipe(void *p)
{
	login_ctx *ctx = p;

	explicit_bzero(ctx->secret, sizeof(ctx->secret));
	explicit_bzero(ctx->hash, sizeof(ctx->hash));
	explicit_bzero(ctx->token, sizeof(ctx->token));
}

/* 401, saying how many tries are left before the lock (tries < 0: unknown). */
static void bad_credentials(ac_req *r, int tries)
{
	login_ctx *ctx = r->ctx;
	char en[160];
	char zh[200];
	int pin = strcmp(ctx->kind, "password") != 0;

	snprintf(en, sizeof(en), "%s%s",
		 strcmp(ctx->kind, "assisted") == 0 ? "wrong PIN"
		 : pin				    ? "wrong phone number or PIN"
						    : "wrong username or password",
		 tries == 1 ? "; one more wrong try locks the account for 15 minutes" : "");
	if (!pin)
		snprintf(zh, sizeof(zh), "用户名或密码错误");
	else if (tries > 0)
		snprintf(zh, sizeof(zh), "%s不对，还可以再试%d次；忘记密码请找服务站工作人员",
			 strcmp(ctx->kind, "assisted") == 0 ? "密码" : "手机号或密码", tries);
	else
		snprintf(zh, sizeof(zh), "%s不对，请再试一次；忘记密码请找服务站工作人员",
			 strcmp(ctx->kind, "assisted") == 0 ? "密码" : "手机号或密码");
	ac_req_error_more(r, 401, "invalid_credentials", en, zh,
			  tries >= 0 ? json_pack("{s:i}", "tries_left", tries) : NULL);
}

static void locked_out(ac_req *r, const char *zh)
{
	ac_req_error_more(r, 423, "account_locked",
			  "too many wrong attempts: the account is locked for 15 minutes", zh,
			  json_pack("{s:i}", "tries_left", 0));
}

static void on_session(ac_req *r, const ac_db_result *res)
{
	login_ctx *ctx = r->ctx;
	json_t *j;

	ac_log_info("login", "subject %s logged in as %s%s%s%s id=%s", ctx->subject_id, ctx->role,
		    ctx->kiosk_id[0] ? " at kiosk " : "", ctx->kiosk_id,
		    ctx->assisted_by ? ", assisted by its station" : "", r->id_str);
	j = json_pack("{s:s,s:s,s:s,s:{s:I,s:s},s:s?}", "token", ctx->token, "expires_at",
		      ac_db_field(res, 0, "expires_at"), "role", ctx->role, "subject", "id",
		      (json_int_t)atoi(ctx->subject_id), "name", ctx->subject_name, "kiosk",
		      ctx->kiosk_id[0] ? ctx->kiosk_id : NULL);
	if (j != NULL && ctx->assisted_by)
		json_object_set_new(
		    j, "assisted_by",
		    json_pack("{s:i,s:s}", "id", ctx->assisted_by, "name", r->who->name));
	ac_req_json(r, 201, j);
}

static void on_failure_counted(ac_req *r, const ac_db_result *res)
{
	if (ac_db_rows(res) == 1 && ac_db_bool(res, 0, ac_db_col(res, "locked")))
		locked_out(r, "密码错误次数过多，账号已锁定15分钟，请稍后再试或找服务站工作人员");
	else
		bad_credentials(r, ac_db_rows(res) == 1 ? atoi(ac_db_field(res, 0, "tries_left"))
							: -1);
}

/* A wrong secret still answers 401 when the count cannot be written. */
static int count_failed(ac_req *r, const char *sqlstate, const char *msg)
{
	bad_credentials(r, -1);
	return 1;
}

static void open_session(ac_req *r)
{
	login_ctx *ctx = r->ctx;
	int minutes = ctx->kiosk_id[0]			    ? KIOSK_SESSION_MIN
		      : strcmp(ctx->kind, "phone_pin") == 0 ? PHONE_SESSION_MIN
							    : STAFF_SESSION_MIN;
	char actor[128];
	ac_db_call call;

	if (ac_secret_token(ctx->token, sizeof(ctx->token)) != 0) {
		ac_req_error(r, 500, "internal", "no randomness", "服务器内部错误");
		return;
	}
	ac_db_call_init(&call, "open_session");
	ac_db_arg(&call, "p_token", "text", ctx->token);
	ac_db_arg(&call, "p_account", "int", ctx->account_id);
	ac_db_arg(&call, "p_subject", "int", ctx->subject_id);
	ac_db_arg(&call, "p_role", "text", ctx->role);
	ac_db_arg_int(&call, "p_minutes", "int", minutes);
	ac_db_arg(&call, "p_kiosk", "text", ctx->kiosk_id[0] ? ctx->kiosk_id : NULL);
	if (ctx->assisted_by)
		ac_db_arg_int(&call, "p_assisted_by", "integer", ctx->assisted_by);
	/* The audit log names the person logging in (and who helped). */
	{
		ac_principal p = { .subject_id = atoi(ctx->subject_id),
				   .assisted_by = ctx->assisted_by };

		snprintf(p.role, sizeof(p.role), "%s", ctx->role);
		snprintf(p.kiosk_id, sizeof(p.kiosk_id), "%s", ctx->kiosk_id);
		ac_perm_actor(&p, actor, sizeof(actor));
	}
	ac_req_call_by(r, actor, &call, on_session);
}

/* Thread pool: the memory-hard hash, against a dummy for an unknown login. */
static void verify_work(void *arg)
{
	login_ctx *ctx = arg;

	ctx->match = ac_secret_verify(ctx->found ? ctx->hash : dummy_hash, ctx->secret) == 0;
}

static void after_verify(ac_req *r, void *arg)
{
	login_ctx *ctx = arg;
	ac_db_call call;

	if (!ctx->found) {
		bad_credentials(r, -1);
	} else if (ctx->match && ctx->kiosk_id[0] && ctx->station_kiosk[0] &&
		   strcmp(ctx->station_kiosk, ctx->kiosk_id) != 0) {
		ac_req_forbidden(r, "a station's account logs in at its own kiosk only",
				 "服务站账号只能在本服务站的自助机上登录");
	} else if (ctx->match) {
		open_session(r);
	} else {
		ac_db_call_init(&call, "login_failed");
		ac_db_arg(&call, "p_account", "int", ctx->account_id);
		ac_db_arg_int(&call, "p_max", "int", MAX_FAILED);
		ac_db_arg_int(&call, "p_lock_minutes", "int", LOCK_MINUTES);
		r->on_db_error = count_failed;
		ac_req_call(r, &call, on_failure_counted);
	}
}

static void copy_field(char *out, size_t outsz, const ac_db_result *res, const char *col)
{
	const char *v = ac_db_field(res, 0, col);

	snprintf(out, outsz, "%s", v != NULL ? v : "");
}

/* Takes the account of res's row 0 into ctx. Returns 0, or -1 after
 * answering for a locked or disabled account. */
static int take_account(ac_req *r, login_ctx *ctx, const ac_db_result *res)
{
	ctx->found = 1;
	copy_field(ctx->account_id, sizeof(ctx->account_id), res, "account_id");
	copy_field(ctx->subject_id, sizeof(ctx->subject_id), res, "subject_id");
	copy_field(ctx->hash, sizeof(ctx->hash), res, "secret_hash");
	copy_field(ctx->role, sizeof(ctx->role), res, "role");
	copy_field(ctx->subject_name, sizeof(ctx->subject_name), res, "subject_name");
	copy_field(ctx->station_kiosk, sizeof(ctx->station_kiosk), res, "station_kiosk");
	if (ac_db_bool(res, 0, ac_db_col(res, "locked"))) {
		locked_out(r, "密码错误次数过多，账号已锁定，请15分钟后再试或找服务站工作人员");
		return -1;
	}
	if (ac_db_bool(res, 0, ac_db_col(res, "disabled"))) {
		ac_req_error(r, 403, "account_disabled", "the account is disabled",
			     "账号已停用，请联系乡镇农安办");
		return -1;
	}
	return 0;
}

static void on_account(ac_req *r, const ac_db_result *res)
{
	login_ctx *ctx = r->ctx;

	if (ac_db_rows(res) == 1 && take_account(r, ctx, res) != 0)
		return;
	ac_req_work(r, verify_work, after_verify, ctx);
}

static int is_digits(const char *s, size_t n)
{
	return s != NULL && strlen(s) == n && strspn(s, "0123456789") == n;
}

static int take_credentials(login_ctx *ctx, const char *kind, json_t *login, json_t *secret)
{
	snprintf(ctx->kind, sizeof(ctx->kind), "%s", kind);
	snprintf(ctx->login, sizeof(ctx->login), "%s", json_string_value(login));
	snprintf(ctx->secret, sizeof(ctx->secret), "%s", json_string_value(secret));
	return 0;
}

/* The credentials from the body: phone and PIN, or username and password. */
static int parse_credentials(ac_req *r, login_ctx *ctx, json_t *body)
{
	json_t *phone = json_object_get(body, "phone");
	json_t *pin = json_object_get(body, "pin");
	json_t *user = json_object_get(body, "username");
	json_t *pass = json_object_get(body, "password");

	if (phone != NULL || pin != NULL) {
		if (!is_digits(json_string_value(phone), 11)) {
			ac_req_error_field(r, 400, "invalid_phone", "phone",
					   "phone must be an 11-digit mobile number",
					   "请输入11位手机号");
			return -1;
		}
		if (!is_digits(json_string_value(pin), 6)) {
			ac_req_error_field(r, 400, "invalid_pin", "pin", "the PIN has 6 digits",
					   "密码是6位数字");
			return -1;
		}
		return take_credentials(ctx, "phone_pin", phone, pin);
	}
	if (!json_is_string(user) || !json_is_string(pass) || json_string_length(user) < 3 ||
	    json_string_length(user) > 64 || json_string_length(pass) < 1 ||
	    json_string_length(pass) > 128) {
		ac_req_error(r, 400, "missing_field",
			     "give phone and pin, or username and password", "请输入手机号和密码");
		return -1;
	}
	if (ctx->kiosk_id[0] != '\0') {
		ac_req_forbidden(r, "staff do not log in at a kiosk",
				 "工作人员请勿在自助服务站登录");
		return -1;
	}
	return take_credentials(ctx, "password", user, pass);
}

/* A login's context, its secrets wiped at the end, within the rate limit of
 * its kiosk (or client address); NULL after answering. */
static login_ctx *start_login(ac_req *r)
{
	ac_app *app = ac_app_of(r);
	login_ctx *ctx = ac_req_ctx(r, login_ctx, NULL);

	if (ctx == NULL)
		return NULL;
	if (ac_req_defer(r, wipe, ctx) != 0) {
		ac_req_nomem(r);
		return NULL;
	}
	ctx->kiosk_id = r->who != NULL ? r->who->kiosk_id : "";
	if (!ac_ratelimit_take(app->logins, ctx->kiosk_id[0] ? ctx->kiosk_id : r->peer,
			       uv_now(app->loop))) {
		ac_req_error(r, 429, "too_many_attempts",
			     "too many login attempts from this kiosk; wait a minute",
			     "登录尝试过于频繁，请一分钟后再试");
		return NULL;
	}
	return ctx;
}

static void handle_login(ac_req *r)
{
	login_ctx *ctx;
	json_t *body;

	if (r->who != NULL && (!ac_perm_is_role(r->who, "kiosk") || r->who->kiosk_id[0] == '\0')) {
		ac_req_forbidden(r, "log in without a token, or with a kiosk's device token",
				 "请直接登录，或在自助服务站登录");
		return;
	}
	if ((ctx = start_login(r)) == NULL)
		return;
	body = ac_req_body_object(r);
	if (body == NULL || parse_credentials(r, ctx, body) != 0)
		return;
	{
		const char *values[2] = { ctx->login, ctx->kind };

		ac_req_query(r, "SELECT * FROM account_for_login($1, $2)", 2, values, on_account);
	}
}

/* POST /api/v1/sessions/assisted {"producer", "pin"} */

static void on_assist_account(ac_req *r, const ac_db_result *res)
{
	login_ctx *ctx = r->ctx;

	if (ac_db_rows(res) != 1) {
		ac_req_error_field(r, 404, "unknown_producer", "producer",
				   "no enrolled producer with a PIN has this id",
				   "查不到这位农户，请先登记");
		return;
	}
	if (strcmp(ac_db_field(res, 0, "station_kiosk") ? ac_db_field(res, 0, "station_kiosk") : "",
		   ctx->kiosk_id) != 0) {
		ac_req_forbidden(r, "assisted issuing is done at the station's own kiosk",
				 "只能在本服务站的自助机上帮农户开具");
		return;
	}
	if (!ac_db_bool(res, 0, ac_db_col(res, "covered"))) {
		ac_req_error_field(r, 403, "outside_villages", "producer",
				   "the producer lives outside the villages this station serves",
				   "这位农户不在本服务站服务的村，请到其所在村的服务站办理");
		return;
	}
	if (take_account(r, ctx, res) != 0)
		return;
	ac_req_work(r, verify_work, after_verify, ctx);
}

static void handle_assist(ac_req *r)
{
	login_ctx *ctx;
	json_t *body;
	json_t *producer;
	char station[16];
	const char *values[2] = { NULL, station };

	if (r->who->kiosk_id[0] == '\0') {
		ac_req_forbidden(r, "assisted issuing is done at the station's kiosk",
				 "请在服务站的自助机上帮农户开具");
		return;
	}
	if ((ctx = start_login(r)) == NULL || (body = ac_req_body_object(r)) == NULL)
		return;
	producer = json_object_get(body, "producer");
	if (!json_is_integer(producer) || json_integer_value(producer) < 1 ||
	    json_integer_value(producer) > INT32_MAX) {
		ac_req_error_field(r, 400, "missing_field", "producer",
				   "producer is the id of the enrolled farmer", "请选择农户");
		return;
	}
	if (!is_digits(json_string_value(json_object_get(body, "pin")), 6)) {
		ac_req_error_field(r, 400, "invalid_pin", "pin", "the PIN has 6 digits",
				   "密码是6位数字");
		return;
	}
	snprintf(ctx->kind, sizeof(ctx->kind), "assisted");
	snprintf(ctx->login, sizeof(ctx->login), "%lld", (long long)json_integer_value(producer));
	snprintf(ctx->secret, sizeof(ctx->secret), "%s",
		 json_string_value(json_object_get(body, "pin")));
	ctx->assisted_by = r->who->subject_id;
	snprintf(station, sizeof(station), "%d", r->who->subject_id);
	values[0] = ctx->login;
	ac_req_query(r, "SELECT * FROM account_for_assist($1::int, $2::int)", 2, values,
		     on_assist_account);
}

/* DELETE /api/v1/sessions/current */

static void on_logout(ac_req *r, const ac_db_result *res)
{
	/* Forgotten after the revocation committed, so that no look-up under way
	 * can bring it back (ac_auth.h). */
	ac_auth_forget_token(ac_app_of(r)->auth, r->ctx);
	ac_req_respond(r, 204, "application/json", "", 0);
}

static void handle_logout(ac_req *r)
{
	const char *token = r->authorization + 7;

	while (*token == ' ')
		token++;
	r->ctx = (void *)token;
	ac_auth_forget_token(ac_app_of(r)->auth, token);
	ac_req_query_as(r,
			"UPDATE api_token SET revoked_at = now() WHERE token_hash = "
			"sha256(convert_to($1, 'UTF8')) AND revoked_at IS NULL",
			1, &token, on_logout);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/sessions", handle_login, .flags = AC_ROUTE_AUTH_OPTIONAL),
	AC_ROUTE("DELETE", "/api/v1/sessions/current", handle_logout, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("POST", "/api/v1/sessions/assisted", handle_assist, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_ASSIST),
};

AC_ROUTE_TABLE(ac_session_routes, routes);

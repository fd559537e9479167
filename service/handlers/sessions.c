/*
 * POST /api/v1/sessions: log in. A producer or purchaser gives a phone number
 * and a 6-digit PIN (at a kiosk, under the kiosk's device token, which binds
 * the session to that kiosk); staff give a username and a password. Five
 * wrong attempts lock the account for 15 minutes; each kiosk (or, without
 * one, each client address) may try at most 10 logins a minute. Argon2id
 * verification runs in the thread pool. The answer carries a session token
 * (stored hashed, expiring). DELETE /api/v1/sessions/current logs out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_perm.h"
#include "ac_secret.h"

#define MAX_FAILED	  "5"
#define LOCK_MINUTES	  "15"
#define RATE_SLOTS	  1024
#define RATE_PER_MINUTE	  10
#define KIOSK_SESSION_MIN 15
#define PHONE_SESSION_MIN (12 * 60)
#define STAFF_SESSION_MIN (8 * 60)

/* A dummy hash verified when the login is unknown, so that the answer takes
 * as long as for a wrong secret. */
static const char dummy_hash[] = "$argon2id$v=19$m=19456,t=2,p=1$"
				 "c29tZXNhbHRzb21lc2FsdA$"
				 "oIjOi3CF0qY0zn0wGQ6Oe8v3W8D7yQ0fFGrGz0cR6cs";

typedef struct rate_slot {
	char key[72];
	uint64_t window;
	int count;
} rate_slot;

static rate_slot rates[RATE_SLOTS];

/* Counts an attempt for key in the current minute; 0 when over the limit. */
static int rate_ok(const char *key, uint64_t now_ms)
{
	uint64_t h = 1469598103934665603ULL;
	uint64_t window = now_ms / 60000;
	rate_slot *s;

	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	s = &rates[h % RATE_SLOTS];
	if (strcmp(s->key, key) != 0 || s->window != window) {
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window = window;
		s->count = 0;
	}
	return ++s->count <= RATE_PER_MINUTE;
}

typedef struct login_ctx {
	uv_work_t work;
	ac_req *r;
	char kind[16]; /* phone_pin | password */
	char login[72];
	char secret[136];
	char kiosk_id[72];
	/* The account, from the database. */
	char account_id[16];
	char subject_id[16];
	char subject_name[256];
	char role[24];
	char status[16];
	char hash[AC_SECRET_HASH_MAX];
	int found;
	int match;
	char token[64];
} login_ctx;

static void ctx_free(login_ctx *ctx)
{
	explicit_bzero(ctx->secret, sizeof(ctx->secret));
	explicit_bzero(ctx->token, sizeof(ctx->token));
	free(ctx);
}

static void bad_credentials(ac_req *r, const char *kind)
{
	if (strcmp(kind, "phone_pin") == 0)
		ac_req_error(r, 401, "invalid_credentials", "wrong phone number or PIN",
			     "手机号或密码不对，请再试一次；忘记密码请找服务站工作人员");
	else
		ac_req_error(r, 401, "invalid_credentials", "wrong username or password",
			     "用户名或密码错误");
}

static void on_session(void *data, const ac_db_result *res, int err, const char *msg)
{
	login_ctx *ctx = data;
	ac_req *r = ctx->r;
	json_t *j;

	if (err != 0 || ac_db_rows(res) != 1) {
		ac_log_error("login", "could not open session: %s id=%s", msg ? msg : "no row",
			     r->id_str);
		ac_req_unavailable(r);
		goto out;
	}
	ac_log_info("login", "subject %s logged in as %s%s%s id=%s", ctx->subject_id, ctx->role,
		    ctx->kiosk_id[0] ? " at kiosk " : "", ctx->kiosk_id, r->id_str);
	j = json_pack("{s:s,s:s,s:s,s:{s:I,s:s},s:s?}", "token", ctx->token, "expires_at",
		      ac_db_get(res, 0, 0), "role", ctx->role, "subject", "id",
		      (json_int_t)atoi(ctx->subject_id), "name", ctx->subject_name, "kiosk",
		      ctx->kiosk_id[0] ? ctx->kiosk_id : NULL);
	ac_req_json(r, 201, j);
out:
	ctx_free(ctx);
	ac_req_unref(r);
}

static void on_failure_counted(void *data, const ac_db_result *res, int err, const char *msg)
{
	login_ctx *ctx = data;
	ac_req *r = ctx->r;

	if (err == 0 && ac_db_rows(res) == 1 && ac_db_get(res, 0, 0)[0] == 't')
		ac_req_error(r, 423, "account_locked",
			     "too many wrong attempts: the account is locked for 15 minutes",
			     "密码错误次数过多，账号已锁定15分钟，请稍后再试或找服务站工作人员");
	else
		bad_credentials(r, ctx->kind);
	ctx_free(ctx);
	ac_req_unref(r);
}

static void verify_work(uv_work_t *w)
{
	login_ctx *ctx = w->data;

	ctx->match = ac_secret_verify(ctx->found ? ctx->hash : dummy_hash, ctx->secret) == 0;
}

static void after_verify(uv_work_t *w, int status)
{
	login_ctx *ctx = w->data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;
	char actor[128];
	char minutes[16];
	const char *values[6];
	int rc;

	if (status != 0 || !ctx->found) {
		bad_credentials(r, ctx->kind);
		goto fail;
	}
	if (!ctx->match) {
		values[0] = ctx->account_id;
		rc = ac_db_query(
		    app->db,
		    "UPDATE account SET failed_attempts = failed_attempts + 1, "
		    "locked_until = CASE WHEN failed_attempts + 1 >= " MAX_FAILED
		    " THEN now() + interval '" LOCK_MINUTES " minutes' ELSE "
		    "locked_until END WHERE id = $1::int RETURNING failed_attempts >= " MAX_FAILED,
		    1, values, NULL, on_failure_counted, ctx);
		if (rc == 0)
			return;
		bad_credentials(r, ctx->kind);
		goto fail;
	}
	if (ac_secret_token(ctx->token, sizeof(ctx->token)) != 0) {
		ac_req_error(r, 500, "internal", "no randomness", "服务器内部错误");
		goto fail;
	}
	snprintf(minutes, sizeof(minutes), "%d",
		 ctx->kiosk_id[0]		       ? KIOSK_SESSION_MIN
		 : strcmp(ctx->kind, "phone_pin") == 0 ? PHONE_SESSION_MIN
						       : STAFF_SESSION_MIN);
	values[0] = ctx->token;
	values[1] = ctx->subject_id;
	values[2] = ctx->role;
	values[3] = minutes;
	values[4] = ctx->kiosk_id[0] ? ctx->kiosk_id : NULL;
	values[5] = ctx->account_id;
	snprintf(actor, sizeof(actor), "%s:%s%s%s", ctx->subject_id, ctx->role,
		 ctx->kiosk_id[0] ? "@" : "", ctx->kiosk_id);
	rc = ac_db_query_as(
	    app->db, actor,
	    "WITH a AS (UPDATE account SET failed_attempts = 0, locked_until = NULL, "
	    "last_login_at = now() WHERE id = $6::int) "
	    "INSERT INTO api_token (token_hash, subject_id, role, label, expires_at, "
	    "kiosk_id, account_id) VALUES (sha256(convert_to($1, 'UTF8')), $2::int, $3, "
	    "'session', now() + make_interval(mins => $4::int), $5, $6::int) "
	    "RETURNING to_char(expires_at AT TIME ZONE 'Asia/Shanghai', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')",
	    6, values, NULL, on_session, ctx);
	if (rc == 0)
		return;
	ac_req_unavailable(r);
fail:
	ctx_free(ctx);
	ac_req_unref(r);
}

static void on_account(void *data, const ac_db_result *res, int err, const char *msg)
{
	login_ctx *ctx = data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;

	if (err != 0) {
		ac_log_error("login", "could not read account: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
		goto fail;
	}
	if (ac_db_rows(res) == 1) {
		ctx->found = 1;
		snprintf(ctx->account_id, sizeof(ctx->account_id), "%s", ac_db_get(res, 0, 0));
		snprintf(ctx->subject_id, sizeof(ctx->subject_id), "%s", ac_db_get(res, 0, 1));
		snprintf(ctx->hash, sizeof(ctx->hash), "%s", ac_db_get(res, 0, 2));
		snprintf(ctx->role, sizeof(ctx->role), "%s", ac_db_get(res, 0, 3));
		snprintf(ctx->subject_name, sizeof(ctx->subject_name), "%s", ac_db_get(res, 0, 6));
		snprintf(ctx->status, sizeof(ctx->status), "%s", ac_db_get(res, 0, 7));
		if (ac_db_get(res, 0, 4)[0] == 't') {
			ac_req_error(
			    r, 423, "account_locked",
			    "too many wrong attempts: the account is locked for a while",
			    "密码错误次数过多，账号已锁定，请15分钟后再试或找服务站工作人员");
			goto fail;
		}
		if (ac_db_get(res, 0, 5)[0] == 't') {
			ac_req_error(r, 403, "account_disabled", "the account is disabled",
				     "账号已停用，请联系乡镇农安办");
			goto fail;
		}
	}
	ctx->work.data = ctx;
	if (uv_queue_work(app->loop, &ctx->work, verify_work, after_verify) == 0)
		return;
	ac_req_error(r, 500, "internal", "could not schedule the check", "系统繁忙，请稍后重试");
fail:
	ctx_free(ctx);
	ac_req_unref(r);
}

static int is_digits(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789") == n;
}

static void start_login(ac_req *r, const char *kiosk_id)
{
	ac_app *app = r->app;
	login_ctx *ctx;
	json_t *body;
	json_t *phone;
	json_t *pin;
	json_t *user;
	json_t *pass;
	const char *values[2];

	if (!rate_ok(kiosk_id ? kiosk_id : r->peer, uv_now(app->loop))) {
		ac_req_error(r, 429, "too_many_attempts",
			     "too many login attempts from this kiosk; wait a minute",
			     "登录尝试过于频繁，请一分钟后再试");
		return;
	}
	body = ac_req_body_object(r);
	if (body == NULL)
		return;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		json_decref(body);
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	snprintf(ctx->kiosk_id, sizeof(ctx->kiosk_id), "%s", kiosk_id ? kiosk_id : "");
	phone = json_object_get(body, "phone");
	pin = json_object_get(body, "pin");
	user = json_object_get(body, "username");
	pass = json_object_get(body, "password");
	if (phone != NULL || pin != NULL) {
		if (!json_is_string(phone) || !is_digits(json_string_value(phone), 11)) {
			ac_req_error_field(r, 400, "invalid_phone", "phone",
					   "phone must be an 11-digit mobile number",
					   "请输入11位手机号");
			goto fail;
		}
		if (!json_is_string(pin) || !is_digits(json_string_value(pin), 6)) {
			ac_req_error_field(r, 400, "invalid_pin", "pin", "the PIN has 6 digits",
					   "密码是6位数字");
			goto fail;
		}
		strcpy(ctx->kind, "phone_pin");
		snprintf(ctx->login, sizeof(ctx->login), "%s", json_string_value(phone));
		snprintf(ctx->secret, sizeof(ctx->secret), "%s", json_string_value(pin));
	} else if (json_is_string(user) && json_is_string(pass) && json_string_length(user) >= 3 &&
		   json_string_length(user) <= 64 && json_string_length(pass) >= 1 &&
		   json_string_length(pass) <= 128) {
		if (kiosk_id != NULL) {
			ac_req_error(r, 403, "forbidden", "staff do not log in at a kiosk",
				     "工作人员请勿在自助服务站登录");
			goto fail;
		}
		strcpy(ctx->kind, "password");
		snprintf(ctx->login, sizeof(ctx->login), "%s", json_string_value(user));
		snprintf(ctx->secret, sizeof(ctx->secret), "%s", json_string_value(pass));
	} else {
		ac_req_error(r, 400, "missing_field",
			     "give phone and pin, or username and password", "请输入手机号和密码");
		goto fail;
	}
	json_decref(body);
	body = NULL;
	values[0] = ctx->login;
	values[1] = ctx->kind;
	ac_req_ref(r);
	if (ac_db_query(app->db,
			"SELECT a.id, a.subject_id, a.secret_hash, a.role, "
			"coalesce(a.locked_until > now(), false), a.disabled OR s.status = "
			"'blacklisted', s.name, s.status FROM account a JOIN subject s ON s.id = "
			"a.subject_id WHERE a.login = $1 AND a.kind = $2",
			2, values, NULL, on_account, ctx) == 0)
		return;
	ac_req_unavailable(r);
	ac_req_unref(r);
fail:
	json_decref(body);
	ctx_free(ctx);
}

static void login_at_kiosk(ac_req *r, const ac_principal *p)
{
	if (strcmp(p->role, "kiosk") != 0 || p->kiosk_id[0] == '\0') {
		ac_req_error(r, 403, "forbidden",
			     "log in without a token, or with a kiosk's device token",
			     "请直接登录，或在自助服务站登录");
		return;
	}
	start_login(r, p->kiosk_id);
}

void ac_handle_login(ac_req *r)
{
	if (r->authorization != NULL)
		ac_auth(r, login_at_kiosk);
	else
		start_login(r, NULL);
}

static void on_logout(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_req *r = data;

	if (err != 0)
		ac_req_unavailable(r);
	else
		ac_req_respond(r, 204, "application/json", "", 0);
	ac_req_unref(r);
}

static void logout_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	const char *token = r->authorization + 7;
	const char *values[1];
	char actor[128];

	while (*token == ' ')
		token++;
	ac_auth_forget_token(token);
	values[0] = token;
	ac_perm_actor(p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(app->db, actor,
			   "UPDATE api_token SET revoked_at = now() WHERE token_hash = "
			   "sha256(convert_to($1, 'UTF8')) AND revoked_at IS NULL",
			   1, values, NULL, on_logout, r) != 0) {
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_logout(ac_req *r)
{
	ac_auth(r, logout_authed);
}

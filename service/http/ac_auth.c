#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ac_app.h"
#include "ac_error.h"
#include "ac_log.h"

/*
 * Tokens seen recently, so that a kiosk or system issuing many certificates
 * costs one token query per CACHE_TTL_MS rather than one per request. A
 * revoked or expired token keeps working for at most that long. Only
 * successful look-ups are cached; a collision simply replaces the entry.
 */
#define CACHE_SLOTS  4096
#define CACHE_TTL_MS 30000
#define TOKEN_MAX    256

typedef struct cache_entry {
	char token[TOKEN_MAX + 1];
	uint64_t expires;
	ac_principal p;
} cache_entry;

static cache_entry *cache;

static size_t token_slot(const char *token)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *token; token++) {
		h ^= (unsigned char)*token;
		h *= 1099511628211ULL;
	}
	return h % CACHE_SLOTS;
}

static const ac_principal *cache_get(const char *token, uint64_t now)
{
	cache_entry *e;

	if (cache == NULL)
		return NULL;
	e = &cache[token_slot(token)];
	if (e->expires <= now || strcmp(e->token, token) != 0)
		return NULL;
	return &e->p;
}

static void cache_put(const char *token, const ac_principal *p, uint64_t now)
{
	cache_entry *e;

	if (cache == NULL)
		cache = calloc(CACHE_SLOTS, sizeof(*cache));
	if (cache == NULL)
		return;
	e = &cache[token_slot(token)];
	snprintf(e->token, sizeof(e->token), "%s", token);
	e->p = *p;
	e->expires = now + CACHE_TTL_MS;
}

void ac_auth_forget_subject(int subject_id)
{
	for (size_t i = 0; cache != NULL && i < CACHE_SLOTS; i++) {
		if (cache[i].expires != 0 && cache[i].p.subject_id == subject_id)
			memset(&cache[i], 0, sizeof(cache[i]));
	}
}

void ac_auth_forget_token(const char *token)
{
	cache_entry *e;

	if (cache == NULL)
		return;
	e = &cache[token_slot(token)];
	if (strcmp(e->token, token) == 0)
		memset(e, 0, sizeof(*e));
}

void ac_auth_forget(void)
{
	free(cache);
	cache = NULL;
}

typedef struct auth_ctx {
	ac_req *r;
	ac_auth_cb cb;
	char token[TOKEN_MAX + 1];
} auth_ctx;

static const char auth_sql[] =
    "SELECT t.subject_id, t.role, s.name, coalesce(s.contact, ''), s.status, "
    "coalesce(s.region_code, 0), coalesce(t.kiosk_id, '') "
    "FROM api_token t JOIN subject s ON s.id = t.subject_id "
    "WHERE t.token_hash = sha256(convert_to($1, 'UTF8')) AND t.revoked_at IS NULL "
    "AND (t.expires_at IS NULL OR t.expires_at > now())";

static void on_auth(void *data, const ac_db_result *res, int err, const char *msg)
{
	auth_ctx *ctx = data;
	ac_req *r = ctx->r;
	ac_principal p;

	if (err != 0) {
		ac_log_error("auth", "could not check token: %s id=%s", msg, r->id_str);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		goto out;
	}
	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 401, "unauthorized", "the access token is unknown or expired",
			     "登录已失效，请重新登录");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.subject_id = (int)strtol(ac_db_get(res, 0, 0), NULL, 10);
	snprintf(p.role, sizeof(p.role), "%s", ac_db_get(res, 0, 1));
	snprintf(p.name, sizeof(p.name), "%s", ac_db_get(res, 0, 2));
	snprintf(p.contact, sizeof(p.contact), "%s", ac_db_get(res, 0, 3));
	snprintf(p.status, sizeof(p.status), "%s", ac_db_get(res, 0, 4));
	p.region_code = strtoll(ac_db_get(res, 0, 5), NULL, 10);
	snprintf(p.kiosk_id, sizeof(p.kiosk_id), "%s", ac_db_get(res, 0, 6));
	cache_put(ctx->token, &p, uv_now(((ac_app *)r->app)->loop));
	if (!r->gone)
		ctx->cb(r, &p);
out:
	free(ctx);
	ac_req_unref(r);
}

void ac_auth(ac_req *r, ac_auth_cb cb)
{
	ac_app *app = r->app;
	const char *h = r->authorization;
	const ac_principal *cached;
	const char *token;
	auth_ctx *ctx;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		ac_req_error(r, 401, "unauthorized", "an Authorization: Bearer token is required",
			     "请先登录");
		return;
	}
	token = h + 7;
	while (*token == ' ')
		token++;
	if (*token == '\0' || strlen(token) > TOKEN_MAX) {
		ac_req_error(r, 401, "unauthorized", "the access token is malformed",
			     "登录凭证格式错误，请重新登录");
		return;
	}
	cached = cache_get(token, uv_now(app->loop));
	if (cached != NULL) {
		ac_principal p = *cached;

		cb(r, &p);
		return;
	}
	ctx = malloc(sizeof(*ctx));
	if (ctx == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	ctx->cb = cb;
	snprintf(ctx->token, sizeof(ctx->token), "%s", token);
	ac_req_ref(r);
	if (ac_db_query(app->db, auth_sql, 1, &token, NULL, on_auth, ctx) != 0) {
		free(ctx);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		ac_req_unref(r);
	}
}

void ac_start_on_certificate(ac_req *r, const char *id, size_t size, void (*release)(void *),
			     ac_auth_cb cb)
{
	ac_id_ctx *ctx;

	if (strlen(id) == 0 || strlen(id) > 15 || strspn(id, "0123456789") != strlen(id)) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
		return;
	}
	ctx = calloc(1, size);
	if (ctx == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	snprintf(ctx->id, sizeof(ctx->id), "%s", id);
	r->handler_data = ctx;
	r->handler_free = release;
	ac_auth(r, cb);
}

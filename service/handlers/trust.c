/*
 * GET /api/v1/trust-bundle and GET /api/v1/trust-bundle/key: the signed
 * bundle an offline verifier loads, and the bundle key's public half that an
 * inspector installs once. The bundle is rebuilt at most once a minute (or
 * after a key reload); requests arriving while it is built wait for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_trust.h"

#define BUNDLE_TTL_MS 60000
#define BUNDLE_TYPE   "text/plain; charset=utf-8"

typedef struct waiter {
	ac_req *r;
	struct waiter *next;
} waiter;

static struct {
	char *text;
	size_t len;
	uint64_t built_ms;
	const ac_keyring *keys; /* the ring it was built from */
	int building;
	waiter *waiters;
} cache;

static void answer_waiters(int ok, const char *why)
{
	waiter *w = cache.waiters;

	cache.waiters = NULL;
	while (w != NULL) {
		waiter *next = w->next;

		if (ok)
			ac_req_respond(w->r, 200, BUNDLE_TYPE, cache.text, cache.len);
		else
			ac_req_error(w->r, 503, "bundle_unavailable", why,
				     "暂时无法生成信任包，请稍后重试");
		ac_req_unref(w->r);
		free(w);
		w = next;
	}
}

static void on_content(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_app *app = data;
	char *text = NULL;
	size_t len = 0;
	char why[512];

	cache.building = 0;
	if (err != 0 || ac_db_rows(res) != 1) {
		ac_log_error("trust", "could not read the catalogue: %s", msg ? msg : "no row");
		answer_waiters(0, "the database is unavailable, try again");
		return;
	}
	if (ac_trust_make(app->keys, app->bundle_keys->signer,
			  strtoull(ac_db_get(res, 0, 0), NULL, 10), app->cfg.region,
			  ac_db_get(res, 0, 1), ac_db_get(res, 0, 2), ac_db_get(res, 0, 3),
			  ac_db_get(res, 0, 4), &text, &len, why, sizeof(why)) != 0) {
		ac_log_error("trust", "%s", why);
		answer_waiters(0, "the trust bundle could not be built");
		return;
	}
	free(cache.text);
	cache.text = text;
	cache.len = len;
	cache.built_ms = uv_now(app->loop);
	cache.keys = app->keys;
	answer_waiters(1, NULL);
}

void ac_handle_trust_bundle(ac_req *r)
{
	ac_app *app = r->app;
	waiter *w;

	if (app->bundle_keys == NULL || app->bundle_keys->signer == NULL) {
		ac_req_error(r, 503, "no_bundle_key",
			     "no trust bundle key is configured (agricert key new --bundle)",
			     "未配置信任包签名密钥，请联系管理员");
		return;
	}
	if (cache.text != NULL && cache.keys == app->keys &&
	    uv_now(app->loop) - cache.built_ms < BUNDLE_TTL_MS) {
		ac_req_respond(r, 200, BUNDLE_TYPE, cache.text, cache.len);
		return;
	}
	w = malloc(sizeof(*w));
	if (w == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_req_ref(r);
	w->r = r;
	w->next = cache.waiters;
	cache.waiters = w;
	if (cache.building)
		return;
	cache.building = 1;
	if (ac_db_query(app->db, ac_trust_sql, 0, NULL, NULL, on_content, app) != 0) {
		cache.building = 0;
		answer_waiters(0, "the database is unavailable, try again");
	}
}

void ac_handle_trust_key(ac_req *r)
{
	ac_app *app = r->app;
	const ac_keyring_entry *e = app->bundle_keys ? app->bundle_keys->signer : NULL;
	char hdr[32];
	size_t n;
	char *body;

	if (e == NULL) {
		ac_req_error(r, 503, "no_bundle_key",
			     "no trust bundle key is configured (agricert key new --bundle)",
			     "未配置信任包签名密钥，请联系管理员");
		return;
	}
	/* The kid first, so that a verifier can be told which key signs bundles. */
	snprintf(hdr, sizeof(hdr), "# bundle key %d\n", e->kid);
	n = strlen(hdr) + strlen(e->public_pem);
	body = malloc(n + 1);
	if (body == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	snprintf(body, n + 1, "%s%s", hdr, e->public_pem);
	ac_req_respond(r, 200, "application/x-pem-file", body, n);
	free(body);
}

void ac_trust_forget(void)
{
	free(cache.text);
	memset(&cache, 0, sizeof(cache));
}

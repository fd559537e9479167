/*
 * GET /api/v1/trust-bundle and GET /api/v1/trust-bundle/key: the signed
 * bundle an offline verifier loads (built and cached by ac_bundles.h), and
 * the bundle key's public half that an inspector installs once.
 */
#include <stdio.h>
#include <string.h>

#include "ac_app.h"
#include "ac_handler.h"
#include "ac_handlers.h"

#define BUNDLE_TYPE "text/plain; charset=utf-8"

static int no_bundle_key(ac_req *r)
{
	ac_app *app = ac_app_of(r);

	if (app->bundle_keys != NULL && app->bundle_keys->signer != NULL)
		return 0;
	ac_req_error(r, 503, "no_bundle_key",
		     "no trust bundle key is configured (agricert key new --bundle)",
		     "未配置信任包签名密钥，请联系管理员");
	return 1;
}

static void on_bundle(void *data, const char *text, size_t len, const char *why)
{
	ac_req *r = data;

	if (text != NULL)
		ac_req_respond(r, 200, BUNDLE_TYPE, text, len);
	else
		ac_req_error(r, 503, "bundle_unavailable", why, "暂时无法生成信任包，请稍后重试");
	ac_req_release(r);
}

static void handle_bundle(ac_req *r)
{
	ac_app *app = ac_app_of(r);

	if (no_bundle_key(r))
		return;
	ac_req_hold(r);
	if (ac_bundles_get(app->bundles, app->keys, app->bundle_keys, on_bundle, r) != 0) {
		ac_req_nomem(r);
		ac_req_release(r);
	}
}

static void handle_key(ac_req *r)
{
	const ac_keyring_entry *e;
	char *body;

	if (no_bundle_key(r))
		return;
	e = ac_app_of(r)->bundle_keys->signer;
	/* The kid first, so that a verifier can be told which key signs bundles. */
	body = ac_req_alloc(r, strlen(e->public_pem) + 32);
	if (body == NULL) {
		ac_req_nomem(r);
		return;
	}
	sprintf(body, "# bundle key %d\n%s", e->kid, e->public_pem);
	ac_req_respond(r, 200, "application/x-pem-file", body, strlen(body));
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/api/v1/trust-bundle", handle_bundle),
	AC_ROUTE("GET", "/api/v1/trust-bundle/key", handle_key),
};

AC_ROUTE_TABLE(ac_trust_routes, routes);

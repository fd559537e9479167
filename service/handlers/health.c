/*
 * GET /healthz (is the database there?) and GET /api/v1/keys (the public
 * halves of the code keys, for verifiers).
 */
#include <jansson.h>

#include "ac_app.h"
#include "ac_handler.h"
#include "ac_handlers.h"

static void on_health(ac_req *r, const ac_db_result *res)
{
	ac_app *app = ac_app_of(r);

	ac_req_json(r, 200,
		    json_pack("{s:s,s:s,s:i,s:i}", "status", "ok", "database", "ok",
			      "db_connections", ac_db_ready(app->db), "signing_key",
			      app->keys->signer ? app->keys->signer->kid : 0));
}

/* Whatever the database's error, the answer says only that it is down. */
static int health_failed(ac_req *r, const char *sqlstate, const char *msg)
{
	ac_req_json(r, 503, json_pack("{s:s,s:s}", "status", "unavailable", "database", "down"));
	return 1;
}

static void handle_health(ac_req *r)
{
	r->on_db_error = health_failed;
	ac_req_query(r, "SELECT 1", 0, NULL, on_health);
}

static void handle_keys(ac_req *r)
{
	ac_app *app = ac_app_of(r);
	json_t *keys = json_array();

	for (int i = 0; i < app->keys->n; i++) {
		const ac_keyring_entry *e = &app->keys->entries[i];

		json_array_append_new(
		    keys, json_pack("{s:i,s:s,s:s,s:s,s:b}", "kid", e->kid, "alg",
				    ac_key_alg(e->key) == AC_ALG_SM2 ? "SM2" : "Ed25519", "status",
				    ac_key_status_name(e->status), "pem", e->public_pem, "signing",
				    e == app->keys->signer));
	}
	ac_req_json(r, 200, json_pack("{s:o}", "keys", keys));
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/healthz", handle_health),
	AC_ROUTE("GET", "/api/v1/keys", handle_keys),
};

AC_ROUTE_TABLE(ac_health_routes, routes);

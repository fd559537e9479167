/*
 * GET /healthz: is the database there, and CUPS? JSON:
 *   {"status": "ok" | "degraded" | "unavailable", "database": "ok" | "down",
 *    "cups": "ok" | "down" | "not_configured", "db_connections", "signing_key"}
 * 503 when the database is down (nothing can be issued or checked), 200
 * otherwise: with CUPS down ("degraded") scans and look-ups still work.
 * CUPS is asked for the first configured printer's queue. Why something is
 * down (libpq's or CUPS' words) goes to the log, and to staff who send a
 * token of a role that may supervise ("detail"); never to anyone else.
 *
 * GET /api/v1/keys: the public halves of the code keys, for verifiers.
 *
 * GET /api/v1/openapi.json: the API's description (OpenAPI 3.1), the file
 * openapi.json of the web pages (service/web/openapi.json in the repository),
 * read in the thread pool.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "ac_app.h"
#include "ac_cups.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"

typedef struct health {
	int db_ok;
	char db_error[256];
	int cups; /* -1 not configured, 0 down, 1 ok */
	const char *server;
	const char *queue;
	ac_job_status st;
	ac_cups_error cerr;
} health;

static int staff(const ac_req *r)
{
	return r->who != NULL && ac_perm_may(r->who, AC_ACT_SUPERVISE);
}

static void answer(ac_req *r)
{
	ac_app *app = ac_app_of(r);
	health *h = r->ctx;
	const char *cups = h->cups < 0 ? "not_configured" : h->cups ? "ok" : "down";
	json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:i}", "status",
			      !h->db_ok	     ? "unavailable"
			      : h->cups == 0 ? "degraded"
					     : "ok",
			      "database", h->db_ok ? "ok" : "down", "cups", cups, "db_connections",
			      ac_db_ready(app->db), "signing_key",
			      app->keys->signer ? app->keys->signer->kid : 0);

	if (j != NULL && staff(r))
		json_object_set_new(
		    j, "detail",
		    json_pack("{s:s?,s:s?,s:s?,s:s?}", "database_error",
			      h->db_ok ? NULL : h->db_error, "cups_error",
			      h->cups == 0 ? h->cerr.message : NULL, "printer_state",
			      h->cups == 1 ? ac_printer_state_name(h->st.printer_state) : NULL,
			      "printer_state_reasons",
			      h->cups == 1 ? h->st.printer_state_reasons : NULL));
	ac_req_json(r, h->db_ok ? 200 : 503, j);
}

static void ask_cups(void *arg)
{
	health *h = arg;

	h->cups = ac_cups_printer_status(h->server, h->queue, &h->st, &h->cerr) == 0;
}

static void after_cups(ac_req *r, void *arg)
{
	health *h = arg;

	if (!h->cups)
		ac_log_warn("http", "could not reach CUPS at %s for /healthz: %s id=%s", h->server,
			    h->cerr.message, r->id_str);
	answer(r);
}

/* The database answered (or not): CUPS next, when there are printers. */
static void check_cups(ac_req *r)
{
	ac_app *app = ac_app_of(r);
	health *h = r->ctx;

	if (app->cfg.nprinters == 0) {
		h->cups = -1;
		answer(r);
		return;
	}
	h->server = app->cfg.cups_server;
	h->queue = app->cfg.printers[0].queue;
	ac_req_work(r, ask_cups, after_cups, h);
}

static void on_health(ac_req *r, const ac_db_result *res)
{
	((health *)r->ctx)->db_ok = 1;
	check_cups(r);
}

/* Whatever the database's error, the answer says only that it is down. */
static int health_failed(ac_req *r, const char *sqlstate, const char *msg)
{
	health *h = r->ctx;

	ac_log_warn("http", "could not reach the database for /healthz: %s id=%s", msg, r->id_str);
	snprintf(h->db_error, sizeof(h->db_error), "%s", msg ? msg : sqlstate);
	check_cups(r);
	return 1;
}

static void handle_health(ac_req *r)
{
	if (ac_req_context(r, sizeof(health), NULL) == NULL)
		return;
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

typedef struct document {
	char path[4096];
	char *data; /* malloc'd, freed with the request */
	size_t len;
} document;

static void read_document(void *arg)
{
	document *d = arg;
	FILE *f = fopen(d->path, "rb");
	long n;

	if (f == NULL)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (d->data = malloc((size_t)n)) != NULL) {
		d->len = fread(d->data, 1, (size_t)n, f);
		if (d->len != (size_t)n) {
			free(d->data);
			d->data = NULL;
		}
	}
	fclose(f);
}

static void after_document(ac_req *r, void *arg)
{
	document *d = arg;

	if (d->data == NULL) {
		ac_log_error("http", "could not read %s id=%s", d->path, r->id_str);
		ac_req_not_found(r, "the API description is not installed", "未安装接口说明文件");
		return;
	}
	ac_req_respond(r, 200, "application/json; charset=utf-8", d->data, d->len);
}

static void free_document(void *arg)
{
	free(((document *)arg)->data);
}

static void handle_openapi(ac_req *r)
{
	document *d = ac_req_new(r, document);

	if (d == NULL || ac_req_defer(r, free_document, d) != 0) {
		ac_req_nomem(r);
		return;
	}
	snprintf(d->path, sizeof(d->path), "%s/openapi.json", ac_app_of(r)->cfg.web_dir);
	ac_req_work(r, read_document, after_document, d);
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/healthz", handle_health, .flags = AC_ROUTE_AUTH_OPTIONAL),
	AC_ROUTE("GET", "/api/v1/keys", handle_keys),
	AC_ROUTE("GET", "/api/v1/openapi.json", handle_openapi),
};

AC_ROUTE_TABLE(ac_health_routes, routes);

/*
 * agricertd: issues signed compliance certificates, prints their labels
 * through CUPS and answers scans. One libuv loop; see README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_app.h"
#include "ac_cert.h"
#include "ac_error.h"
#include "ac_issuer.h"
#include "ac_log.h"
#include "ac_printq.h"
#include "ac_registry.h"
#include "ac_scanlog.h"
#include "ac_sign.h"
#include "ac_trust.h"

#define CATALOG_REFRESH_MS 60000
#define STOP_POLL_MS	   50
#define STOP_DEADLINE_MS   30000

const ac_product *ac_app_product_by_name(const ac_app *app, const char *name)
{
	for (int i = 0; i < app->nproducts; i++) {
		if (strcmp(app->products[i].name, name) == 0)
			return &app->products[i];
	}
	return NULL;
}

const ac_product *ac_app_product_by_id(const ac_app *app, int id)
{
	for (int i = 0; i < app->nproducts; i++) {
		if (app->products[i].id == id)
			return &app->products[i];
	}
	return NULL;
}

static void free_products(ac_product *p, int n)
{
	for (int i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].category);
		free(p[i].default_unit);
	}
	free(p);
}

static void resubmit_queued(ac_app *app);

static void on_catalog(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_app *app = data;
	int n = ac_db_rows(res);
	ac_product *p;

	if (err != 0) {
		ac_log_warn("catalog", "could not load products: %s", msg);
		return;
	}
	p = calloc(n > 0 ? n : 1, sizeof(*p));
	if (p == NULL)
		return;
	for (int i = 0; i < n; i++) {
		p[i].id = atoi(ac_db_get(res, i, 0));
		p[i].name = strdup(ac_db_get(res, i, 1));
		p[i].category = strdup(ac_db_get(res, i, 2));
		p[i].default_unit = strdup(ac_db_get(res, i, 3));
		p[i].key_risk = ac_db_get(res, i, 4)[0] == 't';
	}
	free_products(app->products, app->nproducts);
	app->products = p;
	app->nproducts = n;
	if (!app->catalog_loaded) {
		ac_log_info("catalog", "%d products", n);
		resubmit_queued(app);
	}
	app->catalog_loaded = 1;
}

/*
 * Print jobs a crash left between the commit and CUPS: submitted again once,
 * at start. Only jobs older than a minute, so that another instance's
 * submission in progress is not doubled.
 */
static void on_queued_jobs(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_app *app = data;
	int n = ac_db_rows(res);

	if (err != 0) {
		ac_log_warn("print", "could not look for unsent print jobs: %s", msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		ac_cert c;

		if (ac_cert_from_row(res, i, &c) != 0)
			continue;
		ac_log_info("print", "resubmitting print job %lld left queued",
			    (long long)c.print_job_id);
		ac_printq_submit(app->printq, &c, 0);
		ac_cert_clear(&c);
	}
}

static void resubmit_queued(ac_app *app)
{
	ac_db_query(app->db,
		    AC_CERT_SELECT
		    "WHERE pj.state = 'queued' AND EXISTS (SELECT 1 FROM print_job q "
		    "WHERE q.id = pj.id AND q.created_at < now() - interval '1 minute' "
		    "AND q.created_at > now() - interval '1 day')",
		    0, NULL, NULL, on_queued_jobs, app);
}

static void load_catalog(uv_timer_t *t)
{
	ac_app *app = t->data;

	ac_db_query(app->db, "SELECT id, name, category, default_unit, key_risk FROM product", 0,
		    NULL, NULL, on_catalog, app);
}

/* GET /healthz */
static void on_health(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_req *r = data;
	ac_app *app = r->app;

	if (err != 0) {
		ac_req_json(r, 503,
			    json_pack("{s:s,s:s,s:s}", "status", "unavailable", "database", "down",
				      "message", msg));
	} else {
		ac_req_json(r, 200,
			    json_pack("{s:s,s:s,s:i,s:i}", "status", "ok", "database", "ok",
				      "db_connections", ac_db_ready(app->db), "signing_key",
				      app->keys->signer ? app->keys->signer->kid : 0));
	}
	ac_req_unref(r);
}

static void handle_health(ac_req *r)
{
	ac_app *app = r->app;

	ac_req_ref(r);
	if (ac_db_query(app->db, "SELECT 1", 0, NULL, NULL, on_health, r) != 0) {
		ac_req_json(r, 503,
			    json_pack("{s:s,s:s}", "status", "unavailable", "database", "down"));
		ac_req_unref(r);
	}
}

/* GET /api/v1/keys */
static void handle_keys(ac_req *r)
{
	ac_app *app = r->app;
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

static int match_id(const char *path, const char *prefix, const char **id)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL)
		return 0;
	*id = path + n;
	return 1;
}

/* PREFIX <id> SUFFIX: copies id (at most idsz - 1 bytes, else no match). */
static int match_action(const char *path, const char *prefix, const char *suffix, char *id,
			size_t idsz)
{
	size_t plen = strlen(prefix);
	size_t slen = strlen(suffix);
	size_t len = strlen(path);
	size_t n;

	if (len <= plen + slen || strncmp(path, prefix, plen) != 0 ||
	    strcmp(path + len - slen, suffix) != 0)
		return 0;
	n = len - plen - slen;
	if (n >= idsz || memchr(path + plen, '/', n) != NULL)
		return 0;
	memcpy(id, path + plen, n);
	id[n] = '\0';
	return 1;
}

/* Paths without an id: one handler per path and method. */
typedef struct route_entry {
	const char *path;
	const char *method; /* GET also answers HEAD */
	void (*handle)(ac_req *r);
} route_entry;

static const route_entry routes[] = {
	{ "/healthz", "GET", handle_health },
	{ "/api/v1/sessions", "POST", ac_handle_login },
	{ "/api/v1/sessions/current", "DELETE", ac_handle_logout },
	{ "/api/v1/trust-bundle", "GET", ac_handle_trust_bundle },
	{ "/api/v1/trust-bundle/key", "GET", ac_handle_trust_key },
	{ "/api/v1/keys", "GET", handle_keys },
	{ "/api/v1/certificates", "POST", ac_handle_issue },
	{ "/api/v1/stats/townships", "GET", ac_handle_stats },
	{ "/api/v1/rapid-tests", "POST", ac_handle_rapid_test },
	{ "/api/v1/receipts", "POST", ac_handle_receipts },
	{ "/api/v1/stock", "GET", ac_handle_stock },
	{ "/api/v1/inspections", "POST", ac_handle_inspections },
	{ "/api/v1/inspections", "GET", ac_handle_inspections },
	{ "/api/v1/unlicensed-reports", "POST", ac_handle_unlicensed },
	{ "/api/v1/unlicensed-reports", "GET", ac_handle_unlicensed },
	{ "/api/v1/clone-suspicions", "GET", ac_handle_clone_suspicions },
};

/* Paths PREFIX <id> SUFFIX. */
typedef struct id_route_entry {
	const char *prefix;
	const char *suffix;
	const char *method;
	void (*handle)(ac_req *r, const char *id);
} id_route_entry;

static const id_route_entry id_routes[] = {
	{ "/api/v1/certificates/", "/revocation", "POST", ac_handle_revocation },
	{ "/api/v1/certificates/", "/trace", "GET", ac_handle_trace },
	{ "/api/v1/certificates/", "/epcis", "GET", ac_handle_epcis },
	{ "/api/v1/certificates/", "/recall", "GET", ac_handle_recall },
	{ "/api/v1/certificates/", "/reprint", "POST", ac_handle_reprint },
	{ "/api/v1/rapid-tests/", "/revocation", "POST", ac_handle_test_revocation },
};

static int method_is(const ac_req *r, const char *method)
{
	return strcmp(r->method, method) == 0 ||
	       (strcmp(method, "GET") == 0 && strcmp(r->method, "HEAD") == 0);
}

static int route(ac_req *r)
{
	char idbuf[24];
	int get = method_is(r, "GET");
	int known = 0;
	const char *id;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(r->path, routes[i].path) != 0)
			continue;
		known = 1;
		if (method_is(r, routes[i].method)) {
			routes[i].handle(r);
			return 0;
		}
	}
	for (size_t i = 0; !known && i < sizeof(id_routes) / sizeof(id_routes[0]); i++) {
		if (!match_action(r->path, id_routes[i].prefix, id_routes[i].suffix, idbuf,
				  sizeof(idbuf)))
			continue;
		known = 1;
		if (method_is(r, id_routes[i].method)) {
			id_routes[i].handle(r, idbuf);
			return 0;
		}
	}
	if (known)
		goto method;
	if (strncmp(r->path, "/v/", 3) == 0 || strncmp(r->path, "/V/", 3) == 0) {
		if (!get)
			goto method;
		ac_handle_scan(r, r->path + 3);
		return 0;
	}
	if (match_id(r->path, "/api/v1/certificates/", &id)) {
		if (!get)
			goto method;
		ac_handle_certificate_get(r, id);
		return 0;
	}
	if (match_id(r->path, "/api/v1/print-jobs/", &id)) {
		if (!get)
			goto method;
		ac_handle_print_job_get(r, id);
		return 0;
	}
	if (ac_registry_route(r) == 0)
		return 0;
	if (strncmp(r->path, "/api/", 5) == 0) {
		ac_req_error(r, 404, "not_found", "no such API path", "没有这个接口");
		return 0;
	}
	return -1;
method:
	ac_req_error(r, 405, "method_not_allowed", "method not allowed", "不支持该请求方式");
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_db_closed(void *data)
{
	ac_app *app = data;

	/* h2o's connections may still be closing; nothing else is left to do. */
	uv_stop(app->loop);
}

static void finish_stop(ac_app *app)
{
	uv_timer_stop(&app->stop_timer);
	uv_close((uv_handle_t *)&app->stop_timer, on_closed);
	uv_close((uv_handle_t *)&app->catalog_timer, on_closed);
	uv_close((uv_handle_t *)&app->sigterm, on_closed);
	uv_close((uv_handle_t *)&app->sigint, on_closed);
	uv_close((uv_handle_t *)&app->sighup, on_closed);
	ac_scanlog_free(app->scanlog);
	app->scanlog = NULL;
	ac_db_close(app->db, on_db_closed, app);
	app->db = NULL;
}

static void on_stop_poll(uv_timer_t *t)
{
	ac_app *app = t->data;
	uint64_t waited = uv_now(app->loop) - (uint64_t)app->stopping;
	int busy = ac_http_active(app->http) + ac_issuer_busy(app->issuer) +
		   ac_printq_busy(app->printq) + ac_scanlog_busy(app->scanlog);

	if (busy > 0 && waited < STOP_DEADLINE_MS)
		return;
	if (busy > 0)
		ac_log_warn("main", "stopping with %d requests still in flight", busy);
	finish_stop(app);
}

static void on_signal(uv_signal_t *s, int signum)
{
	ac_app *app = s->data;

	if (app->stopping) {
		ac_log_warn("main", "second signal: exiting now");
		exit(1);
	}
	ac_log_info("main", "signal %d: no longer accepting, finishing what is in flight", signum);
	app->stopping = (int)uv_now(app->loop) | 1;
	ac_http_stop_accepting(app->http);
	ac_scanlog_flush(app->scanlog);
	uv_timer_stop(&app->catalog_timer);
	uv_timer_start(&app->stop_timer, on_stop_poll, 0, STOP_POLL_MS);
}

/* The trust bundle key ring is optional: without it, bundles are not served. */
static void load_bundle_keys(ac_app *app)
{
	ac_keyring *ring = NULL;
	char dir[4096];
	char err[1024];

	ac_trust_key_dir(app->cfg.keys_dir, dir, sizeof(dir));
	if (access(dir, F_OK) != 0)
		return;
	if (ac_keyring_load(dir, 0, &ring, err, sizeof(err)) != 0) {
		ac_log_error("main", "could not load trust bundle keys: %s", err);
		return;
	}
	ac_keyring_free(app->bundle_keys);
	app->bundle_keys = ring;
}

/* SIGHUP: reload the key ring, so that a new key signs without downtime. */
static void on_reload(uv_signal_t *s, int signum)
{
	ac_app *app = s->data;
	ac_keyring *ring = NULL;
	ac_keyring **old;
	char err[1024];

	if (ac_keyring_load(app->cfg.keys_dir, app->cfg.signing_kid, &ring, err, sizeof(err)) !=
	    0) {
		ac_log_error("main", "could not reload keys, keeping the old ones: %s", err);
		return;
	}
	old = realloc(app->old_keys, (app->nold_keys + 1) * sizeof(*old));
	if (old == NULL) {
		ac_keyring_free(ring);
		ac_log_error("main", "could not reload keys: out of memory");
		return;
	}
	app->old_keys = old;
	app->old_keys[app->nold_keys++] = app->keys;
	app->keys = ring;
	ac_issuer_set_keys(app->issuer, ring);
	load_bundle_keys(app);
	ac_log_info("main", "reloaded %d keys; signing key %d", ring->n,
		    ring->signer ? ring->signer->kid : 0);
}

static void usage(void)
{
	fprintf(stderr, "usage: agricertd [-c CONFIG]\n"
			"Settings come from CONFIG (or $AGRICERT_CONFIG) and AGRICERT_* "
			"environment variables; see README.md.\n");
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	ac_http_opts hopts;
	ac_app app;
	char err[1024];
	int opt;
	int r;

	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		if (opt == 'c') {
			config_path = optarg;
		} else {
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	ac_log_set_level(ac_log_level_from_name(getenv("AGRICERT_LOG_LEVEL")));
	memset(&app, 0, sizeof(app));
	if (ac_config_load(&app.cfg, config_path, err, sizeof(err)) != 0) {
		ac_log_error("main", "could not load configuration: %s", err);
		return 1;
	}
	r = ac_keyring_load(app.cfg.keys_dir, app.cfg.signing_kid, &app.keys, err, sizeof(err));
	if (r != 0) {
		ac_log_error("main", "could not load keys: %s", err);
		return 1;
	}
	if (app.keys->signer == NULL)
		ac_log_warn("main", "no active signing key in \"%s\": issuing is disabled",
			    app.cfg.keys_dir);
	load_bundle_keys(&app);
	/* Migrations run before the loop starts, so blocking here blocks no request. */
	for (int attempt = 0;; attempt++) {
		r = ac_db_migrate(app.cfg.db_owner, app.cfg.sql_dir, err, sizeof(err));
		if (r == 0)
			break;
		if (r != AC_EDB || attempt == 30) {
			ac_log_error("main", "could not migrate database: %s", err);
			return 1;
		}
		ac_log_warn("main", "database not ready (%s), retrying", err);
		sleep(1);
	}
	app.loop = uv_default_loop();
	r = ac_db_new(app.loop, app.cfg.db, app.cfg.db_pool, &app.db);
	if (r == 0)
		r = ac_issuer_new(app.loop, app.db, app.keys, app.cfg.batch_max, &app.issuer);
	if (r == 0)
		r = ac_printq_new(&app, &app.printq);
	if (r == 0)
		r = ac_scanlog_new(app.loop, app.db, &app.scanlog);
	if (r != 0) {
		ac_log_error("main", "could not start: %s", ac_strerror(r));
		return 1;
	}
	memset(&hopts, 0, sizeof(hopts));
	hopts.host = app.cfg.listen_host;
	hopts.port = app.cfg.listen_port;
	hopts.web_dir = app.cfg.web_dir;
	hopts.max_body = app.cfg.max_body;
	hopts.router = route;
	hopts.app = &app;
	r = ac_http_new(app.loop, &hopts, &app.http);
	if (r != 0) {
		ac_log_error("main", "could not listen on %s:%d: %s", app.cfg.listen_host,
			     app.cfg.listen_port, uv_strerror(r));
		return 1;
	}
	uv_timer_init(app.loop, &app.catalog_timer);
	app.catalog_timer.data = &app;
	uv_timer_start(&app.catalog_timer, load_catalog, 0, CATALOG_REFRESH_MS);
	uv_timer_init(app.loop, &app.stop_timer);
	app.stop_timer.data = &app;
	uv_signal_init(app.loop, &app.sigterm);
	app.sigterm.data = &app;
	uv_signal_start(&app.sigterm, on_signal, SIGTERM);
	uv_signal_init(app.loop, &app.sigint);
	app.sigint.data = &app;
	uv_signal_start(&app.sigint, on_signal, SIGINT);
	uv_signal_init(app.loop, &app.sighup);
	app.sighup.data = &app;
	uv_signal_start(&app.sighup, on_reload, SIGHUP);
	ac_log_info("main", "agricertd listening on http://%s:%d (public %s, %d printers)",
		    app.cfg.listen_host, app.cfg.listen_port, app.cfg.public_url,
		    app.cfg.nprinters);

	uv_run(app.loop, UV_RUN_DEFAULT);

	ac_issuer_free(app.issuer);
	ac_printq_free(app.printq);
	ac_keyring_free(app.keys);
	ac_keyring_free(app.bundle_keys);
	ac_trust_forget();
	for (int i = 0; i < app.nold_keys; i++)
		ac_keyring_free(app.old_keys[i]);
	free(app.old_keys);
	free_products(app.products, app.nproducts);
	ac_auth_forget();
	ac_config_free(&app.cfg);
	ac_log_info("main", "stopped");
	return 0;
}

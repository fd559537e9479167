#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_app.h"
#include "ac_changes.h"
#include "ac_dbsync.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_notify.h"
#include "ac_trust.h"

#define STOP_POLL_MS	   50
#define MIGRATION_ATTEMPTS 30

static void close_next(void *data);

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
	ac_keyring_unref(app->bundle_keys);
	app->bundle_keys = ring;
}

/* Tells systemd (ac_notify.h) that the service answers, and how. */
static void notify_ready(const ac_app *app)
{
	char status[512];

	snprintf(status, sizeof(status), "listening on %s:%d, signing key %d", app->cfg.listen_host,
		 app->cfg.listen_port, app->keys->signer ? app->keys->signer->kid : 0);
	ac_notify_ready(status);
}

/* SIGHUP: reload the key rings, so that a new key signs without downtime.
 * Batches and scans under way keep the ring they hold. */
static void on_reload(uv_signal_t *s, int signum)
{
	ac_app *app = s->data;
	ac_keyring *ring = NULL;
	char err[1024];

	if (app->stopping)
		return;
	ac_notify_reloading();
	if (ac_keyring_load(app->cfg.keys_dir, app->cfg.signing_kid, &ring, err, sizeof(err)) !=
	    0) {
		ac_log_error("main", "could not reload keys, keeping the old ones: %s", err);
		notify_ready(app);
		return;
	}
	ac_keyring_unref(app->keys);
	app->keys = ring;
	ac_issuer_set_keys(app->issuer, ring);
	load_bundle_keys(app);
	ac_log_info("main", "reloaded %d keys; signing key %d", ring->n,
		    ring->signer ? ring->signer->kid : 0);
	notify_ready(app);
}

/* Work still under way that a stop waits for. */
static int busy(const ac_app *app)
{
	return ac_http_live(app->http) + ac_issuer_busy(app->issuer) + ac_printq_busy(app->printq) +
	       ac_scanlog_busy(app->scanlog) + ac_lookup_busy(app->lookup);
}

static void on_stop_poll(uv_timer_t *t)
{
	ac_app *app = t->data;
	uint64_t waited = uv_now(app->loop) - app->stop_started_ms;
	int n = busy(app);

	if (n > 0 && waited < AC_APP_DRAIN_MS)
		return;
	if (n > 0)
		ac_log_warn("main", "stopping with %d requests and jobs still in flight", n);
	uv_timer_stop(t);
	close_next(app);
}

void ac_app_stop(ac_app *app)
{
	if (app->stopping)
		return;
	app->stopping = 1;
	ac_notify_stopping();
	app->stop_started_ms = uv_now(app->loop);
	ac_http_stop_accepting(app->http);
	ac_scanlog_flush(app->scanlog);
	uv_timer_start(&app->stop_timer, on_stop_poll, 0, STOP_POLL_MS);
}

static void on_signal(uv_signal_t *s, int signum)
{
	ac_app *app = s->data;

	if (app->stopping) {
		ac_log_warn("main", "second signal: exiting now");
		exit(1);
	}
	ac_log_info("main", "signal %d: no longer accepting, finishing what is in flight", signum);
	ac_app_stop(app);
}

static void on_handle_closed(uv_handle_t *h)
{
	ac_app *app = h->data;

	/* The last of the app's handles: every module is closed, only h2o's own
	 * handles are left, and ac_app_free closes those after uv_run. */
	if (--app->handles == 0)
		uv_stop(app->loop);
}

static void close_handles(ac_app *app)
{
	uv_handle_t *h[] = { (uv_handle_t *)&app->sigterm, (uv_handle_t *)&app->sigint,
			     (uv_handle_t *)&app->sighup, (uv_handle_t *)&app->stop_timer,
			     (uv_handle_t *)&app->partition_timer };

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		uv_close(h[i], on_handle_closed);
}

/*
 * Closes the modules one at a time, each when the one before has finished:
 * a module's close waits for its own work, and the database stays open until
 * everything that writes to it is closed.
 */
static void close_next(void *data)
{
	ac_app *app = data;

	app->stopping = 1;
	switch (app->close_step++) {
	case 0:
		ac_listen_close(app->listen, close_next, app);
		app->listen = NULL;
		break;
	case 1:
		ac_issuer_close(app->issuer, close_next, app);
		app->issuer = NULL;
		break;
	case 2:
		ac_printq_close(app->printq, close_next, app);
		app->printq = NULL;
		break;
	case 3:
		ac_scanlog_close(app->scanlog, close_next, app);
		app->scanlog = NULL;
		break;
	case 4:
		ac_lookup_close(app->lookup, close_next, app);
		app->lookup = NULL;
		break;
	case 5:
		ac_bundles_close(app->bundles, close_next, app);
		app->bundles = NULL;
		break;
	case 6:
		ac_catalog_close(app->catalog, close_next, app);
		app->catalog = NULL;
		break;
	case 7:
		if (app->db_read != NULL && app->db_read != app->db)
			ac_db_close(app->db_read, close_next, app);
		else
			close_next(app);
		break;
	case 8:
		if (app->db != NULL)
			ac_db_close(app->db, close_next, app);
		else
			close_next(app);
		break;
	case 9:
		if (app->http != NULL)
			ac_http_close(app->http, close_next, app);
		else
			close_next(app);
		break;
	default:
		close_handles(app);
		break;
	}
}

static int migrate(const ac_config *cfg)
{
	char err[1024];

	/* Before the loop runs, so blocking here blocks no request. */
	for (int attempt = 0;; attempt++) {
		int r = ac_migrate(cfg->db_owner, cfg->sql_dir, err, sizeof(err));

		if (r == 0)
			return 0;
		if (r != AC_EDB || attempt == MIGRATION_ATTEMPTS) {
			ac_log_error("main", "could not migrate database: %s", err);
			return -1;
		}
		ac_log_warn("main", "database not ready (%s), retrying", err);
		sleep(1);
	}
}

static void on_catalog_loaded(void *data)
{
	ac_app *app = data;

	ac_printq_resubmit_queued(app->printq);
}

/* A pool on conninfo with the configured timeouts. */
static int new_pool(ac_app *app, const char *conninfo, ac_db **out)
{
	int timeout_ms = app->cfg.db_timeout * 1000;
	int r = ac_db_new(app->loop, conninfo, app->cfg.db_pool, out);

	if (r == 0)
		ac_db_set_timeouts(*out,
				   timeout_ms < AC_DB_CONNECT_MS ? timeout_ms : AC_DB_CONNECT_MS,
				   timeout_ms);
	return r;
}

/* The read pool: the primary's unless db_read names another server. */
static int new_read_pool(ac_app *app)
{
	if (strcmp(app->cfg.db_read, app->cfg.db) == 0) {
		app->db_read = app->db;
		return 0;
	}
	return new_pool(app, app->cfg.db_read, &app->db_read);
}

static int start_modules(ac_app *app)
{
	int r = new_pool(app, app->cfg.db, &app->db);

	if (r == 0)
		r = new_read_pool(app);
	if (r == 0)
		r = ac_auth_new(app->loop, app->db, &app->auth);
	if (r == 0)
		r = ac_issuer_new(app->loop, app->db, app->keys, app->cfg.batch_max, &app->issuer);
	if (r == 0)
		r = ac_printq_new(app->loop, app->db, &app->cfg, &app->printq);
	if (r == 0)
		r = ac_scanlog_new(app->loop, app->db, &app->scanlog);
	if (r == 0)
		r = ac_lookup_new(app->db_read, &app->lookup);
	if (r == 0 && app->db_read != app->db)
		ac_lookup_set_settle(app->lookup, AC_LOOKUP_REPLICA_SETTLE);
	if (r == 0)
		r = ac_bundles_new(app->loop, app->db, app->cfg.region, &app->bundles);
	if (r == 0)
		r = ac_ratelimit_new(AC_LOGINS_PER_MINUTE, &app->logins);
	if (r == 0)
		r = ac_catalog_new(app->loop, app->db, on_catalog_loaded, app, &app->catalog);
	if (r == 0)
		r = ac_changes_listen(app);
	if (r != 0)
		ac_log_error("main", "could not start: %s", ac_strerror(r));
	return r;
}

static void on_partitions(void *data, const ac_db_result *res, int err, const char *msg)
{
	(void)data;
	if (err != 0) {
		ac_log_warn("main", "could not create the coming months' partitions: %s",
			    msg != NULL ? msg : ac_strerror(err));
		return;
	}
	for (int i = 0; i < ac_db_rows(res); i++)
		ac_log_info("main", "partition %s created", ac_db_get(res, i, 0));
}

/* This month's and the next two months' partitions of the tables that grow
 * (sql/0028), at start and daily: no insert waits for a month to exist. */
static void on_partition_timer(uv_timer_t *t)
{
	ac_app *app = t->data;

	if (!app->stopping && ac_db_query(app->db, "SELECT partitions_ensure(p_ahead => 2)", 0,
					  NULL, NULL, on_partitions, app) != 0)
		ac_log_warn("main", "could not ask for the coming months' partitions");
}

static int listen_http(ac_app *app, const ac_route_table *const *routes)
{
	ac_http_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	o.host = app->cfg.listen_host;
	o.port = app->cfg.listen_port;
	o.web_dir = app->cfg.web_dir;
	o.max_body = app->cfg.max_body;
	o.trusted_proxies = &app->cfg.trusted_proxies;
	o.routes = routes;
	o.auth = app->auth;
	o.db = app->db;
	o.db_read = app->db_read;
	o.app = app;
	r = ac_http_new(app->loop, &o, &app->http);
	if (r != 0)
		ac_log_error("main", "could not listen on %s:%d: %s", app->cfg.listen_host,
			     app->cfg.listen_port, ac_strerror(r));
	return r;
}

static void init_handles(ac_app *app)
{
	uv_signal_t *s[] = { &app->sigterm, &app->sigint, &app->sighup };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		uv_signal_init(app->loop, s[i]);
		s[i]->data = app;
	}
	uv_timer_init(app->loop, &app->stop_timer);
	app->stop_timer.data = app;
	uv_timer_init(app->loop, &app->partition_timer);
	app->partition_timer.data = app;
	app->handles = 5;
}

static int load(ac_app *app, const char *config_path)
{
	char err[1024];

	if (ac_config_load(&app->cfg, config_path, err, sizeof(err)) != 0) {
		ac_log_error("main", "could not load configuration: %s", err);
		return -1;
	}
	ac_log_set_format(app->cfg.log_json ? "json" : "text");
	if (ac_keyring_load(app->cfg.keys_dir, app->cfg.signing_kid, &app->keys, err,
			    sizeof(err)) != 0) {
		ac_log_error("main", "could not load keys: %s", err);
		return -1;
	}
	if (app->keys->signer == NULL)
		ac_log_warn("main", "no active signing key in \"%s\": issuing is disabled",
			    app->cfg.keys_dir);
	load_bundle_keys(app);
	return migrate(&app->cfg);
}

int ac_app_start(ac_app *app, uv_loop_t *loop, const char *config_path,
		 const ac_route_table *const *routes)
{
	memset(app, 0, sizeof(*app));
	app->loop = loop;
	init_handles(app);
	if (load(app, config_path) != 0 || start_modules(app) != 0 ||
	    listen_http(app, routes) != 0) {
		close_next(app);
		return -1;
	}
	uv_signal_start(&app->sigterm, on_signal, SIGTERM);
	uv_signal_start(&app->sigint, on_signal, SIGINT);
	uv_signal_start(&app->sighup, on_reload, SIGHUP);
	uv_timer_start(&app->partition_timer, on_partition_timer, 0, AC_APP_PARTITION_MS);
	ac_log_info("main", "agricertd listening on http://%s:%d (public %s, %d printers)",
		    app->cfg.listen_host, app->cfg.listen_port, app->cfg.public_url,
		    app->cfg.nprinters);
	notify_ready(app);
	return 0;
}

void ac_app_free(ac_app *app)
{
	ac_http_free(app->http);
	app->http = NULL;
	if (app->db_read != app->db)
		ac_db_free(app->db_read);
	app->db_read = NULL;
	ac_db_free(app->db);
	app->db = NULL;
	ac_auth_free(app->auth);
	ac_ratelimit_free(app->logins);
	ac_keyring_unref(app->keys);
	ac_keyring_unref(app->bundle_keys);
	ac_config_free(&app->cfg);
}

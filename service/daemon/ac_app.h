/*
 * The agricertd application: every long-lived module of the service, owned
 * here, and what handlers reach through r->app. Its life:
 *
 *   ac_app_start   configuration, keys, migrations, then the modules and the
 *                  listener on the caller's loop; signals: SIGTERM and SIGINT
 *                  stop, SIGHUP reloads the key rings
 *   uv_run         serves until stopped
 *   ac_app_stop    (a signal) stops accepting, lets what is in flight finish
 *                  (at most AC_APP_DRAIN_MS), then closes the modules one by
 *                  one, each after its own work has ended: notifications,
 *                  issuer, print queue, scan log, look-ups, bundles,
 *                  catalogue, database,
 *                  HTTP, then its own handles; then uv_run returns
 *   ac_app_free    after uv_run: frees what must not be freed from a
 *                  callback (h2o's context), and the key rings
 *
 * After that the loop has no handle left and uv_loop_close returns 0.
 * Module pointers become NULL as their modules close. Loop thread only.
 */
#ifndef AC_APP_H
#define AC_APP_H

#include <stdint.h>
#include <uv.h>

#include "ac_auth.h"
#include "ac_bundles.h"
#include "ac_catalog.h"
#include "ac_config.h"
#include "ac_db.h"
#include "ac_http.h"
#include "ac_issuer.h"
#include "ac_keys.h"
#include "ac_listen.h"
#include "ac_lookup.h"
#include "ac_printq.h"
#include "ac_ratelimit.h"
#include "ac_router.h"
#include "ac_scanlog.h"

#define AC_APP_DRAIN_MS	     30000
#define AC_LOGINS_PER_MINUTE 10
#define AC_APP_PARTITION_MS  (24 * 3600 * 1000)

typedef struct ac_app {
	uv_loop_t *loop;
	ac_config cfg;
	ac_db *db;
	ac_db *db_read; /* reads that tolerate lag: its own pool, or db when db_read = db */
	ac_http *http;
	ac_auth *auth;
	ac_keyring *keys;	 /* code keys; batches and scans hold their own references */
	ac_keyring *bundle_keys; /* <keys>/bundle: signs trust bundles; may be NULL */
	ac_catalog *catalog;
	ac_issuer *issuer;
	ac_printq *printq;
	ac_scanlog *scanlog;
	ac_lookup *lookup;
	ac_bundles *bundles;
	ac_ratelimit *logins; /* login attempts per kiosk or client address */
	ac_listen *listen;    /* notifications from other instances (ac_changes.h) */
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	uv_timer_t stop_timer;
	uv_timer_t partition_timer; /* the months ahead, daily (sql/0028) */
	int handles;		    /* of the five above, not yet closed */
	int stopping;
	uint64_t stop_started_ms;
	int close_step;
} ac_app;

/*
 * Starts the service on loop. Logs what fails and returns -1; the app is
 * then closing, and the caller runs the loop and calls ac_app_free as after
 * a stop.
 */
int ac_app_start(ac_app *app, uv_loop_t *loop, const char *config_path,
		 const ac_route_table *const *routes);

/* Stops gracefully (what SIGTERM does). */
void ac_app_stop(ac_app *app);

/* After uv_run has returned. */
void ac_app_free(ac_app *app);

/* The application a request belongs to. */
static inline ac_app *ac_app_of(const ac_req *r)
{
	return r->app;
}

#endif

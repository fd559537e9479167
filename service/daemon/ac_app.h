/*
 * The agricertd application: what every handler reaches through req->app.
 * Owned by main(); lives as long as the loop. Loop thread only.
 */
#ifndef AC_APP_H
#define AC_APP_H

#include <stdint.h>
#include <uv.h>

#include "ac_code.h"
#include "ac_config.h"
#include "ac_db.h"
#include "ac_http.h"
#include "ac_keys.h"

typedef struct ac_issuer ac_issuer;
typedef struct ac_printq ac_printq;
typedef struct ac_scanlog ac_scanlog;

typedef struct ac_product {
	int id;
	char *name;
	char *category;
	char *default_unit;
	int key_risk;
} ac_product;

typedef struct ac_app {
	uv_loop_t *loop;
	ac_config cfg;
	ac_db *db;
	ac_http *http;
	ac_keyring *keys;
	ac_keyring *bundle_keys; /* <keys>/bundle: signs trust bundles; may be NULL */
	ac_issuer *issuer;
	ac_printq *printq;
	ac_scanlog *scanlog;
	ac_product *products;
	int nproducts;
	int catalog_loaded;
	uv_timer_t catalog_timer;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	/* Rings replaced by a reload: batches in flight may still sign with
	 * them, so they live until exit. */
	ac_keyring **old_keys;
	int nold_keys;
	uv_timer_t stop_timer;
	int stopping;
} ac_app;

const ac_product *ac_app_product_by_name(const ac_app *app, const char *name);
const ac_product *ac_app_product_by_id(const ac_app *app, int id);

/* The authenticated caller of a request. */
typedef struct ac_principal {
	int subject_id;
	char role[24];
	char name[256];
	char contact[64];
	char status[16];
	int64_t region_code;
	char kiosk_id[72]; /* the kiosk a device token or a session belongs to, or "" */
} ac_principal;

/*
 * Checks the bearer token of r. On success calls cb with the principal
 * (valid during the call); otherwise answers 401 (or 503) itself and cb is
 * not called. Holds a reference on r meanwhile. Successful look-ups are
 * cached for 30 s: a revoked token may work that long.
 */
typedef void (*ac_auth_cb)(ac_req *r, const ac_principal *p);
void ac_auth(ac_req *r, ac_auth_cb cb);
/*
 * What every handler on /api/v1/certificates/{id}/... starts from: the
 * handler's own context begins with one.
 */
typedef struct ac_id_ctx {
	ac_req *r;
	ac_principal p; /* filled in by the handler's auth callback */
	char id[24];	/* the serial, digits only */
} ac_id_ctx;

/*
 * Answers 404 unless id is a certificate serial; otherwise allocates size
 * zeroed bytes (a struct whose first member is an ac_id_ctx), sets r and id,
 * makes it r->handler_data (freed with release if the request ends before
 * the handler takes it) and authenticates, calling cb on success.
 */
void ac_start_on_certificate(ac_req *r, const char *id, size_t size, void (*release)(void *),
			     ac_auth_cb cb);

/* Drops the token cache (at exit). */
void ac_auth_forget(void);
/* Drops cached principals of one subject (after a status or grade change;
 * other instances notice within the cache's 30 s). */
void ac_auth_forget_subject(int subject_id);

/*
 * Checking the codes a request lists (receipts, market checks): each entry's
 * text is a code as scanned (the label's URL or its payload). Entries whose
 * status is already set (refused for another reason) are skipped; the others
 * get status NULL when the signature is genuine, with code decoded and
 * payload set to the canonical text, or else the verdict ("malformed",
 * "unknown_key", "bad_signature", "key_revoked").
 */
typedef struct ac_scanned_code {
	char text[256];
	const char *status;
	ac_code code;
	char payload[AC_CODE_TEXT_SIZE];
} ac_scanned_code;

/*
 * Checks v[0..n) in the thread pool (Ed25519/SM2 verification does not belong
 * on the loop), then calls done(data, ok) on the loop; ok is 0 when the work
 * could not run. Holds a reference on r meanwhile. Returns -1 (done is not
 * called) when the work cannot be queued.
 */
int ac_scan_check_codes(ac_req *r, ac_scanned_code *v, int n, void (*done)(void *data, int ok),
			void *data);

/* Route handlers (service/ac_*.c). */
void ac_handle_issue(ac_req *r);
void ac_handle_certificate_get(ac_req *r, const char *id);
void ac_handle_print_job_get(ac_req *r, const char *id);
void ac_handle_scan(ac_req *r, const char *payload);
void ac_handle_revocation(ac_req *r, const char *id);
void ac_handle_reprint(ac_req *r, const char *id);
void ac_handle_receipts(ac_req *r);
void ac_handle_stock(ac_req *r);
void ac_handle_trace(ac_req *r, const char *id);
void ac_handle_epcis(ac_req *r, const char *id);
void ac_handle_recall(ac_req *r, const char *id);
void ac_handle_rapid_test(ac_req *r);
void ac_handle_test_revocation(ac_req *r, const char *id);
void ac_handle_inspections(ac_req *r);
void ac_handle_unlicensed(ac_req *r);
void ac_handle_clone_suspicions(ac_req *r);
void ac_handle_stats(ac_req *r);
void ac_handle_trust_bundle(ac_req *r);
void ac_handle_trust_key(ac_req *r);
void ac_trust_forget(void);
void ac_handle_login(ac_req *r);
void ac_handle_logout(ac_req *r);
/* Drops one token from the cache (after a logout). */
void ac_auth_forget_token(const char *token);

#endif

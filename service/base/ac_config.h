/*
 * agricertd configuration: one file of `key = value` lines ('#' starts a
 * comment), then environment overrides. Every setting has a safe default, so
 * no file is needed for a local run.
 *
 *   file key      environment           default
 *   db            AGRICERT_DB           dbname=agricert (the service's role)
 *   db_owner      AGRICERT_DB_OWNER     = db (the schema owner: migrations, purge)
 *   db_read       AGRICERT_DB_READ      = db (reads that tolerate lag: a replica)
 *   listen        AGRICERT_LISTEN       127.0.0.1:8080
 *   public_url    AGRICERT_PUBLIC_URL   http://127.0.0.1:8080
 *   keys          AGRICERT_KEYS         var/keys
 *   cups_server   AGRICERT_CUPS_SERVER  127.0.0.1:631
 *   font          AGRICERT_FONT         /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
 *   font_fallback -                     HanaMinA.ttf:HanaMinB.ttf (fonts-hanazono): for
 *                                       characters the label font lacks (CJK Ext. A-F)
 *   web           AGRICERT_WEB          service/web
 *   sql           AGRICERT_SQL          sql
 *   signing_key   AGRICERT_SIGNING_KEY  0 (the newest active key)
 *   db_pool       AGRICERT_DB_POOL      4 connections
 *   db_timeout    -                     10 seconds for an answer or a connection
 *   batch_max     -                     512 certificates per group commit
 *   max_body      -                     65536 bytes (routes that take photos set their own)
 *   max_labels    -                     500 labels per certificate
 *   print_timeout -                     120 seconds at CUPS before a job is cancelled and failed
 *   region        AGRICERT_REGION       100000 (the division the trust bundle covers)
 *   retention_months AGRICERT_RETENTION_MONTHS 24 (receipts kept; 6 to 1200)
 *   trusted_proxies AGRICERT_TRUSTED_PROXIES none (addresses whose X-Forwarded-For
 *                                       is believed: "127.0.0.1, ::1", see ac_addr.h)
 *   log_format    AGRICERT_LOG_FORMAT   text (or json: one JSON object a line, ac_log.h)
 *   metrics_token AGRICERT_METRICS_TOKEN none (GET /metrics from elsewhere than
 *                                       the host itself needs it as a bearer token)
 *   printer.ID    -                     "QUEUE [SIZE [LANG]]" e.g. "demo-kiosk 60x40@203",
 *                                       "demo-zpl 60x40@203 zpl" (LANG pdf, zpl, tspl)
 *
 * The file is -c FILE, else $AGRICERT_CONFIG, else var/agricert.conf when it
 * exists (the local default written by deploy/run-local), else the installed
 * default AC_DEFAULT_CONFIG (/etc/agricert/agricert.conf, from meson) when
 * it exists, else none. Strings are owned by the config and freed by
 * ac_config_free(). Loop thread only, at start.
 */
#ifndef AC_CONFIG_H
#define AC_CONFIG_H

#include <stddef.h>

#include "ac_addr.h"

#define AC_CONFIG_MAX_PRINTERS 64

/*
 * Collected records (receipts) are kept at least retention_months. The law
 * requires purchasers to keep collected certificates at least 6 months, so a
 * smaller value is refused at start (sql/0011_retention.sql holds the same
 * floor in the database); more than 100 years is taken for a typo.
 */
#define AC_RETENTION_MIN_MONTHS	    6
#define AC_RETENTION_MAX_MONTHS	    1200
#define AC_RETENTION_DEFAULT_MONTHS 24

typedef struct ac_printer_conf {
	char *id;    /* as clients name it: "demo-kiosk" */
	char *queue; /* CUPS queue */
	char *size;  /* label size "60x40@203" */
	char *lang;  /* "pdf", "zpl" or "tspl" */
} ac_printer_conf;

typedef struct ac_config {
	char *path; /* the file the settings came from, or NULL for none */
	char *db;
	char *db_owner;
	char *db_read;
	char *listen_host;
	int listen_port;
	char *public_url;
	char *keys_dir;
	char *cups_server;
	char *font;
	char *font_fallback; /* colon-separated */
	char *web_dir;
	char *sql_dir;
	int signing_kid;
	int db_pool;
	int db_timeout; /* seconds */
	int batch_max;
	size_t max_body;
	int max_labels;
	int print_timeout;
	char *region;
	int retention_months;
	ac_netlist trusted_proxies;
	int log_json;	     /* log_format = json */
	char *metrics_token; /* or NULL */
	ac_printer_conf printers[AC_CONFIG_MAX_PRINTERS];
	int nprinters;
} ac_config;

/* Loads defaults, then the file at path (NULL: AGRICERT_CONFIG or none), then
 * the environment. Returns 0, or AC_ECONFIG with a message in err (cfg then
 * holds nothing to free). */
int ac_config_load(ac_config *cfg, const char *path, char *err, size_t errsz);
void ac_config_free(ac_config *cfg);

/* Returns the printer with that id, or NULL. */
const ac_printer_conf *ac_config_printer(const ac_config *cfg, const char *id);

#endif

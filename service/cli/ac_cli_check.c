#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "ac_cli_check.h"
#include "ac_dbsync.h"
#include "ac_keys.h"
#include "ac_trust.h"

enum { OK, WARN, FAIL };

typedef struct report {
	FILE *out;
	int warnings;
	int problems;
} report;

static void say(report *rep, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(report *rep, int level, const char *fmt, ...)
{
	static const char *const words[] = { "ok  ", "warn", "FAIL" };
	va_list ap;

	rep->warnings += level == WARN;
	rep->problems += level == FAIL;
	fprintf(rep->out, "%s  ", words[level]);
	va_start(ap, fmt);
	vfprintf(rep->out, fmt, ap);
	va_end(ap);
	fputc('\n', rep->out);
}

static void check_file(const ac_config *cfg, report *rep)
{
	if (cfg->path != NULL)
		say(rep, OK, "configuration file %s", cfg->path);
	else
		say(rep, WARN,
		    "no configuration file: defaults and AGRICERT_* environment variables only "
		    "(give one with -c FILE)");
}

static void check_sql(const ac_config *cfg, report *rep)
{
	char err[1024];
	int n = 0;

	if (ac_migrations_read(cfg->sql_dir, &n, err, sizeof(err)) != 0)
		say(rep, FAIL, "sql: %s (the migrations; set sql)", err);
	else if (n == 0)
		say(rep, FAIL, "sql: no migrations (NNNN_name.sql) in \"%s\"", cfg->sql_dir);
	else
		say(rep, OK, "sql: %d migrations in %s", n, cfg->sql_dir);
}

static void check_readable(report *rep, const char *what, const char *path, const char *why)
{
	if (access(path, R_OK) != 0)
		say(rep, FAIL, "%s: could not read \"%s\": %s (%s)", what, path, strerror(errno),
		    why);
	else
		say(rep, OK, "%s: %s", what, path);
}

static void check_web_and_font(const ac_config *cfg, report *rep)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/index.html", cfg->web_dir);
	check_readable(rep, "web", path, "the kiosk, scan and dashboard pages; set web");
	check_readable(rep, "font", cfg->font, "labels embed it; set font");
}

static void check_keys(const ac_config *cfg, report *rep)
{
	ac_keyring *ring = NULL;
	char dir[4096];
	char err[1024] = "";

	if (ac_keyring_load(cfg->keys_dir, cfg->signing_kid, &ring, err, sizeof(err)) != 0) {
		say(rep, FAIL, "keys: %s (agricertd would not start)", err);
		return;
	}
	if (ring->signer == NULL)
		say(rep, WARN,
		    "keys: no active signing key in %s: issuing is disabled (create one with "
		    "agricert key new, as the user agricertd runs as)",
		    cfg->keys_dir);
	else
		say(rep, OK, "keys: %d in %s, key %d signs", ring->n, cfg->keys_dir,
		    ring->signer->kid);
	ac_keyring_free(ring);
	ring = NULL;
	ac_trust_key_dir(cfg->keys_dir, dir, sizeof(dir));
	if (access(dir, F_OK) != 0)
		say(rep, WARN,
		    "trust bundle key: none in %s: offline verifiers get no bundle (create one "
		    "with agricert key new --bundle)",
		    dir);
	else if (ac_keyring_load(dir, 0, &ring, err, sizeof(err)) != 0 || ring->signer == NULL)
		say(rep, FAIL, "trust bundle key: %s", err[0] ? err : "no active key");
	else
		say(rep, OK, "trust bundle key: key %d signs", ring->signer->kid);
	ac_keyring_free(ring);
}

/* Connects as setting (db, db_owner or db_read) says and reports who it is. */
static void check_db(report *rep, const char *setting, const char *conninfo)
{
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char err[1024] = "out of memory";

	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0 ||
	    ac_dbsync_exec(db,
			   "SELECT current_user AS who, current_database() AS dbname, "
			   "to_regclass('schema_migrations') IS NOT NULL AS migrated",
			   0, NULL, &res, err, sizeof(err)) != 0) {
		say(rep, FAIL, "%s: could not connect to the database (\"%s\"): %s", setting,
		    conninfo, err);
	} else if (strcmp(ac_db_field(res, 0, "migrated"), "t") != 0) {
		say(rep, WARN,
		    "%s: connected as %s to %s, which has no schema yet (agricertd migrates at "
		    "start; or run agricert migrate)",
		    setting, ac_db_field(res, 0, "who"), ac_db_field(res, 0, "dbname"));
	} else {
		say(rep, OK, "%s: connected as %s to %s", setting, ac_db_field(res, 0, "who"),
		    ac_db_field(res, 0, "dbname"));
	}
	ac_db_result_free(res);
	ac_dbsync_close(db);
}

static void check_databases(const ac_config *cfg, report *rep)
{
	check_db(rep, "db", cfg->db);
	check_db(rep, "db_owner", cfg->db_owner);
	if (strcmp(cfg->db_read, cfg->db) != 0)
		check_db(rep, "db_read", cfg->db_read);
	if (strcmp(cfg->db, cfg->db_owner) == 0)
		say(rep, WARN,
		    "db: the service connects as the schema owner, which may rewrite the audit "
		    "log: give it its own role (agricert_app, sql/AUDIT.md)");
}

static void check_addresses(const ac_config *cfg, report *rep)
{
	say(rep, OK, "listen: %s:%d, %d trusted proxies", cfg->listen_host, cfg->listen_port,
	    cfg->trusted_proxies.n);
	if (strncmp(cfg->public_url, "https://", 8) != 0)
		say(rep, WARN,
		    "public_url: %s is not https: every label printed now sends scanners there "
		    "(set public_url to the service's https:// address before issuing)",
		    cfg->public_url);
	else
		say(rep, OK, "public_url: %s", cfg->public_url);
}

int ac_cli_config_check(const ac_config *cfg, FILE *out)
{
	static void (*const checks[])(const ac_config *, report *) = {
		check_file, check_sql,	     check_web_and_font,
		check_keys, check_databases, check_addresses,
	};
	report rep = { out, 0, 0 };

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		checks[i](cfg, &rep);
	if (rep.problems > 0)
		fprintf(out,
			"%d problem%s: agricertd would not start or would not work as "
			"configured\n",
			rep.problems, rep.problems == 1 ? "" : "s");
	else
		fprintf(out, "the configuration is usable (%d warning%s)\n", rep.warnings,
			rep.warnings == 1 ? "" : "s");
	return rep.problems > 0 ? 1 : 0;
}

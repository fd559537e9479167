#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_config.h"
#include "ac_error.h"

static void set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return AC_ECONFIG;
	*out = (int)v;
	return 0;
}

static int set_listen(ac_config *cfg, const char *value)
{
	const char *colon = strrchr(value, ':');
	int port;

	if (colon == NULL || colon == value)
		return AC_ECONFIG;
	if (parse_int(colon + 1, 1, 65535, &port) != 0)
		return AC_ECONFIG;
	free(cfg->listen_host);
	cfg->listen_host = strndup(value, colon - value);
	cfg->listen_port = port;
	return 0;
}

static int add_printer(ac_config *cfg, const char *id, const char *value)
{
	char queue[256];
	char size[64] = "60x40@203";
	char lang[16] = "pdf";
	ac_printer_conf *p;
	int n;

	n = sscanf(value, "%255s %63s %15s", queue, size, lang);
	if (n < 1 || *id == '\0' ||
	    (strcmp(lang, "pdf") != 0 && strcmp(lang, "zpl") != 0 && strcmp(lang, "tspl") != 0))
		return AC_ECONFIG;
	for (int i = 0; i < cfg->nprinters; i++) {
		if (strcmp(cfg->printers[i].id, id) == 0) {
			set_str(&cfg->printers[i].queue, queue);
			set_str(&cfg->printers[i].size, size);
			set_str(&cfg->printers[i].lang, lang);
			return 0;
		}
	}
	if (cfg->nprinters == AC_CONFIG_MAX_PRINTERS)
		return AC_ECONFIG;
	p = &cfg->printers[cfg->nprinters++];
	p->id = strdup(id);
	p->queue = strdup(queue);
	p->size = strdup(size);
	p->lang = strdup(lang);
	return 0;
}

/* Refuses a retention below the legal minimum with a message saying so. */
static int set_retention(ac_config *cfg, const char *value, char *why, size_t whysz)
{
	char *end;
	long v;

	/* Out of range (ERANGE) saturates, and is then too small or too large. */
	v = strtol(value, &end, 10);
	if (end == value || *end != '\0') {
		snprintf(why, whysz,
			 "retention_months is \"%s\": expected a number of months, at least %d "
			 "(收取的合格证至少保存%d个月)",
			 value, AC_RETENTION_MIN_MONTHS, AC_RETENTION_MIN_MONTHS);
		return AC_ECONFIG;
	}
	if (v < AC_RETENTION_MIN_MONTHS) {
		snprintf(why, whysz,
			 "retention_months is %s: the law requires keeping collected "
			 "certificates at least %d months (收取的合格证至少保存%d个月)",
			 value, AC_RETENTION_MIN_MONTHS, AC_RETENTION_MIN_MONTHS);
		return AC_ECONFIG;
	}
	if (v > AC_RETENTION_MAX_MONTHS) {
		snprintf(why, whysz,
			 "retention_months is %s: at most %d months (保存期限最长%d个月)", value,
			 AC_RETENTION_MAX_MONTHS, AC_RETENTION_MAX_MONTHS);
		return AC_ECONFIG;
	}
	cfg->retention_months = (int)v;
	return 0;
}

/* Settings that are text, and integers with their range. */
static const struct {
	const char *key;
	size_t offset;
} text_keys[] = {
	{ "db", offsetof(ac_config, db) },
	{ "db_owner", offsetof(ac_config, db_owner) },
	{ "db_read", offsetof(ac_config, db_read) },
	{ "public_url", offsetof(ac_config, public_url) },
	{ "keys", offsetof(ac_config, keys_dir) },
	{ "cups_server", offsetof(ac_config, cups_server) },
	{ "font", offsetof(ac_config, font) },
	{ "font_fallback", offsetof(ac_config, font_fallback) },
	{ "web", offsetof(ac_config, web_dir) },
	{ "sql", offsetof(ac_config, sql_dir) },
	{ "metrics_token", offsetof(ac_config, metrics_token) },
};

static const struct {
	const char *key;
	size_t offset;
	int lo, hi;
} int_keys[] = {
	{ "signing_key", offsetof(ac_config, signing_kid), 0, 65535 },
	{ "db_pool", offsetof(ac_config, db_pool), 1, 64 },
	{ "db_timeout", offsetof(ac_config, db_timeout), 1, 600 },
	{ "batch_max", offsetof(ac_config, batch_max), 1, 4096 },
	{ "max_labels", offsetof(ac_config, max_labels), 1, 10000 },
	{ "print_timeout", offsetof(ac_config, print_timeout), 5, 3600 },
};

static int set_region(ac_config *cfg, const char *value)
{
	size_t n = strlen(value);

	if (n < 6 || n > 12 || strspn(value, "0123456789") != n || value[0] == '0')
		return AC_ECONFIG;
	set_str(&cfg->region, value);
	return 0;
}

static int set_max_body(ac_config *cfg, const char *value)
{
	int v;

	if (parse_int(value, 1024, 16 << 20, &v) != 0)
		return AC_ECONFIG;
	cfg->max_body = (size_t)v;
	return 0;
}

static int set_log_format(ac_config *cfg, const char *value)
{
	if (strcmp(value, "text") != 0 && strcmp(value, "json") != 0)
		return AC_ECONFIG;
	cfg->log_json = strcmp(value, "json") == 0;
	return 0;
}

/* Returns 0 or AC_ECONFIG; why may then say what is wrong (else it is ""). */
static int set_key(ac_config *cfg, const char *key, const char *value, char *why, size_t whysz)
{
	why[0] = '\0';
	for (size_t i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++) {
		if (strcmp(key, text_keys[i].key) == 0) {
			set_str((char **)((char *)cfg + text_keys[i].offset), value);
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(int_keys) / sizeof(int_keys[0]); i++) {
		if (strcmp(key, int_keys[i].key) == 0)
			return parse_int(value, int_keys[i].lo, int_keys[i].hi,
					 (int *)((char *)cfg + int_keys[i].offset));
	}
	if (strcmp(key, "listen") == 0)
		return set_listen(cfg, value);
	if (strcmp(key, "region") == 0)
		return set_region(cfg, value);
	if (strcmp(key, "max_body") == 0)
		return set_max_body(cfg, value);
	if (strcmp(key, "retention_months") == 0)
		return set_retention(cfg, value, why, whysz);
	if (strcmp(key, "log_format") == 0)
		return set_log_format(cfg, value);
	if (strcmp(key, "trusted_proxies") == 0)
		return ac_netlist_parse(value, &cfg->trusted_proxies, why, whysz);
	if (strncmp(key, "printer.", 8) == 0)
		return add_printer(cfg, key + 8, value);
	return AC_ECONFIG;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(ac_config *cfg, const char *path, char *err, size_t errsz)
{
	char line[1024];
	char why[256];
	FILE *f;
	int lineno = 0;
	int r = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errsz, "could not open file \"%s\": %s", path, strerror(errno));
		return AC_ECONFIG;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#');
		char *eq;
		char *s;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errsz, "%s:%d: expected key = value", path, lineno);
			r = AC_ECONFIG;
			break;
		}
		*eq = '\0';
		if (set_key(cfg, trim(s), trim(eq + 1), why, sizeof(why)) != 0) {
			if (why[0] != '\0')
				snprintf(err, errsz, "%s:%d: %s", path, lineno, why);
			else
				snprintf(err, errsz, "%s:%d: invalid setting \"%s\"", path, lineno,
					 trim(s));
			r = AC_ECONFIG;
			break;
		}
	}
	fclose(f);
	return r;
}

int ac_config_load(ac_config *cfg, const char *path, char *err, size_t errsz)
{
	static const struct {
		const char *env;
		const char *key;
	} envs[] = {
		{ "AGRICERT_DB", "db" },
		{ "AGRICERT_DB_OWNER", "db_owner" },
		{ "AGRICERT_DB_READ", "db_read" },
		{ "AGRICERT_LISTEN", "listen" },
		{ "AGRICERT_PUBLIC_URL", "public_url" },
		{ "AGRICERT_KEYS", "keys" },
		{ "AGRICERT_CUPS_SERVER", "cups_server" },
		{ "AGRICERT_FONT", "font" },
		{ "AGRICERT_WEB", "web" },
		{ "AGRICERT_SQL", "sql" },
		{ "AGRICERT_SIGNING_KEY", "signing_key" },
		{ "AGRICERT_DB_POOL", "db_pool" },
		{ "AGRICERT_REGION", "region" },
		{ "AGRICERT_RETENTION_MONTHS", "retention_months" },
		{ "AGRICERT_TRUSTED_PROXIES", "trusted_proxies" },
		{ "AGRICERT_LOG_FORMAT", "log_format" },
		{ "AGRICERT_METRICS_TOKEN", "metrics_token" },
	};
	char why[256];
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->db = strdup("dbname=agricert");
	cfg->listen_host = strdup("127.0.0.1");
	cfg->listen_port = 8080;
	cfg->public_url = strdup("http://127.0.0.1:8080");
	cfg->keys_dir = strdup("var/keys");
	cfg->cups_server = strdup("127.0.0.1:631");
	cfg->font = strdup("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc");
	cfg->font_fallback = strdup("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf:"
				    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf");
	cfg->web_dir = strdup("service/web");
	cfg->sql_dir = strdup("sql");
	cfg->region = strdup("100000");
	cfg->db_pool = 4;
	cfg->batch_max = 512;
	/* Routes that take photos set their own limit (ac_route.max_body). */
	cfg->max_body = 65536;
	cfg->max_labels = 500;
	cfg->db_timeout = 10;
	cfg->print_timeout = 120;
	cfg->retention_months = AC_RETENTION_DEFAULT_MONTHS;

	if (path == NULL)
		path = getenv("AGRICERT_CONFIG");
	/* The local default (deploy/run-local) writes its settings here. */
	if (path == NULL && access("var/agricert.conf", R_OK) == 0)
		path = "var/agricert.conf";
	/* What meson install put in place (a server). */
	if (path == NULL && access(AC_DEFAULT_CONFIG, R_OK) == 0)
		path = AC_DEFAULT_CONFIG;
	if (path != NULL && *path != '\0') {
		cfg->path = strdup(path);
		r = load_file(cfg, path, err, errsz);
		if (r != 0) {
			ac_config_free(cfg);
			return r;
		}
	}
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		const char *v = getenv(envs[i].env);

		if (v == NULL || *v == '\0')
			continue;
		if (set_key(cfg, envs[i].key, v, why, sizeof(why)) != 0) {
			if (why[0] != '\0')
				snprintf(err, errsz, "%s (from %s)", why, envs[i].env);
			else
				snprintf(err, errsz, "invalid %s \"%s\"", envs[i].env, v);
			ac_config_free(cfg);
			return AC_ECONFIG;
		}
	}
	if (cfg->db_owner == NULL)
		cfg->db_owner = strdup(cfg->db);
	if (cfg->db_read == NULL)
		cfg->db_read = strdup(cfg->db);
	return 0;
}

void ac_config_free(ac_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->db);
	free(cfg->db_owner);
	free(cfg->db_read);
	free(cfg->listen_host);
	free(cfg->public_url);
	free(cfg->keys_dir);
	free(cfg->cups_server);
	free(cfg->font);
	free(cfg->font_fallback);
	free(cfg->web_dir);
	free(cfg->sql_dir);
	free(cfg->region);
	free(cfg->metrics_token);
	for (int i = 0; i < cfg->nprinters; i++) {
		free(cfg->printers[i].id);
		free(cfg->printers[i].queue);
		free(cfg->printers[i].size);
		free(cfg->printers[i].lang);
	}
	memset(cfg, 0, sizeof(*cfg));
}

const ac_printer_conf *ac_config_printer(const ac_config *cfg, const char *id)
{
	for (int i = 0; i < cfg->nprinters; i++) {
		if (strcmp(cfg->printers[i].id, id) == 0)
			return &cfg->printers[i];
	}
	return NULL;
}

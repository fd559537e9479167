/* Configuration: defaults, a file, environment overrides, refusals with line numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_config.h"
#include "ac_test.h"

extern char **environ;

/* The test runs under tests/run, which exports AGRICERT_* for the services. */
static void clear_environment(void)
{
	for (int again = 1; again;) {
		again = 0;
		for (char **e = environ; *e != NULL; e++) {
			char name[128];
			size_t n = strcspn(*e, "=");

			if (strncmp(*e, "AGRICERT_", 9) == 0 && n < sizeof(name)) {
				snprintf(name, sizeof(name), "%.*s", (int)n, *e);
				unsetenv(name);
				again = 1;
				break;
			}
		}
	}
}

/* Loads text as a configuration file; returns ac_config_load's result. */
static int load_text(ac_config *cfg, const char *text, char *err, size_t errsz)
{
	char path[] = "/tmp/agricert-config-XXXXXX";
	int fd = mkstemp(path);
	int rc;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	rc = ac_config_load(cfg, path, err, errsz);
	unlink(path);
	return rc;
}

static void check_defaults(void)
{
	ac_config cfg;
	char err[256];

	AC_CHECK(ac_config_load(&cfg, "/dev/null", err, sizeof(err)) == 0, "an empty file loads");
	AC_CHECK(strcmp(cfg.listen_host, "127.0.0.1") == 0 && cfg.listen_port == 8080,
		 "listens on 127.0.0.1:8080 by default");
	AC_CHECK(cfg.db_pool == 4 && cfg.batch_max == 512 && cfg.max_labels == 500 &&
		     cfg.print_timeout == 120 && cfg.retention_months == 24,
		 "safe defaults for the pool, batches, labels, print timeout, retention");
	AC_CHECK(cfg.nprinters == 0, "no printers unless configured");
	AC_CHECK(cfg.trusted_proxies.n == 0, "no trusted proxies unless configured");
	AC_CHECK(cfg.path != NULL && strcmp(cfg.path, "/dev/null") == 0,
		 "the file it read is kept");
	ac_config_free(&cfg);
}

static void check_file_and_environment(void)
{
	ac_config cfg;
	char err[256];
	const ac_printer_conf *p;
	int rc;

	setenv("AGRICERT_LISTEN", "0.0.0.0:9090", 1);
	rc = load_text(&cfg,
		       "# a comment\n"
		       "listen = 127.0.0.1:8181\n"
		       "public_url = https://trace.example.cn  # trailing comment\n"
		       "print_timeout = 30\n"
		       "printer.kiosk-fc-01 = fc01 70x50@300\n"
		       "printer.kiosk-fc-02 = fc02\n"
		       "trusted_proxies = 127.0.0.1, ::1\n",
		       err, sizeof(err));
	unsetenv("AGRICERT_LISTEN");
	AC_CHECK(rc == 0, "a file with comments, printers and settings loads");
	AC_CHECK(rc == 0 && cfg.listen_port == 9090 && strcmp(cfg.listen_host, "0.0.0.0") == 0,
		 "the environment overrides the file");
	AC_CHECK(rc == 0 && strcmp(cfg.public_url, "https://trace.example.cn") == 0,
		 "values are trimmed, comments dropped");
	AC_CHECK(rc == 0 && cfg.print_timeout == 30, "print_timeout is read");
	p = rc == 0 ? ac_config_printer(&cfg, "kiosk-fc-01") : NULL;
	AC_CHECK(p != NULL && strcmp(p->queue, "fc01") == 0 && strcmp(p->size, "70x50@300") == 0,
		 "a printer with queue and size");
	p = rc == 0 ? ac_config_printer(&cfg, "kiosk-fc-02") : NULL;
	AC_CHECK(p != NULL && strcmp(p->size, "60x40@203") == 0, "a printer's size defaults");
	AC_CHECK(rc == 0 && ac_config_printer(&cfg, "nope") == NULL, "an unknown printer is NULL");
	AC_CHECK(rc == 0 && cfg.trusted_proxies.n == 2, "trusted_proxies is a list");
	if (rc == 0)
		ac_config_free(&cfg);
}

static const struct {
	const char *text;
	const char *says; /* part of the message */
} refusals[] = {
	{ "listen = nowhere\n", ":1: invalid setting \"listen\"" },
	{ "db_pool = 0\n", "invalid setting \"db_pool\"" },
	{ "\n\nno equals sign\n", ":3: expected key = value" },
	{ "colour = red\n", "invalid setting \"colour\"" },
	{ "retention_months = 3\n", "至少保存6个月" },
	{ "print_timeout = 1\n", "invalid setting \"print_timeout\"" },
	{ "region = 0123\n", "invalid setting \"region\"" },
	{ "trusted_proxies = 127.0.0.1, nginx\n", ":1: trusted_proxies: \"nginx\" is not an IP" },
};

static void check_refusals(void)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		ac_config cfg;
		char err[256] = "";
		char what[160];
		int rc = load_text(&cfg, refusals[i].text, err, sizeof(err));

		snprintf(what, sizeof(what), "refused with a message naming the line: %s",
			 refusals[i].says);
		AC_CHECK(rc != 0 && strstr(err, refusals[i].says) != NULL, what);
	}
}

int main(void)
{
	clear_environment();
	check_defaults();
	check_file_and_environment();
	check_refusals();
	return ac_test_done();
}

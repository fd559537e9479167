/*
 * agricertd: issues signed compliance certificates, prints their labels
 * through CUPS and answers scans. The program wires the layers together:
 * the routes of service/handlers/ into the application of service/daemon/,
 * on one libuv loop (README.md, "Architecture").
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ac_app.h"
#include "ac_handlers.h"
#include "ac_log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: agricertd [-c FILE] [-h] [-V] [--routes]\n"
		"Issues signed compliance certificates, prints their labels and answers scans.\n"
		"\n"
		"  -c, --config FILE  read settings from FILE; without it: $AGRICERT_CONFIG, else\n"
		"                     var/agricert.conf when present, else\n"
		"                     %s when present.\n"
		"                     AGRICERT_* environment variables override the file\n"
		"                     (README.md, Configuration)\n"
		"  -h, --help         print this help and exit\n"
		"      --routes       print every route of the API (method, pattern, whether a\n"
		"                     token is needed) and exit; web/openapi.json describes them\n"
		"  -V, --version      print the version and exit\n"
		"\n"
		"Signals: SIGTERM or SIGINT stop gracefully (what is in flight finishes first),\n"
		"SIGHUP reloads the key rings. Under systemd (Type=notify) it reports READY=1,\n"
		"RELOADING=1 and STOPPING=1. AGRICERT_LOG_LEVEL=debug|info|warn|error.\n"
		"Check a configuration with: agricert config check. See README.md.\n",
		AC_DEFAULT_CONFIG);
}

/* "GET /api/v1/keys -", "POST /api/v1/certificates token" ("optional"): one a line. */
static void print_routes(void)
{
	for (size_t t = 0; ac_all_routes[t] != NULL; t++) {
		for (size_t i = 0; i < ac_all_routes[t]->n; i++) {
			const ac_route *r = &ac_all_routes[t]->routes[i];

			printf("%s %s %s\n", r->method, r->pattern,
			       (r->flags & AC_ROUTE_AUTH)	     ? "token"
			       : (r->flags & AC_ROUTE_AUTH_OPTIONAL) ? "optional"
								     : "-");
		}
	}
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, const char **config_path)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "routes", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			*config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("agricertd %s\n", AC_VERSION);
			return 0;
		case 'R':
			print_routes();
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static void report_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	ac_log_error("main", "handle left open at exit: %s", uv_handle_type_name(h->type));
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	uv_loop_t loop;
	ac_app app;
	int started;
	int rc;

	rc = parse_options(argc, argv, &config_path);
	if (rc >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	ac_log_set_level(ac_log_level_from_name(getenv("AGRICERT_LOG_LEVEL")));
	if (uv_loop_init(&loop) != 0) {
		ac_log_error("main", "could not start the event loop");
		return 1;
	}
	started = ac_app_start(&app, &loop, config_path, ac_all_routes) == 0;
	uv_run(&loop, UV_RUN_DEFAULT);
	ac_app_free(&app);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		uv_walk(&loop, report_handle, NULL);
		return 1;
	}
	if (started)
		ac_log_info("main", "stopped");
	return started ? 0 : 1;
}

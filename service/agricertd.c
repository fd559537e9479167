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

static void usage(void)
{
	fprintf(stderr, "usage: agricertd [-c CONFIG]\n"
			"Settings come from CONFIG (or $AGRICERT_CONFIG) and AGRICERT_* "
			"environment variables; see README.md.\n");
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
	int opt;

	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		if (opt != 'c') {
			usage();
			return opt == 'h' ? 0 : 2;
		}
		config_path = optarg;
	}
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

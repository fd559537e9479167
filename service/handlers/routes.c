/* The list of every route table (ac_handlers.h). */
#include <stddef.h>

#include "ac_handlers.h"

const ac_route_table *const ac_all_routes[] = {
	&ac_health_routes,
	&ac_session_routes,
	&ac_trust_routes,
	&ac_certificate_routes,
	&ac_revocation_routes,
	&ac_print_job_routes,
	&ac_scan_routes,
	&ac_rapid_test_routes,
	&ac_inspection_routes,
	&ac_stats_routes,
	NULL,
};

/* The list of every route table (ac_handlers.h). */
#include <stddef.h>

#include "ac_handlers.h"

const ac_route_table *const ac_all_routes[] = {
	&ac_health_routes,	/* /healthz, keys */
	&ac_metrics_routes,	/* /metrics */
	&ac_session_routes,	/* log in, log out */
	&ac_trust_routes,	/* trust bundles */
	&ac_certificate_routes, /* issue, read */
	&ac_revocation_routes,	/* revoke */
	&ac_print_job_routes,	/* print jobs, reprint */
	&ac_scan_routes,	/* /v/{payload} */
	&ac_receipt_routes,	/* collect, stock */
	&ac_trace_routes,	/* trace, EPCIS, recall */
	&ac_rapid_test_routes,	/* rapid tests, a failed batch's revocation */
	&ac_inspection_routes,	/* market checks, unlicensed reports, clone suspicions */
	&ac_stats_routes,	/* township statistics */
	&ac_registry_routes,	/* subjects, regions, markets, products, kiosks */
	&ac_external_routes,	/* external certificates and their photos */
	&ac_mix_routes,		/* what a mix product may contain */
	&ac_station_routes,	/* village stations, households */
	&ac_supervision_routes, /* patrols, quarantine, sampling plans, the dashboard's documents */
	NULL,
};

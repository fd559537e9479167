/*
 * Every route of agricertd: each resource file of service/handlers/ keeps its
 * handlers static and exports its table of routes (ac_router.h); the program
 * hands the list to the application. Loop thread only.
 */
#ifndef AC_HANDLERS_H
#define AC_HANDLERS_H

#include "ac_router.h"

extern const ac_route_table ac_health_routes;
extern const ac_route_table ac_metrics_routes;
extern const ac_route_table ac_session_routes;
extern const ac_route_table ac_trust_routes;
extern const ac_route_table ac_certificate_routes;
extern const ac_route_table ac_revocation_routes;
extern const ac_route_table ac_print_job_routes;
extern const ac_route_table ac_scan_routes;
extern const ac_route_table ac_receipt_routes;
extern const ac_route_table ac_trace_routes;
extern const ac_route_table ac_rapid_test_routes;
extern const ac_route_table ac_inspection_routes;
extern const ac_route_table ac_stats_routes;
extern const ac_route_table ac_registry_routes;
extern const ac_route_table ac_external_routes;
extern const ac_route_table ac_mix_routes;
extern const ac_route_table ac_station_routes;
extern const ac_route_table ac_supervision_routes;

/* All of the above, NULL-terminated. */
extern const ac_route_table *const ac_all_routes[];

#endif

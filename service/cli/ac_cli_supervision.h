/*
 * The supervision commands of the agricert CLI (issue 13): importing
 * animal quarantine certificates and loading the demo data. Blocking libpq
 * (ac_dbsync): for the agricert CLI only, never on the service's loop.
 * Changes are recorded in the audit log as the CLI's user (ac_cli_actor).
 */
#ifndef AC_CLI_SUPERVISION_H
#define AC_CLI_SUPERVISION_H

#include "ac_config.h"

/*
 * agricert import quarantine FILE.csv: the quarantine certificates of the
 * CSV file at path (header number,owner,species,quantity,unit,origin,date or
 * the same in Chinese; import_quarantine(), sql/0023_supervision.sql), all
 * lines or none. Rejected lines are reported on stderr as "line N:
 * rejected: reason" and then nothing is imported; otherwise prints
 * "imported N quarantine certificates (x new, y updated)". Returns 0, or 1.
 */
int ac_cli_import_quarantine(const char *conninfo, const char *path);

/*
 * agricert demo load: a month of demo activity in Anxi county (subjects,
 * certificates signed with the signing key of cfg's key ring, receipts and
 * re-issues, rapid tests and blocks, a revocation, patrols, quarantine
 * certificates with mismatches, market checks, sampling plans), marked as
 * demo data, in one transaction. Refuses (1) a database that holds
 * activity that is not demo data, and says so; does nothing (0) when the
 * demo is loaded already. Prints what it stored. Returns 0, or 1.
 */
int ac_cli_demo_load(const ac_config *cfg);

#endif

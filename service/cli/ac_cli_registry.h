/*
 * The registry's admin command line: CSV import of subjects, products,
 * regions and rapid-test quotas, and CSV export of subjects, regions and
 * products. Blocking libpq (ac_dbsync): for the agricert CLI only, never on
 * the service's loop.
 */
#ifndef AC_CLI_REGISTRY_H
#define AC_CLI_REGISTRY_H

#include <stdio.h>

/*
 * Imports subjects from the CSV file at path, whose header line must be
 * kind,name,credit_code,id_number,contact,region_code,address,credit_grade,status
 * (fields may be quoted; empty credit_grade and status mean A and active).
 * Every row is checked first; rejected rows are reported on stderr as
 * "line N: rejected: reason" and then nothing is imported. Otherwise all rows
 * are written in one transaction: a subject with the same credit code (or,
 * without one, the same name and region) is updated, not duplicated; grade
 * and status changes are recorded in subject_change. Prints a summary on
 * stdout. Returns 0, or 1 when nothing was imported.
 */
int ac_cli_import_subjects(const char *conninfo, const char *path);

/*
 * Imports the catalogue what ("products", "regions" or "markets") from the
 * CSV file at path (a header line, then name,category,key_risk[,...] with
 * key_risk yes or no, or code,name,level,parent with 12-digit codes, or
 * market,region_code,kind,address,stall,seller with one line a stall; no
 * quoting). A product, region, market (by name and region) or stall already
 * there is updated (products keep their id). Lines that do
 * not fit are reported on stderr as "line N: rejected: reason" and the
 * import goes on; the first line the database refuses ends it. Any rejected
 * line means nothing is imported. Prints "imported N what" on stdout.
 * Returns 0, or 1 when nothing was imported.
 */
int ac_cli_import_catalogue(const char *conninfo, const char *what, const char *path);

/*
 * Imports the rapid-test quotas of year from the CSV file at path:
 * seq,unit,total,pesticide_colloidal_gold,pesticide_enzyme_inhibition,
 * veterinary (the Anxi annex 4 layout), townships by name; the county's own
 * line (县级) is skipped. The first line refused (no township of that name,
 * or by the database) is reported and nothing is imported. Returns 0, or 1.
 */
int ac_cli_import_quotas(const char *conninfo, const char *year, const char *path);

/*
 * Imports the townships' targets of year from the CSV file at path:
 * seq,account,township,producers,daily_patrols,monthly_patrols,
 * codes_issued_year,smallholder_certificates_year (the Anxi annex 3
 * layout), townships by name, as ac_cli_import_quotas does. Returns 0, or 1.
 */
int ac_cli_import_targets(const char *conninfo, const char *year, const char *path);

/*
 * Writes what ("subjects", "regions" or "products") as CSV with a header line
 * to out: subjects in the import format above (unmasked: the operator of the
 * CLI can read the database anyway), regions as code,name,level,parent and
 * products as name,category,key_risk,default_unit,id (both importable with
 * agricert import). Returns 0, 1 on a database error, 2 (after a usage line on
 * stderr) for an unknown what.
 */
int ac_cli_export(const char *conninfo, const char *what, FILE *out);

#endif

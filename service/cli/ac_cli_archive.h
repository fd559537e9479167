/*
 * agricert archive: retention of the monthly partitions (sql/0028): each
 * month of the scan log, the receipts and the audit log whose end lies
 * further back than its legal minimum is detached, written to
 * DIR/<partition>.csv (CSV with a header, in key order), and dropped once
 * the file is on disk with the same number of rows; the database keeps the
 * file's name and SHA-256 (partition_archive) and the audit log an entry
 * for each step. The audit chain is verified before any of its months
 * leaves. Runs as the schema owner.
 */
#ifndef AC_CLI_ARCHIVE_H
#define AC_CLI_ARCHIVE_H

#include <stdio.h>

#include "ac_config.h"

/* Archives every month due into dir (created if missing), or with dry_run
 * lists them. Returns 0, 1 (a month failed: what was done stays done) or 2
 * (the audit chain is broken: nothing archived). */
int ac_cli_archive(const ac_config *cfg, const char *dir, int dry_run, FILE *out);

/*
 * agricert audit verify --archive FILE: loads an archived month of the audit
 * log (FILE as agricert archive wrote it) into a temporary table and checks
 * its chain as audit verify checks the live one, and that it is the month
 * partition_archive recorded: the same SHA-256, rows, first and last ids,
 * the hash the first entry follows and the last entry's hash. Writes
 * "archive FILE intact: ..." and returns 0, or what differs and 1; 2 when
 * FILE or the database could not be read.
 */
int ac_cli_archive_verify(const ac_config *cfg, const char *path, FILE *out);

#endif

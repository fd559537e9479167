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

#endif

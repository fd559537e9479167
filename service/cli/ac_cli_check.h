/*
 * agricert config check: the configuration as agricertd would load it,
 * checked against what it names (files, keys, both database connections),
 * one line per check in plain words: "ok", "warn" (agricertd runs, but
 * something is missing or risky) or "FAIL" (agricertd would refuse to start,
 * or a part of it would not work). Blocking; the CLI only.
 */
#ifndef AC_CLI_CHECK_H
#define AC_CLI_CHECK_H

#include <stdio.h>

#include "ac_config.h"

/* Writes the report to out; returns the exit status: 0 fine, 1 a FAIL. */
int ac_cli_config_check(const ac_config *cfg, FILE *out);

#endif

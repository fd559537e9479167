/*
 * The kiosks' printers: those of the registry (kiosk rows, sql/0024), and
 * those of the configuration (printer.<id> = QUEUE [SIZE [LANG]]) for ids
 * the registry does not have. The registry's are kept in memory and asked
 * of the database again every second for what changed (printers_changed by
 * revision), so a change through the API reaches every instance within a
 * second, and this instance's next job at once (ac_printers_refresh, which
 * the kiosk handlers wait on). Owned by the print queue.
 *
 * Loop thread only.
 */
#ifndef AC_PRINTERS_H
#define AC_PRINTERS_H

#include <stdint.h>
#include <uv.h>

#include "ac_config.h"
#include "ac_db.h"
#include "ac_label.h"

#define AC_PRINTERS_POLL_MS 1000

typedef struct ac_printer {
	char id[72];
	char queue[128];
	char media[72];		/* PWG name sent with PDF jobs */
	ac_label_printer label; /* language, size and dpi, dot gain, darkness */
	int from_registry;
	int disabled; /* the kiosk is disabled */
} ac_printer;

typedef struct ac_printers ac_printers;

/* cfg is borrowed for the directory's life. Starts the first poll. */
int ac_printers_new(uv_loop_t *loop, ac_db *db, const ac_config *cfg, ac_printers **out);

/* The printer named id (registry first), or NULL. Valid until the next
 * return to the loop: copy what you keep. */
const ac_printer *ac_printers_find(const ac_printers *ps, const char *id);

/* Asks the database for changes now; cb(arg) once a poll started after
 * this call has ended (whether or not it succeeded). */
void ac_printers_refresh(ac_printers *ps, void (*cb)(void *arg), void *arg);

/* Stops polling; cb(data) once the query under way has ended and the
 * directory is freed. Refresh callbacks still waiting are called first. */
void ac_printers_close(ac_printers *ps, void (*cb)(void *data), void *data);

#endif

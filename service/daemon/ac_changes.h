/*
 * What other instances of agricertd (and the CLI, and psql) change, heard
 * through PostgreSQL notifications (sql/0027_notify.sql) on the listening
 * connection (db/ac_listen.h), and dropped from this instance's caches: a
 * logout or a revoked token from the token cache (http/ac_auth.h), a
 * revoked certificate, a clone suspicion, a renamed product or subject from
 * the scan answers (ac_lookup.h). Both caches are used only while the
 * notifications are heard, and are emptied when that starts or stops.
 *
 * Bound: a change committed elsewhere is seen here within milliseconds; when
 * the listening connection is lost, within AC_LISTEN_DEAD_MS at worst (a
 * frozen connection is given up after that long, the caches are emptied and
 * bypassed until it is back). Loop thread only.
 */
#ifndef AC_CHANGES_H
#define AC_CHANGES_H

#include "ac_app.h"

/* Opens app->listen and subscribes app->auth and app->lookup. 0 or an error. */
int ac_changes_listen(ac_app *app);

#endif

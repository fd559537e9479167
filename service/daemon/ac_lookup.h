/*
 * Looking scanned certificates up: scans whose signature checked out wait
 * here and go to PostgreSQL together, one statement per batch
 * (lookup_scans(), sql/0012_service_sql.sql), at most
 * AC_LOOKUPS_IN_FLIGHT batches at once, like the issuer's group commit. A
 * lone scan goes at once; under load the batches grow and PostgreSQL's
 * per-statement cost is shared. Loop thread only.
 */
#ifndef AC_LOOKUP_H
#define AC_LOOKUP_H

#include <stdint.h>

#include "ac_db.h"

#define AC_LOOKUP_BATCH	     256
#define AC_LOOKUPS_IN_FLIGHT 2

typedef struct ac_lookup ac_lookup;

/*
 * The answer to one look-up: err AC_EDB when the database could not answer
 * (res NULL); otherwise row is the certificate's row in res, or -1 when no
 * such certificate exists. A row holds certificate_view's columns (with
 * item_codes the scanned item's code alone), "scans" (genuine scans of the
 * item so far) and "suspicion" (why the code looks copied, or NULL).
 */
typedef void (*ac_lookup_cb)(void *data, const ac_db_result *res, int row, int err);

int ac_lookup_new(ac_db *db, ac_lookup **out);

/* Queues a look-up; cb runs exactly once. Returns 0 or -ENOMEM (cb not called). */
int ac_lookup_submit(ac_lookup *lk, uint64_t serial, int item, ac_lookup_cb cb, void *data);

/* Look-ups waiting or under way. */
int ac_lookup_busy(const ac_lookup *lk);

/* Answers what waits with AC_EDB, waits for the batches under way, frees
 * and calls cb. The database must stay open until cb. NULL is fine. */
void ac_lookup_close(ac_lookup *lk, void (*cb)(void *data), void *data);

#endif

/*
 * Looking scanned certificates up. What a scan answers beyond the signed
 * code (the origin as written, the contact, the number of labels, the issue
 * time, the item's code as issued, the revocation and its reason, the scan
 * count and any clone suspicion) is the certificate's row, which changes
 * only when the certificate is revoked or a suspicion is raised. So the
 * answers are kept in memory, AC_LOOKUP_CACHE slots keyed by serial and
 * item (a collision replaces the entry), and the database is asked only
 * for what is not there yet.
 *
 * Kept fresh through PostgreSQL notifications (sql/0027_notify.sql, heard
 * by daemon/ac_changes.c): a revocation drops the certificate's entries, a
 * new suspicion its item's, a renamed product or subject all of them. The
 * cache is used only while the notifications are heard
 * (ac_lookup_set_shared), and emptied whenever they start or stop being
 * heard, so no instance answers from a revoked certificate's entry for more
 * than AC_LISTEN_DEAD_MS (db/ac_listen.h). A look-up under way when
 * something was dropped answers but is not kept. The scan count of a kept
 * entry counts this instance's genuine scans since it was read
 * (ac_lookup_scanned); other instances' scans show when it is read again.
 *
 * Scans not answered from memory wait here and go to PostgreSQL together,
 * one statement per batch (lookup_scans(), sql/0012_service_sql.sql), at
 * most AC_LOOKUPS_IN_FLIGHT batches at once, like the issuer's group
 * commit. Loop thread only.
 */
#ifndef AC_LOOKUP_H
#define AC_LOOKUP_H

#include <stdint.h>

#include "ac_cert.h"
#include "ac_db.h"

#define AC_LOOKUP_BATCH	     256
#define AC_LOOKUPS_IN_FLIGHT 2
#define AC_LOOKUP_CACHE	     16384

typedef struct ac_lookup ac_lookup;

/* What a scan of one item code is answered with. */
typedef struct ac_lookup_answer {
	const ac_cert *cert;	  /* item_codes: codes[0] is the item's code alone */
	int scans;		  /* genuine scans of the item so far */
	const char *suspicion;	  /* why the code looks copied, or NULL */
	const char *office_name;  /* the issuer's township office to call, or NULL */
	const char *office_phone; /* its telephone, or NULL */
} ac_lookup_answer;

/*
 * The answer to one look-up, valid during the call: err AC_EDB when the
 * database could not answer (a NULL); otherwise a, or NULL when no such
 * certificate exists.
 */
typedef void (*ac_lookup_cb)(void *data, const ac_lookup_answer *a, int err);

int ac_lookup_new(ac_db *db, ac_lookup **out);

/* Answers from memory (cb runs before this returns) or queues a look-up; cb
 * runs exactly once. Returns 0 or -ENOMEM (cb not called). */
int ac_lookup_submit(ac_lookup *lk, uint64_t serial, int item, ac_lookup_cb cb, void *data);

/* A genuine scan (valid or revoked) of the item was answered: count it. */
void ac_lookup_scanned(ac_lookup *lk, uint64_t serial, int item);

/* Drops what is kept of a certificate, of one item (item > 0), or of all
 * (serial 0): notifications from elsewhere. */
void ac_lookup_forget(ac_lookup *lk, uint64_t serial, int item);

/* Empties the cache; keeps answers from now on only when shared is 1 (the
 * notifications are heard). 0 at first. */
void ac_lookup_set_shared(ac_lookup *lk, int shared);

/* Reading a replica (db_read): a change is notified from the primary before
 * the replica may have it, so for this many seconds after any drop, answers
 * are given but not kept (the replica's lag is assumed to stay under it). */
#define AC_LOOKUP_REPLICA_SETTLE 10
void ac_lookup_set_settle(ac_lookup *lk, int seconds);

/* Look-ups waiting or under way. */
int ac_lookup_busy(const ac_lookup *lk);

/* Answers what waits with AC_EDB, waits for the batches under way, frees
 * and calls cb. The database must stay open until cb. NULL is fine. */
void ac_lookup_close(ac_lookup *lk, void (*cb)(void *data), void *data);

#endif

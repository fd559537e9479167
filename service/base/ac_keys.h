/*
 * The signing key ring: a directory of key files.
 *
 *   <kid>.key     private key, PEM; must not be readable by group or others
 *   <kid>.pub     public key only (for keys whose private half lives elsewhere)
 *   <kid>.status  "active" (signs and verifies; the default), "retired"
 *                 (verifies only) or "revoked" (codes verify as key_revoked)
 *
 * kid is 1..65535 and goes into every code. The signer is the configured
 * kid, or the highest-numbered active key with a private half. Private
 * material never leaves this module except to sign.
 *
 * A ring is immutable once loaded: threads may sign and verify with it
 * concurrently. Load and free on the loop thread.
 */
#ifndef AC_KEYS_H
#define AC_KEYS_H

#include <stddef.h>

#include "ac_sign.h"

enum { AC_KEY_ACTIVE = 1, AC_KEY_RETIRED, AC_KEY_REVOKED };

typedef struct ac_keyring_entry {
	int kid;
	int status;
	ac_key *key;
	char *public_pem;
} ac_keyring_entry;

typedef struct ac_keyring {
	ac_keyring_entry *entries;
	int n;
	const ac_keyring_entry *signer; /* NULL when no key may sign */
	int refs;
} ac_keyring;

/* Loads every key in dir. Refuses private key files others can read
 * (AC_EPERM). Returns 0 or a negative code with a message in err; *out then
 * holds one reference. */
int ac_keyring_load(const char *dir, int signing_kid, ac_keyring **out, char *err, size_t errsz);

/*
 * References: a reload (SIGHUP) replaces the service's ring while batches
 * still sign and scans still verify with the old one; each holds a
 * reference, and the ring is freed with the last. Loop thread only (threads
 * of the pool use a ring whose reference the loop holds for them). NULL is
 * fine. ac_keyring_free drops one reference.
 */
ac_keyring *ac_keyring_ref(ac_keyring *ring);
void ac_keyring_unref(ac_keyring *ring);
void ac_keyring_free(ac_keyring *ring);
const ac_keyring_entry *ac_keyring_find(const ac_keyring *ring, int kid);

/* Creates a new key (mode 0600) with the next free kid. */
int ac_keyring_create(const char *dir, int alg, int *kid, char *err, size_t errsz);
/* Writes a key's status file. */
int ac_keyring_set_status(const char *dir, int kid, int status, char *err, size_t errsz);

const char *ac_key_status_name(int status);

#endif

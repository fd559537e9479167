/*
 * Trust bundles (proto/CODE.md, "Trust bundle"): what an offline verifier
 * needs, signed by a bundle key whose public half inspectors install once.
 * Built from the code-signing key ring and the catalogue the database holds.
 *
 * Bundle keys live apart from code keys, in <keys>/bundle/ with the same
 * layout (<kid>.key, mode 0600). Versions come from the database sequence
 * trust_bundle_version, so they only grow, whichever instance builds.
 */
#ifndef AC_TRUST_H
#define AC_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "ac_keys.h"

/* "<keys>/bundle" into out. */
void ac_trust_key_dir(const char *keys_dir, char *out, size_t outsz);

/*
 * The query whose single row ac_trust_make consumes (trust_bundle_content(),
 * sql/0012_service_sql.sql): the next version, then products, issuers,
 * regions ("ID NAME" lines) and revoked serials (one per line), each as one
 * text value or NULL, in that order.
 */
extern const char ac_trust_sql[];

/*
 * Builds and signs a bundle. Returns 0 with *text malloc'd (now owned by
 * the caller), or a negative code with a reason in err.
 */
int ac_trust_make(const ac_keyring *codes, const ac_keyring_entry *signer, uint64_t version,
		  const char *region, const char *products, const char *issuers,
		  const char *regions, const char *revoked, char **text, size_t *len, char *err,
		  size_t errsz);

#endif

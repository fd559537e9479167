/*
 * The signed trust bundle that offline verifiers load (proto/CODE.md, "Trust
 * bundle"), built from the code keys, the bundle key and the catalogue the
 * database holds. It is rebuilt at most once every AC_BUNDLE_TTL_MS, or at
 * once after a key reload; callers arriving while it is built wait for that
 * build. Loop thread only.
 */
#ifndef AC_BUNDLES_H
#define AC_BUNDLES_H

#include <stddef.h>
#include <uv.h>

#include "ac_db.h"
#include "ac_keys.h"

#define AC_BUNDLE_TTL_MS 60000

typedef struct ac_bundles ac_bundles;

/* The bundle (text, len; valid during the call), or text NULL and why. */
typedef void (*ac_bundles_cb)(void *data, const char *text, size_t len, const char *why);

/* region: the division the bundles cover (borrowed for the cache's life). */
int ac_bundles_new(uv_loop_t *loop, ac_db *db, const char *region, ac_bundles **out);

/*
 * Answers cb with a bundle of codes' keys signed by bundle_keys' signer: now
 * from the cache, or after a build (which holds references on both rings).
 * Returns 0, or -ENOMEM (cb not called).
 */
int ac_bundles_get(ac_bundles *b, ac_keyring *codes, ac_keyring *bundle_keys, ac_bundles_cb cb,
		   void *data);

/* Waits for a build under way (its callers are answered), frees, calls cb.
 * NULL is fine. */
void ac_bundles_close(ac_bundles *b, void (*cb)(void *data), void *data);

#endif

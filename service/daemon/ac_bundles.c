#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_bundles.h"
#include "ac_error.h"
#include "ac_closer.h"
#include "ac_log.h"
#include "ac_trust.h"

typedef struct waiter {
	struct waiter *next;
	ac_bundles_cb cb;
	void *data;
} waiter;

struct ac_bundles {
	uv_loop_t *loop;
	ac_db *db;
	const char *region;
	char *text;
	size_t len;
	uint64_t built_ms;
	ac_keyring *keys; /* the code ring it was built from (a reference) */
	/* The build under way: its rings (references), and who waits. */
	int building;
	ac_keyring *build_codes;
	ac_keyring *build_bundle_keys;
	waiter *waiters;
	ac_closer close;
};

static void answer(ac_bundles *b, const char *why)
{
	waiter *w = b->waiters;

	b->waiters = NULL;
	while (w != NULL) {
		waiter *next = w->next;

		w->cb(w->data, why ? NULL : b->text, why ? 0 : b->len, why);
		free(w);
		w = next;
	}
}

static void maybe_closed(ac_bundles *b)
{
	ac_closer c = b->close;

	if (!b->close.closing || b->building)
		return;
	ac_keyring_unref(b->keys);
	free(b->text);
	free(b);
	ac_closer_finish(c);
}

static void on_content(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_bundles *b = data;
	char *text = NULL;
	size_t len = 0;
	char why[512];

	b->building = 0;
	if (err == 0 && b->build_bundle_keys->signer == NULL) {
		answer(b, "no trust bundle key may sign");
	} else if (err != 0 || ac_db_rows(res) != 1) {
		ac_log_error("trust", "could not read the catalogue: %s", msg ? msg : "no row");
		answer(b, "the database is unavailable, try again");
	} else if (ac_trust_make(b->build_codes, b->build_bundle_keys->signer,
				 strtoull(ac_db_get(res, 0, 0), NULL, 10), b->region,
				 ac_db_get(res, 0, 1), ac_db_get(res, 0, 2), ac_db_get(res, 0, 3),
				 ac_db_get(res, 0, 4), &text, &len, why, sizeof(why)) != 0) {
		ac_log_error("trust", "could not build the trust bundle: %s", why);
		answer(b, "the trust bundle could not be built");
	} else {
		free(b->text);
		b->text = text;
		b->len = len;
		b->built_ms = uv_now(b->loop);
		ac_keyring_unref(b->keys);
		b->keys = ac_keyring_ref(b->build_codes);
		answer(b, NULL);
	}
	ac_keyring_unref(b->build_codes);
	ac_keyring_unref(b->build_bundle_keys);
	b->build_codes = NULL;
	b->build_bundle_keys = NULL;
	maybe_closed(b);
}

int ac_bundles_new(uv_loop_t *loop, ac_db *db, const char *region, ac_bundles **out)
{
	ac_bundles *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (b == NULL)
		return -ENOMEM;
	b->loop = loop;
	b->db = db;
	b->region = region;
	*out = b;
	return 0;
}

int ac_bundles_get(ac_bundles *b, ac_keyring *codes, ac_keyring *bundle_keys, ac_bundles_cb cb,
		   void *data)
{
	waiter *w;

	if (b == NULL)
		return AC_EDB;
	if (b->text != NULL && b->keys == codes &&
	    uv_now(b->loop) - b->built_ms < AC_BUNDLE_TTL_MS) {
		cb(data, b->text, b->len, NULL);
		return 0;
	}
	w = malloc(sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cb = cb;
	w->data = data;
	w->next = b->waiters;
	b->waiters = w;
	if (b->building)
		return 0;
	b->build_codes = ac_keyring_ref(codes);
	b->build_bundle_keys = ac_keyring_ref(bundle_keys);
	b->building = 1;
	if (ac_db_query(b->db, ac_trust_sql, 0, NULL, NULL, on_content, b) != 0)
		on_content(b, NULL, -1, "database unavailable");
	return 0;
}

void ac_bundles_close(ac_bundles *b, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(b, cb, data))
		return;
	ac_closer_start(&b->close, cb, data);
	maybe_closed(b);
}

/*
 * The product catalogue as the service holds it: loaded from the product
 * table at start and refreshed every AC_CATALOG_REFRESH_MS, so that a new
 * product can be issued within a minute on every instance without a query
 * per request. Loop thread only.
 */
#ifndef AC_CATALOG_H
#define AC_CATALOG_H

#include <uv.h>

#include "ac_db.h"

#define AC_CATALOG_REFRESH_MS 60000

typedef struct ac_product {
	int id;
	char *name;
	char *category;
	char *default_unit;
	int key_risk;
} ac_product;

typedef struct ac_catalog ac_catalog;

/*
 * Starts loading. on_loaded(data) runs once, after the first successful
 * load (agricertd then submits print jobs a crash left behind).
 */
int ac_catalog_new(uv_loop_t *loop, ac_db *db, void (*on_loaded)(void *data), void *data,
		   ac_catalog **out);

/* Whether the products have been loaded at least once. */
int ac_catalog_loaded(const ac_catalog *cat);

/* A product, or NULL. Valid until the next refresh: copy what you keep. */
const ac_product *ac_catalog_by_name(const ac_catalog *cat, const char *name);
const ac_product *ac_catalog_by_id(const ac_catalog *cat, int id);

/* Stops refreshing and frees the catalogue once its timer and any load in
 * flight are done, then calls cb. NULL is fine (cb runs at once). */
void ac_catalog_close(ac_catalog *cat, void (*cb)(void *data), void *data);

#endif

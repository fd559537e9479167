#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ac_catalog.h"
#include "ac_closer.h"
#include "ac_log.h"

struct ac_catalog {
	uv_loop_t *loop;
	ac_db *db;
	uv_timer_t timer;
	ac_product *products;
	int n;
	int loaded;
	int loading; /* a query in flight */
	int timer_closed;
	void (*on_loaded)(void *);
	void *data;
	ac_closer close;
};

static void free_products(ac_product *p, int n)
{
	for (int i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].category);
		free(p[i].default_unit);
	}
	free(p);
}

static void maybe_free(ac_catalog *cat)
{
	ac_closer c = cat->close;

	if (!cat->close.closing || !cat->timer_closed || cat->loading)
		return;
	free_products(cat->products, cat->n);
	free(cat);
	ac_closer_finish(c);
}

/* The rows as products; NULL when out of memory. */
static ac_product *read_products(const ac_db_result *res, int n)
{
	int c_id = ac_db_col(res, "id");
	int c_name = ac_db_col(res, "name");
	int c_cat = ac_db_col(res, "category");
	int c_unit = ac_db_col(res, "default_unit");
	int c_risk = ac_db_col(res, "key_risk");
	ac_product *p = calloc(n > 0 ? n : 1, sizeof(*p));
	int fail = p == NULL;

	for (int i = 0; !fail && i < n; i++) {
		p[i].id = atoi(ac_db_get(res, i, c_id));
		p[i].name = strdup(ac_db_get(res, i, c_name));
		p[i].category = strdup(ac_db_get(res, i, c_cat));
		p[i].default_unit = strdup(ac_db_get(res, i, c_unit));
		p[i].key_risk = ac_db_bool(res, i, c_risk);
		fail = !p[i].name || !p[i].category || !p[i].default_unit;
	}
	if (fail && p != NULL) {
		free_products(p, n);
		p = NULL;
	}
	return p;
}

static void on_products(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_catalog *cat = data;
	int n = ac_db_rows(res);
	ac_product *p;

	cat->loading = 0;
	if (cat->close.closing) {
		maybe_free(cat);
		return;
	}
	if (err != 0) {
		ac_log_warn("catalog", "could not load products: %s", msg);
		return;
	}
	p = read_products(res, n);
	if (p == NULL) {
		ac_log_warn("catalog", "could not load products: out of memory");
		return;
	}
	free_products(cat->products, cat->n);
	cat->products = p;
	cat->n = n;
	if (!cat->loaded) {
		cat->loaded = 1;
		ac_log_info("catalog", "%d products", n);
		if (cat->on_loaded != NULL)
			cat->on_loaded(cat->data);
	}
}

static void load(uv_timer_t *t)
{
	ac_catalog *cat = t->data;

	if (cat->loading)
		return;
	if (ac_db_query(cat->db, "SELECT id, name, category, default_unit, key_risk FROM product",
			0, NULL, NULL, on_products, cat) == 0)
		cat->loading = 1;
}

int ac_catalog_new(uv_loop_t *loop, ac_db *db, void (*on_loaded)(void *data), void *data,
		   ac_catalog **out)
{
	ac_catalog *cat = calloc(1, sizeof(*cat));

	*out = NULL;
	if (cat == NULL)
		return -ENOMEM;
	cat->loop = loop;
	cat->db = db;
	cat->on_loaded = on_loaded;
	cat->data = data;
	uv_timer_init(loop, &cat->timer);
	cat->timer.data = cat;
	uv_timer_start(&cat->timer, load, 0, AC_CATALOG_REFRESH_MS);
	*out = cat;
	return 0;
}

int ac_catalog_loaded(const ac_catalog *cat)
{
	return cat != NULL && cat->loaded;
}

const ac_product *ac_catalog_by_name(const ac_catalog *cat, const char *name)
{
	for (int i = 0; cat != NULL && i < cat->n; i++) {
		if (strcmp(cat->products[i].name, name) == 0)
			return &cat->products[i];
	}
	return NULL;
}

const ac_product *ac_catalog_by_id(const ac_catalog *cat, int id)
{
	for (int i = 0; cat != NULL && i < cat->n; i++) {
		if (cat->products[i].id == id)
			return &cat->products[i];
	}
	return NULL;
}

static void on_timer_closed(uv_handle_t *h)
{
	ac_catalog *cat = h->data;

	cat->timer_closed = 1;
	maybe_free(cat);
}

void ac_catalog_close(ac_catalog *cat, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(cat, cb, data))
		return;
	ac_closer_start(&cat->close, cb, data);
	uv_timer_stop(&cat->timer);
	uv_close((uv_handle_t *)&cat->timer, on_timer_closed);
}

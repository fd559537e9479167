/*
 * Declared mix products (混装产品): what a re-issued certificate of a
 * product like 混合蔬菜 may be made from, besides that product itself.
 *   GET /api/v1/products/{id}/mix   any token
 *   PUT /api/v1/products/{id}/mix   {"may_contain": ["豇豆", "韭菜", ...]}
 *                                   (county regulator, admin): the list
 *                                   replaces the one before; [] ends it
 * reissue() refuses an input of another product (product_mismatch,
 * sql/0018_chain_rules.sql).
 */
#include <stdlib.h>
#include <string.h>

#include "ac_chain.h"
#include "ac_handler.h"
#include "ac_handlers.h"

#define MAX_MEMBERS 100

static void on_mix(ac_req *r, const ac_db_result *res)
{
	json_t *o;

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		ac_req_not_found(r, "no such product", "产品目录中没有这个产品");
		return;
	}
	o = json_pack("{s:I,s:s,s:o}", "product", (json_int_t)atoll(r->param[0]), "name",
		      ac_db_field(res, 0, "name"), "may_contain",
		      json_loads(ac_db_field(res, 0, "may_contain"), 0, NULL));
	ac_req_json(r, 200, o);
}

static void handle_get(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "product_mix_of");
	ac_db_arg(&call, "p_product", "integer", r->param[0]);
	ac_req_call(r, &call, on_mix);
}

/* The catalogue ids of the names in list, as an array literal into ids;
 * answers and returns -1 when a name is not in the catalogue. */
static int member_ids(ac_req *r, json_t *list, ac_buf *ids)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
	{
		const ac_product *p = ac_chain_product(r, "may_contain", v);

		if (p == NULL)
			return -1;
		ac_buf_pg_next_int(ids, p->id, 0);
	}
	return 0;
}

static void handle_put(ac_req *r)
{
	json_t *body = ac_req_body_object(r);
	json_t *list = json_object_get(body, "may_contain");
	ac_db_call call;
	ac_buf ids;

	if (body == NULL)
		return;
	if (!json_is_array(list) || json_array_size(list) > MAX_MEMBERS) {
		ac_req_error_field(r, 400, "missing_field", "may_contain",
				   "may_contain lists up to 100 catalogue products",
				   "请列出该混装产品可含的品种（不超过100个）");
		return;
	}
	ac_db_arrays_open(&ids, 1);
	if (member_ids(r, list, &ids) == 0) {
		static const ac_db_param members = { "p_members", "integer[]" };

		ac_db_call_init(&call, "set_product_mix");
		ac_db_arg(&call, "p_product", "integer", r->param[0]);
		if (ac_db_arrays_args(&call, &members, &ids, 1) == 0)
			ac_req_call_as(r, &call, on_mix);
		else
			ac_req_nomem(r);
	}
	ac_db_arrays_free(&ids, 1);
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/api/v1/products/{id}/mix", handle_get, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("PUT", "/api/v1/products/{id}/mix", handle_put, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_WRITE_CATALOG),
};

AC_ROUTE_TABLE(ac_mix_routes, routes);

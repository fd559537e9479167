/*
 * The registry's reference data: the administrative division tree, markets,
 * the product catalogue and self-service kiosks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_code.h"
#include "ac_perm.h"
#include "registry-private.h"

static int any_token(ac_registry_ctx *c)
{
	(void)c;
	return 1;
}

/* Markets */

static const char *const market_kinds[] = { "wholesale", "farmers_market", "supermarket",
					    "canteen",	 "other",	   NULL };

static const ac_registry_field market_fields[] = {
	{ "name", AC_REGISTRY_TEXT, 1, 0, 0, 100, NULL, NULL, NULL,
	  "name is required, 1 to 100 characters", "请填写市场名称（1到100个字）" },
	{ "region_code", AC_REGISTRY_REGION, 1, 0, 0, 12, NULL, NULL, "::bigint",
	  "region_code is required: a 12-digit administrative division code",
	  "请填写12位行政区划代码（省市县乡村）" },
	{ "kind", AC_REGISTRY_ENUM, 1, 0, 0, 0, market_kinds, NULL, NULL,
	  "kind is required: wholesale, farmers_market, supermarket, canteen or other",
	  "请选择市场类型：批发市场、农贸市场、超市、食堂或其他" },
	{ "address", AC_REGISTRY_TEXT, 0, 0, 1, 200, NULL, NULL, NULL,
	  "address must be at most 200 characters", "地址不超过200个字" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const ac_registry_filter market_filters[] = {
	{ "q", AC_REGISTRY_F_SEARCH, "t.name ILIKE $P ESCAPE '\\' OR t.address = $T", NULL },
	{ "region", AC_REGISTRY_F_PREFIX, "t.region_code", NULL },
	{ "kind", AC_REGISTRY_F_EQ, "t.kind", market_kinds },
	{ NULL, 0, NULL, NULL },
};

const ac_registry_entity ac_registry_markets = {
	.name = "market",
	.name_zh = "市场",
	.table = "market",
	.json = "json_build_object('id', t.id, 'name', t.name, 'region_code', t.region_code::text, "
		"'region_name', (SELECT r.name FROM region r WHERE r.code = t.region_code), "
		"'kind', t.kind, 'address', t.address, 'created_at', t.created_at)",
	.id_cast = "::int",
	.fields = market_fields,
	.filters = market_filters,
	.has_region = 1,
	.may_read = ac_registry_role_staff,
	.may_write = ac_registry_role_county,
};

/* Kiosks */

static const char *const kiosk_statuses[] = { "active", "disabled", NULL };

static int valid_kiosk_id(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n &&
	       s[0] != '-' && s[0] != '_';
}

static int valid_queue(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
	       strlen(s);
}

/* WxH@DPI in millimetres and dots per inch, e.g. 60x40@203. */
static int valid_label_size(const char *s)
{
	int w;
	int h;
	int dpi;
	int used = 0;

	if (sscanf(s, "%3dx%3d@%3d%n", &w, &h, &dpi, &used) != 3 || s[used] != '\0')
		return 0;
	return w >= 20 && w <= 200 && h >= 20 && h <= 300 && dpi >= 150 && dpi <= 600;
}

static const ac_registry_field kiosk_fields[] = {
	{ "id", AC_REGISTRY_CHECK, 1, 1, 0, 64, NULL, valid_kiosk_id, NULL,
	  "id is required: 1 to 64 lower-case letters, digits, - or _, e.g. demo-kiosk",
	  "请填写服务站编号（小写字母、数字、-或_，不超过64位）" },
	{ "name", AC_REGISTRY_TEXT, 1, 0, 0, 100, NULL, NULL, NULL,
	  "name is required, 1 to 100 characters", "请填写服务站名称（1到100个字）" },
	{ "region_code", AC_REGISTRY_REGION, 1, 0, 0, 12, NULL, NULL, "::bigint",
	  "region_code is required: a 12-digit administrative division code",
	  "请填写12位行政区划代码（省市县乡村）" },
	{ "cups_queue", AC_REGISTRY_CHECK, 1, 0, 0, 127, NULL, valid_queue, NULL,
	  "cups_queue is required: the CUPS queue name (letters, digits, - _ .)",
	  "请填写打印队列名称（字母、数字、-、_或.）" },
	{ "label_size", AC_REGISTRY_CHECK, 0, 0, 0, 16, NULL, valid_label_size, NULL,
	  "label_size must be WxH@DPI in millimetres and dots per inch, e.g. 60x40@203",
	  "标签规格格式为 宽x高@分辨率，例如 60x40@203" },
	{ "status", AC_REGISTRY_ENUM, 0, 0, 0, 0, kiosk_statuses, NULL, NULL,
	  "status must be active or disabled", "状态必须是启用（active）或停用（disabled）" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const ac_registry_filter kiosk_filters[] = {
	{ "region", AC_REGISTRY_F_PREFIX, "t.region_code", NULL },
	{ "status", AC_REGISTRY_F_EQ, "t.status", kiosk_statuses },
	{ NULL, 0, NULL, NULL },
};

const ac_registry_entity ac_registry_kiosks = {
	.name = "kiosk",
	.name_zh = "自助服务站",
	.table = "kiosk",
	.json = "json_build_object('id', t.id, 'name', t.name, 'region_code', t.region_code::text, "
		"'region_name', (SELECT r.name FROM region r WHERE r.code = t.region_code), "
		"'cups_queue', t.cups_queue, 'label_size', t.label_size, 'status', t.status, "
		"'created_at', t.created_at)",
	.id_cast = "",
	.fields = kiosk_fields,
	.filters = kiosk_filters,
	.has_region = 1,
	.may_read = ac_registry_role_staff,
	.may_write = ac_registry_role_county,
	.conflict_en = "a kiosk with this id exists",
	.conflict_zh = "该服务站编号已存在，请换一个编号",
};

/* Products: ids are printed into signed codes, so they never change and are never reused. */

static int valid_unit(const char *s)
{
	return ac_unit_from_name(s) > 0;
}

static const char *const booleans[] = { "true", "false", NULL };

static const ac_registry_field product_fields[] = {
	{ "name", AC_REGISTRY_TEXT, 1, 0, 0, 50, NULL, NULL, NULL,
	  "name is required, 1 to 50 characters", "请填写产品名称（1到50个字）" },
	{ "category", AC_REGISTRY_TEXT, 1, 0, 0, 20, NULL, NULL, NULL,
	  "category is required, 1 to 20 characters, e.g. 蔬菜",
	  "请填写产品类别（如蔬菜、水果、茶叶）" },
	{ "default_unit", AC_REGISTRY_CHECK, 0, 0, 0, 16, NULL, valid_unit, NULL,
	  "default_unit must be one of kg, g, t, jin, piece, head, box, bag, bundle, only",
	  "默认计量单位无效，请选择千克、克、吨、斤、个、头、箱、袋等" },
	{ "key_risk", AC_REGISTRY_BOOL, 0, 0, 0, 0, NULL, NULL, "::boolean",
	  "key_risk must be true or false", "重点风险品种只能填是（true）或否（false）" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const ac_registry_filter product_filters[] = {
	{ "q", AC_REGISTRY_F_SEARCH, "t.name ILIKE $P ESCAPE '\\' OR t.category = $T", NULL },
	{ "category", AC_REGISTRY_F_EQ, "t.category", NULL },
	{ "key_risk", AC_REGISTRY_F_EQ, "t.key_risk::text", booleans },
	{ NULL, 0, NULL, NULL },
};

const ac_registry_entity ac_registry_products = {
	.name = "product",
	.name_zh = "产品",
	.table = "product",
	.json = "json_build_object('id', t.id, 'name', t.name, 'category', t.category, "
		"'default_unit', t.default_unit, 'key_risk', t.key_risk)",
	.id_cast = "::int",
	.fields = product_fields,
	.filters = product_filters,
	.may_read = any_token,
	.may_write = ac_registry_role_county,
	.id_expr = "(SELECT coalesce(max(id), 0) + 1 FROM product)",
	.conflict_en = "a product with this name is already in the catalogue (or another was "
		       "added at the same moment: retry)",
	.conflict_zh = "产品目录中已有同名产品，请勿重复添加",
};

/* Regions: GET ?parent=CODE, GET /{code} with its ancestors, POST (county and admin). */

#define REGION_JSON                                                                                \
	"json_build_object('code', t.code::text, 'name', t.name, 'level', t.level, 'parent', "     \
	"t.parent::text, 'children', (SELECT count(*) FROM region k WHERE k.parent = t.code))"

static void on_region_list(ac_registry_ctx *c, const ac_db_result *res)
{
	json_t *items;

	if (strcmp(ac_db_get(res, 0, 0), "t") != 0) {
		ac_req_error(c->r, 404, "not_found", "no such region",
			     "查不到该行政区划，请核对代码");
		return;
	}
	items = ac_registry_parse(res, 0, 1);
	if (!json_is_array(items)) {
		json_decref(items);
		ac_req_error(c->r, 500, "internal", "could not read the list", "服务器内部错误");
		return;
	}
	ac_req_json(c->r, 200, json_pack("{s:o}", "items", items));
}

void ac_registry_region_list(ac_registry_ctx *c)
{
	char parent[32];
	const char *vals[1] = { NULL };
	int64_t code;
	int rc = ac_registry_param(c, "parent", parent, sizeof(parent));

	if (rc < 0)
		return;
	if (rc == 1) {
		if (ac_check_region_code(parent, &code) != 0) {
			ac_registry_error(c, 400, "invalid_parameter", "parent",
					  "parent must be a 12-digit administrative division code",
					  "上级地区必须是12位行政区划代码");
			return;
		}
		vals[0] = parent;
	}
	ac_registry_query(c,
			  "SELECT ($1::bigint IS NULL OR EXISTS (SELECT 1 FROM region WHERE code = "
			  "$1::bigint)), (SELECT coalesce(json_agg(" REGION_JSON
			  " ORDER BY t.code), '[]') FROM region t WHERE CASE WHEN $1::bigint IS "
			  "NULL THEN t.parent IS NULL ELSE t.parent = $1::bigint END)",
			  1, vals, on_region_list);
}

static void on_region(ac_registry_ctx *c, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		ac_req_error(c->r, 404, "not_found", "no such region",
			     "查不到该行政区划，请核对代码");
		return;
	}
	ac_registry_respond_row(c, res, 200);
}

void ac_registry_region_get(ac_registry_ctx *c)
{
	const char *vals[1] = { c->id };

	ac_registry_query(
	    c,
	    "WITH RECURSIVE up AS (SELECT code, name, level, parent, 0 AS depth FROM region "
	    "WHERE code = $1::bigint UNION ALL SELECT r.code, r.name, r.level, r.parent, "
	    "up.depth + 1 FROM region r JOIN up ON r.code = up.parent WHERE up.depth < 8) "
	    "SELECT json_build_object('code', t.code::text, 'name', t.name, 'level', t.level, "
	    "'parent', t.parent::text, 'path', (SELECT coalesce(json_agg(json_build_object("
	    "'code', u.code::text, 'name', u.name, 'level', u.level) ORDER BY u.depth DESC), "
	    "'[]') FROM up u WHERE u.depth > 0), 'full_name', (SELECT string_agg(u.name, '' "
	    "ORDER BY u.depth DESC) FROM up u), 'children', (SELECT count(*) FROM region k "
	    "WHERE k.parent = t.code)) FROM up t WHERE t.depth = 0",
	    1, vals, on_region);
}

static void on_region_created(ac_registry_ctx *c, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		ac_registry_error(c, 422, "invalid_parent", "parent",
				  "the parent region does not exist, is a village, or its code "
				  "does not begin the new code",
				  "上级地区不存在、已是村级，或新代码与上级代码不对应，请核对");
		return;
	}
	ac_registry_respond_row(c, res, 201);
}

void ac_registry_region_create(ac_registry_ctx *c)
{
	static const char *const known[] = { "code", "name", "parent", NULL };
	const char *vals[3];
	json_t *code;
	json_t *name;
	json_t *parent;
	int64_t v;
	int chars;

	if (!ac_registry_role_county(c))
		return;
	c->body = ac_req_body_object(c->r);
	if (c->body == NULL || ac_registry_known(c, c->body, known) != 0)
		return;
	code = json_object_get(c->body, "code");
	name = json_object_get(c->body, "name");
	parent = json_object_get(c->body, "parent");
	if (!json_is_string(code) || ac_check_region_code(json_string_value(code), &v) != 0) {
		ac_registry_error(c, 400, code == NULL ? "missing_field" : "invalid_field", "code",
				  "code is required: a 12-digit administrative division code (a "
				  "string)",
				  "请填写12位行政区划代码");
		return;
	}
	chars = json_is_string(name) ? ac_check_chars(json_string_value(name)) : -1;
	if (chars < 1 || chars > 50 ||
	    strlen(json_string_value(name)) != json_string_length(name)) {
		ac_registry_error(c, 400, name == NULL ? "missing_field" : "invalid_field", "name",
				  "name is required, 1 to 50 characters",
				  "请填写地区名称（1到50个字）");
		return;
	}
	if (!ac_perm_covers(&c->p, v)) {
		ac_registry_forbidden(c, "the region is outside your jurisdiction",
				      "该地区不在您的管辖范围内");
		return;
	}
	c->conflict_en = "a region with this code exists";
	c->conflict_zh = "该行政区划代码已存在";
	vals[0] = json_string_value(code);
	vals[1] = json_string_value(name);
	if (parent == NULL || json_is_null(parent)) {
		/* A province: only an administrator adds a root. */
		if (!ac_perm_is_admin(&c->p)) {
			ac_registry_error(
			    c, 400, "missing_field", "parent",
			    "parent is required: the 12-digit code of the region above",
			    "请填写上级地区代码");
			return;
		}
		ac_registry_query(c,
				  "INSERT INTO region AS t (code, name, level) SELECT "
				  "$1::text::bigint, $2, 1 WHERE substr($1::text, 3) ~ '^0+$' "
				  "RETURNING " REGION_JSON,
				  2, vals, on_region_created);
		return;
	}
	if (!json_is_string(parent) ||
	    ac_check_region_code(json_string_value(parent), &v) != 0) {
		ac_registry_error(
		    c, 400, "invalid_field", "parent",
		    "parent must be a 12-digit administrative division code (a string)",
		    "上级地区必须是12位行政区划代码");
		return;
	}
	vals[2] = json_string_value(parent);
	ac_registry_query(
	    c,
	    "INSERT INTO region AS t (code, name, level, parent) SELECT $1::text::bigint, $2, "
	    "p.level + 1, p.code FROM region p WHERE p.code = $3::text::bigint AND p.level < 5 "
	    "AND left($1::text, (ARRAY[2, 4, 6, 9])[p.level]) = "
	    "left($3::text, (ARRAY[2, 4, 6, 9])[p.level]) "
	    "AND substr($1::text, (ARRAY[4, 6, 9, 12])[p.level] + 1) ~ '^0*$' "
	    "AND $1::text <> $3::text RETURNING " REGION_JSON,
	    3, vals, on_region_created);
}

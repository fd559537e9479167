/*
 * The registry's reference data: the administrative division tree, markets,
 * the product catalogue and self-service kiosks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_code.h"
#include "ac_label.h"
#include "registry-private.h"

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
	.json = "market_json(t)",
	.id_cast = "::int",
	.fields = market_fields,
	.filters = market_filters,
	.has_region = 1,
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

/* WxH@DPI in millimetres and dots per inch, e.g. 60x40@203, of a size the
 * labels are laid out for (ac_label.h). */
static int valid_label_size(const char *s)
{
	ac_label_size size;

	return strchr(s, '@') != NULL && ac_label_size_parse(s, &size) == 0;
}

/* A PWG self-describing name in millimetres of such a size: om_60x40mm_60x40mm. */
static int valid_media(const char *s)
{
	ac_label_size size;

	return ac_label_media_parse(s, 203, &size) == 0;
}

static const char *const printer_languages[] = { "pdf", "zpl", "tspl", NULL };
static const char *const resolutions[] = { "203", "300", NULL };
static const char *const gains[] = { "-2", "-1", "0", "1", "2", "3", NULL };
static const char *const darkness_levels[] = { "0",  "1",  "2",	 "3",  "4",  "5",  "6",	 "7",
					       "8",  "9",  "10", "11", "12", "13", "14", "15",
					       "16", "17", "18", "19", "20", "21", "22", "23",
					       "24", "25", "26", "27", "28", "29", "30", NULL };

/* A kiosk written: its printer applies to the next job, on this instance
 * at once (the cache is read again before the answer), on others within a
 * second. */
static void kiosk_refreshed(void *arg)
{
	ac_req *r = arg;
	ac_registry_ctx *c = r->ctx;

	ac_req_json(r, c->answer_status, c->answer);
	ac_req_release(r);
}

static void kiosk_written(ac_req *r, json_t *obj, int status)
{
	ac_registry_ctx *c = r->ctx;

	c->answer = obj;
	c->answer_status = status;
	ac_req_hold(r);
	ac_printq_refresh_printers(ac_app_of(r)->printq, kiosk_refreshed, r);
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
	  "label_size must be WxH@DPI in millimetres and dots per inch, e.g. 60x40@203 "
	  "(40x30, 50x30, 60x40, 70x50 or 100x70 at 203 or 300)",
	  "标签规格格式为 宽x高@分辨率，例如 "
	  "60x40@203（40x30、50x30、60x40、70x50、100x70，203或300dpi）" },
	{ "printer_language", AC_REGISTRY_ENUM, 0, 0, 0, 0, printer_languages, NULL, NULL,
	  "printer_language must be pdf (IPP Everywhere or a driver), zpl or tspl",
	  "打印语言须为 pdf、zpl 或 tspl" },
	{ "media", AC_REGISTRY_CHECK, 0, 0, 0, 64, NULL, valid_media, NULL,
	  "media must be a PWG name in millimetres of a supported size, e.g. om_60x40mm_60x40mm",
	  "标签纸规格须为 PWG 名称，例如 om_60x40mm_60x40mm" },
	{ "dpi", AC_REGISTRY_INTSET, 0, 0, 0, 0, resolutions, NULL, "::integer",
	  "dpi must be 203 or 300", "分辨率须为203或300" },
	{ "dot_gain", AC_REGISTRY_INTSET, 0, 0, 0, 0, gains, NULL, "::integer",
	  "dot_gain must be -2 to 3 (dots a dark run is drawn narrower; negative: wider; "
	  "print a calibration run to choose)",
	  "点补偿须为-2到3（负数表示加粗；可先打印校准页再选择）" },
	{ "darkness", AC_REGISTRY_INTSET, 0, 0, 1, 0, darkness_levels, NULL, "::integer",
	  "darkness must be 0 to 30 (ZPL), 0 to 15 (TSPL), or null for the printer's own",
	  "打印浓度须为0到30（ZPL）或0到15（TSPL），不设置填 null" },
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
	.json = "kiosk_json(t)",
	.id_cast = "",
	.fields = kiosk_fields,
	.filters = kiosk_filters,
	.has_region = 1,
	.conflict_en = "a kiosk with this id exists",
	.conflict_zh = "该服务站编号已存在，请换一个编号",
	.written = kiosk_written,
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
	/* Tested before sale: a passing test within this many days (sql/0020). */
	{ "test_required_days", AC_REGISTRY_INT, 0, 0, 1, 30, NULL, NULL, "::integer",
	  "test_required_days is 1 to 30 (a passing test within that many days before issuing), "
	  "or null for none",
	  "上市前检测有效天数须为1到30天（1为当天检测），不要求检测时填 null" },
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
	.json = "product_json(t)",
	.id_cast = "::int",
	.fields = product_fields,
	.filters = product_filters,
	.id_expr = "(SELECT coalesce(max(id), 0) + 1 FROM product)",
	.conflict_en = "a product with this name is already in the catalogue (or another was "
		       "added at the same moment: retry)",
	.conflict_zh = "产品目录中已有同名产品，请勿重复添加",
};

/* Regions: GET ?parent=CODE, GET /{region} with its path, POST (county and admin). */

/* Not served by the generic operations (a region's id is its code, and its
 * parent decides what it may be): the entity gives their words only. */
const ac_registry_entity ac_registry_regions = {
	.name = "region",
	.name_zh = "行政区划",
	.conflict_en = "a region with this code exists",
	.conflict_zh = "该行政区划代码已存在",
};

static void region_not_found(ac_req *r)
{
	ac_req_not_found(r, "no such region", "查不到该行政区划，请核对代码");
}

static void on_region_list(ac_req *r, const ac_db_result *res)
{
	json_t *items;

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		region_not_found(r);
		return;
	}
	items = ac_registry_json(r, res, "items");
	if (items != NULL)
		ac_req_json(r, 200, json_pack("{s:o}", "items", items));
}

void ac_registry_region_list(ac_req *r)
{
	char parent[32];
	int64_t code;
	ac_db_call call;
	int rc = ac_registry_param(r, "parent", parent, sizeof(parent));

	if (rc < 0)
		return;
	if (rc == 1 && ac_check_region_code(parent, &code) != 0) {
		ac_req_error_field(r, 400, "invalid_parameter", "parent",
				   "parent must be a 12-digit administrative division code",
				   "上级地区必须是12位行政区划代码");
		return;
	}
	ac_db_call_init(&call, "region_children");
	ac_db_arg(&call, "p_parent", "bigint", rc == 1 ? parent : NULL);
	ac_req_call_read(r, &call, on_region_list);
}

static void on_region(ac_req *r, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		region_not_found(r);
		return;
	}
	ac_registry_respond_row(r, res, 200);
}

void ac_registry_region_get(ac_req *r)
{
	ac_db_call call;

	if (ac_registry_ctx_new(r) == NULL)
		return;
	ac_db_call_init(&call, "region_detail");
	ac_db_arg(&call, "p_code", "bigint", r->param[0]);
	ac_req_call(r, &call, on_region);
}

static void on_region_created(ac_req *r, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		ac_req_error_field(r, 422, "invalid_parent", "parent",
				   "the parent region does not exist, is a village, or its code "
				   "does not begin the new code",
				   "上级地区不存在、已是村级，或新代码与上级代码不对应，请核对");
		return;
	}
	ac_registry_respond_row(r, res, 201);
}

/* "parent": a region code, or absent for a province (administrators only).
 * Sets *out (NULL for none); -1 after answering. */
static int region_parent(ac_req *r, json_t *parent, const char **out)
{
	int64_t v;

	*out = NULL;
	if (parent == NULL || json_is_null(parent)) {
		if (ac_perm_is_admin(r->who))
			return 0;
		ac_req_error_field(r, 400, "missing_field", "parent",
				   "parent is required: the 12-digit code of the region above",
				   "请填写上级地区代码");
		return -1;
	}
	if (!json_is_string(parent) || ac_check_region_code(json_string_value(parent), &v) != 0) {
		ac_req_error_field(
		    r, 400, "invalid_field", "parent",
		    "parent must be a 12-digit administrative division code (a string)",
		    "上级地区必须是12位行政区划代码");
		return -1;
	}
	*out = json_string_value(parent);
	return 0;
}

void ac_registry_region_create(ac_req *r)
{
	static const char *const known[] = { "code", "name", "parent", NULL };
	ac_registry_ctx *c = ac_registry_ctx_body(r, known);
	json_t *code;
	json_t *name;
	const char *parent;
	ac_db_call call;
	int64_t v;
	int chars;

	if (c == NULL)
		return;
	code = json_object_get(c->body, "code");
	name = json_object_get(c->body, "name");
	if (!json_is_string(code) || ac_check_region_code(json_string_value(code), &v) != 0) {
		ac_req_error_field(r, 400, code == NULL ? "missing_field" : "invalid_field", "code",
				   "code is required: a 12-digit administrative division code (a "
				   "string)",
				   "请填写12位行政区划代码");
		return;
	}
	chars = json_is_string(name) ? ac_check_chars(json_string_value(name)) : -1;
	if (chars < 1 || chars > 50 ||
	    strlen(json_string_value(name)) != json_string_length(name)) {
		ac_req_error_field(r, 400, name == NULL ? "missing_field" : "invalid_field", "name",
				   "name is required, 1 to 50 characters",
				   "请填写地区名称（1到50个字）");
		return;
	}
	if (!ac_perm_covers(r->who, v)) {
		ac_req_forbidden(r, "the region is outside your jurisdiction",
				 "该地区不在您的管辖范围内");
		return;
	}
	if (region_parent(r, json_object_get(c->body, "parent"), &parent) != 0)
		return;
	ac_db_call_init(&call, "region_add");
	ac_db_arg(&call, "p_code", "bigint", json_string_value(code));
	ac_db_arg(&call, "p_name", "text", json_string_value(name));
	ac_db_arg(&call, "p_parent", "bigint", parent);
	ac_req_call_as(r, &call, on_region_created);
}

/* GET /api/v1/products/menu: the catalogue by category, the caller's usual
 * products first (product_menu(), sql/0025_station.sql), for the kiosk. */

void ac_registry_product_menu(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "product_menu");
	ac_db_arg_int(&call, "p_subject", "integer", r->who->subject_id);
	ac_req_call(r, &call, ac_req_doc_step);
}

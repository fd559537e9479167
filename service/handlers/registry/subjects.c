/*
 * Subjects (producers and purchasers): fields and their checks, masking of
 * phone and ID numbers, credit grade and status changes with their history.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_log.h"
#include "ac_perm.h"
#include "registry-private.h"

#define SUBJECT_JSON                                                                               \
	"json_build_object('id', t.id, 'kind', t.kind, 'name', t.name, 'credit_code', "            \
	"t.credit_code, 'id_number', t.id_number, 'contact', t.contact, 'region_code', "           \
	"t.region_code::text, 'region_name', (SELECT r.name FROM region r WHERE r.code = "         \
	"t.region_code), 'address', t.address, 'credit_grade', t.credit_grade, "                   \
	"'key_supervision', t.credit_grade = 'C', 'status', t.status, 'created_at', t.created_at)"

static const char *const kinds[] = { "enterprise", "cooperative", "family_farm",
				     "household",  "collector",	  "purchaser_individual",
				     "staff",	   NULL };
static const char *const grades[] = { "A", "B", "C", NULL };
static const char *const statuses[] = { "active", "suspended", "blacklisted", NULL };

static const ac_registry_field subject_fields[] = {
	{ "kind", AC_REGISTRY_ENUM, 1, 0, 0, 0, kinds, NULL, NULL,
	  "kind is required: enterprise, cooperative, family_farm, household, collector or "
	  "purchaser_individual",
	  "请选择主体类型：企业、合作社、家庭农场、农户、收购单位或收购个人" },
	{ "name", AC_REGISTRY_TEXT, 1, 0, 0, 100, NULL, NULL, NULL,
	  "name is required, 1 to 100 characters", "请填写主体名称（1到100个字）" },
	{ "credit_code", AC_REGISTRY_CHECK, 0, 0, 1, 18, NULL, ac_check_credit_code, NULL,
	  "credit_code must be an 18-character unified social credit code with a valid check "
	  "character",
	  "统一社会信用代码应为18位且校验位正确，请核对营业执照" },
	{ "id_number", AC_REGISTRY_CHECK, 0, 0, 1, 18, NULL, ac_check_id_number, NULL,
	  "id_number must be an 18-character resident ID number with a valid check digit",
	  "身份证号码应为18位且校验位正确，请核对" },
	{ "contact", AC_REGISTRY_CHECK, 0, 0, 1, 20, NULL, ac_check_contact, NULL,
	  "contact must be a phone number of at most 20 characters",
	  "联系电话格式错误，请填写手机号或座机号（不超过20位）" },
	{ "region_code", AC_REGISTRY_REGION, 1, 0, 0, 12, NULL, NULL, "::bigint",
	  "region_code is required: a 12-digit administrative division code",
	  "请填写12位行政区划代码（省市县乡村）" },
	{ "address", AC_REGISTRY_TEXT, 0, 0, 1, 200, NULL, NULL, NULL,
	  "address must be at most 200 characters", "地址不超过200个字" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const ac_registry_filter subject_filters[] = {
	{ "q", AC_REGISTRY_F_SEARCH,
	  "t.name ILIKE $P ESCAPE '\\' OR t.credit_code = $T OR t.contact = $T", NULL },
	{ "kind", AC_REGISTRY_F_EQ, "t.kind", kinds },
	{ "region", AC_REGISTRY_F_PREFIX, "t.region_code", NULL },
	{ "status", AC_REGISTRY_F_EQ, "t.status", statuses },
	{ "grade", AC_REGISTRY_F_EQ, "t.credit_grade", grades },
	{ NULL, 0, NULL, NULL },
};

static int may_write(ac_registry_ctx *c)
{
	if (ac_perm_is_regulator(&c->p))
		return 1;
	ac_registry_forbidden(c, "only a township or county regulator may change the registry",
			      "只有乡镇或县级监管人员可以修改名录库");
	return 0;
}

static int check_write(ac_registry_ctx *c)
{
	if ((strcmp(c->old_kind, "staff") == 0 || strcmp(c->new_kind, "staff") == 0) &&
	    !ac_perm_is_admin(&c->p)) {
		ac_registry_forbidden(c, "only an administrator may manage staff accounts",
				      "只有系统管理员可以管理工作人员账号");
		return 0;
	}
	return 1;
}

static void mask(json_t *obj, const char *key, size_t keep_head)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;
	char out[64];

	if (!json_is_string(v))
		return;
	s = json_string_value(v);
	len = strlen(s);
	if (len == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80 || len >= sizeof(out)) {
			json_object_set_new(obj, key, json_string("****"));
			return;
		}
	}
	for (size_t i = 0; i < len; i++)
		out[i] = len >= keep_head + 4 + 4 && (i < keep_head || i >= len - 4) ? s[i] : '*';
	out[len] = '\0';
	json_object_set_new(obj, key, json_string(out));
}

/* ID and phone numbers in full only for the regulators covering the subject. */
static void shape(ac_registry_ctx *c, json_t *obj)
{
	const char *region = json_string_value(json_object_get(obj, "region_code"));
	int64_t code = region != NULL ? strtoll(region, NULL, 10) : 0;

	if (ac_perm_is_regulator(&c->p) && ac_perm_covers(&c->p, code))
		return;
	mask(obj, "id_number", 6);
	mask(obj, "contact", 3);
}

const ac_registry_entity ac_registry_subjects = {
	.name = "subject",
	.name_zh = "主体",
	.table = "subject",
	.json = SUBJECT_JSON,
	.id_cast = "::int",
	.fields = subject_fields,
	.filters = subject_filters,
	.where = "t.kind <> 'staff'",
	.has_region = 1,
	.may_read = ac_registry_role_staff,
	.may_write = may_write,
	.check_write = check_write,
	.shape = shape,
	.conflict_en = "a subject with this unified social credit code is already registered",
	.conflict_zh = "该统一社会信用代码已登记，请勿重复登记",
};

static int own(const ac_registry_ctx *c)
{
	return (strcmp(c->p.role, "producer") == 0 || strcmp(c->p.role, "purchaser") == 0) &&
	       c->p.subject_id == atoi(c->id);
}

void ac_registry_subject_get(ac_registry_ctx *c)
{
	if (!own(c) && !ac_registry_role_staff(c))
		return;
	ac_registry_fetch(c);
}

/* POST /subjects/{id}/grade and /status: {"grade"|"status", "reason"}. */

static void on_changed(ac_registry_ctx *c, const ac_db_result *res)
{
	json_t *obj;

	if (ac_db_rows(res) != 1) {
		ac_req_error(c->r, 409, "changed_meanwhile",
			     "the subject was moved to another region meanwhile; reload and retry",
			     "该主体刚被他人修改，请刷新后重试");
		return;
	}
	obj = ac_registry_parse(res, 0, 0);
	if (!json_is_object(obj)) {
		json_decref(obj);
		ac_req_error(c->r, 500, "internal", "could not read the record", "服务器内部错误");
		return;
	}
	json_object_set_new(obj, "changed", json_boolean(strcmp(ac_db_get(res, 0, 1), "t") == 0));
	/* Cached principals carry the status: drop this subject's at once. */
	ac_auth_forget_subject(atoi(c->id));
	shape(c, obj);
	if (c->extra[1] != NULL)
		ac_log_info("registry", "subject %s: %s set to %s by subject %d (%s) id=%s", c->id,
			    c->extra[0], c->extra[1], c->p.subject_id, c->p.role, c->r->id_str);
	ac_req_json(c->r, 200, obj);
}

static void on_change_subject(ac_registry_ctx *c, const ac_db_result *res)
{
	const char *region;
	char old[24];
	char actor[16];
	const char *vals[6];

	if (ac_db_rows(res) != 1) {
		ac_registry_not_found(c);
		return;
	}
	region = ac_db_get(res, 0, 0);
	if (!ac_perm_covers(&c->p, region != NULL ? strtoll(region, NULL, 10) : 0)) {
		ac_registry_forbidden(c, "the subject is outside your jurisdiction",
				      "该主体不在您的管辖范围内，请联系其所属乡镇或县级监管人员");
		return;
	}
	snprintf(c->old_kind, sizeof(c->old_kind), "%s", ac_db_get(res, 0, 1));
	if (!check_write(c))
		return;
	snprintf(old, sizeof(old), "%s", region != NULL ? region : "");
	snprintf(actor, sizeof(actor), "%d", c->p.subject_id);
	vals[0] = c->id;
	vals[1] = region != NULL ? old : NULL;
	vals[2] = c->extra[1];
	vals[3] = c->extra[2];
	vals[4] = actor;
	vals[5] = c->p.role;
	free(c->sql);
	if (asprintf(&c->sql,
		     "WITH old AS (SELECT id, %s::text AS v FROM subject WHERE id = $1::int AND "
		     "region_code IS NOT DISTINCT FROM $2::bigint FOR UPDATE), "
		     "u AS (UPDATE subject t SET %s = $3::text FROM old WHERE t.id = old.id "
		     "RETURNING old.v AS old_v, " SUBJECT_JSON " AS j), "
		     "ch AS (INSERT INTO subject_change (subject_id, field, old_value, new_value, "
		     "reason, actor_subject_id, actor_role) SELECT $1::int, '%s', old_v, $3::text, "
		     "$4, $5::int, $6 FROM u WHERE old_v IS DISTINCT FROM $3::text RETURNING id) "
		     "SELECT j, (SELECT count(*) FROM ch) > 0 FROM u",
		     c->extra[0], c->extra[0], c->extra[0]) < 0) {
		c->sql = NULL;
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, c->sql, 6, vals, on_changed);
}

static void change(ac_registry_ctx *c, const char *key, const char *column,
		   const char *const *values, const char *hint, const char *hint_zh)
{
	const char *const known[] = { key, "reason", NULL };
	const char *vals[1] = { c->id };
	json_t *v;
	json_t *reason;
	int ok = 0;
	int chars;

	if (!may_write(c))
		return;
	c->body = ac_req_body_object(c->r);
	if (c->body == NULL || ac_registry_known(c, c->body, known) != 0)
		return;
	v = json_object_get(c->body, key);
	for (int i = 0; json_is_string(v) && values[i] != NULL; i++)
		ok |= strcmp(values[i], json_string_value(v)) == 0;
	if (!ok) {
		ac_registry_error(c, 400, v == NULL ? "missing_field" : "invalid_field", key, hint,
				  hint_zh);
		return;
	}
	reason = json_object_get(c->body, "reason");
	chars = json_is_string(reason) &&
			strlen(json_string_value(reason)) == json_string_length(reason)
		    ? ac_check_chars(json_string_value(reason))
		    : -1;
	if (chars < 1 || chars > 500) {
		ac_registry_error(c, 400, reason == NULL ? "missing_field" : "invalid_field",
				  "reason", "a reason of 1 to 500 characters is required",
				  "必须填写调整原因（1到500个字），以备查询");
		return;
	}
	c->extra[0] = strdup(column);
	c->extra[1] = strdup(json_string_value(v));
	c->extra[2] = strdup(json_string_value(reason));
	if (c->extra[0] == NULL || c->extra[1] == NULL || c->extra[2] == NULL) {
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, "SELECT region_code, kind FROM subject WHERE id = $1::int", 1, vals,
			  on_change_subject);
}

void ac_registry_subject_grade(ac_registry_ctx *c)
{
	change(c, "grade", "credit_grade", grades,
	       "grade must be A, B or C (C puts the subject under key supervision)",
	       "信用等级必须是A、B或C（C级为重点监管对象）");
}

void ac_registry_subject_status(ac_registry_ctx *c)
{
	change(c, "status", "status", statuses, "status must be active, suspended or blacklisted",
	       "状态必须是正常（active）、暂停（suspended）或黑名单（blacklisted）");
}

/* GET /subjects/{id}/changes */

static void on_changes(ac_registry_ctx *c, const ac_db_result *res)
{
	json_t *items;

	if (strcmp(ac_db_get(res, 0, 0), "t") != 0) {
		ac_registry_not_found(c);
		return;
	}
	items = ac_registry_parse(res, 0, 2);
	if (!json_is_array(items)) {
		json_decref(items);
		ac_req_error(c->r, 500, "internal", "could not read the list", "服务器内部错误");
		return;
	}
	ac_req_json(c->r, 200,
		    json_pack("{s:i,s:o,s:I,s:i,s:i}", "subject_id", atoi(c->id), "items", items,
			      "total", (json_int_t)strtoll(ac_db_get(res, 0, 1), NULL, 10), "limit",
			      c->limit, "offset", c->offset));
}

void ac_registry_subject_changes(ac_registry_ctx *c)
{
	char limit[16];
	char offset[16];
	const char *vals[3] = { c->id, limit, offset };

	if (!own(c) && !ac_registry_role_staff(c))
		return;
	if (ac_registry_paging(c) != 0)
		return;
	snprintf(limit, sizeof(limit), "%d", c->limit);
	snprintf(offset, sizeof(offset), "%d", c->offset);
	ac_registry_query(
	    c,
	    "SELECT EXISTS (SELECT 1 FROM subject WHERE id = $1::int), "
	    "(SELECT count(*) FROM subject_change WHERE subject_id = $1::int), "
	    "(SELECT coalesce(json_agg(j ORDER BY id DESC), '[]') FROM (SELECT c.id, "
	    "json_build_object('id', c.id, 'field', c.field, 'old_value', c.old_value, "
	    "'new_value', c.new_value, 'reason', c.reason, 'actor_subject_id', "
	    "c.actor_subject_id, 'actor_name', (SELECT s.name FROM subject s WHERE s.id = "
	    "c.actor_subject_id), 'actor_role', c.actor_role, 'at', c.at) AS j "
	    "FROM subject_change c WHERE c.subject_id = $1::int ORDER BY c.id DESC "
	    "LIMIT $2::int OFFSET $3::int) q)",
	    3, vals, on_changes);
}

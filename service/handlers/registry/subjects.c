/*
 * Subjects (producers and purchasers): fields and their checks, masking of
 * phone and ID numbers, credit grade and status changes with their history
 * (subject_set() and subject_changes(), sql/0015_registry_sql.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_log.h"
#include "registry-private.h"

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

/* Staff accounts are the administrators' alone. */
static int check_write(ac_req *r, const ac_registry_ctx *c, const char *old_kind)
{
	int staff = (old_kind != NULL && strcmp(old_kind, "staff") == 0) ||
		    (c->new_kind != NULL && strcmp(c->new_kind, "staff") == 0);

	if (staff && !ac_perm_is_admin(r->who)) {
		ac_req_forbidden(r, "only an administrator may manage staff accounts",
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
static void shape(const ac_principal *who, json_t *obj)
{
	const char *region = json_string_value(json_object_get(obj, "region_code"));
	int64_t code = region != NULL ? strtoll(region, NULL, 10) : 0;

	if (ac_perm_is_regulator(who) && ac_perm_covers(who, code))
		return;
	mask(obj, "id_number", 6);
	mask(obj, "contact", 3);
}

const ac_registry_entity ac_registry_subjects = {
	.name = "subject",
	.name_zh = "主体",
	.table = "subject",
	.json = "subject_json(t)",
	.id_cast = "::int",
	.fields = subject_fields,
	.filters = subject_filters,
	.where = "t.kind <> 'staff'",
	.has_region = 1,
	.kind_column = "t.kind",
	.check_write = check_write,
	.shape = shape,
	.conflict_en = "a subject with this unified social credit code is already registered",
	.conflict_zh = "该统一社会信用代码已登记，请勿重复登记",
};

/* Staff read any subject, a producer or purchaser its own; 403 for the rest. */
static int may_read(ac_req *r)
{
	if (ac_perm_is_issuer(r->who) && r->who->subject_id == atoi(r->param[0]))
		return 1;
	if (ac_perm_may(r->who, AC_ACT_READ_REGISTRY))
		return 1;
	ac_req_refuse(r, AC_ACT_READ_REGISTRY);
	return 0;
}

void ac_registry_subject_get(ac_req *r)
{
	if (ac_registry_ctx_new(r) != NULL && may_read(r))
		ac_registry_fetch(r);
}

/* POST /subjects/{id}/grade and /status: {"grade"|"status", "reason"}. */

static void on_changed(ac_req *r, const ac_db_result *res)
{
	const ac_registry_ctx *c = r->ctx;
	json_t *obj;

	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 409, "changed_meanwhile",
			     "the subject was moved to another region meanwhile; reload and retry",
			     "该主体刚被他人修改，请刷新后重试");
		return;
	}
	obj = ac_registry_json(r, res, "obj");
	if (obj == NULL)
		return;
	json_object_set_new(obj, "changed",
			    json_boolean(ac_db_bool(res, 0, ac_db_col(res, "changed"))));
	/* Cached principals carry the status: drop this subject's at once. */
	ac_auth_forget_subject(ac_app_of(r)->auth, atoi(r->param[0]));
	shape(r->who, obj);
	ac_log_info("registry", "subject %s: %s set to %s by subject %d (%s) id=%s", r->param[0],
		    c->column, c->value, r->who->subject_id, r->who->role, r->id_str);
	ac_req_json(r, 200, obj);
}

static void on_change_subject(ac_req *r, const ac_db_result *res)
{
	ac_registry_ctx *c = r->ctx;
	const char *region;
	ac_db_call call;

	if (ac_db_rows(res) != 1) {
		ac_registry_not_found(r);
		return;
	}
	region = ac_db_field(res, 0, "region_code");
	if (!ac_perm_covers(r->who, region != NULL ? strtoll(region, NULL, 10) : 0)) {
		ac_req_forbidden(r, "the subject is outside your jurisdiction",
				 "该主体不在您的管辖范围内，请联系其所属乡镇或县级监管人员");
		return;
	}
	if (!check_write(r, c, ac_db_field(res, 0, "kind")))
		return;
	ac_db_call_init(&call, "subject_set");
	ac_db_arg(&call, "p_subject", "integer", r->param[0]);
	ac_db_arg(&call, "p_region", "bigint", region);
	ac_db_arg(&call, "p_field", "text", c->column);
	ac_db_arg(&call, "p_value", "text", c->value);
	ac_db_arg(&call, "p_reason", "text", c->reason);
	ac_db_arg_int(&call, "p_actor_subject", "integer", r->who->subject_id);
	ac_db_arg(&call, "p_actor_role", "text", r->who->role);
	ac_req_call_as(r, &call, on_changed);
}

/* A reason of 1 to 500 characters, or NULL. */
static const char *reason_of(json_t *v)
{
	const char *s = json_string_value(v);
	int chars = s != NULL && strlen(s) == json_string_length(v) ? ac_check_chars(s) : -1;

	return chars >= 1 && chars <= 500 ? s : NULL;
}

static void change(ac_req *r, const char *key, const char *column, const char *const *values,
		   const char *hint, const char *hint_zh)
{
	const char *const known[] = { key, "reason", NULL };
	ac_registry_ctx *c = ac_registry_ctx_body(r, known);
	json_t *v;

	if (c == NULL)
		return;
	v = json_object_get(c->body, key);
	for (int i = 0; json_is_string(v) && values[i] != NULL; i++) {
		if (strcmp(values[i], json_string_value(v)) == 0)
			c->value = values[i];
	}
	if (c->value == NULL) {
		ac_req_error_field(r, 400, v == NULL ? "missing_field" : "invalid_field", key, hint,
				   hint_zh);
		return;
	}
	c->reason = reason_of(json_object_get(c->body, "reason"));
	if (c->reason == NULL) {
		ac_req_error_field(r, 400,
				   json_object_get(c->body, "reason") == NULL ? "missing_field"
									      : "invalid_field",
				   "reason", "a reason of 1 to 500 characters is required",
				   "必须填写调整原因（1到500个字），以备查询");
		return;
	}
	c->column = column;
	ac_req_query(r, "SELECT region_code, kind FROM subject WHERE id = $1::int", 1, r->param,
		     on_change_subject);
}

void ac_registry_subject_grade(ac_req *r)
{
	change(r, "grade", "credit_grade", grades,
	       "grade must be A, B or C (C puts the subject under key supervision)",
	       "信用等级必须是A、B或C（C级为重点监管对象）");
}

void ac_registry_subject_status(ac_req *r)
{
	change(r, "status", "status", statuses, "status must be active, suspended or blacklisted",
	       "状态必须是正常（active）、暂停（suspended）或黑名单（blacklisted）");
}

/* GET /subjects/{id}/changes */

static void on_changes(ac_req *r, const ac_db_result *res)
{
	const ac_registry_ctx *c = r->ctx;
	json_t *items;

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		ac_registry_not_found(r);
		return;
	}
	items = ac_registry_json(r, res, "items");
	if (items == NULL)
		return;
	ac_req_json(r, 200,
		    json_pack("{s:i,s:o,s:I,s:i,s:i}", "subject_id", atoi(r->param[0]), "items",
			      items, "total",
			      (json_int_t)strtoll(ac_db_field(res, 0, "total"), NULL, 10), "limit",
			      c->limit, "offset", c->offset));
}

void ac_registry_subject_changes(ac_req *r)
{
	ac_registry_ctx *c = ac_registry_ctx_new(r);
	ac_db_call call;

	if (c == NULL || !may_read(r) || ac_registry_paging(r, c) != 0)
		return;
	ac_db_call_init(&call, "subject_changes");
	ac_db_arg(&call, "p_subject", "integer", r->param[0]);
	ac_db_arg_int(&call, "p_limit", "integer", c->limit);
	ac_db_arg_int(&call, "p_offset", "integer", c->offset);
	ac_req_call(r, &call, on_changes);
}

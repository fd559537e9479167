/*
 * POST /api/v1/quarantine-certificates: a regulator imports animal
 * quarantine certificates (动物检疫合格证明) as a CSV file (Content-Type
 * text/csv; the header number,owner,species,quantity,unit,origin,date or
 * its Chinese), all lines or none, for places within its jurisdiction
 * (import_quarantine(), which `agricert import quarantine` calls too). The
 * daily reconciliation is a document (supervision.c).
 */
#include <stdlib.h>
#include <string.h>

#include "ac_jurisdiction.h"
#include "ac_log.h"
#include "supervision-private.h"

static void on_imported(ac_req *r, const ac_db_result *res)
{
	int status = ac_db_col(res, "status");
	int line = ac_db_col(res, "line");
	int fresh = 0;
	int rejected = 0;
	json_t *rows = json_array();

	for (int k = 0; k < ac_db_rows(res); k++) {
		const char *s = ac_db_get(res, k, status);

		fresh += strcmp(s, "new") == 0;
		if (strcmp(s, "rejected") != 0)
			continue;
		rejected++;
		json_array_append_new(rows, json_pack("{s:i,s:s?,s:s,s:s}", "line",
						      atoi(ac_db_get(res, k, line)), "number",
						      ac_db_field(res, k, "number"), "message",
						      ac_db_field(res, k, "message"), "message_zh",
						      ac_db_field(res, k, "message_zh")));
	}
	if (rejected > 0) {
		ac_sv_error_with(r, 422, "rejected_rows",
				 "some lines were rejected (see rejected); nothing was imported",
				 "部分行有误（见 rejected），全部未导入，请改正后重新上传",
				 "rejected", rows);
		return;
	}
	json_decref(rows);
	ac_log_info("quarantine", "imported %d quarantine certificates (%d new) id=%s",
		    ac_db_rows(res), fresh, r->id_str);
	ac_req_json(r, 201,
		    json_pack("{s:i,s:i,s:i,s:s}", "imported", ac_db_rows(res), "new", fresh,
			      "updated", ac_db_rows(res) - fresh, "message_zh", "检疫证明已导入"));
}

/* Whether the body is declared as CSV (or plain text). */
static int is_csv(const char *content_type)
{
	return content_type != NULL && (strncmp(content_type, "text/csv", 8) == 0 ||
					strncmp(content_type, "text/plain", 10) == 0);
}

void ac_sv_quarantine_import(ac_req *r)
{
	ac_db_call call;

	if (!is_csv(r->content_type)) {
		ac_req_error(r, 415, "unsupported_media_type",
			     "send the file as Content-Type: text/csv",
			     "请以 CSV 文件（text/csv）上传检疫证明");
		return;
	}
	if (r->body == NULL || r->body_len == 0 || strlen(r->body) != r->body_len) {
		ac_req_error(r, 400, "invalid_csv", "the body is a CSV file of UTF-8 text",
			     "请上传 UTF-8 编码的 CSV 文件");
		return;
	}
	ac_db_call_init(&call, "import_quarantine");
	ac_db_arg(&call, "p_csv", "text", r->body);
	ac_db_arg_int(&call, "p_imported_by", "integer", r->who->subject_id);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_imported);
}

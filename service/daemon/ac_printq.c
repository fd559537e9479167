#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_code.h"
#include "ac_cups.h"
#include "ac_error.h"
#include "ac_label.h"
#include "ac_log.h"
#include "ac_printq.h"

struct ac_printq {
	ac_app *app;
	ac_label_renderer *renderer;
	int busy;
};

typedef struct print_work {
	uv_work_t work;
	ac_printq *pq;
	int64_t job_id;
	char *server;
	char *queue;
	ac_label_size size;
	ac_label_data data;
	char *strings[12];
	char **codes;
	size_t ncodes;
	int err;
	ac_cups_error cerr;
	int cups_job_id;
	uint64_t t0;
	uint64_t since; /* the request */
} print_work;

static void work_free(print_work *w)
{
	for (size_t i = 0; i < sizeof(w->strings) / sizeof(w->strings[0]); i++)
		free(w->strings[i]);
	for (size_t i = 0; w->codes != NULL && i < w->ncodes; i++)
		free(w->codes[i]);
	free(w->codes);
	free(w);
}

static void render_and_submit(uv_work_t *req)
{
	print_work *w = req->data;
	unsigned char *pdf = NULL;
	size_t len = 0;
	char title[64];

	w->err = ac_label_render_pdf(w->pq->renderer, &w->size, &w->data, &pdf, &len);
	if (w->err != 0)
		return;
	snprintf(title, sizeof(title), "certificate %s", w->data.number);
	w->err =
	    ac_cups_submit(w->server, w->queue, title, NULL, pdf, len, &w->cups_job_id, &w->cerr);
	free(pdf);
}

static void on_job_recorded(void *data, const ac_db_result *res, int err, const char *msg)
{
	print_work *w = data;

	if (err != 0)
		ac_log_error("print", "could not record print job %lld: %s", (long long)w->job_id,
			     msg);
	w->pq->busy--;
	work_free(w);
}

static void after_submit(uv_work_t *req, int status)
{
	print_work *w = req->data;
	ac_printq *pq = w->pq;
	char id[24];
	char cups_id[24];
	char reason[320];
	const char *values[4];

	if (status != 0)
		w->err = status;
	snprintf(id, sizeof(id), "%lld", (long long)w->job_id);
	snprintf(cups_id, sizeof(cups_id), "%d", w->cups_job_id);
	values[0] = id;
	if (w->err == 0) {
		ac_log_info("print",
			    "job %lld at CUPS as %s/%d after %.1f ms (%.1f ms since the request)",
			    (long long)w->job_id, w->queue, w->cups_job_id,
			    (ac_now_ns() - w->t0) / 1e6, (ac_now_ns() - w->since) / 1e6);
		values[1] = cups_id;
		values[2] = "pending";
		values[3] = NULL;
	} else {
		snprintf(reason, sizeof(reason), "%s",
			 w->cerr.message[0] ? w->cerr.message : ac_strerror(w->err));
		ac_log_error("print", "could not print job %lld on %s: %s", (long long)w->job_id,
			     w->queue, reason);
		values[1] = NULL;
		values[2] = "failed";
		values[3] = reason;
	}
	if (ac_db_query(pq->app->db,
			"UPDATE print_job SET cups_job_id = $2::int, state = $3, reason = $4, "
			"submitted_at = now(), updated_at = now() WHERE id = $1::bigint",
			4, values, NULL, on_job_recorded, w) != 0) {
		ac_log_error("print", "could not record print job %lld: database unavailable",
			     (long long)w->job_id);
		pq->busy--;
		work_free(w);
	}
}

void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns)
{
	const ac_config *cfg = &pq->app->cfg;
	const ac_printer_conf *pc = ac_config_printer(cfg, c->printer_id);
	char number[24];
	char qty[64];
	char date[16];
	char contact[64];
	print_work *w;
	int fail = 0;

	if (pc == NULL)
		return;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return;
	w->pq = pq;
	w->job_id = c->print_job_id;
	w->t0 = ac_now_ns();
	w->since = since_ns ? since_ns : w->t0;
	if (ac_label_size_parse(pc->size, &w->size) != 0) {
		w->size.width_mm = 60;
		w->size.height_mm = 40;
		w->size.dpi = 203;
	}
	ac_cert_number(c->serial, number);
	ac_quantity_text(c->quantity_milli, qty, sizeof(qty) - 16);
	strcat(qty, " ");
	strcat(qty, ac_unit_name_zh(c->unit));
	snprintf(date, sizeof(date), "%.10s", c->issued_at);
	ac_mask_contact(c->contact, contact, sizeof(contact));
	w->strings[0] = strdup(cfg->cups_server);
	w->strings[1] = strdup(pc->queue);
	w->strings[2] = strdup(c->product_name ? c->product_name : "");
	w->strings[3] = strdup(qty);
	w->strings[4] = strdup(c->origin);
	w->strings[5] = strdup(c->issuer_name ? c->issuer_name : "");
	w->strings[6] = strdup(contact);
	w->strings[7] = strdup(date);
	w->strings[8] = strdup(number);
	w->strings[9] = strdup(ac_style_promise_zh(c->style));
	w->strings[10] = strdup(ac_basis_name_zh(c->basis));
	for (int i = 0; i < 11; i++)
		fail |= w->strings[i] == NULL;
	w->server = w->strings[0];
	w->queue = w->strings[1];
	w->data.product = w->strings[2];
	w->data.quantity = w->strings[3];
	w->data.origin = w->strings[4];
	w->data.issuer = w->strings[5];
	w->data.contact = w->strings[6];
	w->data.date = w->strings[7];
	w->data.number = w->strings[8];
	w->data.promise = w->strings[9];
	w->data.basis = w->strings[10];
	w->codes = calloc(c->labels, sizeof(char *));
	fail |= w->codes == NULL;
	for (int i = 0; !fail && i < c->labels; i++) {
		char url[512];

		fail |= ac_code_url(cfg->public_url, c->codes[i], url, sizeof(url)) < 0;
		w->codes[i] = strdup(url);
		fail |= w->codes[i] == NULL;
		w->ncodes = i + 1;
	}
	if (fail) {
		ac_log_error("print", "could not prepare print job %lld: out of memory",
			     (long long)w->job_id);
		work_free(w);
		return;
	}
	w->data.codes = (const char *const *)w->codes;
	w->data.ncodes = w->ncodes;
	w->work.data = w;
	pq->busy++;
	uv_queue_work(pq->app->loop, &w->work, render_and_submit, after_submit);
}

/* GET /api/v1/print-jobs/{id} */

typedef struct status_work {
	uv_work_t work;
	ac_req *r;
	ac_printq *pq;
	char id[24];
	char *server;
	char *queue;
	int cups_job_id;
	long long serial;
	char printer_id[64];
	ac_job_status st;
	ac_cups_error cerr;
	int err;
} status_work;

static json_t *job_json(const char *id, long long serial, const char *printer, const char *state,
			const char *reason, int cups_job_id)
{
	json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s?}", "id", (json_int_t)strtoll(id, NULL, 10),
			      "certificate", (json_int_t)serial, "printer", printer, "state", state,
			      "reason", reason);

	if (j != NULL)
		json_object_set_new(j, "cups_job_id",
				    cups_job_id > 0 ? json_integer(cups_job_id) : json_null());
	return j;
}

static void on_state_saved(void *data, const ac_db_result *res, int err, const char *msg)
{
	(void)data;
	if (err != 0)
		ac_log_warn("print", "could not save job state: %s", msg);
}

static void query_cups(uv_work_t *req)
{
	status_work *w = req->data;

	w->err = ac_cups_job_status(w->server, w->queue, w->cups_job_id, &w->st, &w->cerr);
}

static void after_query_cups(uv_work_t *req, int status)
{
	status_work *w = req->data;
	ac_req *r = w->r;
	const char *state;
	json_t *j;

	if (status != 0 || w->err != 0) {
		ac_log_warn("print", "could not query job %s: %s id=%s", w->id,
			    w->cerr.message[0] ? w->cerr.message : ac_strerror(w->err), r->id_str);
		ac_req_error(r, 502, "printer_unreachable",
			     "the print server did not answer; the job state is unknown",
			     "无法连接打印服务，暂时查不到打印状态");
		goto out;
	}
	state = ac_job_state_name(w->st.state);
	j = job_json(w->id, w->serial, w->printer_id, state,
		     w->st.state_reasons[0] ? w->st.state_reasons : NULL, w->cups_job_id);
	json_object_set_new(j, "pages_completed", json_integer(w->st.pages_completed));
	json_object_set_new(j, "printer_state",
			    json_string(ac_printer_state_name(w->st.printer_state)));
	json_object_set_new(j, "printer_state_reasons", json_string(w->st.printer_state_reasons));
	if (w->st.message[0] != '\0')
		json_object_set_new(j, "message", json_string(w->st.message));
	ac_req_json(r, 200, j);
	{
		const char *values[3] = { w->id, state,
					  w->st.state_reasons[0] ? w->st.state_reasons : NULL };

		ac_db_query(w->pq->app->db,
			    "UPDATE print_job SET state = $2, reason = $3, updated_at = now() "
			    "WHERE id = $1::bigint AND state <> $2",
			    3, values, NULL, on_state_saved, NULL);
	}
out:
	w->pq->busy--;
	free(w->server);
	free(w->queue);
	free(w);
	ac_req_unref(r);
}

static int may_see(const ac_principal *p, int issuer_id)
{
	return p->subject_id == issuer_id || strcmp(p->role, "admin") == 0 ||
	       strcmp(p->role, "county_regulator") == 0 ||
	       strcmp(p->role, "township_regulator") == 0;
}

typedef struct job_get {
	ac_req *r;
	ac_principal p;
	char id[24];
} job_get;

static void on_job_row(void *data, const ac_db_result *res, int err, const char *msg)
{
	job_get *g = data;
	ac_req *r = g->r;
	ac_app *app = r->app;
	const ac_printer_conf *pc;
	const char *state;
	status_work *w;

	if (err != 0) {
		ac_log_error("print", "could not read print job: %s id=%s", msg, r->id_str);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		goto out;
	}
	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 404, "not_found", "no such print job", "没有这个打印任务");
		goto out;
	}
	if (!may_see(&g->p, atoi(ac_db_get(res, 0, 5)))) {
		ac_req_error(r, 403, "forbidden", "this print job is not yours",
			     "这不是您的打印任务，无权查看");
		goto out;
	}
	state = ac_db_get(res, 0, 3);
	pc = ac_config_printer(&app->cfg, ac_db_get(res, 0, 2));
	if (ac_db_get(res, 0, 4) == NULL || pc == NULL || strcmp(state, "completed") == 0 ||
	    strcmp(state, "failed") == 0 || strcmp(state, "canceled") == 0) {
		ac_req_json(r, 200,
			    job_json(g->id, strtoll(ac_db_get(res, 0, 1), NULL, 10),
				     ac_db_get(res, 0, 2), state, ac_db_get(res, 0, 6),
				     ac_db_get(res, 0, 4) ? atoi(ac_db_get(res, 0, 4)) : 0));
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		goto out;
	}
	w->r = r;
	w->pq = app->printq;
	snprintf(w->id, sizeof(w->id), "%s", g->id);
	w->server = strdup(app->cfg.cups_server);
	w->queue = strdup(pc->queue);
	w->cups_job_id = atoi(ac_db_get(res, 0, 4));
	w->serial = strtoll(ac_db_get(res, 0, 1), NULL, 10);
	snprintf(w->printer_id, sizeof(w->printer_id), "%s", ac_db_get(res, 0, 2));
	w->work.data = w;
	ac_req_ref(r);
	app->printq->busy++;
	uv_queue_work(app->loop, &w->work, query_cups, after_query_cups);
out:
	free(g);
	ac_req_unref(r);
}

static void job_get_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	job_get *g = r->handler_data;
	const char *values[1];

	g->p = *p;
	r->handler_data = NULL;
	r->handler_free = NULL;
	values[0] = g->id;
	ac_req_ref(r);
	if (ac_db_query(app->db,
			"SELECT pj.id, pj.serial, pj.printer_id, pj.state, pj.cups_job_id, "
			"c.issuer_id, pj.reason FROM print_job pj JOIN certificate c "
			"USING (serial) WHERE pj.id = $1::bigint",
			1, values, NULL, on_job_row, g) != 0) {
		free(g);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		ac_req_unref(r);
	}
}

void ac_handle_print_job_get(ac_req *r, const char *id)
{
	job_get *g;

	if (strlen(id) == 0 || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id)) {
		ac_req_error(r, 404, "not_found", "no such print job", "没有这个打印任务");
		return;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	g->r = r;
	snprintf(g->id, sizeof(g->id), "%s", id);
	r->handler_data = g;
	r->handler_free = free;
	ac_auth(r, job_get_authed);
}

int ac_printq_new(ac_app *app, ac_printq **out)
{
	ac_printq *pq = calloc(1, sizeof(*pq));
	int r;

	*out = NULL;
	if (pq == NULL)
		return -ENOMEM;
	pq->app = app;
	r = ac_label_renderer_new(app->cfg.font, &pq->renderer);
	if (r != 0) {
		free(pq);
		return r;
	}
	*out = pq;
	return 0;
}

int ac_printq_busy(const ac_printq *pq)
{
	return pq->busy;
}

void ac_printq_free(ac_printq *pq)
{
	if (pq == NULL)
		return;
	ac_label_renderer_free(pq->renderer);
	free(pq);
}

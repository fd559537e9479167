/*
 * CUPS job submission and state (see ac_cups.h). One http_t per call; the
 * CUPS status (thread-local in libcups) is read right after each request.
 */
#include "ac_cups.h"

#include <cups/cups.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"

#define CONNECT_MSEC 5000

static void err_clear(ac_cups_error *err)
{
	if (err) {
		err->ipp_status = 0;
		err->message[0] = '\0';
	}
}

static void err_set(ac_cups_error *err, int status, const char *msg)
{
	if (err) {
		err->ipp_status = status;
		snprintf(err->message, sizeof(err->message), "%s", msg ? msg : "");
	}
}

/* Maps the calling thread's last CUPS status to a code and fills err. */
static int err_from_cups(ac_cups_error *err)
{
	ipp_status_t st = cupsLastError();
	err_set(err, (int)st, cupsLastErrorString());
	if (st == IPP_STATUS_ERROR_NOT_FOUND)
		return AC_ENOTFOUND;
	return AC_EPRINTER;
}

static int is_local(const char *host)
{
	return host[0] == '/' || strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

/* Opens a connection to server; *http is NULL on failure. */
static int connect_server(const char *server, http_t **http, ac_cups_error *err)
{
	char host[256];
	int port = 631;

	*http = NULL;
	if (!server || !*server || strlen(server) >= sizeof(host)) {
		err_set(err, 0, "invalid cups server");
		return AC_ERANGE;
	}
	snprintf(host, sizeof(host), "%s", server);
	if (host[0] == '/') {
		port = 0;
	} else {
		char *colon = NULL;
		if (host[0] == '[') {
			char *end = strchr(host, ']');
			if (!end) {
				err_set(err, 0, "invalid cups server");
				return AC_ERANGE;
			}
			memmove(host, host + 1, (size_t)(end - host - 1));
			host[end - host - 1] = '\0';
			colon = end[1] == ':' ? end + 1 : NULL;
			if (colon)
				port = atoi(colon + 1);
		} else {
			colon = strrchr(host, ':');
			if (colon && strchr(host, ':') == colon) {
				*colon = '\0';
				port = atoi(colon + 1);
			}
		}
		if (port <= 0 || port > 65535 || !host[0]) {
			err_set(err, 0, "invalid cups server");
			return AC_ERANGE;
		}
	}
	http_encryption_t enc =
	    is_local(host) ? HTTP_ENCRYPTION_NEVER : HTTP_ENCRYPTION_IF_REQUESTED;
	*http = httpConnect2(host, port, NULL, AF_UNSPEC, enc, 1, CONNECT_MSEC, NULL);
	if (!*http) {
		/* httpConnect2 leaves the reason in the thread's CUPS status. */
		int e = errno;
		const char *why = cupsLastError() > IPP_STATUS_OK_CONFLICTING
				      ? cupsLastErrorString()
				      : strerror(e);
		char msg[256];
		snprintf(msg, sizeof(msg), "could not connect to %s: %s", server, why);
		err_set(err, 0, msg);
		return AC_EPRINTER;
	}
	return 0;
}

static int check_queue(const char *queue, ac_cups_error *err)
{
	/* The name goes into a URI path: keep to what lpadmin accepts. */
	if (!queue || !*queue || strlen(queue) > 127 || strpbrk(queue, "/#? \t\r\n\\")) {
		err_set(err, 0, "invalid queue name");
		return AC_ERANGE;
	}
	return 0;
}

static ipp_t *new_request(ipp_op_t op, const char *queue, int job_id)
{
	char uri[HTTP_MAX_URI];
	ipp_t *req = ippNewRequest(op);
	if (!req)
		return NULL;
	httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof(uri), "ipp", NULL, "localhost", 0,
			 "/printers/%s", queue);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	if (job_id > 0)
		ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
		     cupsUser());
	return req;
}

/*
 * Create-Job and Send-Document on http. *answered is 1 once the server
 * answered anything (a connection that went stale meanwhile leaves it 0).
 */
static int submit_on(http_t *http, const char *queue, const char *title, const char *media,
		     const char *format, const unsigned char *pdf, size_t len, int *job_id,
		     ac_cups_error *err, int *answered)
{
	int r = 0;
	ipp_t *req, *resp = NULL;
	int id = 0;

	/*
	 * Create-Job by hand: cupsCreateJob() first looks the queue up as a
	 * destination (cupsGetNamedDest), which fails against a server given
	 * only through this http_t.
	 */
	req = new_request(IPP_OP_CREATE_JOB, queue, 0);
	if (!req)
		return -ENOMEM;
	ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL,
		     title && *title ? title : "agricert labels");
	if (media && *media)
		ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", NULL, media);
	resp = cupsDoRequest(http, req, "/printers/"); /* frees req */
	*answered = resp != NULL;
	if (!resp || ippGetStatusCode(resp) > IPP_STATUS_OK_CONFLICTING) {
		r = err_from_cups(err);
		goto out;
	}
	ipp_attribute_t *a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER);
	id = a ? ippGetInteger(a, 0) : 0;
	if (id <= 0) {
		id = 0;
		err_set(err, (int)ippGetStatusCode(resp), "no job-id in the create-job response");
		r = AC_EPRINTER;
		goto out;
	}
	if (cupsStartDocument(http, queue, id, "labels", format ? format : CUPS_FORMAT_PDF, 1) !=
	    HTTP_STATUS_CONTINUE) {
		r = err_from_cups(err);
		goto out;
	}
	while (len > 0) {
		size_t chunk = len > 65536 ? 65536 : len;
		if (cupsWriteRequestData(http, (const char *)pdf, chunk) != HTTP_STATUS_CONTINUE) {
			cupsFinishDocument(http, queue);
			r = err_from_cups(err);
			goto out;
		}
		pdf += chunk;
		len -= chunk;
	}
	if (cupsFinishDocument(http, queue) > IPP_STATUS_OK_CONFLICTING) {
		r = err_from_cups(err);
		goto out;
	}
	*job_id = id;
	id = 0;
out:
	if (id > 0)
		cupsCancelJob2(http, queue, id, 0); /* best effort; err keeps the first cause */
	ippDelete(resp);
	return r;
}

struct ac_cups_conn {
	char server[256];
	http_t *http;
};

int ac_cups_conn_new(const char *server, ac_cups_conn **out)
{
	ac_cups_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return -ENOMEM;
	/* A server name that cannot be right fails each submission, as ac_cups_submit does. */
	if (server != NULL && strlen(server) < sizeof(c->server))
		snprintf(c->server, sizeof(c->server), "%s", server);
	*out = c;
	return 0;
}

void ac_cups_conn_free(ac_cups_conn *c)
{
	if (c == NULL)
		return;
	httpClose(c->http);
	free(c);
}

int ac_cups_conn_submit(ac_cups_conn *c, const char *queue, const char *title, const char *media,
			const char *format, const unsigned char *pdf, size_t len, int *job_id,
			ac_cups_error *err)
{
	int r;
	int answered = 0;
	int reused;

	*job_id = 0;
	err_clear(err);
	r = check_queue(queue, err);
	if (r < 0)
		return r;
	if (!pdf || len == 0) {
		err_set(err, 0, "empty document");
		return AC_ERANGE;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		reused = c->http != NULL;
		if (!reused && (r = connect_server(c->server, &c->http, err)) < 0)
			return r;
		err_clear(err);
		r = submit_on(c->http, queue, title, media, format, pdf, len, job_id, err,
			      &answered);
		if (r != 0) {
			/* Whatever went wrong, the next call starts on a fresh connection. */
			httpClose(c->http);
			c->http = NULL;
		}
		/* A kept connection the server had closed meanwhile: once more on a new one
		 * (nothing reached the server, so nothing is created twice). */
		if (r == 0 || !reused || answered)
			break;
	}
	return r;
}

int ac_cups_submit(const char *server, const char *queue, const char *title, const char *media,
		   const char *format, const unsigned char *pdf, size_t len, int *job_id,
		   ac_cups_error *err)
{
	ac_cups_conn c = { .http = NULL };

	*job_id = 0;
	err_clear(err);
	if (!server || !*server || strlen(server) >= sizeof(c.server)) {
		err_set(err, 0, "invalid cups server");
		return AC_ERANGE;
	}
	snprintf(c.server, sizeof(c.server), "%s", server);
	int r = ac_cups_conn_submit(&c, queue, title, media, format, pdf, len, job_id, err);
	httpClose(c.http);
	return r;
}

/* Joins the keyword values of attr into buf with commas, whole keywords only. */
static void join_keywords(ipp_attribute_t *attr, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
	if (!attr)
		return;
	for (int i = 0; i < ippGetCount(attr); i++) {
		const char *s = ippGetString(attr, i, NULL);
		if (!s)
			continue;
		size_t n = strlen(s);
		if (o + n + (o ? 1 : 0) + 1 > cap)
			break;
		if (o)
			buf[o++] = ',';
		memcpy(buf + o, s, n);
		o += n;
		buf[o] = '\0';
	}
}

static void copy_text(ipp_attribute_t *attr, char *buf, size_t cap)
{
	const char *s = attr ? ippGetString(attr, 0, NULL) : NULL;
	snprintf(buf, cap, "%s", s ? s : "");
}

/*
 * What every call about one job does first: checks queue and job_id, then
 * connects. *http is NULL on failure.
 */
static int open_job(const char *server, const char *queue, int job_id, http_t **http,
		    ac_cups_error *err)
{
	int r;

	*http = NULL;
	err_clear(err);
	r = check_queue(queue, err);
	if (r < 0)
		return r;
	if (job_id <= 0) {
		err_set(err, 0, "invalid job id");
		return AC_ERANGE;
	}
	return connect_server(server, http, err);
}

/*
 * Sends a Get-Job-Attributes, Get-Printer-Attributes or Get-Jobs (the
 * queue's unfinished jobs) request for attrs.
 * *resp is the answer when there is one, even with an error status (the
 * caller ippDeletes it), else NULL.
 */
static int get_attributes(http_t *http, ipp_op_t op, const char *queue, int job_id,
			  const char *const *attrs, int nattrs, ipp_t **resp, ac_cups_error *err)
{
	ipp_t *req = new_request(op, queue, job_id);

	*resp = NULL;
	if (!req)
		return -ENOMEM;
	ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nattrs, NULL,
		      attrs);
	if (op == IPP_OP_GET_JOBS) /* the queue's unfinished jobs, everyone's */
		ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL,
			     "not-completed");
	*resp = cupsDoRequest(http, req, "/"); /* frees req */
	if (!*resp || ippGetStatusCode(*resp) > IPP_STATUS_OK_CONFLICTING)
		return err_from_cups(err);
	return 0;
}

/* One attribute of a job into out (*sheets: job-media-sheets-completed was
 * seen, which goes before job-impressions-completed); *id for job-id. */
static void job_attribute(ipp_attribute_t *a, ac_job_status *out, int *sheets, int *id)
{
	const char *name = ippGetName(a);
	ipp_tag_t tag = ippGetValueTag(a);

	if (name == NULL)
		return;
	if (strcmp(name, "job-id") == 0 && tag == IPP_TAG_INTEGER)
		*id = ippGetInteger(a, 0);
	else if (strcmp(name, "job-state") == 0 && tag == IPP_TAG_ENUM)
		out->state = ippGetInteger(a, 0);
	else if (strcmp(name, "job-state-reasons") == 0 && tag == IPP_TAG_KEYWORD)
		join_keywords(a, out->state_reasons, sizeof(out->state_reasons));
	else if (strcmp(name, "job-printer-state-message") == 0 &&
		 (tag == IPP_TAG_TEXT || tag == IPP_TAG_TEXTLANG))
		copy_text(a, out->message, sizeof(out->message));
	else if (strcmp(name, "job-media-sheets-completed") == 0 && tag == IPP_TAG_INTEGER) {
		out->pages_completed = ippGetInteger(a, 0);
		*sheets = 1;
	} else if (strcmp(name, "job-impressions-completed") == 0 && tag == IPP_TAG_INTEGER &&
		   !*sheets)
		out->pages_completed = ippGetInteger(a, 0);
}

static void read_job_attributes(ipp_t *resp, ac_job_status *out)
{
	int sheets = 0;
	int id = 0;

	for (ipp_attribute_t *a = ippFirstAttribute(resp); a; a = ippNextAttribute(resp))
		job_attribute(a, out, &sheets, &id);
}

static void read_printer_attributes(ipp_t *resp, ac_job_status *out)
{
	ipp_attribute_t *a = ippFindAttribute(resp, "printer-state", IPP_TAG_ENUM);

	out->printer_state = a ? ippGetInteger(a, 0) : 0;
	join_keywords(ippFindAttribute(resp, "printer-state-reasons", IPP_TAG_KEYWORD),
		      out->printer_state_reasons, sizeof(out->printer_state_reasons));
	if (!out->message[0])
		copy_text(ippFindAttribute(resp, "printer-state-message", IPP_TAG_TEXT),
			  out->message, sizeof(out->message));
}

/* What a job's and a printer's status read of the printer. */
static const char *const printer_attrs[] = { "printer-state", "printer-state-reasons",
					     "printer-state-message" };

/* What a job's status reads of the job (job-id for Get-Jobs' answers). */
static const char *const job_attrs[] = { "job-state",
					 "job-state-reasons",
					 "job-printer-state-message",
					 "job-media-sheets-completed",
					 "job-impressions-completed",
					 "job-id" };
#define NJOB_ATTRS     ((int)(sizeof(job_attrs) / sizeof(job_attrs[0])))
#define NPRINTER_ATTRS ((int)(sizeof(printer_attrs) / sizeof(printer_attrs[0])))

/* The printer's part of a status (its message when the job has none). */
static void add_printer(ac_job_status *out, const ac_job_status *printer)
{
	out->printer_state = printer->printer_state;
	memcpy(out->printer_state_reasons, printer->printer_state_reasons,
	       sizeof(out->printer_state_reasons));
	if (!out->message[0])
		memcpy(out->message, printer->message, sizeof(out->message));
}

/*
 * get_attributes over c: connects when needed, and once more on a fresh
 * connection when a kept one brought no answer (asking twice is harmless);
 * the connection is dropped after a failure without an answer.
 */
static int conn_get(ac_cups_conn *c, ipp_op_t op, const char *queue, int job_id,
		    const char *const *attrs, int nattrs, ipp_t **resp, ac_cups_error *err)
{
	int r = 0;

	*resp = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->http != NULL;

		if (!reused && (r = connect_server(c->server, &c->http, err)) < 0)
			return r;
		err_clear(err);
		r = get_attributes(c->http, op, queue, job_id, attrs, nattrs, resp, err);
		if (r == 0 || *resp != NULL)
			return r;
		httpClose(c->http);
		c->http = NULL;
		if (!reused)
			break;
	}
	return r;
}

/* Fills the queries whose job Get-Jobs listed (err 0). */
static void take_jobs(ipp_t *resp, ac_cups_job_query *q, int n)
{
	ipp_attribute_t *a = ippFirstAttribute(resp);

	while (a != NULL) {
		ac_job_status st;
		int sheets = 0, id = 0;

		while (a != NULL && ippGetGroupTag(a) != IPP_TAG_JOB)
			a = ippNextAttribute(resp);
		memset(&st, 0, sizeof(st));
		for (; a != NULL && ippGetGroupTag(a) == IPP_TAG_JOB; a = ippNextAttribute(resp))
			job_attribute(a, &st, &sheets, &id);
		for (int i = 0; id > 0 && i < n; i++) {
			if (q[i].job_id == id) {
				q[i].st = st;
				q[i].err = 0;
			}
		}
	}
}

int ac_cups_conn_jobs(ac_cups_conn *c, const char *queue, ac_cups_job_query *q, int n)
{
	ac_job_status printer;
	ac_cups_error err;
	ipp_t *resp = NULL;
	int r;

	memset(&printer, 0, sizeof(printer));
	for (int i = 0; i < n; i++) {
		memset(&q[i].st, 0, sizeof(q[i].st));
		err_clear(&q[i].cerr);
		q[i].err = 1; /* not listed yet */
	}
	err_clear(&err);
	r = check_queue(queue, &err);
	if (r == 0)
		r = conn_get(c, IPP_OP_GET_PRINTER_ATTRIBUTES, queue, 0, printer_attrs,
			     NPRINTER_ATTRS, &resp, &err);
	if (r == 0)
		read_printer_attributes(resp, &printer);
	ippDelete(resp);
	resp = NULL;
	if (r == 0)
		r = conn_get(c, IPP_OP_GET_JOBS, queue, 0, job_attrs, NJOB_ATTRS, &resp, &err);
	if (r == 0)
		take_jobs(resp, q, n);
	else if (r == AC_EPRINTER && err.ipp_status != 0)
		r = 0; /* a server that will not list jobs: each is asked alone below */
	ippDelete(resp);
	resp = NULL;
	/* Jobs no longer unfinished: each asked alone, once, as it ends. */
	for (int i = 0; r == 0 && i < n; i++) {
		if (q[i].err != 1)
			continue;
		q[i].err = conn_get(c, IPP_OP_GET_JOB_ATTRIBUTES, queue, q[i].job_id, job_attrs,
				    NJOB_ATTRS, &resp, &q[i].cerr);
		if (q[i].err == 0)
			read_job_attributes(resp, &q[i].st);
		ippDelete(resp);
		resp = NULL;
		if (q[i].err == AC_EPRINTER && q[i].cerr.ipp_status == 0) {
			r = q[i].err; /* CUPS went away meanwhile */
			err = q[i].cerr;
		}
	}
	for (int i = 0; i < n; i++) {
		if (r != 0) {
			q[i].err = r;
			q[i].cerr = err;
		} else if (q[i].err == 0) {
			add_printer(&q[i].st, &printer);
		}
	}
	return r;
}

int ac_cups_job_status(const char *server, const char *queue, int job_id, ac_job_status *out,
		       ac_cups_error *err)
{
	int r;
	http_t *http = NULL;
	ipp_t *resp = NULL;

	memset(out, 0, sizeof(*out));
	r = open_job(server, queue, job_id, &http, err);
	if (r < 0)
		goto out;
	r = get_attributes(http, IPP_OP_GET_JOB_ATTRIBUTES, queue, job_id, job_attrs, NJOB_ATTRS,
			   &resp, err);
	if (r < 0)
		goto out;
	read_job_attributes(resp, out);
	ippDelete(resp);
	r = get_attributes(http, IPP_OP_GET_PRINTER_ATTRIBUTES, queue, 0, printer_attrs,
			   (int)(sizeof(printer_attrs) / sizeof(printer_attrs[0])), &resp, err);
	if (r < 0)
		goto out;
	read_printer_attributes(resp, out);
	r = 0;
out:
	ippDelete(resp);
	httpClose(http);
	return r;
}

int ac_cups_printer_status(const char *server, const char *queue, ac_job_status *out,
			   ac_cups_error *err)
{
	int r;
	http_t *http = NULL;
	ipp_t *resp = NULL;

	memset(out, 0, sizeof(*out));
	err_clear(err);
	r = check_queue(queue, err);
	if (r == 0)
		r = connect_server(server, &http, err);
	if (r == 0)
		r = get_attributes(http, IPP_OP_GET_PRINTER_ATTRIBUTES, queue, 0, printer_attrs,
				   (int)(sizeof(printer_attrs) / sizeof(printer_attrs[0])), &resp,
				   err);
	if (r == 0)
		read_printer_attributes(resp, out);
	ippDelete(resp);
	httpClose(http);
	return r;
}

int ac_cups_cancel(const char *server, const char *queue, int job_id, ac_cups_error *err)
{
	int r;
	http_t *http = NULL;

	r = open_job(server, queue, job_id, &http, err);
	if (r < 0)
		goto out;
	if (cupsCancelJob2(http, queue, job_id, 0) > IPP_STATUS_OK_CONFLICTING)
		r = err_from_cups(err);
out:
	httpClose(http);
	return r;
}

const char *ac_job_state_name(int state)
{
	switch (state) {
	case AC_JOB_PENDING:
		return "pending";
	case AC_JOB_HELD:
		return "held";
	case AC_JOB_PROCESSING:
		return "printing";
	case AC_JOB_STOPPED:
		return "stopped";
	case AC_JOB_CANCELED:
		return "canceled";
	case AC_JOB_ABORTED:
		return "failed";
	case AC_JOB_COMPLETED:
		return "completed";
	default:
		return "unknown";
	}
}

const char *ac_printer_state_name(int state)
{
	switch (state) {
	case 3:
		return "idle";
	case 4:
		return "printing";
	case 5:
		return "stopped";
	default:
		return "unknown";
	}
}

/* Whether the comma-separated keyword list has a keyword beginning with kw. */
static int has_reason(const char *list, const char *kw)
{
	size_t n = strlen(kw);

	for (const char *p = list; p && *p;) {
		if (strncmp(p, kw, n) == 0)
			return 1;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

const char *ac_cups_fault(const ac_job_status *st)
{
	static const struct {
		const char *reason, *fault;
	} map[] = {
		{ "media-empty", "media-empty" }, { "media-needed", "media-empty" },
		{ "media-jam", "media-jam" },	  { "cover-open", "cover-open" },
		{ "door-open", "cover-open" },	  { "offline", "offline" },
		{ "timed-out", "offline" },	  { "connecting-to-device", "offline" },
		{ "paused", "paused" },
	};

	if (st->state == AC_JOB_COMPLETED || st->state == AC_JOB_CANCELED)
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (has_reason(st->printer_state_reasons, map[i].reason))
			return map[i].fault;
	}
	if (st->printer_state == 5 || has_reason(st->state_reasons, "printer-stopped"))
		return "stopped";
	/* The socket backend (network printers) says it only in words, retrying. */
	if (st->state == AC_JOB_PROCESSING &&
	    (strstr(st->message, "unavailable") || strstr(st->message, "not responding") ||
	     strstr(st->message, "nable to connect") || strstr(st->message, "printer is busy")))
		return "offline";
	if (st->state == AC_JOB_ABORTED)
		return "printer-error";
	return NULL;
}

const char *ac_cups_error_fault(int err, const ac_cups_error *cerr)
{
	if (err == AC_ENOTFOUND)
		return "no-queue";
	if (err != AC_EPRINTER)
		return "printer-error";
	if (cerr == NULL || cerr->ipp_status == 0)
		return "cups-down";
	if (cerr->ipp_status == IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS)
		return "rejected";
	return "printer-error";
}

/*
 * The printer directory (see ac_printers.h). One poll at a time; refresh
 * requests that arrive while one runs wait for the next, which starts as
 * soon as the current one ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_closer.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_printers.h"

typedef struct waiter {
	struct waiter *next;
	void (*cb)(void *arg);
	void *arg;
} waiter;

struct ac_printers {
	uv_loop_t *loop;
	ac_db *db;
	ac_printer *conf; /* from the configuration */
	int nconf;
	ac_printer *reg; /* from the registry */
	int nreg, cap;
	int64_t rev; /* the newest revision seen */
	int polling;
	int failing;  /* the last poll failed: logged once */
	waiter *now;  /* wait for the poll under way */
	waiter *next; /* wait for the next poll */
	uv_timer_t timer;
	int timer_closed;
	ac_closer close;
};

static void fill(ac_printer *p, const char *id, const char *queue, const char *lang,
		 const ac_label_size *size, int gain, int darkness)
{
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->queue, sizeof(p->queue), "%s", queue);
	if (ac_label_lang_parse(lang, &p->label.lang) != 0)
		p->label.lang = AC_LABEL_PDF;
	p->label.size = *size;
	p->label.dot_gain = gain;
	p->label.darkness = darkness;
	ac_label_media_name(size, p->media, sizeof(p->media));
}

static int load_config(ac_printers *ps, const ac_config *cfg)
{
	ps->conf = calloc((size_t)(cfg->nprinters ? cfg->nprinters : 1), sizeof(*ps->conf));
	if (ps->conf == NULL)
		return -ENOMEM;
	for (int i = 0; i < cfg->nprinters; i++) {
		const ac_printer_conf *c = &cfg->printers[i];
		ac_label_size size;

		if (ac_label_size_parse(c->size, &size) != 0)
			size = (ac_label_size){ .width_mm = 60, .height_mm = 40, .dpi = 203 };
		fill(&ps->conf[ps->nconf++], c->id, c->queue, c->lang, &size, 0, -1);
	}
	return 0;
}

const ac_printer *ac_printers_find(const ac_printers *ps, const char *id)
{
	if (ps == NULL || id == NULL)
		return NULL;
	for (int i = 0; i < ps->nreg; i++) {
		if (strcmp(ps->reg[i].id, id) == 0)
			return &ps->reg[i];
	}
	for (int i = 0; i < ps->nconf; i++) {
		if (strcmp(ps->conf[i].id, id) == 0)
			return &ps->conf[i];
	}
	return NULL;
}

static ac_printer *slot_for(ac_printers *ps, const char *id)
{
	for (int i = 0; i < ps->nreg; i++) {
		if (strcmp(ps->reg[i].id, id) == 0)
			return &ps->reg[i];
	}
	if (ps->nreg == ps->cap) {
		int cap = ps->cap ? ps->cap * 2 : 16;
		ac_printer *p = realloc(ps->reg, (size_t)cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		ps->reg = p;
		ps->cap = cap;
	}
	return &ps->reg[ps->nreg++];
}

/* One row of printers_changed(). */
static void take_row(ac_printers *ps, const ac_db_result *res, int row)
{
	const char *id = ac_db_field(res, row, "id");
	const char *darkness = ac_db_field(res, row, "darkness");
	ac_label_size size;
	ac_printer *p;

	if (id == NULL || ac_label_media_parse(ac_db_field(res, row, "media"),
					       atoi(ac_db_field(res, row, "dpi")), &size) != 0)
		return;
	p = slot_for(ps, id);
	if (p == NULL)
		return;
	fill(p, id, ac_db_field(res, row, "cups_queue"), ac_db_field(res, row, "printer_language"),
	     &size, atoi(ac_db_field(res, row, "dot_gain")), darkness ? atoi(darkness) : -1);
	p->from_registry = 1;
	p->disabled = strcmp(ac_db_field(res, row, "status"), "active") != 0;
}

static void call_waiters(waiter *w)
{
	while (w != NULL) {
		waiter *next = w->next;

		w->cb(w->arg);
		free(w);
		w = next;
	}
}

static void maybe_closed(ac_printers *ps)
{
	ac_closer c = ps->close;

	if (!ps->close.closing || ps->polling || !ps->timer_closed)
		return;
	call_waiters(ps->now);
	call_waiters(ps->next);
	free(ps->conf);
	free(ps->reg);
	free(ps);
	ac_closer_finish(c);
}

static void poll_now(ac_printers *ps);

static void on_changed(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_printers *ps = data;
	waiter *done = ps->now;

	ps->polling = 0;
	ps->now = NULL;
	if (err != 0) {
		if (!ps->failing)
			ac_log_warn("print", "could not read the kiosks' printers: %s", msg);
		ps->failing = 1;
	} else {
		if (ps->failing)
			ac_log_info("print", "reading the kiosks' printers again");
		ps->failing = 0;
		for (int i = 0; i < ac_db_rows(res); i++) {
			int64_t rev = strtoll(ac_db_field(res, i, "printer_rev"), NULL, 10);
			take_row(ps, res, i);
			if (rev > ps->rev)
				ps->rev = rev;
		}
	}
	call_waiters(done);
	if (ps->next != NULL && !ps->close.closing)
		poll_now(ps);
	maybe_closed(ps);
}

static void poll_now(ac_printers *ps)
{
	char since[24];
	const char *values[1] = { since };

	if (ps->polling || ps->close.closing)
		return;
	snprintf(since, sizeof(since), "%lld", (long long)ps->rev);
	ps->polling = 1;
	ps->now = ps->next;
	ps->next = NULL;
	if (ac_db_query(ps->db, "SELECT * FROM printers_changed($1::bigint)", 1, values, NULL,
			on_changed, ps) != 0)
		on_changed(ps, NULL, AC_EDB, "database unavailable");
}

static void on_timer(uv_timer_t *t)
{
	poll_now(t->data);
}

void ac_printers_refresh(ac_printers *ps, void (*cb)(void *arg), void *arg)
{
	waiter *w = calloc(1, sizeof(*w));

	if (w == NULL || ps->close.closing) {
		free(w);
		cb(arg);
		return;
	}
	w->cb = cb;
	w->arg = arg;
	w->next = ps->next;
	ps->next = w;
	poll_now(ps);
}

int ac_printers_new(uv_loop_t *loop, ac_db *db, const ac_config *cfg, ac_printers **out)
{
	ac_printers *ps = calloc(1, sizeof(*ps));

	*out = NULL;
	if (ps == NULL || load_config(ps, cfg) != 0) {
		if (ps != NULL)
			free(ps->conf);
		free(ps);
		return -ENOMEM;
	}
	ps->loop = loop;
	ps->db = db;
	uv_timer_init(loop, &ps->timer);
	ps->timer.data = ps;
	uv_timer_start(&ps->timer, on_timer, 0, AC_PRINTERS_POLL_MS);
	*out = ps;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	ac_printers *ps = h->data;

	ps->timer_closed = 1;
	maybe_closed(ps);
}

void ac_printers_close(ac_printers *ps, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(ps, cb, data))
		return;
	ac_closer_start(&ps->close, cb, data);
	uv_timer_stop(&ps->timer);
	uv_close((uv_handle_t *)&ps->timer, on_timer_closed);
}

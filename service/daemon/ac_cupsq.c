#include <errno.h>
#include <stdlib.h>

#include "ac_closer.h"
#include "ac_cupsq.h"

#define MAX_THREADS 8

typedef struct worker {
	ac_cupsq *q;
	uv_thread_t thread;
	ac_cups_conn *conn;
	int started;
} worker;

struct ac_cupsq {
	uv_mutex_t lock;
	uv_cond_t wake;
	ac_cupsq_item *head; /* waiting for a thread, oldest first */
	ac_cupsq_item *tail;
	ac_cupsq_item *finished; /* run, waiting for done (any order) */
	int stopping;
	uv_async_t async;
	int nworkers;
	worker workers[MAX_THREADS];
	ac_closer close;
};

static void worker_main(void *arg)
{
	worker *w = arg;
	ac_cupsq *q = w->q;

	uv_mutex_lock(&q->lock);
	for (;;) {
		ac_cupsq_item *it = q->head;

		if (it == NULL) {
			if (q->stopping)
				break;
			uv_cond_wait(&q->wake, &q->lock);
			continue;
		}
		q->head = it->next;
		if (q->head == NULL)
			q->tail = NULL;
		uv_mutex_unlock(&q->lock);
		it->run(it, w->conn);
		uv_mutex_lock(&q->lock);
		it->next = q->finished;
		q->finished = it;
		uv_async_send(&q->async);
	}
	uv_mutex_unlock(&q->lock);
}

/* Loop thread: the done of every item run. */
static void on_async(uv_async_t *a)
{
	ac_cupsq *q = a->data;
	ac_cupsq_item *it;

	uv_mutex_lock(&q->lock);
	it = q->finished;
	q->finished = NULL;
	uv_mutex_unlock(&q->lock);
	while (it != NULL) {
		ac_cupsq_item *next = it->next;

		it->done(it);
		it = next;
	}
}

/* Ends and joins the threads that started; their connections close. */
static void stop_workers(ac_cupsq *q)
{
	uv_mutex_lock(&q->lock);
	q->stopping = 1;
	uv_cond_broadcast(&q->wake);
	uv_mutex_unlock(&q->lock);
	for (int i = 0; i < q->nworkers; i++) {
		if (q->workers[i].started)
			uv_thread_join(&q->workers[i].thread);
		ac_cups_conn_free(q->workers[i].conn);
	}
}

static void free_queue(ac_cupsq *q)
{
	uv_cond_destroy(&q->wake);
	uv_mutex_destroy(&q->lock);
	free(q);
}

int ac_cupsq_new(uv_loop_t *loop, const char *server, int threads, ac_cupsq **out)
{
	ac_cupsq *q = calloc(1, sizeof(*q));
	int r = 0;

	*out = NULL;
	if (q == NULL)
		return -ENOMEM;
	if (uv_mutex_init(&q->lock) != 0) {
		free(q);
		return -ENOMEM;
	}
	if (uv_cond_init(&q->wake) != 0) {
		uv_mutex_destroy(&q->lock);
		free(q);
		return -ENOMEM;
	}
	q->nworkers = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	for (int i = 0; r == 0 && i < q->nworkers; i++) {
		worker *w = &q->workers[i];

		w->q = q;
		r = ac_cups_conn_new(server, &w->conn);
		if (r == 0 && uv_thread_create(&w->thread, worker_main, w) != 0)
			r = -EAGAIN;
		w->started = r == 0;
	}
	if (r == 0)
		r = uv_async_init(loop, &q->async, on_async);
	if (r != 0) {
		stop_workers(q);
		free_queue(q);
		return r;
	}
	q->async.data = q;
	*out = q;
	return 0;
}

void ac_cupsq_push(ac_cupsq *q, ac_cupsq_item *it)
{
	it->next = NULL;
	uv_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	uv_cond_signal(&q->wake);
	uv_mutex_unlock(&q->lock);
}

static void on_closed(uv_handle_t *h)
{
	ac_cupsq *q = h->data;
	ac_closer c = q->close;

	free_queue(q);
	ac_closer_finish(c);
}

void ac_cupsq_close(ac_cupsq *q, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(q, cb, data))
		return;
	ac_closer_start(&q->close, cb, data);
	stop_workers(q);
	on_async(&q->async); /* what ran last */
	uv_close((uv_handle_t *)&q->async, on_closed);
}

/*
 * CUPS jobs against the real cupsd and virtual printer of deploy/cups-up:
 * a 2-label PDF prints, its state is followed to completion, the file lands
 * in the labels directory and both codes scan from it; a missing queue and a
 * stopped printer are reported; a kept connection submits and asks about
 * several jobs at once (ac_cups_conn). Skips without AGRICERT_CUPS_SERVER,
 * AGRICERT_TEST_QUEUE and AGRICERT_TEST_LABELS_DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ac_cups.h"
#include "ac_error.h"
#include "ac_label.h"
#include "ac_test.h"
#include "test_util.h"

static const char *server, *queue, *labels;
static char tmpdir[] = "/tmp/ac-cups-test-XXXXXX";

static const char *const codes[] = {
	"HTTPS://AC.EXAMPLE.CN/V/CUPSTESTAAAAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEA1",
	"HTTPS://AC.EXAMPLE.CN/V/CUPSTESTBBBBQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEA2",
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int render(unsigned char **pdf, size_t *len)
{
	ac_label_renderer *r = NULL;
	ac_label_size sz;
	ac_label_data d = test_label_sample(codes, 2);
	int rc = ac_label_renderer_new(TEST_FONT, NULL, &r);
	if (rc == 0)
		rc = ac_label_size_parse("60x40", &sz);
	if (rc == 0)
		rc = ac_label_render_pdf(r, &sz, &d, pdf, len);
	ac_label_renderer_free(r);
	return rc;
}

/* Polls until the job reaches a final state or `secs` pass; returns the last status. */
static int wait_job(int id, double secs, ac_job_status *st)
{
	double end = now() + secs;
	int rc;
	do {
		ac_cups_error err;
		rc = ac_cups_job_status(server, queue, id, st, &err);
		if (rc < 0 || st->state >= AC_JOB_CANCELED)
			return rc;
		usleep(50 * 1000);
	} while (now() < end);
	return rc;
}

static void test_print(const unsigned char *pdf, size_t len)
{
	ac_cups_error err;
	ac_job_status st;
	int id = 0;
	char path[1024], what[256];

	double t0 = now();
	int rc = ac_cups_submit(server, queue, "test labels", "om_60x40mm_60x40mm", NULL, pdf, len,
				&id, &err);
	if (!AC_CHECK(rc == 0 && id > 0, "submit a 2-label PDF"))
		printf("# %d %s (ipp status 0x%04x)\n", rc, err.message, err.ipp_status);
	AC_CHECK(err.message[0] == '\0' && err.ipp_status == 0, "no error text on success");
	if (rc != 0)
		return;
	rc = wait_job(id, 30, &st);
	double t1 = now();
	AC_CHECK(rc == 0 && st.state == AC_JOB_COMPLETED, "the job completes within 30 s");
	printf("# job %d: %s after %.0f ms (reasons %s; printer %s, %s)\n", id,
	       ac_job_state_name(st.state), (t1 - t0) * 1e3, st.state_reasons,
	       ac_printer_state_name(st.printer_state), st.printer_state_reasons);
	AC_CHECK(strcmp(ac_job_state_name(st.state), "completed") == 0, "state name 'completed'");
	AC_CHECK(st.printer_state >= 3 && st.printer_state <= 5, "printer state reported");

	/* The print command copies the document once the printer has it. */
	struct stat sb;
	int found = 0;
	char cmd[2048];
	for (int i = 0; i < 100 && !found; i++) {
		/* ippeveprinter numbers its own jobs: find ours by content. */
		snprintf(cmd, sizeof(cmd),
			 "for f in $(ls -t %s/job-*.pdf 2>/dev/null); do cmp -s \"$f\" %s/sent.pdf"
			 " && echo \"$f\" && break; done",
			 labels, tmpdir);
		char *out = test_run(cmd);
		if (out && out[0]) {
			out[strcspn(out, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s", out);
			found = stat(path, &sb) == 0;
		}
		free(out);
		if (!found)
			usleep(50 * 1000);
	}
	AC_CHECK(found, "the PDF lands unchanged in the labels directory");
	if (!found)
		return;
	snprintf(cmd, sizeof(cmd),
		 "d=$(mktemp -d) && pdftoppm -r 203 -png %s $d/p 2>/dev/null && "
		 "zbarimg --nodbus -q --raw $d/p-*.png; rc=$?; rm -rf $d; exit $rc",
		 path);
	char *out = test_run(cmd);
	for (int i = 0; i < 2; i++) {
		snprintf(what, sizeof(what), "code %d scans from the printed file", i);
		AC_CHECK(out && strstr(out, codes[i]), what);
	}
	free(out);
}

static void test_errors(const unsigned char *pdf, size_t len)
{
	ac_cups_error err;
	ac_job_status st;
	int id = -1;

	int rc = ac_cups_submit(server, "no-such-queue", "x", NULL, NULL, pdf, len, &id, &err);
	AC_CHECK(rc == AC_ENOTFOUND && id == 0, "a nonexistent queue: AC_ENOTFOUND, no job");
	AC_CHECK(err.message[0] != '\0', "... with CUPS' message");
	printf("# %s\n", err.message);

	rc = ac_cups_submit("127.0.0.1:1", queue, "x", NULL, NULL, pdf, len, &id, &err);
	AC_CHECK(rc == AC_EPRINTER && err.message[0], "no server: AC_EPRINTER with a message");
	printf("# %s\n", err.message);

	rc = ac_cups_job_status(server, queue, 999999, &st, &err);
	AC_CHECK(rc == AC_ENOTFOUND, "unknown job: AC_ENOTFOUND");
	AC_CHECK(ac_cups_submit(server, "bad/queue", "x", NULL, NULL, pdf, len, &id, &err) ==
		     AC_ERANGE,
		 "a queue name with '/' is refused");
	AC_CHECK(ac_cups_submit(server, queue, "x", NULL, NULL, pdf, 0, &id, &err) == AC_ERANGE,
		 "an empty document is refused");
	AC_CHECK(strcmp(ac_job_state_name(AC_JOB_ABORTED), "failed") == 0 &&
		     strcmp(ac_job_state_name(42), "unknown") == 0,
		 "state names");
}

static void test_stopped(const unsigned char *pdf, size_t len)
{
	char cmd[512];
	ac_cups_error err;
	ac_job_status st;
	int id = 0;

	snprintf(cmd, sizeof(cmd), "cupsdisable -h %s -r 'paper out' %s 2>&1", server, queue);
	char *out = test_run(cmd);
	if (!AC_CHECK(out != NULL, "cupsdisable stops the queue")) {
		free(out);
		return;
	}
	free(out);
	int rc = ac_cups_submit(server, queue, "held", NULL, NULL, pdf, len, &id, &err);
	AC_CHECK(rc == 0 && id > 0, "a stopped queue still accepts the job");
	if (rc == 0) {
		usleep(300 * 1000);
		rc = ac_cups_job_status(server, queue, id, &st, &err);
		printf("# job %d: %s (%s); printer %s (%s): %s\n", id, ac_job_state_name(st.state),
		       st.state_reasons, ac_printer_state_name(st.printer_state),
		       st.printer_state_reasons, st.message);
		AC_CHECK(rc == 0 && st.printer_state == 5, "printer state 'stopped'");
		AC_CHECK(strcmp(ac_printer_state_name(st.printer_state), "stopped") == 0,
			 "printer state name 'stopped'");
		AC_CHECK(st.state == AC_JOB_PENDING, "the job waits (pending)");
		AC_CHECK(strstr(st.printer_state_reasons, "paused") != NULL,
			 "printer-state-reasons says paused");
		AC_CHECK(strstr(st.message, "paper out") != NULL, "the stop reason reaches us");
		AC_CHECK(ac_cups_cancel(server, queue, id, &err) == 0, "cancel the waiting job");
		rc = ac_cups_job_status(server, queue, id, &st, &err);
		AC_CHECK(rc == 0 && st.state == AC_JOB_CANCELED, "the job is canceled");
		AC_CHECK(ac_cups_cancel(server, queue, id, &err) == AC_EPRINTER,
			 "cancelling it again: AC_EPRINTER");
	}
	snprintf(cmd, sizeof(cmd), "cupsenable -h %s %s 2>&1", server, queue);
	out = test_run(cmd);
	AC_CHECK(out != NULL, "cupsenable restarts the queue");
	free(out);
}

/* Over one kept connection: two submissions, then their states asked together
 * (ac_cups_conn_jobs) while they wait at a stopped queue and after one is
 * cancelled; an unknown job, a missing queue and no server. */
static void test_conn(const unsigned char *pdf, size_t len)
{
	ac_cups_conn *c = NULL, *down = NULL;
	ac_cups_error err;
	ac_cups_job_query q[3];
	char cmd[512];
	int ids[2] = { 0, 0 };
	int rc;

	snprintf(cmd, sizeof(cmd), "cupsdisable -h %s -r 'paper out' %s 2>&1", server, queue);
	free(test_run(cmd));
	AC_CHECK(ac_cups_conn_new(server, &c) == 0, "a kept connection");
	for (int i = 0; i < 2; i++)
		rc = ac_cups_conn_submit(c, queue, "kept", NULL, NULL, pdf, len, &ids[i], &err);
	AC_CHECK(rc == 0 && ids[0] > 0 && ids[1] > ids[0], "two jobs submitted over it");
	q[0].job_id = ids[1];
	q[1].job_id = 999999;
	q[2].job_id = ids[0];
	usleep(300 * 1000);
	rc = ac_cups_conn_jobs(c, queue, q, 3);
	AC_CHECK(rc == 0 && q[0].err == 0 && q[2].err == 0 && q[0].st.state == AC_JOB_PENDING &&
		     q[2].st.state == AC_JOB_PENDING,
		 "asked together: both wait (pending)");
	AC_CHECK(q[0].st.printer_state == 5 && strstr(q[2].st.printer_state_reasons, "paused") &&
		     strstr(q[0].st.message, "paper out"),
		 "with the stopped printer's state, reasons and message");
	AC_CHECK(q[1].err == AC_ENOTFOUND, "an unknown job among them: AC_ENOTFOUND");
	AC_CHECK(ac_cups_cancel(server, queue, ids[0], &err) == 0, "one is cancelled");
	rc = ac_cups_conn_jobs(c, queue, q, 3);
	AC_CHECK(rc == 0 && q[2].err == 0 && q[2].st.state == AC_JOB_CANCELED &&
		     q[0].st.state == AC_JOB_PENDING,
		 "asked again: one canceled (no longer unfinished), the other pending");
	ac_cups_cancel(server, queue, ids[1], &err);
	rc = ac_cups_conn_jobs(c, "no-such-queue", q, 1);
	AC_CHECK(rc == AC_ENOTFOUND && q[0].err == AC_ENOTFOUND, "a missing queue: AC_ENOTFOUND");
	ac_cups_conn_free(c);
	AC_CHECK(ac_cups_conn_new("127.0.0.1:1", &down) == 0, "a connection to no server");
	rc = ac_cups_conn_jobs(down, queue, q, 2);
	AC_CHECK(rc == AC_EPRINTER && q[1].err == AC_EPRINTER && q[1].cerr.ipp_status == 0 &&
		     q[1].cerr.message[0],
		 "no server: every job AC_EPRINTER, no IPP status, a message");
	rc = ac_cups_conn_submit(down, queue, "x", NULL, NULL, pdf, len, &ids[0], &err);
	AC_CHECK(rc == AC_EPRINTER && ids[0] == 0, "no server: no submission");
	ac_cups_conn_free(down);
	snprintf(cmd, sizeof(cmd), "cupsenable -h %s %s 2>&1", server, queue);
	free(test_run(cmd));
}

int main(void)
{
	server = getenv("AGRICERT_CUPS_SERVER");
	queue = getenv("AGRICERT_TEST_QUEUE");
	labels = getenv("AGRICERT_TEST_LABELS_DIR");
	if (!server || !*server || !queue || !*queue || !labels || !*labels) {
		printf("1..0 # SKIP needs AGRICERT_CUPS_SERVER, AGRICERT_TEST_QUEUE and "
		       "AGRICERT_TEST_LABELS_DIR (deploy/cups-up)\n");
		return 0;
	}
	unsigned char *pdf = NULL;
	size_t len = 0;
	if (!AC_CHECK(render(&pdf, &len) == 0, "render a 2-label PDF"))
		return ac_test_done();
	char path[1024];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/sent.pdf", tmpdir);
	test_write_file(path, pdf, len);
	test_print(pdf, len);
	test_errors(pdf, len);
	test_stopped(pdf, len);
	test_conn(pdf, len);
	free(pdf);
	unlink(path);
	rmdir(tmpdir);
	return ac_test_done();
}

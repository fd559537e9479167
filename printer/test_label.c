/*
 * Label rendering, checked with the real tools: every size renders, zbarimg
 * reads each QR back exactly from a 203 dpi raster, the font is embedded and
 * the text survives on a host without CJK fonts, long fields stay on the
 * label, and rendering from several threads at once works.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ac_error.h"
#include "ac_label.h"
#include "ac_test.h"
#include "test_util.h"

static char tmpdir[] = "/tmp/ac-label-XXXXXX";
static char fc_conf[128];

static const char *const codes[] = {
	"HTTPS://AC.EXAMPLE.CN/V/"
	"AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QCAIEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCU"
	"LBOGAZDINRYHI6D4QCAIEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4Q",
	"HTTPS://AC.EXAMPLE.CN/V/"
	"BEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QCAIEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCU"
	"LBOGAZDINRYHI6D4QCAIEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4R",
	"HTTPS://AC.EXAMPLE.CN/V/SHORT3",
};

/* Rasterises pdf at 203 dpi and returns what zbarimg reads, one code a line. */
static char *scan(const char *pdf)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "rm -f %s/page-*.png && pdftoppm -r 203 -png %s %s/page 2>/dev/null && "
		 "zbarimg --nodbus -q --raw %s/page-*.png",
		 tmpdir, pdf, tmpdir, tmpdir);
	return test_run(cmd);
}

static int has_line(const char *out, const char *code)
{
	size_t n = strlen(code);
	for (const char *p = out; p && (p = strstr(p, code)); p += n) {
		if ((p == out || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Checks every word box of `pdftotext -bbox` lies inside the page. */
static int words_inside(const char *pdf, int *nwords)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "FONTCONFIG_FILE=%s pdftotext -bbox %s - 2>/dev/null", fc_conf,
		 pdf);
	char *out = test_run(cmd);
	if (!out)
		return 0;
	double pw = 0, ph = 0;
	int ok = 1;
	*nwords = 0;
	const char *p = strstr(out, "<page width=\"");
	if (p)
		sscanf(p, "<page width=\"%lf\" height=\"%lf\"", &pw, &ph);
	for (p = out; (p = strstr(p, "<word xMin=\"")); p++) {
		double x0, y0, x1, y1;
		if (sscanf(p, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"", &x0, &y0,
			   &x1, &y1) != 4)
			continue;
		(*nwords)++;
		if (x0 < -0.01 || y0 < -0.01 || x1 > pw + 0.01 || y1 > ph + 0.01) {
			printf("# word off the page: %.2f %.2f %.2f %.2f (page %.2f x %.2f)\n", x0,
			       y0, x1, y1, pw, ph);
			ok = 0;
		}
	}
	free(out);
	return ok && pw > 0;
}

/*
 * Renders d at sz and writes it to tmpdir/name, path[cap] then naming the
 * file; returns what ac_label_render_pdf returned, *len the PDF's size.
 */
static int render_file(ac_label_renderer *r, const ac_label_size *sz, const ac_label_data *d,
		       const char *name, char *path, size_t cap, size_t *len)
{
	unsigned char *pdf = NULL;
	int rc = ac_label_render_pdf(r, sz, d, &pdf, len);

	snprintf(path, cap, "%s/%s", tmpdir, name);
	if (rc == 0) {
		test_write_file(path, pdf, *len);
		free(pdf);
	}
	return rc;
}

static void test_sizes(ac_label_renderer *r)
{
	static const char *const sizes[] = { "40x30", "60x40", "70x50", "100x70", "60x40@300" };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ac_label_size sz;
		ac_label_data d = test_label_sample(codes, 3);
		size_t len = 0;
		char what[128], name[32], path[512];

		AC_CHECK(ac_label_size_parse(sizes[i], &sz) == 0, "size parses");
		snprintf(what, sizeof(what), "%s: 3-label PDF renders", sizes[i]);
		snprintf(name, sizeof(name), "label-%zu.pdf", i);
		if (!AC_CHECK(render_file(r, &sz, &d, name, path, sizeof(path), &len) == 0 &&
				  len > 0,
			      what))
			continue;

		char *out = scan(path);
		for (size_t c = 0; c < 3; c++) {
			snprintf(what, sizeof(what), "%s: zbarimg reads code %zu exactly", sizes[i],
				 c);
			AC_CHECK(out && has_line(out, codes[c]), what);
		}
		free(out);

		char cmd[2048];
		snprintf(cmd, sizeof(cmd), "pdfinfo %s 2>/dev/null", path);
		out = test_run(cmd);
		int pages = 0;
		double pw = 0, ph = 0;
		const char *p = out ? strstr(out, "Pages:") : NULL;
		if (p)
			sscanf(p, "Pages: %d", &pages);
		p = out ? strstr(out, "Page size:") : NULL;
		if (p)
			sscanf(p, "Page size: %lf x %lf", &pw, &ph);
		snprintf(what, sizeof(what), "%s: 3 pages of exactly the label size", sizes[i]);
		AC_CHECK(pages == 3 && fabs(pw - sz.width_mm * 72 / 25.4) < 0.01 &&
			     fabs(ph - sz.height_mm * 72 / 25.4) < 0.01,
			 what);
		free(out);

		int nwords = 0;
		snprintf(what, sizeof(what), "%s: no text outside the page", sizes[i]);
		AC_CHECK(words_inside(path, &nwords) && nwords > 10, what);
	}
}

static void test_font_and_text(ac_label_renderer *r)
{
	ac_label_size sz;
	ac_label_data d = test_label_sample(codes, 3);
	size_t len = 0;
	char path[256], cmd[4096];

	ac_label_size_parse("60x40", &sz);
	d.ncodes = 1;
	if (!AC_CHECK(render_file(r, &sz, &d, "one.pdf", path, sizeof(path), &len) == 0,
		      "one label renders"))
		return;
	printf("# one 60x40 label: %zu bytes\n", len);
	AC_CHECK(len < 64 * 1024, "a one-label PDF stays small (font subset)");

	snprintf(cmd, sizeof(cmd), "pdffonts %s 2>/dev/null", path);
	char *out = test_run(cmd);
	AC_CHECK(out && strstr(out, "CID TrueType") && strstr(out, " yes yes "),
		 "pdffonts: the font is embedded (emb yes, sub yes)");
	free(out);

	/* No fonts at all for poppler: only the embedded one can draw the text. */
	snprintf(cmd, sizeof(cmd), "FONTCONFIG_FILE=%s pdftotext %s - 2>/dev/null", fc_conf, path);
	out = test_run(cmd);
	AC_CHECK(out && strstr(out, "承诺达标合格证"), "pdftotext: 承诺达标合格证");
	AC_CHECK(out && strstr(out, "产地：福建省安溪县凤城镇"), "pdftotext: the origin line");
	AC_CHECK(out && strstr(out, "开具方：张三家庭农场"), "pdftotext: the issuer line");
	AC_CHECK(out && strstr(out, "编号：AC20261123000123"), "pdftotext: the number line");
	free(out);

	/* The same label drawn with and without system fonts: identical pixels. */
	snprintf(cmd, sizeof(cmd),
		 "FONTCONFIG_FILE=%s pdftoppm -r 203 -gray %s %s/nofont 2>/dev/null && "
		 "pdftoppm -r 203 -gray %s %s/withfont 2>/dev/null && "
		 "cmp -s %s/nofont-1.pgm %s/withfont-1.pgm && echo same",
		 fc_conf, path, tmpdir, path, tmpdir, tmpdir, tmpdir);
	out = test_run(cmd);
	AC_CHECK(out && strstr(out, "same"), "renders the same with no system fonts");
	free(out);

	/* Dark pixels in the title band: the text was really drawn. */
	snprintf(cmd, sizeof(cmd),
		 "FONTCONFIG_FILE=%s pdftoppm -r 203 -gray -x 0 -y 0 -W 479 -H 40 %s %s/title "
		 "2>/dev/null",
		 fc_conf, path, tmpdir);
	out = test_run(cmd);
	free(out);
	snprintf(path, sizeof(path), "%s/title-1.pgm", tmpdir);
	FILE *f = fopen(path, "rb");
	long dark = 0, total = 0;
	if (f) {
		int w, h, max;
		if (fscanf(f, "P5 %d %d %d", &w, &h, &max) == 3) {
			fgetc(f);
			int c;
			while ((c = fgetc(f)) != EOF) {
				total++;
				dark += c < 128;
			}
		}
		fclose(f);
	}
	AC_CHECK(total > 0 && dark > total / 20, "the title is drawn without system fonts");
}

static void test_long_fields(ac_label_renderer *r)
{
	static const char *const sizes[] = { "40x30", "60x40", "100x70" };
	char issuer[512] = "";
	for (int i = 0; i < 100; i++)
		strcat(issuer, i % 10 == 9 ? "场" : "农");
	char number[160] = "";
	for (int i = 0; i < 120; i++)
		strcat(number, "9");

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ac_label_size sz;
		ac_label_data d = test_label_sample(codes, 3);
		size_t len = 0;
		char path[256], name[32], what[128];

		ac_label_size_parse(sizes[i], &sz);
		d.issuer = issuer;
		d.number = number; /* one unbreakable word */
		d.origin = "Fujian Anxi Fengcheng a very long latin origin with many words in it";
		d.ncodes = 1;
		snprintf(what, sizeof(what), "%s: over-long fields render", sizes[i]);
		snprintf(name, sizeof(name), "long-%zu.pdf", i);
		if (!AC_CHECK(render_file(r, &sz, &d, name, path, sizeof(path), &len) == 0, what))
			continue;
		int nwords = 0;
		snprintf(what, sizeof(what), "%s: 100-character issuer stays on the label",
			 sizes[i]);
		AC_CHECK(words_inside(path, &nwords), what);
		char *out = scan(path);
		snprintf(what, sizeof(what), "%s: QR still reads", sizes[i]);
		AC_CHECK(out && has_line(out, codes[0]), what);
		free(out);
	}
}

static void test_errors(ac_label_renderer *r)
{
	ac_label_size sz;
	ac_label_data d = test_label_sample(codes, 3);
	unsigned char *pdf = (unsigned char *)"x";
	size_t len = 1;

	AC_CHECK(ac_label_size_parse("60x40@203", &sz) == 0 && sz.width_mm == 60 &&
		     sz.height_mm == 40 && sz.dpi == 203,
		 "parse 60x40@203");
	AC_CHECK(ac_label_size_parse("100x70@300", &sz) == 0 && sz.dpi == 300, "parse 100x70@300");
	AC_CHECK(ac_label_size_parse("60x41", &sz) == AC_ERANGE, "unknown size refused");
	AC_CHECK(ac_label_size_parse("60x40@600", &sz) == AC_ERANGE, "unknown dpi refused");
	AC_CHECK(ac_label_size_parse("60x40x", &sz) == AC_EMALFORMED, "trailing junk refused");
	AC_CHECK(ac_label_size_parse("", &sz) == AC_EMALFORMED, "empty size refused");

	ac_label_size_parse("60x40", &sz);
	d.ncodes = 0;
	AC_CHECK(ac_label_render_pdf(r, &sz, &d, &pdf, &len) == AC_ERANGE && !pdf && len == 0,
		 "no codes: AC_ERANGE, outputs cleared");
	char big[3000];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *bad[] = { big };
	d.codes = bad;
	d.ncodes = 1;
	AC_CHECK(ac_label_render_pdf(r, &sz, &d, &pdf, &len) == AC_ERANGE, "code too long");

	d = test_label_sample(codes, 3);
	d.ncodes = 1;
	d.product = "\xff\xfe\x80 bad \xe4\xb8 utf-8 \xf0\x9f\x98\x80 emoji";
	d.contact = NULL;
	d.basis = "";
	int rc = ac_label_render_pdf(r, &sz, &d, &pdf, &len);
	AC_CHECK(rc == 0, "invalid UTF-8, non-BMP and empty fields still render");
	if (rc == 0)
		free(pdf);

	ac_label_renderer *none = NULL;
	AC_CHECK(ac_label_renderer_new("/nonexistent.ttf", NULL, &none) == -ENOENT && !none,
		 "missing font: -ENOENT");
	AC_CHECK(ac_label_renderer_new("/etc/hostname", NULL, &none) == AC_ERENDER && !none,
		 "not a font: AC_ERENDER");
	ac_label_renderer_free(NULL);
}

typedef struct worker {
	ac_label_renderer *r;
	int failures;
} worker;

static void *render_many(void *arg)
{
	worker *w = arg;
	ac_label_size sz;
	ac_label_size_parse("60x40", &sz);
	for (int i = 0; i < 30; i++) {
		ac_label_data d = test_label_sample(codes, 3);
		unsigned char *pdf = NULL;
		size_t len = 0;
		d.ncodes = 1 + i % 3;
		if (ac_label_render_pdf(w->r, &sz, &d, &pdf, &len) != 0 || len < 1000)
			w->failures++;
		free(pdf);
	}
	return NULL;
}

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void test_threads_and_speed(ac_label_renderer *r)
{
	pthread_t th[4];
	worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i].r = r;
		w[i].failures = 0;
		pthread_create(&th[i], NULL, render_many, &w[i]);
	}
	int failures = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	AC_CHECK(failures == 0, "4 threads render 120 PDFs with one renderer");

	/* CPU per one-label PDF, after warm-up; informative (sanitizers slow it). */
	ac_label_size sz;
	ac_label_size_parse("60x40", &sz);
	ac_label_data d = test_label_sample(codes, 3);
	d.ncodes = 1;
	for (int i = 0; i < 10; i++) {
		unsigned char *pdf;
		size_t len;
		if (ac_label_render_pdf(r, &sz, &d, &pdf, &len) == 0)
			free(pdf);
	}
	double t0 = cpu_ms();
	for (int i = 0; i < 50; i++) {
		unsigned char *pdf;
		size_t len;
		if (ac_label_render_pdf(r, &sz, &d, &pdf, &len) == 0)
			free(pdf);
	}
	printf("# %.2f ms CPU per one-label 60x40 PDF\n", (cpu_ms() - t0) / 50);
}

int main(void)
{
	ac_label_renderer *r = NULL;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* A fontconfig with no font directories: no CJK (or any) system font. */
	snprintf(fc_conf, sizeof(fc_conf), "%s/fonts.conf", tmpdir);
	FILE *f = fopen(fc_conf, "w");
	if (f) {
		fprintf(f,
			"<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n"
			"<fontconfig><cachedir>%s/fccache</cachedir></fontconfig>\n",
			tmpdir);
		fclose(f);
	}

	if (!AC_CHECK(ac_label_renderer_new(TEST_FONT, NULL, &r) == 0 && r,
		      "renderer loads wqy-zenhei"))
		return ac_test_done();
	test_errors(r);
	test_sizes(r);
	test_font_and_text(r);
	test_long_fields(r);
	test_threads_and_speed(r);
	ac_label_renderer_free(r);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (getenv("AC_KEEP_TMP"))
		printf("# kept %s\n", tmpdir);
	else if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return ac_test_done();
}

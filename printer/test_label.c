/*
 * Label rendering, checked with the real tools: every size renders at 203
 * and 300 dpi and zbarimg reads each QR back exactly from a raster at the
 * printer's resolution; the layout keeps a 4-module quiet zone, whole-dot
 * modules of at least 0.375 mm and text of at least 2.0 mm of ink at 203
 * dpi (measured on the 1-bit glyph); the font is embedded and the text,
 * the full contact number included, survives on a host without CJK fonts;
 * characters the label font lacks come from the fallback fonts, and one no
 * font has refuses the label naming it; long fields are never cut; ZPL and
 * TSPL come from the same layout; rendering from several threads works.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include "ac_error.h"
#include "ac_label-private.h"
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

/* Rasterises pdf at dpi and returns what zbarimg reads, one code a line. */
static char *scan_at(const char *pdf, int dpi)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "rm -f %s/page-*.png && pdftoppm -r %d -mono -png %s %s/page 2>/dev/null && "
		 "zbarimg --nodbus -q --raw %s/page-*.png",
		 tmpdir, dpi, pdf, tmpdir, tmpdir);
	return test_run(cmd);
}

static char *scan(const char *pdf)
{
	return scan_at(pdf, 203);
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

/* The ink height, in dots, of cp drawn 1-bit at em dots (what a thermal head prints). */
static int ink_rows(ac_label_renderer *r, uint32_t cp, int em)
{
	unsigned gid = ac_ttf_glyph(r->fonts[0].ttf, cp);
	const ac_glyph_bits *g = gid ? ac_raster_glyph(r->raster, 0, gid, em, 0) : NULL;
	int top = -1, bottom = -1;

	for (int y = 0; g && y < g->rows; y++) {
		for (int x = 0; x < g->pitch; x++) {
			if (g->bits[y * g->pitch + x]) {
				if (top < 0)
					top = y;
				bottom = y;
			}
		}
	}
	return top < 0 ? 0 : bottom - top + 1;
}

/* Checks the layout's promises for one printer: QR module, quiet zone, text. */
static void check_layout(ac_label_renderer *r, const char *name, const lab_doc *d)
{
	int dpi = d->p.size.dpi, q = 4 * d->mod, side = d->qrw * d->mod;
	char what[160];
	int min_em = 1 << 30, text_in_zone = 0;

	snprintf(what, sizeof(what), "%s: module %d dots = %.3f mm >= 0.375 mm", name, d->mod,
		 d->mod * 25.4 / dpi);
	AC_CHECK(d->mod * 25.4 / dpi >= 0.375 - 1e-9, what);
	snprintf(what, sizeof(what), "%s: quiet zone of 4 modules to every edge", name);
	AC_CHECK(d->qr_x >= q && d->qr_y >= q && d->qr_x + side + q <= d->W &&
		     d->qr_y + side + q <= d->H,
		 what);
	for (int i = 0; i <= d->nlines; i++) {
		const lab_line *l = i < d->nlines ? &d->lines[i] : &d->piece;
		const lab_glyph *g = i < d->nlines ? d->glyphs + l->first : NULL;
		int right = g && l->count ? l->x + (int)(g[l->count - 1].x + g[l->count - 1].adv)
					  : l->x + 8 * l->em;
		if (i > 0 && l->em < min_em)
			min_em = l->em;
		if (right > d->qr_x - q && l->top + l->em > d->qr_y - q)
			text_in_zone++;
	}
	snprintf(what, sizeof(what), "%s: no text in the QR code's quiet zone", name);
	AC_CHECK(text_in_zone == 0, what);
	int ink = ink_rows(r, 0x56FD, min_em); /* 国 */
	snprintf(what, sizeof(what), "%s: smallest text %d dots, 国 %.2f mm of ink%s", name, min_em,
		 ink * 25.4 / dpi, dpi <= 203 ? " (>= 2.0 mm)" : "");
	AC_CHECK(dpi > 203 ? ink * 25.4 / dpi >= 1.7 : ink * 25.4 / dpi >= 2.0, what);
	AC_CHECK(ink_rows(r, 0x672A, min_em) > ink_rows(r, 0x6728, min_em) / 2,
		 "未 is drawn (not blank) at the smallest size");
}

static void test_sizes(ac_label_renderer *r)
{
	static const char *const sizes[] = { "50x30",	  "60x40",     "70x50",	    "100x70",
					     "50x30@300", "60x40@300", "70x50@300", "100x70@300" };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ac_label_size sz;
		ac_label_data d = test_label_sample(codes, 3);
		size_t len = 0;
		char what[128], name[32], path[512];

		AC_CHECK(ac_label_size_parse(sizes[i], &sz) == 0, "size parses");
		ac_label_printer p = { .lang = AC_LABEL_PDF, .size = sz, .darkness = -1 };
		lab_doc doc = { 0 };
		if (AC_CHECK(lab_layout_data(r, &p, &d, &doc, NULL) == 0, "lays out"))
			check_layout(r, sizes[i], &doc);
		free(doc.glyphs);
		snprintf(what, sizeof(what), "%s: 3-label PDF renders", sizes[i]);
		snprintf(name, sizeof(name), "label-%zu.pdf", i);
		if (!AC_CHECK(render_file(r, &sz, &d, name, path, sizeof(path), &len) == 0 &&
				  len > 0,
			      what))
			continue;

		char *out = scan_at(path, sz.dpi);
		for (size_t c = 0; c < 3; c++) {
			snprintf(what, sizeof(what), "%s: zbarimg reads code %zu exactly at %d dpi",
				 sizes[i], c, sz.dpi);
			AC_CHECK(out && has_line(out, codes[c]), what);
		}
		free(out);

		char cmd[2048];
		snprintf(cmd, sizeof(cmd), "pdfinfo %s 2>/dev/null", path);
		out = test_run(cmd);
		int pages = 0;
		double pw = 0, ph = 0;
		const char *p2 = out ? strstr(out, "Pages:") : NULL;
		if (p2)
			sscanf(p2, "Pages: %d", &pages);
		p2 = out ? strstr(out, "Page size:") : NULL;
		if (p2)
			sscanf(p2, "Page size: %lf x %lf", &pw, &ph);
		snprintf(what, sizeof(what), "%s: 3 pages of exactly the label size", sizes[i]);
		AC_CHECK(pages == 3 && fabs(pw - sz.width_mm * 72 / 25.4) < 0.01 &&
			     fabs(ph - sz.height_mm * 72 / 25.4) < 0.01,
			 what);
		free(out);

		int nwords = 0;
		snprintf(what, sizeof(what), "%s: no text outside the page", sizes[i]);
		AC_CHECK(words_inside(path, &nwords) && nwords > 8, what);
	}
	/* 40x30: the legal fields do not fit at a legible size: refused, not shrunk. */
	for (int dpi = 203; dpi <= 300; dpi += 97) {
		ac_label_printer p = { .lang = AC_LABEL_PDF,
				       .size = { .width_mm = 40, .height_mm = 30, .dpi = dpi },
				       .darkness = -1 };
		ac_label_data d = test_label_sample(codes, 1);
		ac_label_problem why;
		unsigned char *out = NULL;
		size_t len = 0;
		AC_CHECK(ac_label_render(r, &p, &d, &out, &len, &why) == AC_ETOOBIG && !out &&
			     why.field != NULL,
			 "40x30: too small for every field: AC_ETOOBIG naming a field");
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
	AC_CHECK(out && strstr(out, "编号：000000000123"), "pdftotext: the number line");
	AC_CHECK(out && strstr(out, "联系方式：13859005678"), "pdftotext: the contact in full");
	AC_CHECK(out && strstr(out, "第1件/共1件"), "pdftotext: 第1件/共1件");
	AC_CHECK(out && strstr(out, "未使用禁用农药"), "pdftotext: the promise");
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

/* Long fields wrap; what still does not fit refuses the label: never cut. */
static void test_long_fields(ac_label_renderer *r)
{
	static const char *const sizes[] = { "50x30", "60x40", "100x70" };
	char issuer[512] = "";
	for (int i = 0; i < 40; i++)
		strcat(issuer, i % 10 == 9 ? "场" : "农");

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ac_label_printer p = { .lang = AC_LABEL_PDF, .darkness = -1 };
		ac_label_data d = test_label_sample(codes, 1);
		ac_label_problem why;
		unsigned char *pdf = NULL;
		size_t len = 0;
		char path[256], what[128];

		ac_label_size_parse(sizes[i], &p.size);
		d.issuer = issuer;
		d.origin = "Fujian Anxi Fengcheng, a long latin origin with words";
		int rc = ac_label_render(r, &p, &d, &pdf, &len, &why);
		snprintf(what, sizeof(what),
			 "%s: a 40-character issuer renders whole or is refused", sizes[i]);
		if (!AC_CHECK(rc == 0 || (rc == AC_ETOOBIG && why.field), what))
			continue;
		if (rc != 0) {
			printf("# %s: refused, %s does not fit\n", sizes[i], why.field);
			continue;
		}
		snprintf(path, sizeof(path), "%s/long-%zu.pdf", tmpdir, i);
		test_write_file(path, pdf, len);
		free(pdf);
		int nwords = 0;
		snprintf(what, sizeof(what), "%s: the long issuer stays on the label", sizes[i]);
		AC_CHECK(words_inside(path, &nwords), what);
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
			 "FONTCONFIG_FILE=%s pdftotext %s - 2>/dev/null | tr -d '\\n '", fc_conf,
			 path);
		char *out = test_run(cmd);
		snprintf(what, sizeof(what),
			 "%s: every character of the issuer is there, no ellipsis", sizes[i]);
		AC_CHECK(out && strstr(out, issuer) && !strstr(out, "\xE2\x80\xA6"), what);
		free(out);
		out = scan(path);
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
	d.product = "\xff\xfe\x80 bad \xe4\xb8 utf-8";
	d.contact = NULL;
	d.basis = "";
	int rc = ac_label_render_pdf(r, &sz, &d, &pdf, &len);
	AC_CHECK(rc == 0, "invalid UTF-8 and empty fields still render");
	if (rc == 0)
		free(pdf);
	ac_label_printer p = { .lang = AC_LABEL_PDF, .size = sz, .darkness = -1 };
	ac_label_problem why;
	d.product = "豇豆\xf0\x9f\x98\x80";
	rc = ac_label_render(r, &p, &d, &pdf, &len, &why);
	AC_CHECK(rc == AC_EGLYPH && why.cp == 0x1F600 && why.field && !strcmp(why.field, "product"),
		 "a character no font has (U+1F600) refuses the label, naming it and its field");
	uint32_t missing = 0;
	AC_CHECK(ac_label_check_text(r, "福建\xf0\x9f\x98\x80", &missing) == AC_EGLYPH &&
		     missing == 0x1F600 && ac_label_check_text(r, "福建省", &missing) == 0,
		 "ac_label_check_text names the first character no font has");
	AC_CHECK(ac_label_media_parse("om_60x40mm_60x40mm", 300, &sz) == 0 && sz.dpi == 300 &&
		     sz.width_mm == 60 &&
		     ac_label_media_parse("oe_2x1in_2x1in", 203, &sz) == AC_EMALFORMED,
		 "PWG media names in millimetres parse");

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

/* 𠮷 (U+20BB7, outside the BMP) and 𬌗 (U+2C317) from the fallback fonts. */
static void test_fallback(void)
{
	static const char *const fallbacks[] = { "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
						 "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
						 NULL };
	ac_label_renderer *r = NULL;
	ac_label_size sz;
	ac_label_data d = test_label_sample(codes, 1);
	char path[256], cmd[1024];
	size_t len;

	if (!AC_CHECK(ac_label_renderer_new(TEST_FONT, fallbacks, &r) == 0 &&
			  ac_label_renderer_fonts(r) == 3,
		      "renderer loads the label font and the HanaMin fallbacks"))
		return;
	ac_label_size_parse("60x40", &sz);
	d.issuer = "\xf0\xa0\xae\xb7家庭农场";	     /* 𠮷 */
	d.origin = "福建省安溪县\xf0\xac\x8c\x97村"; /* 𬌗 */
	if (AC_CHECK(render_file(r, &sz, &d, "fallback.pdf", path, sizeof(path), &len) == 0,
		     "a label with 𠮷 and 𬌗 renders")) {
		snprintf(cmd, sizeof(cmd), "FONTCONFIG_FILE=%s pdftotext %s - 2>/dev/null", fc_conf,
			 path);
		char *out = test_run(cmd);
		AC_CHECK(out && strstr(out, "\xf0\xa0\xae\xb7家庭农场") &&
			     strstr(out, "\xf0\xac\x8c\x97村"),
			 "pdftotext reads 𠮷 and 𬌗 back (drawn, with a ToUnicode map)");
		free(out);
		snprintf(cmd, sizeof(cmd), "pdffonts %s 2>/dev/null | grep -c 'CID TrueType'",
			 path);
		out = test_run(cmd);
		AC_CHECK(out && atoi(out) == 2, "two embedded fonts: the label font and HanaMinB");
		free(out);
		out = scan(path);
		AC_CHECK(out && has_line(out, codes[0]), "its QR reads");
		free(out);
	}
	ac_label_renderer_free(r);
}

/* ZPL and TSPL from the same layout: the printers' own QR commands, resident text. */
static void test_raw(ac_label_renderer *r)
{
	ac_label_printer p = { .lang = AC_LABEL_ZPL, .darkness = 20 };
	ac_label_data d = test_label_sample(codes, 2);
	unsigned char *out = NULL;
	size_t len = 0;
	char want[512];

	ac_label_size_parse("60x40", &p.size);
	if (AC_CHECK(ac_label_render(r, &p, &d, &out, &len, NULL) == 0, "ZPL renders")) {
		char *z = strndup((char *)out, len);
		snprintf(want, sizeof(want), "^FDMM,A%s^FS", codes[1]);
		AC_CHECK(z && !strncmp(z, "~SD20\n^XA", 9) && strstr(z, "^BQN,2,") &&
			     strstr(z, want) && strstr(z, "^GFA,") && strstr(z, "^PW480^LL320"),
			 "ZPL: darkness, ^BQ with the code as one alphanumeric segment, ^GF text");
		free(z);
		free(out);
	}
	p.lang = AC_LABEL_TSPL;
	p.darkness = 8;
	ac_label_size_parse("70x50", &p.size); /* 24-dot resident text fits from 70x50 up */
	if (AC_CHECK(ac_label_render(r, &p, &d, &out, &len, NULL) == 0, "TSPL renders")) {
		snprintf(want, sizeof(want), "\"A%s\"\r\n", codes[0]);
		AC_CHECK(memmem(out, len, "SIZE 70 mm,50 mm\r\n", 18) &&
			     memmem(out, len, "DENSITY 8\r\n", 11) &&
			     memmem(out, len, "TEXT ", 5) && memmem(out, len, "TSS24.BF2", 9) &&
			     memmem(out, len, want, strlen(want)) &&
			     memmem(out, len, "PRINT 1,1\r\n", 11),
			 "TSPL: SIZE, DENSITY, TEXT in TSS24.BF2, QRCODE with the code, PRINT");
		/* 承 in GB 2312 is B3 D0. */
		AC_CHECK(memmem(out, len, "\xB3\xD0", 2) != NULL, "TSPL text is GB 2312 bytes");
		free(out);
	}
	p.dot_gain = 1;
	if (AC_CHECK(ac_label_render(r, &p, &d, &out, &len, NULL) == 0,
		     "TSPL with dot-gain compensation renders")) {
		AC_CHECK(!memmem(out, len, "QRCODE", 6), "with compensation the code is a BITMAP");
		free(out);
	}
	p.lang = AC_LABEL_PDF;
	if (AC_CHECK(ac_label_render_calibration(r, &p, codes[0], &out, &len) == 0,
		     "a calibration run renders")) {
		char path[256];
		snprintf(path, sizeof(path), "%s/calibration.pdf", tmpdir);
		test_write_file(path, out, len);
		free(out);
		char *s = scan(path);
		int n = 0;
		for (const char *q = s; q && (q = strstr(q, codes[0])); q++)
			n++;
		AC_CHECK(n == 4, "its four codes (compensation 0 to 3) read");
		free(s);
	}
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
	test_raw(r);
	test_threads_and_speed(r);
	ac_label_renderer_free(r);
	test_fallback();

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (getenv("AC_KEEP_TMP"))
		printf("# kept %s\n", tmpdir);
	else if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return ac_test_done();
}

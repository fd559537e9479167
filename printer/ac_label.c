/*
 * Label layout and PDF rendering (see ac_label.h).
 *
 * Each render builds a fresh libharu document holding a subset of the font
 * with just the characters of this PDF (ac_ttf.h says why). Coordinates are
 * computed top-down in points and flipped when drawn.
 */
#include "ac_label.h"

#include <errno.h>
#include <hpdf.h>
#include <math.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ac_ttf.h"
#include "ac_error.h"

#define MM	  (72.0 / 25.4) /* points per millimetre */
#define ELLIPSIS  0x2026
#define MAX_LINES 96

struct ac_label_renderer {
	ac_ttf *ttf;
};

int ac_label_size_parse(const char *s, ac_label_size *out)
{
	static const int sizes[][2] = { { 40, 30 }, { 60, 40 }, { 70, 50 }, { 100, 70 } };
	int w, h, dpi = 203, used = 0;

	if (!s)
		return AC_EMALFORMED;
	if (sscanf(s, "%3d x%3d%n", &w, &h, &used) != 2)
		return AC_EMALFORMED;
	if (s[used] == '@') {
		int more = 0;
		if (sscanf(s + used + 1, "%3d%n", &dpi, &more) != 1)
			return AC_EMALFORMED;
		used += 1 + more;
	}
	if (s[used] != '\0')
		return AC_EMALFORMED;
	if (dpi != 203 && dpi != 300)
		return AC_ERANGE;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i][0] == w && sizes[i][1] == h) {
			out->width_mm = w;
			out->height_mm = h;
			out->dpi = dpi;
			return 0;
		}
	}
	return AC_ERANGE;
}

int ac_label_renderer_new(const char *font_path, ac_label_renderer **out)
{
	int r;
	ac_label_renderer *lr;

	*out = NULL;
	lr = calloc(1, sizeof(*lr));
	if (!lr)
		return -ENOMEM;
	r = ac_ttf_open(font_path, 0, &lr->ttf);
	if (r < 0) {
		free(lr);
		return r == AC_EMALFORMED ? AC_ERENDER : r;
	}
	*out = lr;
	return 0;
}

void ac_label_renderer_free(ac_label_renderer *r)
{
	if (!r)
		return;
	ac_ttf_free(r->ttf);
	free(r);
}

/* A line of text as code points, with each one's advance in 1/1000 em. */
typedef struct text {
	uint32_t *cp;
	int16_t *w;
	size_t n;
	size_t prefix; /* code points of the "产品：" part */
} text;

/* One line to draw: cp[start, end) of a text, at x, maybe with "…". */
typedef struct line {
	const text *t;
	size_t start, end;
	double x;
	int ellipsis;
} line;

typedef struct render_ctx {
	HPDF_STATUS error;
	HPDF_STATUS detail;
} render_ctx;

/* libharu's error callback: remember the first error, never longjmp. */
static void on_hpdf_error(HPDF_STATUS error, HPDF_STATUS detail, void *user)
{
	render_ctx *ctx = user;
	if (!ctx->error) {
		ctx->error = error;
		ctx->detail = detail;
	}
}

/*
 * Decodes UTF-8 s (prefix, then value) into t. Invalid bytes are skipped,
 * control characters become spaces, characters outside the BMP are dropped
 * and characters the font lacks become spaces.
 */
static int text_init(text *t, const ac_ttf *ttf, const char *prefix, const char *value)
{
	size_t cap = (prefix ? strlen(prefix) : 0) + (value ? strlen(value) : 0) + 1;
	memset(t, 0, sizeof(*t));
	t->cp = malloc(cap * sizeof(*t->cp));
	t->w = malloc(cap * sizeof(*t->w));
	if (!t->cp || !t->w)
		return -ENOMEM;
	for (int part = 0; part < 2; part++) {
		const unsigned char *s = (const unsigned char *)(part ? value : prefix);
		if (!s)
			continue;
		while (*s) {
			uint32_t c = *s;
			int more = c < 0x80    ? 0
				   : c >= 0xF0 ? 3
				   : c >= 0xE0 ? 2
				   : c >= 0xC0 ? 1
					       : -1;
			s++;
			if (more < 0)
				continue;
			if (more)
				c &= 0x3F >> more;
			int ok = 1;
			for (int i = 0; i < more; i++) {
				if ((*s & 0xC0) != 0x80) {
					ok = 0;
					break;
				}
				c = c << 6 | (*s++ & 0x3F);
			}
			if (!ok || c > 0xFFFF || (c >= 0xD800 && c < 0xE000))
				continue;
			if (c < 0x20 || c == 0x7F || !ac_ttf_has_glyph(ttf, c))
				c = ' ';
			t->cp[t->n++] = c;
		}
		if (part == 0)
			t->prefix = t->n;
	}
	return 0;
}

static void text_free(text *t)
{
	free(t->cp);
	free(t->w);
}

static void text_widths(text *t, HPDF_Font font)
{
	for (size_t i = 0; i < t->n; i++)
		t->w[i] = (int16_t)HPDF_Font_GetUnicodeWidth(font, (HPDF_UNICODE)t->cp[i]);
}

static double text_width(const text *t, size_t a, size_t b, double size)
{
	long sum = 0;
	for (size_t i = a; i < b; i++)
		sum += t->w[i];
	return sum * size / 1000.0;
}

static int is_wide(uint32_t c)
{
	return c >= 0x2E80;
}

/*
 * Wraps t at font size `size` into lines of `width` points, continuation
 * lines indented by the prefix width when that leaves most of the line.
 * At most max_lines lines; when the text goes on, the last line ends in "…".
 * Appends to lines[*nl] (up to MAX_LINES) unless lines is NULL; returns the
 * number of lines the whole text needs (ignoring max_lines).
 */
static int wrap(const text *t, double size, double width, int max_lines, int ell_w, line *lines,
		int *nl)
{
	double indent = text_width(t, 0, t->prefix, size);
	if (indent > width * 0.45)
		indent = 0;
	size_t i = 0;
	int count = 0;
	while (i < t->n) {
		double avail = count ? width - indent : width;
		if (count) {
			while (i < t->n && t->cp[i] == ' ')
				i++;
			if (i == t->n)
				break;
		}
		size_t j = i;
		double acc = 0;
		size_t space = 0;
		while (j < t->n && acc + t->w[j] * size / 1000.0 <= avail + 1e-6) {
			if (t->cp[j] == ' ' && j > i)
				space = j;
			acc += t->w[j] * size / 1000.0;
			j++;
		}
		if (j == i)
			j = i + 1; /* a glyph wider than the line: cut below */
		else if (j < t->n && space && !is_wide(t->cp[j]) && !is_wide(t->cp[j - 1]) &&
			 t->cp[j] != ' ')
			j = space;
		if (lines && count < max_lines && *nl < MAX_LINES) {
			line *l = &lines[(*nl)++];
			l->t = t;
			l->start = i;
			l->end = j;
			l->x = count ? indent : 0;
			l->ellipsis = 0;
			/* The last allowed line of a longer text: make room for "…". */
			int last = count + 1 == max_lines && j < t->n;
			if (last || text_width(t, i, j, size) > avail + 1e-6) {
				while (l->end > l->start && text_width(t, l->start, l->end, size) +
								    ell_w * size / 1000.0 >
								avail + 1e-6)
					l->end--;
				l->ellipsis = 1;
			}
		}
		count++;
		i = j;
	}
	return count;
}

/* Encodes cp[a, b) (BMP, valid) as UTF-8 into buf of cap bytes. */
static void utf8(const uint32_t *cp, size_t a, size_t b, int ellipsis, char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = a; i <= b; i++) {
		uint32_t c;
		if (i < b)
			c = cp[i];
		else if (ellipsis)
			c = ELLIPSIS;
		else
			break;
		if (o + 4 >= cap)
			break;
		if (c < 0x80) {
			buf[o++] = (char)c;
		} else if (c < 0x800) {
			buf[o++] = (char)(0xC0 | c >> 6);
			buf[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			buf[o++] = (char)(0xE0 | c >> 12);
			buf[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			buf[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	buf[o] = '\0';
}

enum { F_BASIS, F_PRODUCT, F_QUANTITY, F_ORIGIN, F_ISSUER, F_CONTACT, F_DATE, F_NUMBER, F_N };

/* Everything a page needs, computed once per PDF. */
typedef struct layout {
	double w, h, m; /* page and margin, points */
	double dot;	/* one printer dot, points */
	double title_size, title_base, rule_y, rule_w;
	double promise_size, promise_top;
	line promise[4];
	int npromise;
	double field_size, field_top, field_x;
	line fields[MAX_LINES];
	int nfields;
	int qr_x, qr_y, mod; /* symbol origin and module, in dots from the top-left */
} layout;

/* Lays out the fields for column width cw and height ch at size f; 1 when all fit. */
static int fields_fit(text *ft, int nft, double f, double cw, double ch, int ell_w)
{
	int lines = 0;
	for (int i = 0; i < nft; i++) {
		if (ft[i].n > ft[i].prefix)
			lines += wrap(&ft[i], f, cw, MAX_LINES, ell_w, NULL, NULL);
	}
	return lines * f * 1.22 <= ch + 1e-6;
}

/* Page, margin, title, rule and promise; returns where the body starts. */
static double layout_header(layout *L, const ac_label_size *sz, const text *title,
			    const text *promise, int ell_w, double ascent)
{
	double H = sz->height_mm * MM, W = sz->width_mm * MM;
	memset(L, 0, sizeof(*L));
	L->w = W;
	L->h = H;
	L->dot = 72.0 / sz->dpi;
	L->m = fmin(fmax(0.04 * H, 1.2 * MM), 3 * MM);

	/* Title: largest text, centred, at most 14% of the height. */
	double tw = text_width(title, 0, title->n, 1.0);
	L->title_size = fmin((W - 2 * L->m) / (tw * 1.08), 0.14 * H);
	L->title_base = L->m + ascent * L->title_size;
	L->rule_y = L->m + L->title_size * 1.15;
	L->rule_w = fmax(2 * L->dot, 0.25 * MM);

	/* Promise: full width, up to three lines, shrinking to fit. */
	double pmax = fmin(fmax(0.042 * H, 1.3 * MM), 2.6 * MM), pmin = 1.2 * MM;
	double p = pmax;
	while (p > pmin && wrap(promise, p, W - 2 * L->m, 3, ell_w, NULL, NULL) > 3)
		p -= 0.05 * MM;
	L->promise_size = fmax(p, pmin);
	L->promise_top = L->rule_y + L->rule_w + 0.5 * MM;
	if (promise->n)
		wrap(promise, L->promise_size, W - 2 * L->m, 3, ell_w, L->promise, &L->npromise);
	return L->promise_top + L->npromise * L->promise_size * 1.2 + 0.4 * MM;
}

/*
 * The QR module in dots: the largest that leaves the fields readable (at a
 * field size of at least fread_, returned in *f), else the smallest allowed
 * with *f = 0.
 */
static int choose_module(const layout *L, const ac_label_size *sz, text *ft, int qr_w, int ell_w,
			 double body_top, int quiet, double fread_, double *f)
{
	double fmax_ = fmin(0.075 * L->h, 4.5 * MM);
	int mod_min = (int)lround(0.375 * MM / L->dot);
	if (mod_min < 3 && sz->dpi <= 203)
		mod_min = 3;
	*f = 0;
	for (int mod = 64; mod >= mod_min; mod--) {
		double qz = quiet * mod * L->dot;
		double sym = qr_w * mod * L->dot;
		double bottom = L->h - fmax(L->m, qz);
		double right = L->w - fmax(L->m, qz);
		if (body_top + qz + sym > bottom || sym > 0.55 * (L->w - 2 * L->m))
			continue;
		double cw = right - sym - qz - L->m - 0.3 * MM;
		double ch = L->h - L->m - body_top;
		double size;
		for (size = fmax_; size >= fread_ - 1e-9; size -= 0.05 * MM) {
			if (fields_fit(ft, F_N, size, cw, ch, ell_w))
				break;
		}
		if (size >= fread_ - 1e-9) {
			*f = size;
			return mod;
		}
	}
	return mod_min;
}

/* Gives each field lines until the column is full; cuts the rest with "…". */
static void place_fields(layout *L, text *ft, double f, double cw, double ch, int ell_w)
{
	int cap = (int)floor((ch + 1e-6) / (f * 1.22));
	int need[F_N], give[F_N], total = 0;
	for (int i = 0; i < F_N; i++) {
		need[i] =
		    ft[i].n > ft[i].prefix ? wrap(&ft[i], f, cw, MAX_LINES, ell_w, NULL, NULL) : 0;
		give[i] = need[i] ? 1 : 0;
		total += give[i];
	}
	while (total < cap) {
		int grew = 0;
		for (int i = 0; i < F_N && total < cap; i++) {
			if (give[i] < need[i]) {
				give[i]++;
				total++;
				grew = 1;
			}
		}
		if (!grew)
			break;
	}
	int used = 0;
	for (int i = 0; i < F_N; i++) {
		if (!give[i] || used + give[i] > cap)
			continue;
		wrap(&ft[i], f, cw, give[i], ell_w, L->fields, &L->nfields);
		used += give[i];
	}
}

static void do_layout(layout *L, const ac_label_size *sz, text *title, text *promise, text *ft,
		      int qr_w, int ell_w, double ascent)
{
	double body_top = layout_header(L, sz, title, promise, ell_w, ascent);

	/*
	 * QR on the right, modules in whole dots. Try the largest module first;
	 * take the first that leaves the fields readable.
	 */
	int quiet = 2;
	double fread_ = fmax(1.8 * MM, 0.045 * L->h), fmin_ = 1.3 * MM;
	double best_f;
	int best_mod = choose_module(L, sz, ft, qr_w, ell_w, body_top, quiet, fread_, &best_f);
	L->mod = best_mod;
	double qz = quiet * best_mod * L->dot;
	double right = L->w - fmax(L->m, qz);
	L->qr_x = (int)floor(right / L->dot) - qr_w * best_mod;
	L->qr_y = (int)ceil((body_top + qz) / L->dot);
	double sym_left = L->qr_x * L->dot;
	double cw = sym_left - qz - L->m - 0.3 * MM;
	double ch = L->h - L->m - body_top;

	if (best_f == 0) {
		/* Not readable at any module: smallest module, shrink the text. */
		for (best_f = fread_; best_f > fmin_; best_f -= 0.05 * MM) {
			if (fields_fit(ft, F_N, best_f, cw, ch, ell_w))
				break;
		}
		best_f = fmax(best_f, fmin_);
	}
	L->field_size = best_f;
	L->field_top = body_top;
	L->field_x = L->m;
	place_fields(L, ft, best_f, cw, ch, ell_w);
}

static int draw_text(HPDF_Page page, HPDF_Font font, const layout *L, const line *l, double size,
		     double x, double baseline)
{
	char buf[AC_LABEL_MAX_FIELD_LEN * 3 + 64];
	utf8(l->t->cp, l->start, l->end, l->ellipsis, buf, sizeof(buf));
	if (!buf[0])
		return 0;
	HPDF_Page_SetFontAndSize(page, font, (HPDF_REAL)size);
	return HPDF_Page_TextOut(page, (HPDF_REAL)(x + l->x), (HPDF_REAL)(L->h - baseline), buf) ==
		       HPDF_OK
		   ? 0
		   : AC_ERENDER;
}

static int draw_page(HPDF_Doc pdf, HPDF_Font font, const layout *L, const text *title,
		     double ascent, const QRcode *qr)
{
	HPDF_Page page = HPDF_AddPage(pdf);
	if (!page)
		return AC_ERENDER;
	HPDF_Page_SetWidth(page, (HPDF_REAL)L->w);
	HPDF_Page_SetHeight(page, (HPDF_REAL)L->h);
	HPDF_Page_SetRGBFill(page, 0, 0, 0);
	HPDF_Page_SetRGBStroke(page, 0, 0, 0);

	/* Title: fill and stroke for a bold look from a regular face. */
	char buf[64];
	utf8(title->cp, 0, title->n, 0, buf, sizeof(buf));
	double tw = text_width(title, 0, title->n, L->title_size);
	HPDF_Page_SetLineWidth(page, (HPDF_REAL)(L->title_size * 0.03));
	HPDF_Page_BeginText(page);
	HPDF_Page_SetTextRenderingMode(page, HPDF_FILL_THEN_STROKE);
	HPDF_Page_SetFontAndSize(page, font, (HPDF_REAL)L->title_size);
	HPDF_Page_TextOut(page, (HPDF_REAL)((L->w - tw) / 2), (HPDF_REAL)(L->h - L->title_base),
			  buf);
	HPDF_Page_SetTextRenderingMode(page, HPDF_FILL);
	for (int i = 0; i < L->npromise; i++) {
		double base = L->promise_top + i * L->promise_size * 1.2 + ascent * L->promise_size;
		if (draw_text(page, font, L, &L->promise[i], L->promise_size, L->m, base) < 0)
			return AC_ERENDER;
	}
	for (int i = 0; i < L->nfields; i++) {
		double base = L->field_top + i * L->field_size * 1.22 + ascent * L->field_size;
		if (draw_text(page, font, L, &L->fields[i], L->field_size, L->field_x, base) < 0)
			return AC_ERENDER;
	}
	HPDF_Page_EndText(page);

	/* The rule under the title, in whole dots. */
	HPDF_Page_Rectangle(page, (HPDF_REAL)L->m, (HPDF_REAL)(L->h - L->rule_y - L->rule_w),
			    (HPDF_REAL)(L->w - 2 * L->m), (HPDF_REAL)L->rule_w);

	HPDF_Page_Fill(page);

	/*
	 * QR: one rectangle per run of dark modules. The matrix maps one unit to
	 * one module, y downwards, from a corner on the dot grid, so modules are
	 * whole dots and the content stream stays short.
	 */
	double d = L->dot * L->mod;
	HPDF_Page_GSave(page);
	HPDF_Page_Concat(page, (HPDF_REAL)d, 0, 0, (HPDF_REAL)-d, (HPDF_REAL)(L->qr_x * L->dot),
			 (HPDF_REAL)(L->h - L->qr_y * L->dot));
	for (int y = 0; y < qr->width; y++) {
		const unsigned char *row = qr->data + y * qr->width;
		for (int x = 0; x < qr->width;) {
			if (!(row[x] & 1)) {
				x++;
				continue;
			}
			int x0 = x;
			while (x < qr->width && (row[x] & 1))
				x++;
			HPDF_Page_Rectangle(page, (HPDF_REAL)x0, (HPDF_REAL)y, (HPDF_REAL)(x - x0),
					    1);
		}
	}
	HPDF_Page_Fill(page);
	HPDF_Page_GRestore(page);
	return 0;
}

/* Writes the subset font to a memory file libharu can open by path. */
static int font_file(const unsigned char *ttf, size_t len, int *fd, char *path, size_t cap)
{
	*fd = memfd_create("ac-label-font", MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(*fd, ttf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	snprintf(path, cap, "/proc/self/fd/%d", *fd);
	return 0;
}

/* The texts of one label, each decoded once and measured with the subset font. */
typedef struct label_text {
	text title;
	text promise;
	text ell; /* "…" alone, for its width */
	text ft[F_N];
} label_text;

/* Every text of lt, in the order their characters go into the font subset. */
static void label_text_all(label_text *lt, text *all[F_N + 3])
{
	all[0] = &lt->title;
	all[1] = &lt->promise;
	all[2] = &lt->ell;
	for (int i = 0; i < F_N; i++)
		all[3 + i] = &lt->ft[i];
}

static int label_text_init(label_text *lt, const ac_ttf *ttf, const char *promise,
			   const char *const values[F_N])
{
	static const char *const prefixes[F_N] = { "承诺依据：", "产品：",     "数量：", "产地：",
						   "开具方：",	 "联系方式：", "日期：", "编号：" };
	int rc = text_init(&lt->title, ttf, NULL, "承诺达标合格证");
	if (!rc)
		rc = text_init(&lt->promise, ttf, NULL, promise);
	if (!rc)
		rc = text_init(&lt->ell, ttf, NULL, "\xE2\x80\xA6");
	for (int i = 0; i < F_N && !rc; i++) {
		const char *v = values[i] && *values[i] ? values[i] : NULL;
		rc = text_init(&lt->ft[i], ttf, v ? prefixes[i] : NULL, v);
	}
	return rc;
}

static void label_text_free(label_text *lt)
{
	text *all[F_N + 3];

	label_text_all(lt, all);
	for (int i = 0; i < F_N + 3; i++)
		text_free(all[i]);
}

static void label_text_widths(label_text *lt, HPDF_Font font)
{
	text *all[F_N + 3];

	label_text_all(lt, all);
	for (int i = 0; i < F_N + 3; i++)
		text_widths(all[i], font);
}

/*
 * Fills values[] with the fields in F_ order and checks the input: AC_ERANGE
 * for an unknown size, no codes or too many, or a field too long.
 */
static int check_data(const ac_label_size *size, const ac_label_data *data, const char *values[F_N])
{
	ac_label_size check;
	char sz[32];

	values[F_BASIS] = data->basis;
	values[F_PRODUCT] = data->product;
	values[F_QUANTITY] = data->quantity;
	values[F_ORIGIN] = data->origin;
	values[F_ISSUER] = data->issuer;
	values[F_CONTACT] = data->contact;
	values[F_DATE] = data->date;
	values[F_NUMBER] = data->number;
	snprintf(sz, sizeof(sz), "%dx%d@%d", size->width_mm, size->height_mm, size->dpi);
	if (ac_label_size_parse(sz, &check) < 0 || data->ncodes == 0 ||
	    data->ncodes > AC_LABEL_MAX_CODES)
		return AC_ERANGE;
	if (data->promise && strlen(data->promise) > AC_LABEL_MAX_FIELD_LEN)
		return AC_ERANGE;
	for (int i = 0; i < F_N; i++) {
		if (values[i] && strlen(values[i]) > AC_LABEL_MAX_FIELD_LEN)
			return AC_ERANGE;
	}
	return 0;
}

/*
 * Encodes every code into qr[] (data->ncodes entries, zeroed by the caller,
 * freed by the caller even on failure); *qr_w is the widest symbol.
 */
static int encode_codes(const ac_label_data *data, QRcode **qr, int *qr_w)
{
	*qr_w = 0;
	for (size_t i = 0; i < data->ncodes; i++) {
		const char *c = data->codes[i];
		if (!c || !*c || strlen(c) > AC_LABEL_MAX_CODE_LEN)
			return AC_ERANGE;
		qr[i] = QRcode_encodeString(c, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
		if (!qr[i])
			return errno == ERANGE ? AC_ERANGE : errno == ENOMEM ? -ENOMEM : AC_ERENDER;
		if (qr[i]->width > *qr_w)
			*qr_w = qr[i]->width;
	}
	return 0;
}

/* The subset of the font holding exactly the characters of lt, and a space. */
static int subset_font(const ac_ttf *ttf, label_text *lt, unsigned char **font, size_t *font_len)
{
	text *all[F_N + 3];
	size_t ncps = 1, k = 0;

	label_text_all(lt, all);
	for (int i = 0; i < F_N + 3; i++)
		ncps += all[i]->n;
	uint32_t *cps = malloc(ncps * sizeof(*cps));
	if (!cps)
		return -ENOMEM;
	for (int i = 0; i < F_N + 3; i++) {
		memcpy(cps + k, all[i]->cp, all[i]->n * sizeof(*cps));
		k += all[i]->n;
	}
	cps[k++] = ' ';
	int rc = ac_ttf_subset(ttf, cps, k, font, font_len);
	free(cps);
	return rc == AC_EMALFORMED ? AC_ERENDER : rc;
}

/* A new document with the font at path loaded; libharu's errors go to ctx. */
static int open_doc(render_ctx *ctx, const char *path, HPDF_Doc *doc, HPDF_Font *font)
{
	*font = NULL;
	*doc = HPDF_New(on_hpdf_error, ctx);
	if (!*doc)
		return -ENOMEM;
	HPDF_SetCompressionMode(*doc, HPDF_COMP_ALL);
	HPDF_UseUTFEncodings(*doc);
	HPDF_SetCurrentEncoder(*doc, "UTF-8");
	const char *name = HPDF_LoadTTFontFromFile(*doc, path, HPDF_TRUE);
	*font = name ? HPDF_GetFont(*doc, name, "UTF-8") : NULL;
	return *font && !ctx->error ? 0 : AC_ERENDER;
}

/* Lays the label out once and draws a page per code. */
static int draw_pages(HPDF_Doc doc, HPDF_Font hf, const render_ctx *ctx, const ac_label_size *size,
		      label_text *lt, QRcode *const *qr, size_t ncodes, int qr_w)
{
	double ascent = HPDF_Font_GetAscent(hf) / 1000.0;
	int r = 0;

	if (ascent <= 0.5 || ascent > 1.2)
		ascent = 0.88;
	layout *L = malloc(sizeof(*L));
	if (!L)
		return -ENOMEM;
	do_layout(L, size, &lt->title, &lt->promise, lt->ft, qr_w, lt->ell.n ? lt->ell.w[0] : 1000,
		  ascent);
	for (size_t i = 0; i < ncodes && !ctx->error && r == 0; i++) {
		/* Smaller symbols (shorter codes) are centred in the largest one's place. */
		layout Lp = *L;
		int shift = (qr_w - qr[i]->width) * L->mod / 2;
		Lp.qr_x += shift;
		Lp.qr_y += shift;
		r = draw_page(doc, hf, &Lp, &lt->title, ascent, qr[i]);
	}
	free(L);
	return r;
}

/* The finished PDF, now owned by the caller. */
static int save_doc(HPDF_Doc doc, unsigned char **pdf, size_t *len)
{
	if (HPDF_SaveToStream(doc) != HPDF_OK)
		return AC_ERENDER;
	HPDF_UINT32 total = HPDF_GetStreamSize(doc), got = 0;
	unsigned char *buf = malloc(total ? total : 1);
	if (!buf)
		return -ENOMEM;
	HPDF_STATUS st = HPDF_OK;
	while (got < total && st == HPDF_OK) {
		HPDF_UINT32 n = total - got;
		st = HPDF_ReadFromStream(doc, buf + got, &n);
		got += n;
		if (n == 0)
			break;
	}
	if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || got != total) {
		free(buf);
		return AC_ERENDER;
	}
	*pdf = buf;
	*len = total;
	return 0;
}

int ac_label_render_pdf(ac_label_renderer *r, const ac_label_size *size, const ac_label_data *data,
			unsigned char **pdf, size_t *len)
{
	int ret;
	render_ctx ctx = { 0 };
	HPDF_Doc doc = NULL;
	HPDF_Font hf = NULL;
	QRcode **qr = NULL;
	unsigned char *font = NULL;
	size_t font_len = 0;
	int fd = -1;
	int qr_w = 0;
	label_text lt;
	const char *values[F_N];
	char path[64];

	memset(&lt, 0, sizeof(lt));
	*pdf = NULL;
	*len = 0;
	ret = check_data(size, data, values);
	if (ret < 0)
		goto out;
	/* QR codes first: they fail on bad input before any PDF work. */
	qr = calloc(data->ncodes, sizeof(*qr));
	if (!qr) {
		ret = -ENOMEM;
		goto out;
	}
	ret = encode_codes(data, qr, &qr_w);
	if (ret < 0)
		goto out;
	/* The text, and the font subset holding exactly its characters. */
	ret = label_text_init(&lt, r->ttf, data->promise, values);
	if (ret < 0)
		goto out;
	ret = subset_font(r->ttf, &lt, &font, &font_len);
	if (ret < 0)
		goto out;
	ret = font_file(font, font_len, &fd, path, sizeof(path));
	if (ret < 0)
		goto out;
	ret = open_doc(&ctx, path, &doc, &hf);
	if (ret < 0)
		goto out;
	label_text_widths(&lt, hf);
	ret = draw_pages(doc, hf, &ctx, size, &lt, qr, data->ncodes, qr_w);
	if (ret == 0 && ctx.error)
		ret = AC_ERENDER;
	if (ret < 0)
		goto out;
	ret = save_doc(doc, pdf, len);
out:
	if (doc)
		HPDF_Free(doc);
	if (fd >= 0)
		close(fd);
	free(font);
	label_text_free(&lt);
	if (qr) {
		for (size_t i = 0; i < data->ncodes; i++)
			QRcode_free(qr[i]);
		free(qr);
	}
	return ret;
}

/*
 * Labels (see ac_label.h): checks, fonts, texts and QR codes, then the
 * layout (ac_layout.c) and the writer of the printer's language.
 */
#include "ac_label.h"

#include <errno.h>
#include <iconv.h>
#include <qrencode.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_error.h"
#include "ac_label-private.h"

static const int label_sizes[][2] = { { 40, 30 }, { 50, 30 }, { 60, 40 }, { 70, 50 }, { 100, 70 } };

static int size_check(int w, int h, int dpi, ac_label_size *out)
{
	if (dpi != 203 && dpi != 300)
		return AC_ERANGE;
	for (size_t i = 0; i < sizeof(label_sizes) / sizeof(label_sizes[0]); i++) {
		if (label_sizes[i][0] == w && label_sizes[i][1] == h) {
			out->width_mm = w;
			out->height_mm = h;
			out->dpi = dpi;
			return 0;
		}
	}
	return AC_ERANGE;
}

int ac_label_size_parse(const char *s, ac_label_size *out)
{
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
	return size_check(w, h, dpi, out);
}

int ac_label_media_parse(const char *media, int dpi, ac_label_size *out)
{
	const char *dim = media ? strrchr(media, '_') : NULL;
	int w, h, used = 0;

	if (dim == NULL || dim == media || strlen(media) > 64)
		return AC_EMALFORMED;
	if (sscanf(dim + 1, "%3dx%3dmm%n", &w, &h, &used) != 2 || dim[1 + used] != '\0')
		return AC_EMALFORMED;
	return size_check(w, h, dpi, out);
}

void ac_label_media_name(const ac_label_size *size, char *buf, size_t cap)
{
	snprintf(buf, cap, "om_%dx%dmm_%dx%dmm", size->width_mm, size->height_mm, size->width_mm,
		 size->height_mm);
}

static const char *const lang_names[] = { "pdf", "zpl", "tspl" };

int ac_label_lang_parse(const char *s, ac_label_lang *out)
{
	for (int i = 0; s && i < 3; i++) {
		if (strcmp(s, lang_names[i]) == 0) {
			*out = (ac_label_lang)i;
			return 0;
		}
	}
	return AC_ERANGE;
}

const char *ac_label_lang_name(ac_label_lang lang)
{
	return lang >= AC_LABEL_PDF && lang <= AC_LABEL_TSPL ? lang_names[lang] : "pdf";
}

const char *ac_label_lang_format(ac_label_lang lang)
{
	return lang == AC_LABEL_PDF ? "application/pdf" : "application/vnd.cups-raw";
}

/* The output buffer. */

static void reserve(lab_out *o, size_t n)
{
	if (o->err || o->len + n <= o->cap)
		return;
	size_t cap = o->cap ? o->cap : 16384;
	while (cap < o->len + n)
		cap *= 2;
	unsigned char *p = realloc(o->p, cap);
	if (p == NULL) {
		o->err = -ENOMEM;
		return;
	}
	o->p = p;
	o->cap = cap;
}

void lab_put(lab_out *o, const void *p, size_t n)
{
	reserve(o, n);
	if (o->err)
		return;
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

void lab_puts(lab_out *o, const char *s)
{
	lab_put(o, s, strlen(s));
}

void lab_printf(lab_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	reserve(o, 256);
	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf((char *)o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->err = AC_ERENDER;
		return;
	}
	if ((size_t)n >= o->cap - o->len) {
		reserve(o, (size_t)n + 1);
		if (o->err)
			return;
		va_start(ap, fmt);
		vsnprintf((char *)o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
	}
	o->len += (size_t)n;
}

/* GB 2312: every two-byte code converted once by iconv, sorted by code point. */

static int cmp_gb(const void *a, const void *b)
{
	const lab_gb *x = a, *y = b;
	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

static int gb_table(ac_label_renderer *r)
{
	iconv_t cd = iconv_open("UTF-32LE", "GB2312");

	if (cd == (iconv_t)-1)
		return 0; /* no GB 2312 in this libc: TSPL text goes out as bitmaps */
	r->gb = malloc(94 * 94 * sizeof(*r->gb));
	if (r->gb == NULL) {
		iconv_close(cd);
		return -ENOMEM;
	}
	for (int hi = 0xA1; hi <= 0xF7; hi++) {
		for (int lo = 0xA1; lo <= 0xFE; lo++) {
			char in[2] = { (char)hi, (char)lo }, *ip = in;
			unsigned char out[4], *op = out;
			size_t il = 2, ol = 4;
			if (iconv(cd, &ip, &il, (char **)&op, &ol) == (size_t)-1 || ol != 0)
				continue;
			r->gb[r->ngb].cp = (uint32_t)out[0] | (uint32_t)out[1] << 8 |
					   (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
			r->gb[r->ngb].code = (uint16_t)(hi << 8 | lo);
			r->ngb++;
		}
	}
	iconv_close(cd);
	qsort(r->gb, r->ngb, sizeof(*r->gb), cmp_gb);
	return 0;
}

uint16_t lab_gb_code(const ac_label_renderer *r, uint32_t cp)
{
	size_t lo = 0, hi = r->ngb;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->gb[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->ngb && r->gb[lo].cp == cp ? r->gb[lo].code : 0;
}

/* The renderer. */

int ac_label_renderer_new(const char *font_path, const char *const *fallbacks,
			  ac_label_renderer **out)
{
	ac_label_renderer *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	for (int i = -1; fallbacks || i < 0; i++) {
		const char *path = i < 0 ? font_path : fallbacks[i];
		if (path == NULL || r->nfonts == LAB_FONTS_MAX)
			break;
		if (i >= 0 && access(path, R_OK) != 0)
			continue;
		rc = ac_ttf_open(path, 0, &r->fonts[r->nfonts].ttf);
		if (rc < 0) {
			ac_label_renderer_free(r);
			return rc == AC_EMALFORMED ? AC_ERENDER : rc;
		}
		ac_ttf_metrics(r->fonts[r->nfonts].ttf, &r->fonts[r->nfonts].info);
		r->paths[r->nfonts] = strdup(path);
		if (r->paths[r->nfonts++] == NULL) {
			ac_label_renderer_free(r);
			return -ENOMEM;
		}
	}
	rc = ac_raster_new((const char *const *)r->paths, r->nfonts, &r->raster);
	if (rc == 0)
		rc = gb_table(r);
	if (rc < 0) {
		ac_label_renderer_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int ac_label_renderer_fonts(const ac_label_renderer *r)
{
	return r->nfonts;
}

void ac_label_renderer_free(ac_label_renderer *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nfonts; i++) {
		ac_ttf_free(r->fonts[i].ttf);
		free(r->paths[i]);
	}
	ac_raster_free(r->raster);
	lab_templates_free(r);
	free(r->gb);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Texts. */

/* The next code point of UTF-8 *s (advanced), or -1 for an invalid sequence
 * (one byte skipped). */
static int32_t next_cp(const unsigned char **s)
{
	uint32_t c = *(*s)++;
	int more = c < 0x80    ? 0
		   : c >= 0xF8 ? -1
		   : c >= 0xF0 ? 3
		   : c >= 0xE0 ? 2
		   : c >= 0xC0 ? 1
			       : -1;

	if (more < 0)
		return -1;
	if (more)
		c &= 0x3Fu >> more;
	for (int i = 0; i < more; i++) {
		if ((**s & 0xC0) != 0x80)
			return -1;
		c = c << 6 | (*(*s)++ & 0x3F);
	}
	if (c > 0x10FFFF || (c >= 0xD800 && c < 0xE000))
		return -1;
	return (int32_t)c;
}

/* The first font with a glyph for cp: 0 and *font set, or AC_EGLYPH. */
static int find_glyph(const ac_label_renderer *r, uint32_t cp, uint16_t *gid, uint8_t *font)
{
	for (int f = 0; f < r->nfonts; f++) {
		unsigned g = ac_ttf_glyph(r->fonts[f].ttf, cp);
		if (g != 0) {
			*gid = (uint16_t)g;
			*font = (uint8_t)f;
			return 0;
		}
	}
	return AC_EGLYPH;
}

int lab_text_init(ac_label_renderer *r, lab_text *t, const char *prefix, const char *value,
		  uint32_t *missing)
{
	size_t cap = (prefix ? strlen(prefix) : 0) + (value ? strlen(value) : 0) + 1;

	memset(t, 0, sizeof(*t));
	t->g = calloc(cap, sizeof(*t->g));
	t->w = calloc(2 * cap, sizeof(*t->w));
	if (!t->g || !t->w)
		return -ENOMEM;
	t->wr = t->w + cap;
	for (int part = 0; part < 2; part++) {
		const unsigned char *s = (const unsigned char *)(part ? value : prefix);
		while (s && *s) {
			int32_t c = next_cp(&s);
			if (c < 0)
				continue;
			if (c < 0x20 || c == 0x7F || c == 0x3000)
				c = ' ';
			lab_glyph *g = &t->g[t->n];
			g->cp = (uint32_t)c;
			if (find_glyph(r, g->cp, &g->gid, &g->font) != 0) {
				*missing = g->cp;
				return AC_EGLYPH;
			}
			t->n++;
		}
		if (part == 0)
			t->prefix = t->n;
	}
	return 0;
}

void lab_text_free(lab_text *t)
{
	free(t->g);
	free(t->w);
	memset(t, 0, sizeof(*t));
}

void lab_measure(ac_label_renderer *r, lab_text *t)
{
	for (int i = 0; i < t->n; i++) {
		lab_glyph *g = &t->g[i];
		const lab_font *f = &r->fonts[g->font];
		t->w[i] = (float)ac_ttf_advance(f->ttf, g->gid) / (float)f->info.units_per_em;
		g->gb = g->cp >= 0x80 ? lab_gb_code(r, g->cp) : 0;
		g->resident =
		    (g->cp >= 0x20 && g->cp < 0x7F && g->cp != '"' && g->cp != '\\') || g->gb != 0;
		t->wr[i] = !g->resident ? t->w[i] : g->cp < 0x80 ? 0.5f : 1.0f;
	}
}

int ac_label_check_text(const ac_label_renderer *r, const char *s, uint32_t *missing)
{
	const unsigned char *p = (const unsigned char *)s;
	uint16_t gid;
	uint8_t font;

	while (p && *p) {
		int32_t c = next_cp(&p);
		if (c < 0x20 || c == 0x7F)
			continue;
		if (find_glyph(r, (uint32_t)c, &gid, &font) != 0) {
			*missing = (uint32_t)c;
			return AC_EGLYPH;
		}
	}
	return 0;
}

/* QR codes. */

static int is_alnum(const char *s)
{
	return strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") == strlen(s);
}

/* Encodes code at level M: one alphanumeric segment when it can (what the
 * printers' own QR commands make of it), else 8-bit. NULL and errno set. */
static QRcode *encode(const char *code, int *alnum)
{
	QRinput *in = QRinput_new2(0, QR_ECLEVEL_M);
	QRcode *qr = NULL;

	*alnum = is_alnum(code);
	if (in == NULL)
		return NULL;
	if (QRinput_append(in, *alnum ? QR_MODE_AN : QR_MODE_8, (int)strlen(code),
			   (const unsigned char *)code) == 0)
		qr = QRcode_encodeInput(in);
	QRinput_free(in);
	return qr;
}

/* Fills pages[] and qr[] (zeroed, freed by the caller) for every code; *qrw the widest. */
static int encode_codes(const ac_label_data *data, QRcode **qr, lab_page *pages, int *qrw)
{
	*qrw = 0;
	for (size_t i = 0; i < data->ncodes; i++) {
		const char *c = data->codes[i];
		if (!c || !*c || strlen(c) > AC_LABEL_MAX_CODE_LEN)
			return AC_ERANGE;
		qr[i] = encode(c, &pages[i].alnum);
		if (!qr[i])
			return errno == ERANGE || errno == EINVAL ? AC_ERANGE
			       : errno == ENOMEM		  ? -ENOMEM
								  : AC_ERENDER;
		pages[i].width = qr[i]->width;
		pages[i].modules = qr[i]->data;
		pages[i].code = c;
		if (qr[i]->width > *qrw)
			*qrw = qr[i]->width;
	}
	return 0;
}

/* Rendering. */

static int check_input(const ac_label_printer *p, const ac_label_data *data,
		       const char *values[LAB_NVALUES])
{
	ac_label_size check;

	values[LAB_PROMISE] = data->promise;
	values[LAB_BASIS] = data->basis;
	values[LAB_PRODUCT] = data->product;
	values[LAB_QUANTITY] = data->quantity;
	values[LAB_ORIGIN] = data->origin;
	values[LAB_ISSUER] = data->issuer;
	values[LAB_CONTACT] = data->contact;
	values[LAB_DATE] = data->date;
	values[LAB_NUMBER] = data->number;
	if (size_check(p->size.width_mm, p->size.height_mm, p->size.dpi, &check) < 0 ||
	    data->ncodes == 0 || data->ncodes > AC_LABEL_MAX_CODES || p->lang < AC_LABEL_PDF ||
	    p->lang > AC_LABEL_TSPL || p->dot_gain < AC_LABEL_MIN_GAIN ||
	    p->dot_gain > AC_LABEL_MAX_GAIN || p->darkness < -1 || p->darkness > 30)
		return AC_ERANGE;
	for (int i = 0; i < LAB_NVALUES; i++) {
		if (values[i] && strlen(values[i]) > AC_LABEL_MAX_FIELD_LEN)
			return AC_ERANGE;
	}
	return 0;
}

static int write_doc(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n,
		     lab_out *o)
{
	switch (doc->p.lang) {
	case AC_LABEL_ZPL:
		return lab_zpl(r, doc, pages, n, o);
	case AC_LABEL_TSPL:
		return lab_tspl(r, doc, pages, n, o);
	default:
		return lab_pdf(r, doc, pages, n, o);
	}
}

/* What one render holds, freed in one place. */
typedef struct job {
	QRcode **qr;
	lab_page *pages;
	size_t n;
	lab_doc doc;
	lab_out out;
} job;

static void job_free(job *j)
{
	for (size_t i = 0; j->qr && i < j->n; i++)
		QRcode_free(j->qr[i]);
	free(j->qr);
	free(j->pages);
	free(j->doc.glyphs);
	free(j->out.p);
}

/* Encodes, lays out and writes; page_text(i) gives each piece line. */
static int render(ac_label_renderer *r, const ac_label_printer *p, const ac_label_data *data,
		  const char *piece_sample, int calibration, job *j, ac_label_problem *why)
{
	const char *values[LAB_NVALUES];
	int qrw = 0;
	int rc = check_input(p, data, values);

	if (rc < 0)
		return rc;
	j->n = data->ncodes;
	j->qr = calloc(j->n, sizeof(*j->qr));
	j->pages = calloc(j->n, sizeof(*j->pages));
	if (!j->qr || !j->pages)
		return -ENOMEM;
	rc = encode_codes(data, j->qr, j->pages, &qrw);
	if (rc < 0)
		return rc;
	rc = lab_layout(r, p, values, piece_sample, qrw, &j->doc, why);
	if (rc < 0)
		return rc;
	j->doc.qr_graphic = calibration || (p->lang != AC_LABEL_PDF && p->dot_gain != 0);
	for (size_t i = 0; i < j->n; i++) {
		char text[64];
		if (calibration)
			snprintf(text, sizeof(text), "补偿%zu点", i);
		else
			snprintf(text, sizeof(text), "第%zu件/共%zu件", i + 1, j->n);
		j->pages[i].gain = calibration ? (int)i : p->dot_gain;
		lab_piece(r, &j->doc, text, &j->pages[i]);
	}
	rc = write_doc(r, &j->doc, j->pages, j->n, &j->out);
	return rc < 0 ? rc : j->out.err;
}

int lab_layout_data(ac_label_renderer *r, const ac_label_printer *p, const ac_label_data *data,
		    lab_doc *doc, ac_label_problem *why)
{
	job j = { 0 };
	char sample[64];
	int rc;

	snprintf(sample, sizeof(sample), "第%zu件/共%zu件", data->ncodes, data->ncodes);
	rc = render(r, p, data, sample, 0, &j, why);
	*doc = j.doc;
	j.doc.glyphs = NULL;
	job_free(&j);
	return rc;
}

int ac_label_render(ac_label_renderer *r, const ac_label_printer *p, const ac_label_data *data,
		    unsigned char **out, size_t *len, ac_label_problem *why)
{
	job j = { 0 };
	char sample[64];
	int rc;

	*out = NULL;
	*len = 0;
	if (why != NULL)
		memset(why, 0, sizeof(*why));
	snprintf(sample, sizeof(sample), "第%zu件/共%zu件", data->ncodes, data->ncodes);
	rc = render(r, p, data, sample, 0, &j, why);
	if (rc == 0) {
		*out = j.out.p;
		*len = j.out.len;
		j.out.p = NULL;
	}
	job_free(&j);
	return rc;
}

int ac_label_render_pdf(ac_label_renderer *r, const ac_label_size *size, const ac_label_data *data,
			unsigned char **pdf, size_t *len)
{
	ac_label_printer p = { .lang = AC_LABEL_PDF, .size = *size, .darkness = -1 };

	return ac_label_render(r, &p, data, pdf, len, NULL);
}

int ac_label_render_calibration(ac_label_renderer *r, const ac_label_printer *p, const char *code,
				unsigned char **out, size_t *len)
{
	const char *codes[AC_LABEL_MAX_GAIN + 1];
	ac_label_data d = {
		.promise = "打印校准：每张的二维码按不同的点补偿打印。选黑白方块一样宽、"
			   "一扫就读出的一张，把它的补偿点数填入服务站打印机设置。",
		.basis = "点补偿（dot_gain）",
		.codes = codes,
		.ncodes = AC_LABEL_MAX_GAIN + 1,
	};
	job j = { 0 };
	int rc;

	*out = NULL;
	*len = 0;
	for (int i = 0; i <= AC_LABEL_MAX_GAIN; i++)
		codes[i] = code;
	rc = render(r, p, &d, "补偿3点", 1, &j, NULL);
	if (rc == 0) {
		*out = j.out.p;
		*len = j.out.len;
		j.out.p = NULL;
	}
	job_free(&j);
	return rc;
}

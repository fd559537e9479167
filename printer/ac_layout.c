/*
 * Label layout in printer dots (see ac_label.h for what goes where).
 *
 * The geometry of a label depends only on its size, resolution, language
 * and QR symbol: it is computed once per such key, as a list of candidates
 * (QR module, text size), largest first, and kept in the renderer. A
 * certificate's texts then flow into the first candidate whose lines hold
 * them all, with the field names in full; failing that, with the short
 * names. The flow is per certificate (all its labels share it); only the
 * piece line and the QR code differ from page to page.
 */
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_label-private.h"

#define RESIDENT_EM 24 /* TSS24.BF2: 24 x 24 dots */

typedef struct slot {
	int x, top, w;
} slot;

/* One candidate geometry. */
typedef struct geom {
	int mod, quiet, qr_x, qr_y;
	int em, pitch;
	int resident; /* TSPL body in the resident font */
	int nslots;
	slot slots[LAB_LINES_MAX];
} geom;

struct lab_template {
	struct lab_template *next;
	int W, H, dpi, qrw;
	ac_label_lang lang;
	int m, et, title_resident, rule_y, rule_h;
	int ncand;
	geom cand[];
};

static int mm_dots(double mm, int dpi)
{
	return (int)lround(mm * dpi / 25.4);
}

/* The smallest text em at this resolution: 2.0 mm of ink at 203 dpi (the
 * font's ideographs fill about 0.9 em), 2.03 mm em at 300 dpi. */
static int em_min(int dpi)
{
	return dpi <= 203 ? 18 : 24;
}

static int fill_slots(geom *g, int W, int H, int m, int body_top)
{
	int col = g->qr_x - g->quiet - m;

	g->nslots = 0;
	for (int top = body_top; top + g->em <= H - m && g->nslots < LAB_LINES_MAX;
	     top += g->pitch) {
		slot *s = &g->slots[g->nslots++];
		s->x = m;
		s->top = top;
		s->w = top + g->em <= g->qr_y - g->quiet ? W - 2 * m : col;
	}
	return col >= 5 * g->em;
}

/* Sets up the geometry of module mod and em; 0 when it cannot work. */
static int make_geom(const lab_template *t, int mod, int em, int resident, geom *g)
{
	int body_top = t->rule_y + t->rule_h + (em / 5 > 2 ? em / 5 : 2);

	memset(g, 0, sizeof(*g));
	g->mod = mod;
	g->quiet = 4 * mod;
	g->qr_x = t->W - g->quiet - t->qrw * mod;
	g->qr_y = t->H - g->quiet - t->qrw * mod;
	g->em = em;
	g->pitch = em + (int)lround(em * 0.15 > 2 ? em * 0.15 : 2);
	g->resident = resident;
	if (g->qr_y - g->quiet < t->rule_y + t->rule_h || g->qr_x < g->quiet)
		return 0;
	return fill_slots(g, t->W, t->H, t->m, body_top);
}

/* Every candidate of a key, largest QR module first, then largest text. */
static lab_template *make_template(int W, int H, int dpi, ac_label_lang lang, int qrw)
{
	int mmin = (int)ceil(0.375 * dpi / 25.4 - 1e-9);
	int mpref = (int)(0.6 * H) / (qrw + 8);
	/* Four dots a module and more survive a dot of spread or loss on every
	 * edge; three (0.375 mm at 203 dpi) only where nothing larger fits,
	 * with the printer's dot-gain compensation set. */
	int mrobust = dpi <= 203 ? 4 : 5;
	int emn = em_min(dpi), emx = (int)lround(H * 0.085);

	if (mpref < mrobust)
		mpref = mrobust;
	if (emx > mm_dots(3.5, dpi))
		emx = mm_dots(3.5, dpi);
	if (emx < emn)
		emx = emn;
	/* Each module: every text size, and the resident size for TSPL. */
	int max = (mpref - mmin + 1) * (emx - emn + 2);
	lab_template *t = calloc(1, sizeof(*t) + (size_t)max * sizeof(geom));

	if (t == NULL)
		return NULL;
	t->W = W;
	t->H = H;
	t->dpi = dpi;
	t->lang = lang;
	t->qrw = qrw;
	t->m = mm_dots(1.0, dpi);
	t->et = (int)lround(H * 0.11);
	if (t->et > mm_dots(6.0, dpi))
		t->et = mm_dots(6.0, dpi);
	if (t->et < emn + 4)
		t->et = emn + 4;
	if (lang == AC_LABEL_TSPL) {
		int k = (t->et + RESIDENT_EM / 2) / RESIDENT_EM;
		if (k >= 1 && abs(t->et - k * RESIDENT_EM) <= 4) {
			t->et = k * RESIDENT_EM;
			t->title_resident = 1;
		}
	}
	t->rule_y = t->m + (int)lround(t->et * 1.12);
	t->rule_h = mm_dots(0.25, dpi) > 2 ? mm_dots(0.25, dpi) : 2;
	for (int mod = mpref; mod >= mmin; mod--) {
		if (lang == AC_LABEL_TSPL && RESIDENT_EM >= emn && RESIDENT_EM <= emx + 4 &&
		    t->ncand < max && make_geom(t, mod, RESIDENT_EM, 1, &t->cand[t->ncand]))
			t->ncand++;
		for (int em = emx; em >= emn; em--) {
			if (t->ncand < max && make_geom(t, mod, em, 0, &t->cand[t->ncand]))
				t->ncand++;
		}
	}
	return t;
}

/* The renderer's template for this key, made on first use. */
static const lab_template *template_for(ac_label_renderer *r, int W, int H, int dpi,
					ac_label_lang lang, int qrw)
{
	lab_template *t;

	pthread_mutex_lock(&r->lock);
	for (t = r->templates; t != NULL; t = t->next) {
		if (t->W == W && t->H == H && t->dpi == dpi && t->lang == lang && t->qrw == qrw)
			break;
	}
	if (t == NULL) {
		t = make_template(W, H, dpi, lang, qrw);
		if (t != NULL) {
			t->next = r->templates;
			r->templates = t;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return t;
}

void lab_templates_free(ac_label_renderer *r)
{
	while (r->templates != NULL) {
		lab_template *next = r->templates->next;
		free(r->templates);
		r->templates = next;
	}
}

/* Texts and the field names each variant gives them. */

typedef struct para_spec {
	const char *prefix;
	int value, joined; /* joined: a second value after a space, or -1 */
} para_spec;

static const para_spec full_names[] = {
	{ NULL, LAB_PROMISE, -1 },	   { "承诺依据：", LAB_BASIS, -1 },
	{ "产品：", LAB_PRODUCT, -1 },	   { "数量：", LAB_QUANTITY, -1 },
	{ "产地：", LAB_ORIGIN, -1 },	   { "开具方：", LAB_ISSUER, -1 },
	{ "联系方式：", LAB_CONTACT, -1 }, { "日期：", LAB_DATE, -1 },
	{ "编号：", LAB_NUMBER, -1 },
};

static const para_spec short_names[] = {
	{ NULL, LAB_PROMISE, -1 },
	{ "依据：", LAB_BASIS, -1 },
	{ "产品：", LAB_PRODUCT, LAB_QUANTITY },
	{ "产地：", LAB_ORIGIN, -1 },
	{ "开具：", LAB_ISSUER, -1 },
	{ "电话：", LAB_CONTACT, -1 },
	{ "日期：", LAB_DATE, -1 },
	{ "编号：", LAB_NUMBER, -1 },
};

static const para_spec tight_names[] = {
	{ NULL, LAB_PROMISE, -1 },
	{ NULL, LAB_BASIS, -1 },
	{ NULL, LAB_PRODUCT, LAB_QUANTITY },
	{ "产地：", LAB_ORIGIN, -1 },
	{ NULL, LAB_ISSUER, -1 },
	{ NULL, LAB_CONTACT, -1 },
	{ NULL, LAB_DATE, LAB_NUMBER },
};

static const char *const field_names[] = { "promise", "basis",	 "product", "quantity", "origin",
					   "issuer",  "contact", "date",    "number" };

/* The flow of one candidate. */
typedef struct flow {
	lab_doc *doc;
	const geom *g;
	int slot;
} flow;

static int is_wide(uint32_t c)
{
	return c >= 0x2E80;
}

static int no_line_start(uint32_t c)
{
	static const uint32_t set[] = { 0x3001, 0x3002, 0xFF0C, 0xFF1B, 0xFF1A, 0xFF09,
					0x300D, 0xFF01, 0xFF1F, ',',	'.',	';',
					':',	')',	'%',	0x2026, 0 };
	for (int i = 0; set[i]; i++) {
		if (set[i] == c)
			return 1;
	}
	return 0;
}

static int can_break(const lab_text *t, int k)
{
	if (k <= 0 || k >= t->n)
		return 1;
	uint32_t a = t->g[k - 1].cp, b = t->g[k].cp;
	if (no_line_start(b))
		return 0;
	if (a == ' ' || b == ' ')
		return 1;
	return is_wide(a) || is_wide(b);
}

static int add_glyphs(lab_doc *doc, const lab_text *t, int a, int b, int em, int resident)
{
	if (doc->nglyphs + (b - a) > doc->cap) {
		int cap = doc->cap ? doc->cap * 2 : 256;
		while (cap < doc->nglyphs + (b - a))
			cap *= 2;
		lab_glyph *g = realloc(doc->glyphs, (size_t)cap * sizeof(*g));
		if (g == NULL)
			return -ENOMEM;
		doc->glyphs = g;
		doc->cap = cap;
	}
	const float *w = resident ? t->wr : t->w;
	float x = 0;
	for (int i = a; i < b; i++) {
		lab_glyph *g = &doc->glyphs[doc->nglyphs++];
		*g = t->g[i];
		g->x = x;
		g->adv = w[i] * (float)em;
		if (!resident)
			g->resident = 0;
		x += g->adv;
	}
	return 0;
}

/* Flows t into the next slots; 1 when it fits, 0 when not, -ENOMEM. */
static int flow_text(flow *f, const lab_text *t)
{
	const geom *g = f->g;
	const float *w = g->resident ? t->wr : t->w;
	double pw = 0;
	int i = 0;

	for (int k = 0; k < t->prefix; k++)
		pw += w[k] * g->em;
	while (i < t->n) {
		if (f->slot >= g->nslots || f->doc->nlines >= LAB_LINES_MAX)
			return 0;
		const slot *s = &g->slots[f->slot++];
		double indent = i > 0 && pw < 0.45 * s->w ? pw : 0;
		double avail = s->w - indent, acc = 0;
		int j = i, brk = -1;
		while (j < t->n && acc + w[j] * g->em <= avail + 1e-6) {
			acc += w[j] * g->em;
			j++;
			if (can_break(t, j))
				brk = j;
		}
		if (j < t->n && !can_break(t, j) && brk > i)
			j = brk;
		if (j == i)
			return 0;
		lab_line *l = &f->doc->lines[f->doc->nlines++];
		memset(l, 0, sizeof(*l));
		l->x = s->x + (int)lround(indent);
		l->top = s->top;
		l->em = g->em;
		l->resident = g->resident;
		l->first = f->doc->nglyphs;
		if (add_glyphs(f->doc, t, i, j, g->em, g->resident) < 0)
			return -ENOMEM;
		l->count = j - i;
		i = j;
		while (i < t->n && t->g[i].cp == ' ')
			i++;
	}
	return 1;
}

/* Builds the texts of a variant; *bad names a field whose character no font has. */
static int variant_texts(ac_label_renderer *r, const para_spec *spec, int nspec,
			 const char *const *values, lab_text *texts, int *ntexts,
			 ac_label_problem *why)
{
	*ntexts = 0;
	for (int i = 0; i < nspec; i++) {
		const char *v = values[spec[i].value];
		const char *v2 = spec[i].joined >= 0 ? values[spec[i].joined] : NULL;
		char joined[2 * AC_LABEL_MAX_FIELD_LEN + 2];
		uint32_t missing = 0;

		if ((v == NULL || !*v) && (v2 == NULL || !*v2))
			continue;
		if (v2 != NULL && *v2) {
			snprintf(joined, sizeof(joined), "%s%s%s", v ? v : "", v && *v ? " " : "",
				 v2);
			v = joined;
		}
		lab_text *t = &texts[(*ntexts)++];
		int rc = lab_text_init(r, t, spec[i].prefix, v, &missing);
		t->field = field_names[spec[i].value];
		if (rc == AC_EGLYPH && why != NULL) {
			why->field = t->field;
			why->cp = missing;
		}
		if (rc < 0)
			return rc;
		lab_measure(r, t);
	}
	return 0;
}

static void free_texts(lab_text *texts, int n)
{
	for (int i = 0; i < n; i++)
		lab_text_free(&texts[i]);
}

/* The width of t at em dots, resident metrics or not. */
static double text_width(const lab_text *t, int em, int resident)
{
	const float *w = resident ? t->wr : t->w;
	double sum = 0;

	for (int k = 0; k < t->n; k++)
		sum += w[k] * em;
	return sum;
}

/*
 * The piece line beside the title when there is room (the title centred,
 * else moved left), its bottom on the title's baseline: 1, else 0.
 */
static int piece_in_title(const lab_template *t, lab_doc *doc, const geom *g, double pw)
{
	lab_line *title = &doc->lines[0];
	const lab_glyph *last = &doc->glyphs[title->first + title->count - 1];
	int tw = (int)(last->x + last->adv + 0.5f);
	int right = t->W - t->m;
	int centred = (t->W - tw) / 2;

	if (centred + tw + g->em <= right - pw)
		title->x = centred;
	else if (t->m + tw + g->em <= right - pw)
		title->x = t->m;
	else
		return 0;
	doc->piece = (lab_line){ .x = right - (int)pw, .em = g->em, .resident = g->resident };
	doc->piece.top = t->m + (int)(0.86 * t->et) - (int)(0.86 * g->em);
	doc->piece_right = right;
	return 1;
}

/* The piece line in the next free line, right-aligned: 1 when it fits. */
static int piece_in_slot(lab_doc *doc, const geom *g, int slot, double pw)
{
	if (slot >= g->nslots || pw > g->slots[slot].w)
		return 0;
	const struct slot *s = &g->slots[slot];
	doc->piece = (lab_line){
		.x = s->x + s->w - (int)pw, .top = s->top, .em = g->em, .resident = g->resident
	};
	doc->piece_right = s->x + s->w;
	return 1;
}

/* Tries every candidate for the texts and the piece line; 1 when one fits. */
static int try_candidates(const lab_template *t, lab_doc *doc, lab_text *texts, int n,
			  lab_text *piece, const char **overflow)
{
	int title_end = doc->lines[0].first + doc->lines[0].count;
	int title_x = doc->lines[0].x;

	for (int c = 0; c < t->ncand; c++) {
		const geom *g = &t->cand[c];
		flow f = { .doc = doc, .g = g };
		double pw = text_width(piece, g->em, g->resident);
		int in_title = piece_in_title(t, doc, g, pw);
		int rc = 1;

		doc->nlines = 1;
		doc->nglyphs = title_end;
		for (int i = 0; i < n && rc == 1; i++) {
			rc = flow_text(&f, &texts[i]);
			if (rc == 0)
				*overflow = texts[i].field;
		}
		if (rc == 1 && !in_title && !piece_in_slot(doc, g, f.slot, pw)) {
			*overflow = "piece";
			rc = 0;
		}
		if (rc < 0)
			return rc;
		if (rc == 1) {
			doc->mod = g->mod;
			doc->qr_x = g->qr_x;
			doc->qr_y = g->qr_y;
			return 1;
		}
		doc->lines[0].x = title_x;
	}
	return 0;
}

/* The title line, centred, and the rule under it. */
static int lay_title(ac_label_renderer *r, const lab_template *t, lab_doc *doc)
{
	lab_text title;
	uint32_t missing;
	int rc = lab_text_init(r, &title, NULL, "承诺达标合格证", &missing);

	if (rc < 0)
		return rc;
	lab_measure(r, &title);
	float *tw = t->title_resident ? title.wr : title.w;
	double w = 0;
	for (int i = 0; i < title.n; i++)
		w += tw[i] * t->et;
	lab_line *l = &doc->lines[0];
	memset(l, 0, sizeof(*l));
	l->x = (int)lround((t->W - w) / 2);
	l->top = t->m;
	l->em = t->et;
	l->bold = 1;
	l->resident = t->title_resident;
	l->first = 0;
	rc = add_glyphs(doc, &title, 0, title.n, t->et, t->title_resident);
	l->count = title.n;
	doc->nlines = 1;
	lab_text_free(&title);
	doc->rule_x = t->m;
	doc->rule_y = t->rule_y;
	doc->rule_w = t->W - 2 * t->m;
	doc->rule_h = t->rule_h;
	return rc;
}

int lab_layout(ac_label_renderer *r, const ac_label_printer *p, const char *const *values,
	       const char *piece_sample, int qrw, lab_doc *doc, ac_label_problem *why)
{
	static const struct {
		const para_spec *spec;
		int n;
	} variants[] = {
		{ full_names, (int)(sizeof(full_names) / sizeof(full_names[0])) },
		{ short_names, (int)(sizeof(short_names) / sizeof(short_names[0])) },
		{ tight_names, (int)(sizeof(tight_names) / sizeof(tight_names[0])) },
	};
	int W = mm_dots(p->size.width_mm, p->size.dpi), H = mm_dots(p->size.height_mm, p->size.dpi);
	const lab_template *t = template_for(r, W, H, p->size.dpi, p->lang, qrw);
	const char *overflow = NULL;
	lab_text texts[LAB_PARAS_MAX], piece;
	int rc;

	if (t == NULL)
		return -ENOMEM;
	doc->p = *p;
	doc->W = W;
	doc->H = H;
	doc->qrw = qrw;
	doc->w_pt = p->size.width_mm * 72.0 / 25.4;
	doc->h_pt = p->size.height_mm * 72.0 / 25.4;
	rc = lay_title(r, t, doc);
	if (rc < 0)
		return rc;
	uint32_t missing;
	rc = lab_text_init(r, &piece, NULL, piece_sample, &missing);
	if (rc < 0)
		return rc;
	lab_measure(r, &piece);
	rc = 0;
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]) && rc == 0; v++) {
		int n = 0;
		rc = variant_texts(r, variants[v].spec, variants[v].n, values, texts, &n, why);
		if (rc == 0)
			rc = try_candidates(t, doc, texts, n, &piece, &overflow);
		free_texts(texts, n);
	}
	lab_text_free(&piece);
	if (rc == 0) {
		if (why != NULL)
			why->field = overflow;
		return AC_ETOOBIG;
	}
	return rc < 0 ? rc : 0;
}

void lab_piece(ac_label_renderer *r, const lab_doc *doc, const char *text, lab_page *pg)
{
	lab_text t;
	uint32_t missing;
	float x = 0;

	pg->piece = doc->piece;
	pg->piece.first = 0;
	pg->piece.count = 0;
	if (lab_text_init(r, &t, NULL, text, &missing) != 0)
		return;
	lab_measure(r, &t);
	const float *w = doc->piece.resident ? t.wr : t.w;
	for (int i = 0;
	     i < t.n && i < (int)(sizeof(pg->piece_glyphs) / sizeof(pg->piece_glyphs[0])); i++) {
		lab_glyph *g = &pg->piece_glyphs[pg->piece.count++];
		*g = t.g[i];
		g->adv = w[i] * (float)doc->piece.em;
		g->x = x;
		if (!doc->piece.resident)
			g->resident = 0;
		x += g->adv;
	}
	pg->piece.x = doc->piece_right - (int)(x + 0.5f);
	lab_text_free(&t);
}

void lab_qr_rects(const lab_doc *doc, const lab_page *pg,
		  void (*fn)(void *arg, int x, int y, int w, int h), void *arg)
{
	int n = pg->width, M = doc->mod, g = pg->gain;
	int shift = (doc->qrw - n) * M / 2; /* a smaller symbol centred in the place */

	/* Every dark module keeps at least one dot; light ones too. */
	if (g > (M - 1) / 2)
		g = (M - 1) / 2;
	if (g < -(M - 1) / 2)
		g = -(M - 1) / 2;
	for (int y = 0; y < n; y++) {
		const unsigned char *row = pg->modules + (size_t)y * n;
		const unsigned char *above = y > 0 ? row - n : NULL;
		const unsigned char *below = y + 1 < n ? row + n : NULL;
		int x = 0;
		while (x < n) {
			if (!(row[x] & 1)) {
				x++;
				continue;
			}
			/* A run of dark modules with the same neighbours above and below. */
			int up = above == NULL || !(above[x] & 1);
			int down = below == NULL || !(below[x] & 1);
			int x0 = x;
			while (x < n && (row[x] & 1) && (above == NULL || !(above[x] & 1)) == up &&
			       (below == NULL || !(below[x] & 1)) == down)
				x++;
			int left = x0 == 0 || !(row[x0 - 1] & 1);
			int right = x == n || !(row[x] & 1);
			int px = x0 * M + (left ? g : 0);
			int py = y * M + (up ? g : 0);
			int w = (x - x0) * M - (left ? g : 0) - (right ? g : 0);
			int h = M - (up ? g : 0) - (down ? g : 0);
			fn(arg, doc->qr_x + shift + px, doc->qr_y + shift + py, w, h);
		}
	}
}

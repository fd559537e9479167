/*
 * PDF labels, written directly: one page per label, the page the label's
 * size; the text that every page shares in one form XObject; each font a
 * Type 0 font over a TrueType subset (ac_ttf_subset) whose glyph ids are the
 * CIDs (CIDToGIDMap /Identity), with widths and a ToUnicode map (so that
 * pdftotext reads the label back, characters outside the BMP included).
 * Nothing is compressed: a label PDF is 15-30 kB, and compressing it would
 * cost more CPU than sending it to the local CUPS.
 *
 * Drawing happens in printer dots, y down ("s 0 0 -s 0 h cm"), so the QR
 * modules fall on the printer's dot grid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_label-private.h"

#define PDF_MAX_OBJ (3 + LAB_FONTS_MAX * 5 + 2 * AC_LABEL_MAX_CODES)

/* The glyphs one font draws in this document: gid -> CID by position + 1. */
typedef struct pdf_font {
	uint16_t *gids;
	uint32_t *cps;
	int n, cap;
	int obj; /* its Type 0 font object, 0 when unused */
} pdf_font;

typedef struct pdf {
	ac_label_renderer *r;
	const lab_doc *doc;
	lab_out *o;
	size_t off[PDF_MAX_OBJ];
	int nobj;
	pdf_font fonts[LAB_FONTS_MAX];
	double s; /* points per dot */
} pdf;

static int font_add(pdf_font *f, uint16_t gid, uint32_t cp)
{
	for (int i = 0; i < f->n; i++) {
		if (f->gids[i] == gid)
			return 0;
	}
	if (f->n == f->cap) {
		int cap = f->cap ? f->cap * 2 : 128;
		uint16_t *g = realloc(f->gids, (size_t)cap * sizeof(*g));
		if (g == NULL)
			return -ENOMEM;
		f->gids = g;
		uint32_t *c = realloc(f->cps, (size_t)cap * sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
		f->cps = c;
		f->cap = cap;
	}
	f->gids[f->n] = gid;
	f->cps[f->n++] = cp;
	return 0;
}

static int cid_of(const pdf_font *f, uint16_t gid)
{
	for (int i = 0; i < f->n; i++) {
		if (f->gids[i] == gid)
			return i + 1;
	}
	return 0;
}

static int collect(pdf *P, const lab_glyph *g, int n)
{
	for (int i = 0; i < n; i++) {
		if (g[i].cp == ' ')
			continue;
		int rc = font_add(&P->fonts[g[i].font], g[i].gid, g[i].cp);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int obj_begin(pdf *P)
{
	if (P->nobj + 1 >= PDF_MAX_OBJ) {
		P->o->err = AC_ETOOBIG;
		return 0;
	}
	P->off[++P->nobj] = P->o->len;
	lab_printf(P->o, "%d 0 obj\n", P->nobj);
	return P->nobj;
}

static void stream(pdf *P, const void *data, size_t len, const char *extra)
{
	lab_printf(P->o, "<< /Length %zu %s>>\nstream\n", len, extra ? extra : "");
	lab_put(P->o, data, len);
	lab_puts(P->o, "\nendstream\nendobj\n");
}

static void utf16(lab_out *o, uint32_t cp)
{
	if (cp >= 0x10000) {
		cp -= 0x10000;
		lab_printf(o, "%04X%04X", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
	} else {
		lab_printf(o, "%04X", cp);
	}
}

static void write_tounicode(pdf *P, const pdf_font *f)
{
	lab_out cm = { 0 };

	lab_puts(&cm, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
		      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
		      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
		      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	for (int i = 0; i < f->n; i += 100) {
		int k = f->n - i < 100 ? f->n - i : 100;
		lab_printf(&cm, "%d beginbfchar\n", k);
		for (int j = i; j < i + k; j++) {
			lab_printf(&cm, "<%04X> <", j + 1);
			utf16(&cm, f->cps[j]);
			lab_puts(&cm, ">\n");
		}
		lab_puts(&cm, "endbfchar\n");
	}
	lab_puts(&cm, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	if (cm.err)
		P->o->err = cm.err;
	else
		stream(P, cm.p, cm.len, NULL);
	free(cm.p);
}

/* Type 0 font, CIDFont, descriptor, font file and ToUnicode of font k. */
static int write_font(pdf *P, int k)
{
	pdf_font *f = &P->fonts[k];
	const lab_font *lf = &P->r->fonts[k];
	double u = 1000.0 / lf->info.units_per_em;
	unsigned char *ttf = NULL;
	size_t len = 0;
	int rc = ac_ttf_subset(lf->ttf, f->gids, f->cps, (size_t)f->n, &ttf, &len);

	if (rc < 0)
		return rc == AC_EMALFORMED ? AC_ERENDER : rc;
	int base = P->nobj + 1;
	f->obj = obj_begin(P);
	lab_printf(P->o,
		   "<< /Type /Font /Subtype /Type0 /BaseFont /ACLBL%c+Label%d /Encoding "
		   "/Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>\nendobj\n",
		   'A' + k, k, base + 1, base + 4);
	obj_begin(P);
	lab_printf(P->o,
		   "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ACLBL%c+Label%d "
		   "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
		   "/FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 1000 /W [1 [",
		   'A' + k, k, base + 2);
	for (int i = 0; i < f->n; i++)
		lab_printf(P->o, "%s%d", i ? " " : "",
			   (int)(ac_ttf_advance(lf->ttf, f->gids[i]) * u + 0.5));
	lab_puts(P->o, "]] >>\nendobj\n");
	obj_begin(P);
	lab_printf(P->o,
		   "<< /Type /FontDescriptor /FontName /ACLBL%c+Label%d /Flags 4 /FontBBox [%d %d "
		   "%d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 "
		   "/FontFile2 %d 0 R >>\nendobj\n",
		   'A' + k, k, (int)(lf->info.bbox[0] * u), (int)(lf->info.bbox[1] * u),
		   (int)(lf->info.bbox[2] * u), (int)(lf->info.bbox[3] * u),
		   (int)(lf->info.ascent * u), (int)(lf->info.descent * u),
		   (int)(lf->info.ascent * u), base + 3);
	obj_begin(P);
	char extra[32];
	snprintf(extra, sizeof(extra), "/Length1 %zu ", len);
	stream(P, ttf, len, extra);
	free(ttf);
	obj_begin(P);
	write_tounicode(P, f);
	return 0;
}

/* Text of one line: runs of one font each, as CIDs. */
static void draw_line(pdf *P, lab_out *c, const lab_line *l, const lab_glyph *g)
{
	double base = l->top + 0.86 * l->em;
	int i = 0;

	while (i < l->count) {
		if (g[i].cp == ' ') {
			i++;
			continue;
		}
		int f = g[i].font, j = i;
		lab_printf(c, "/F%d 1 Tf %d 0 0 %d %.2f %.2f Tm <", f, l->em, -l->em, l->x + g[i].x,
			   base);
		while (j < l->count && g[j].font == f && g[j].cp != ' ') {
			lab_printf(c, "%04X", cid_of(&P->fonts[f], g[j].gid));
			j++;
		}
		lab_puts(c, "> Tj\n");
		i = j;
	}
}

static void fonts_dict(pdf *P, lab_out *o)
{
	lab_puts(o, "/Font <<");
	for (int k = 0; k < P->r->nfonts; k++) {
		if (P->fonts[k].obj)
			lab_printf(o, " /F%d %d 0 R", k, P->fonts[k].obj);
	}
	lab_puts(o, " >>");
}

/* The form with what every page shows: title, rule, promise and fields. */
static int write_form(pdf *P)
{
	const lab_doc *d = P->doc;
	lab_out c = { 0 };

	lab_printf(&c, "q %.6f 0 0 %.6f 0 %.4f cm 0 g 0 G\n", P->s, -P->s, d->h_pt);
	lab_printf(&c, "%d %d %d %d re f\nBT\n", d->rule_x, d->rule_y, d->rule_w, d->rule_h);
	for (int i = 0; i < d->nlines; i++) {
		const lab_line *l = &d->lines[i];
		if (l->bold)
			lab_printf(&c, "2 Tr %.2f w\n", l->em * 0.035);
		draw_line(P, &c, l, d->glyphs + l->first);
		if (l->bold)
			lab_puts(&c, "0 Tr\n");
	}
	lab_puts(&c, "ET Q\n");
	int id = obj_begin(P);
	if (c.err) {
		P->o->err = c.err;
		free(c.p);
		return 0;
	}
	lab_printf(P->o, "<< /Type /XObject /Subtype /Form /BBox [0 0 %.4f %.4f] /Resources << ",
		   d->w_pt, d->h_pt);
	fonts_dict(P, P->o);
	lab_puts(P->o, " >> /Length ");
	lab_printf(P->o, "%zu >>\nstream\n", c.len);
	lab_put(P->o, c.p, c.len);
	lab_puts(P->o, "\nendstream\nendobj\n");
	free(c.p);
	return id;
}

static void rect(void *arg, int x, int y, int w, int h)
{
	lab_printf(arg, "%d %d %d %d re\n", x, y, w, h);
}

/* A page and its content: the form, the piece line, the QR code. */
static int write_page(pdf *P, int pages_obj, int form, const lab_page *pg)
{
	const lab_doc *d = P->doc;
	lab_out c = { 0 };

	lab_printf(&c, "/X0 Do\nq %.6f 0 0 %.6f 0 %.4f cm 0 g\nBT\n", P->s, -P->s, d->h_pt);
	draw_line(P, &c, &pg->piece, pg->piece_glyphs);
	lab_puts(&c, "ET\n");
	lab_qr_rects(d, pg, rect, &c);
	lab_puts(&c, "f Q\n");
	int page = obj_begin(P);
	lab_printf(P->o,
		   "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.4f %.4f] /Resources << "
		   "/XObject << /X0 %d 0 R >> ",
		   pages_obj, d->w_pt, d->h_pt, form);
	fonts_dict(P, P->o);
	lab_printf(P->o, " >> /Contents %d 0 R >>\nendobj\n", page + 1);
	obj_begin(P);
	if (c.err)
		P->o->err = c.err;
	else
		stream(P, c.p, c.len, NULL);
	free(c.p);
	return page;
}

static void write_tail(pdf *P, size_t n, const int *page_objs)
{
	/* The page tree, object 2, was reserved: written here, then the xref. */
	P->off[2] = P->o->len;
	lab_printf(P->o, "2 0 obj\n<< /Type /Pages /Count %zu /Kids [", n);
	for (size_t i = 0; i < n; i++)
		lab_printf(P->o, "%s%d 0 R", i ? " " : "", page_objs[i]);
	lab_puts(P->o, "] >>\nendobj\n");
	size_t xref = P->o->len;
	lab_printf(P->o, "xref\n0 %d\n0000000000 65535 f \n", P->nobj + 1);
	for (int i = 1; i <= P->nobj; i++)
		lab_printf(P->o, "%010zu 00000 n \n", P->off[i]);
	lab_printf(P->o, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		   P->nobj + 1, xref);
}

int lab_pdf(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n, lab_out *out)
{
	pdf *P = calloc(1, sizeof(*P));
	int *page_objs = calloc(n, sizeof(*page_objs));
	int rc = -ENOMEM;

	if (P == NULL || page_objs == NULL)
		goto out;
	P->r = r;
	P->doc = doc;
	P->o = out;
	P->s = 72.0 / doc->p.size.dpi;
	rc = collect(P, doc->glyphs, doc->nglyphs);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = collect(P, pages[i].piece_glyphs, pages[i].piece.count);
	if (rc < 0)
		goto out;
	lab_puts(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
	obj_begin(P);
	lab_puts(out, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	P->nobj++; /* 2: the page tree, written last */
	for (int k = 0; k < r->nfonts && rc == 0; k++) {
		if (P->fonts[k].n > 0)
			rc = write_font(P, k);
	}
	if (rc < 0)
		goto out;
	int form = write_form(P);
	for (size_t i = 0; i < n && !out->err; i++)
		page_objs[i] = write_page(P, 2, form, &pages[i]);
	write_tail(P, n, page_objs);
	rc = out->err;
out:
	if (P != NULL) {
		for (int k = 0; k < LAB_FONTS_MAX; k++) {
			free(P->fonts[k].gids);
			free(P->fonts[k].cps);
		}
	}
	free(P);
	free(page_objs);
	return rc;
}

/*
 * TSPL labels (TSC, and the Gprinter, Xprinter and HPRT printers that speak
 * it): SIZE, GAP, DIRECTION, REFERENCE, optional DENSITY, then per label
 * CLS, BAR (the rule), TEXT, BITMAP, QRCODE and PRINT. Lines end in CR LF.
 *
 * Text at the resident size (24 dots, or 48 for a title at twice that) goes
 * out as TEXT in the printer's simplified-Chinese font TSS24.BF2, as GB 2312
 * bytes, for the characters GB 2312 has; every other character (and text at
 * other sizes) as a BITMAP drawn from the label fonts. The title is printed
 * twice, one dot apart, for weight. BITMAP data is 0 for a black dot. The QR
 * code is the printer's QRCODE at level M, manual alphanumeric input, one
 * dot multiple per module; with dot-gain compensation, a BITMAP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_label-private.h"

#define RESIDENT_FONT "TSS24.BF2"

/* BITMAP x,y of a bitmap (1 = ink), inverted as TSPL wants it. */
static void put_bitmap(lab_out *o, int x, int y, unsigned char *bits, int stride, int rows)
{
	size_t n = (size_t)stride * rows;

	for (size_t i = 0; i < n; i++)
		bits[i] = (unsigned char)~bits[i];
	lab_printf(o, "BITMAP %d,%d,%d,%d,0,", x, y, stride, rows);
	lab_put(o, bits, n);
	lab_puts(o, "\r\n");
}

/* The glyphs [a, b) of a line as one bitmap. */
static int put_glyphs(ac_label_renderer *r, const lab_doc *doc, const lab_line *l,
		      const lab_glyph *g, int a, int b, lab_out *o)
{
	lab_line part = *l;
	int x0 = l->x + (int)g[a].x;
	int w = (int)(g[b - 1].x + g[b - 1].adv + 0.5f) - (int)g[a].x + 4, rows = l->em + 2;
	int stride = (w + 7) / 8;
	unsigned char *bits = calloc((size_t)stride * rows, 1);
	int rc;

	if (bits == NULL)
		return -ENOMEM;
	part.count = b - a;
	rc = lab_line_bits(r, doc, &part, g + a, x0, bits, stride, rows);
	if (rc == 0)
		put_bitmap(o, x0, l->top, bits, stride, rows);
	free(bits);
	return rc;
}

/* TEXT of resident glyphs [a, b): GB 2312 bytes (ASCII as itself). */
static void put_text(const lab_line *l, const lab_glyph *g, int a, int b, lab_out *o)
{
	int mul = l->em / 24;

	for (int pass = 0; pass < (l->bold ? 2 : 1); pass++) {
		lab_printf(o, "TEXT %d,%d,\"" RESIDENT_FONT "\",0,%d,%d,\"",
			   l->x + (int)g[a].x + pass, l->top, mul, mul);
		for (int i = a; i < b; i++) {
			if (g[i].gb) {
				unsigned char c[2] = { (unsigned char)(g[i].gb >> 8),
						       (unsigned char)g[i].gb };
				lab_put(o, c, 2);
			} else {
				char c = (char)g[i].cp;
				lab_put(o, &c, 1);
			}
		}
		lab_puts(o, "\"\r\n");
	}
}

static int put_line(ac_label_renderer *r, const lab_doc *doc, const lab_line *l, const lab_glyph *g,
		    lab_out *o)
{
	int i = 0;

	if (!l->resident)
		return l->count ? put_glyphs(r, doc, l, g, 0, l->count, o) : 0;
	while (i < l->count) {
		int j = i;
		int res = g[i].resident;
		while (j < l->count && g[j].resident == res)
			j++;
		if (res) {
			put_text(l, g, i, j, o);
		} else {
			int rc = put_glyphs(r, doc, l, g, i, j, o);
			if (rc < 0)
				return rc;
		}
		i = j;
	}
	return 0;
}

static int put_qr(const lab_doc *doc, const lab_page *pg, lab_out *o)
{
	int shift = (doc->qrw - pg->width) * doc->mod / 2;

	if (doc->qr_graphic || doc->mod > 10)
		return lab_put_qr_bitmap(doc, pg, o, put_bitmap);
	if (pg->alnum)
		lab_printf(o, "QRCODE %d,%d,M,%d,M,0,M2,S7,\"A%s\"\r\n", doc->qr_x + shift,
			   doc->qr_y + shift, doc->mod, pg->code);
	else
		lab_printf(o, "QRCODE %d,%d,M,%d,A,0,\"%s\"\r\n", doc->qr_x + shift,
			   doc->qr_y + shift, doc->mod, pg->code);
	return 0;
}

int lab_tspl(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n,
	     lab_out *out)
{
	int rc = 0;

	lab_printf(out, "SIZE %d mm,%d mm\r\nGAP 2 mm,0 mm\r\nDIRECTION 1,0\r\nREFERENCE 0,0\r\n",
		   doc->p.size.width_mm, doc->p.size.height_mm);
	if (doc->p.darkness >= 0)
		lab_printf(out, "DENSITY %d\r\n", doc->p.darkness > 15 ? 15 : doc->p.darkness);
	for (size_t i = 0; i < n && rc == 0 && !out->err; i++) {
		lab_printf(out, "CLS\r\nBAR %d,%d,%d,%d\r\n", doc->rule_x, doc->rule_y, doc->rule_w,
			   doc->rule_h);
		rc = lab_put_texts(r, doc, &pages[i], out, put_line);
		if (rc == 0)
			rc = put_qr(doc, &pages[i], out);
		lab_puts(out, "PRINT 1,1\r\n");
	}
	return rc < 0 ? rc : out->err;
}

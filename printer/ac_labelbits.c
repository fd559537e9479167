/*
 * Bitmaps for the raw languages: a line of text drawn from FreeType's glyph
 * bitmaps (ac_raster), and the QR code drawn with dot-gain compensation,
 * both as 1-bit rows, most significant bit leftmost, 1 = ink.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_label-private.h"

/* ORs a glyph's rows into bits at x, y, a byte at a time (FreeType's mono
 * rows are zero beyond the glyph's width); clipped to the bitmap. */
static void blit(unsigned char *bits, int stride, int rows, int x, int y, const ac_glyph_bits *g)
{
	int nbytes = (g->width + 7) / 8;

	for (int gy = 0; gy < g->rows; gy++) {
		int ty = y + gy;
		if (ty < 0 || ty >= rows)
			continue;
		const unsigned char *src = g->bits + (size_t)gy * g->pitch;
		unsigned char *dst = bits + (size_t)ty * stride;
		for (int k = 0; k < nbytes; k++) {
			unsigned b = src[k];
			int tx = x + 8 * k;
			if (k == nbytes - 1 && (g->width & 7))
				b &= 0xFFu << (8 - (g->width & 7));
			if (b == 0)
				continue;
			if (tx >= 0 && (tx >> 3) < stride)
				dst[tx >> 3] |= (unsigned char)(b >> (tx & 7));
			if ((tx & 7) && tx + 8 > 0 && ((tx + 8) >> 3) < stride)
				dst[(tx + 8) >> 3] |= (unsigned char)(b << (8 - (tx & 7)));
		}
	}
}

int lab_line_bits(ac_label_renderer *r, const lab_doc *doc, const lab_line *l,
		  const lab_glyph *glyphs, int x0, unsigned char *bits, int stride, int rows)
{
	int base = (int)(0.86 * l->em + 0.5);

	(void)doc;
	for (int i = 0; i < l->count; i++) {
		const lab_glyph *g = &glyphs[i];
		if (g->cp == ' ')
			continue;
		const ac_glyph_bits *gb =
		    ac_raster_glyph(r->raster, g->font, g->gid, l->em, l->bold);
		if (gb == NULL)
			return AC_ERENDER;
		int pen = l->x + (int)(g->x + 0.5f) - x0;
		blit(bits, stride, rows, pen + gb->left, base - gb->top, gb);
	}
	return 0;
}

typedef struct qr_bits {
	unsigned char *bits;
	int stride, x0, y0;
} qr_bits;

static void fill(void *arg, int x, int y, int w, int h)
{
	qr_bits *q = arg;

	for (int yy = y - q->y0; yy < y - q->y0 + h; yy++) {
		unsigned char *row = q->bits + (size_t)yy * q->stride;
		for (int xx = x - q->x0; xx < x - q->x0 + w; xx++)
			row[xx >> 3] |= (unsigned char)(0x80 >> (xx & 7));
	}
}

void lab_qr_bits(const lab_doc *doc, const lab_page *pg, unsigned char *bits, int stride)
{
	qr_bits q = { bits, stride, doc->qr_x, doc->qr_y };

	lab_qr_rects(doc, pg, fill, &q);
}

int lab_put_qr_bitmap(const lab_doc *doc, const lab_page *pg, lab_out *o,
		      void (*put)(lab_out *o, int x, int y, unsigned char *bits, int stride,
				  int rows))
{
	int side = doc->qrw * doc->mod, stride = (side + 7) / 8;
	unsigned char *bits = calloc((size_t)stride * side, 1);

	if (bits == NULL)
		return -ENOMEM;
	lab_qr_bits(doc, pg, bits, stride);
	put(o, doc->qr_x, doc->qr_y, bits, stride, side);
	free(bits);
	return 0;
}

int lab_put_texts(ac_label_renderer *r, const lab_doc *doc, const lab_page *pg, lab_out *o,
		  int (*put)(ac_label_renderer *r, const lab_doc *doc, const lab_line *l,
			     const lab_glyph *g, lab_out *o))
{
	int rc = 0;

	for (int k = 0; k < doc->nlines && rc == 0; k++)
		rc = put(r, doc, &doc->lines[k], doc->glyphs + doc->lines[k].first, o);
	return rc == 0 ? put(r, doc, &pg->piece, pg->piece_glyphs, o) : rc;
}

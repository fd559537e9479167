/*
 * ZPL II labels: one ^XA ... ^XZ format per label. Text is drawn from the
 * label fonts into one ^GF graphic per line (Zebra's resident fonts have no
 * Chinese; ^GFA data in ZPL's run-length compressed hex). The QR code is the
 * printer's own ^BQ at a whole number of dots per module (magnification),
 * manual alphanumeric input at level M, so the symbol is the one the layout
 * reserved; with dot-gain compensation it is drawn as a graphic instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_label-private.h"

/* Zebra prints a ^BQ symbol 10 dots below its field origin. */
#define BQ_TOP_OFFSET 10

/* A repeat count in ZPL's compression (G..Y 1-19, g..y 20-380, z 400) at
 * out: how many characters. */
static int put_count(char *out, int n)
{
	int k = 0;

	while (n >= 400) {
		out[k++] = 'z';
		n -= 400;
	}
	if (n >= 20) {
		out[k++] = (char)('f' + n / 20);
		n %= 20;
	}
	if (n > 0)
		out[k++] = (char)('G' + n - 1);
	return k;
}

/* One row of hex digits, compressed into out (room for 2 n + 1): repeat
 * counts, ',' for zeros to the end. Returns its length. */
static int put_row(char *out, const char *hex, int n)
{
	int end = n, k = 0;

	while (end > 0 && hex[end - 1] == '0')
		end--;
	for (int i = 0; i < end;) {
		int j = i;
		while (j < end && hex[j] == hex[i])
			j++;
		if (j - i > 1)
			k += put_count(out + k, j - i);
		out[k++] = hex[i];
		i = j;
	}
	if (end < n)
		out[k++] = ',';
	return k;
}

/* ^FO x,y^GFA of a bitmap (rows of stride bytes, 1 = ink). */
static void put_graphic(lab_out *o, int x, int y, unsigned char *bits, int stride, int rows)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t n = (size_t)stride * 2;
	char *hex = malloc(4 * n + 8); /* this row, the one before, the compressed row */
	char *prev = hex + n, *row_out = hex + 2 * n;

	if (hex == NULL) {
		o->err = -ENOMEM;
		return;
	}
	lab_printf(o, "^FO%d,%d^GFA,%d,%d,%d,", x, y, stride * rows, stride * rows, stride);
	for (int r = 0; r < rows; r++) {
		const unsigned char *row = bits + (size_t)r * stride;
		for (int i = 0; i < stride; i++) {
			hex[2 * i] = hexd[row[i] >> 4];
			hex[2 * i + 1] = hexd[row[i] & 15];
		}
		if (r > 0 && memcmp(hex, prev, n) == 0) {
			lab_puts(o, ":");
			continue;
		}
		lab_put(o, row_out, (size_t)put_row(row_out, hex, (int)n));
		memcpy(prev, hex, n);
	}
	lab_puts(o, "^FS\n");
	free(hex);
}

/* A line of text as a graphic as wide as its glyphs. */
static int put_line(ac_label_renderer *r, const lab_doc *doc, const lab_line *l, const lab_glyph *g,
		    lab_out *o)
{
	if (l->count == 0)
		return 0;
	const lab_glyph *last = &g[l->count - 1];
	int w = (int)(last->x + last->adv + 0.5f) + 4, rows = l->em + 2;
	int stride = (w + 7) / 8;
	unsigned char *bits = calloc((size_t)stride * rows, 1);
	int rc;

	if (bits == NULL)
		return -ENOMEM;
	rc = lab_line_bits(r, doc, l, g, l->x, bits, stride, rows);
	if (rc == 0)
		put_graphic(o, l->x, l->top, bits, stride, rows);
	free(bits);
	return rc;
}

static int put_qr(const lab_doc *doc, const lab_page *pg, lab_out *o)
{
	int shift = (doc->qrw - pg->width) * doc->mod / 2;

	if (doc->qr_graphic || doc->mod > 10)
		return lab_put_qr_bitmap(doc, pg, o, put_graphic);
	lab_printf(o, "^FO%d,%d^BQN,2,%d^FD%s%s^FS\n", doc->qr_x + shift,
		   doc->qr_y + shift - BQ_TOP_OFFSET, doc->mod, pg->alnum ? "MM,A" : "MA,",
		   pg->code);
	return 0;
}

int lab_zpl(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n, lab_out *out)
{
	int rc = 0;

	if (doc->p.darkness >= 0)
		lab_printf(out, "~SD%02d\n", doc->p.darkness);
	for (size_t i = 0; i < n && rc == 0 && !out->err; i++) {
		lab_printf(out, "^XA\n^PW%d^LL%d^LH0,0^PON^LRN\n", doc->W, doc->H);
		lab_printf(out, "^FO%d,%d^GB%d,%d,%d^FS\n", doc->rule_x, doc->rule_y, doc->rule_w,
			   doc->rule_h, doc->rule_h);
		rc = lab_put_texts(r, doc, &pages[i], out, put_line);
		if (rc == 0)
			rc = put_qr(doc, &pages[i], out);
		lab_puts(out, "^PQ1\n^XZ\n");
	}
	return rc < 0 ? rc : out->err;
}

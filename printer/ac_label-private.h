/*
 * What the label module's files share (printer/ only): the renderer, a
 * label laid out in printer dots, and the output buffer the three languages
 * write into.
 *
 *   ac_label.c   the public API: checks, text, fonts, QR codes, which
 *                language writes the job
 *   ac_layout.c  the geometry of a (size, dpi, language) and the flow of a
 *                certificate's text into its lines
 *   ac_pdf.c     PDF (fonts embedded as subsets, written by hand)
 *   ac_zpl.c     ZPL II (^BQ QR codes, text as ^GF graphics)
 *   ac_tspl.c    TSPL (QRCODE, TEXT in the resident TSS24.BF2 font for
 *                GB 2312 characters, BITMAP for the rest)
 *   ac_raster.c  glyph bitmaps through FreeType, for ZPL and TSPL
 *
 * Coordinates are printer dots from the label's top-left corner, y down.
 */
#ifndef AC_LABEL_PRIVATE_H
#define AC_LABEL_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ac_label.h"
#include "ac_raster.h"
#include "ac_ttf.h"

#define LAB_FONTS_MAX 4
#define LAB_LINES_MAX 64
/* Every field plus the promise, the title and the piece line. */
#define LAB_PARAS_MAX 16

typedef struct lab_font {
	ac_ttf *ttf;
	ac_ttf_info info;
} lab_font;

/* GB 2312 code of a code point (the TSPL resident font's repertoire). */
typedef struct lab_gb {
	uint32_t cp;
	uint16_t code; /* the two bytes, first in the high half */
} lab_gb;

/* Geometries computed once per (size, dpi, language, QR width, module). */
typedef struct lab_template lab_template;

struct ac_label_renderer {
	lab_font fonts[LAB_FONTS_MAX]; /* [0] the label font, then the fallbacks */
	int nfonts;
	char *paths[LAB_FONTS_MAX];
	ac_raster *raster; /* bitmaps for ZPL and TSPL */
	lab_gb *gb;	   /* sorted by code point */
	size_t ngb;
	pthread_mutex_t lock; /* guards templates */
	lab_template *templates;
};

/* A character to draw: which font and glyph, where on its line. */
typedef struct lab_glyph {
	uint32_t cp;
	uint16_t gid;
	uint8_t font;	  /* index into the renderer's fonts */
	uint8_t resident; /* TSPL: printed by the printer's own font */
	uint16_t gb;	  /* its GB 2312 code when resident (0 for ASCII) */
	float x;	  /* from the line's x, dots */
	float adv;
} lab_glyph;

/* A line of text: glyphs[first, first + count) of the label. */
typedef struct lab_line {
	int x, top, em; /* em: the font size in dots; top: of the em box */
	int bold;
	int resident; /* TSPL: the resident font at this size */
	int first, count;
} lab_line;

/* A label laid out: the same for every page of a job but the QR code and
 * the piece line. */
typedef struct lab_doc {
	ac_label_printer p;
	int W, H;		       /* dots */
	double w_pt, h_pt;	       /* the page in points */
	double ascent;		       /* baseline below the em box's top, in em */
	lab_line lines[LAB_LINES_MAX]; /* title first */
	int nlines;
	lab_glyph *glyphs;
	int nglyphs, cap;
	int rule_x, rule_y, rule_w, rule_h;
	int qr_x, qr_y, mod, qrw; /* the symbol's top-left, module, modules */
	lab_line piece;		  /* where 第N件/共N件 goes (its glyphs per page) */
	int piece_right;	  /* right edge of the piece line's slot */
	int qr_graphic;		  /* ZPL/TSPL: draw the codes, not the printer's QR command */
} lab_doc;

/* One page: its QR matrix (libqrencode's, bit 0 = dark) and piece text. */
typedef struct lab_page {
	int width;
	const unsigned char *modules;
	const char *code;
	int alnum; /* the code is one QR alphanumeric segment */
	int gain;  /* dot-gain compensation of this page's QR code */
	lab_line piece;
	lab_glyph piece_glyphs[32];
} lab_page;

/* A growing output buffer; err sticks at the first failure. */
typedef struct lab_out {
	unsigned char *p;
	size_t len, cap;
	int err;
} lab_out;

void lab_put(lab_out *o, const void *p, size_t n);
void lab_puts(lab_out *o, const char *s);
void lab_printf(lab_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One text to lay out: an optional prefix ("产品：") and a value, as code
 * points with their glyphs and advances in em units. */
typedef struct lab_text {
	lab_glyph *g;
	float *w;  /* advance in em, from the font */
	float *wr; /* advance in em in the TSPL resident font (ASCII half width) */
	int n, prefix;
	const char *field; /* which field, in messages: "origin" */
} lab_text;

/* The texts of a label, in this order (NULL or "" leaves one out). */
enum {
	LAB_PROMISE,
	LAB_BASIS,
	LAB_PRODUCT,
	LAB_QUANTITY,
	LAB_ORIGIN,
	LAB_ISSUER,
	LAB_CONTACT,
	LAB_DATE,
	LAB_NUMBER,
	LAB_NVALUES
};

/*
 * Lays the title, values[LAB_NVALUES] and a piece line as wide as
 * piece_sample out for printer p and a QR symbol of qrw modules, into doc
 * (zeroed by the caller; doc->glyphs freed by the caller). Returns 0;
 * AC_ETOOBIG when the texts do not fit the label at any allowed size
 * (why->field names the first that did not); AC_EGLYPH (why->field, why->cp);
 * -ENOMEM.
 */
int lab_layout(ac_label_renderer *r, const ac_label_printer *p, const char *const *values,
	       const char *piece_sample, int qrw, lab_doc *doc, ac_label_problem *why);

/* The piece line text (UTF-8, e.g. 第1件/共3件) of a page into pg, at doc->piece. */
void lab_piece(ac_label_renderer *r, const lab_doc *doc, const char *text, lab_page *pg);

/* Fills t->w and t->wr, and marks the glyphs the TSPL resident font has. */
void lab_measure(ac_label_renderer *r, lab_text *t);

/* Decodes UTF-8 prefix + value into t with each character's font and glyph.
 * Returns 0, -ENOMEM or AC_EGLYPH with *missing set. */
int lab_text_init(ac_label_renderer *r, lab_text *t, const char *prefix, const char *value,
		  uint32_t *missing);
void lab_text_free(lab_text *t);

/* The GB 2312 code of cp, 0 when not in GB 2312 (or ASCII). */
uint16_t lab_gb_code(const ac_label_renderer *r, uint32_t cp);

/* Writers: every page of doc, appended to out. */
int lab_pdf(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n,
	    lab_out *out);
int lab_zpl(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n,
	    lab_out *out);
int lab_tspl(ac_label_renderer *r, const lab_doc *doc, const lab_page *pages, size_t n,
	     lab_out *out);

/*
 * The QR symbol's dark areas as rectangles in dots, with the page's dot-gain
 * compensation g: every edge of a dark area that meets a light module (or
 * the quiet zone) is drawn g dots inward, so that a head spreading black g
 * dots on each edge prints the modules their nominal width (negative g:
 * outward, for a head that prints thin). |g| is capped so that every module
 * keeps a dot. Calls fn(x, y, w, h) for each rectangle (merged along rows).
 * Any thread.
 */
void lab_qr_rects(const lab_doc *doc, const lab_page *pg,
		  void (*fn)(void *arg, int x, int y, int w, int h), void *arg);

/* Draws a line's glyphs as 1-bit rows into bits (stride bytes a row, the
 * line's top at row 0, x0 the bitmap's left edge in label dots). Returns 0,
 * -ENOMEM or AC_ERENDER. */
int lab_line_bits(ac_label_renderer *r, const lab_doc *doc, const lab_line *l,
		  const lab_glyph *glyphs, int x0, unsigned char *bits, int stride, int rows);

/* The QR symbol of pg (doc->qrw * doc->mod dots square, from doc->qr_x,
 * doc->qr_y) with its page's dot-gain compensation into bits (zeroed, rows
 * of stride bytes). */
void lab_qr_bits(const lab_doc *doc, const lab_page *pg, unsigned char *bits, int stride);

/* For tests: renders data for p and keeps its layout in *doc (doc->glyphs
 * then the caller's to free). Same returns as ac_label_render. */
int lab_layout_data(ac_label_renderer *r, const ac_label_printer *p, const ac_label_data *data,
		    lab_doc *doc, ac_label_problem *why);

/* Draws pg's QR code into a new bitmap and hands it to put (which may
 * change the bits), at the code's place: 0 or -ENOMEM. */
int lab_put_qr_bitmap(const lab_doc *doc, const lab_page *pg, lab_out *o,
		      void (*put)(lab_out *o, int x, int y, unsigned char *bits, int stride,
				  int rows));

/* Calls put for every line of doc, then pg's piece line: 0 or put's error. */
int lab_put_texts(ac_label_renderer *r, const lab_doc *doc, const lab_page *pg, lab_out *o,
		  int (*put)(ac_label_renderer *r, const lab_doc *doc, const lab_line *l,
			     const lab_glyph *g, lab_out *o));

/* Frees the renderer's templates. */
void lab_templates_free(ac_label_renderer *r);

#endif

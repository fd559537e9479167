/*
 * Labels: one per QR code (一品一码), laid out once for a printer's size,
 * resolution and language, and written as PDF (IPP Everywhere and driver
 * queues), ZPL II (Zebra and clones) or TSPL (Gprinter, Xprinter, TSC,
 * HPRT). The only module that includes qrencode.h.
 *
 * Layout, in printer dots: 承诺达标合格证 across the top, largest and bold,
 * and a rule; the QR code in the bottom-right corner, its modules a whole
 * number of dots and at least 0.375 mm, at least 4 modules of quiet zone to
 * every edge and to any ink; the promise, then every field (承诺依据, 产品,
 * 数量, 产地, 开具方, 联系方式 in full, 日期, 编号) and 第N件/共N件 flow into
 * the lines above the code (full width) and beside it. Text is never smaller
 * than 2.0 mm of ink at 203 dpi (an 18-dot em of the label font); when a
 * certificate does not fit a label even with the shorter field names, the
 * label is refused (AC_ETOOBIG: use a larger label), never cut.
 *
 * Characters the label font lacks come from the fallback fonts (HanaMin for
 * CJK Extension A to F, e.g. 𠮷 U+20BB7, 𬌗 U+2C317); a character no font has
 * refuses the label (AC_EGLYPH, naming it): nothing is dropped or blanked.
 *
 * Dot gain: a thermal head spreads black; with dot_gain g the QR code's dark
 * areas are drawn g dots narrower on each edge (PDF, and ZPL/TSPL, which
 * then draw the code as a graphic rather than with the printer's QR
 * command). Modules are 4 dots or more at 203 dpi (5 at 300) wherever the
 * label allows, which survive a dot of spread or loss on every edge
 * uncompensated; 3 dots (50x30 at 203 dpi) need the printer's setting.
 */
#ifndef AC_LABEL_H
#define AC_LABEL_H

#include <stddef.h>
#include <stdint.h>

/* A label: 40x30, 50x30, 60x40, 70x50 or 100x70 mm, at 203 or 300 dpi. */
typedef struct ac_label_size {
	int width_mm, height_mm, dpi;
} ac_label_size;

/*
 * Parses "60x40" (203 dpi) or "60x40@300" into *out. Only the sizes and dpi
 * above are accepted. Returns 0 or AC_EMALFORMED (syntax) / AC_ERANGE (an
 * unsupported size or dpi). Any thread.
 */
int ac_label_size_parse(const char *s, ac_label_size *out);

/*
 * Parses a PWG self-describing media name in millimetres, e.g.
 * "om_60x40mm_60x40mm" (the part after the last '_' gives the size), with
 * dpi, into *out. Returns 0, AC_EMALFORMED or AC_ERANGE as above. Any thread.
 */
int ac_label_media_parse(const char *media, int dpi, ac_label_size *out);

/* Writes the PWG name of size ("om_60x40mm_60x40mm") into buf[cap]. */
void ac_label_media_name(const ac_label_size *size, char *buf, size_t cap);

typedef enum { AC_LABEL_PDF, AC_LABEL_ZPL, AC_LABEL_TSPL } ac_label_lang;

/* "pdf", "zpl" or "tspl" into *out: 0 or AC_ERANGE. */
int ac_label_lang_parse(const char *s, ac_label_lang *out);
/* "pdf", "zpl" or "tspl". */
const char *ac_label_lang_name(ac_label_lang lang);
/* The CUPS document format: application/pdf, or application/vnd.cups-raw
 * for ZPL and TSPL (a raw queue passes the bytes to the printer). */
const char *ac_label_lang_format(ac_label_lang lang);

/* How a printer prints. */
typedef struct ac_label_printer {
	ac_label_lang lang;
	ac_label_size size;
	int dot_gain; /* -2..3 dots the head spreads black on each edge; dark modules
		       * are drawn that much narrower on each edge (negative: wider) */
	int darkness; /* -1: the printer's own; ZPL ~SD 0..30, TSPL DENSITY 0..15 */
} ac_label_printer;

#define AC_LABEL_MAX_GAIN 3
#define AC_LABEL_MIN_GAIN (-2)

/*
 * What one certificate's labels show. All strings are UTF-8 and borrowed for
 * the duration of the call. Text fields may be NULL or "" to leave the line
 * out (title, QR and piece line are always drawn). The contact is printed
 * as given: the legal 联系方式 is the full number.
 */
typedef struct ac_label_data {
	const char *product;	  /* 豇豆 */
	const char *quantity;	  /* "25 千克", formatted by the caller */
	const char *origin;	  /* 福建省安溪县凤城镇 */
	const char *issuer;	  /* 张三家庭农场 */
	const char *contact;	  /* 13859001234 */
	const char *date;	  /* 2026-11-23 */
	const char *number;	  /* certificate number */
	const char *promise;	  /* promise text, style 1 or 2 */
	const char *basis;	  /* 承诺依据, e.g. 质量安全控制符合要求 */
	const char *const *codes; /* QR texts: label i is 第i+1件/共ncodes件 */
	size_t ncodes;		  /* 1..AC_LABEL_MAX_CODES */
} ac_label_data;

/* Most labels in one document: callers split bigger print runs. */
#define AC_LABEL_MAX_CODES 1000
/* Longest QR text accepted, in bytes (a version 8-M QR holds 202 alphanumerics). */
#define AC_LABEL_MAX_CODE_LEN 1024
/* Longest text field accepted, in bytes. */
#define AC_LABEL_MAX_FIELD_LEN 1024

/* Why a label was refused: which field, which character. */
typedef struct ac_label_problem {
	const char *field; /* "origin", "issuer"... (static), or NULL */
	uint32_t cp;	   /* AC_EGLYPH: the character no font has */
} ac_label_problem;

typedef struct ac_label_renderer ac_label_renderer;

/*
 * Loads the TrueType label font at font_path (a .ttf, or face 0 of a .ttc
 * such as /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc) and the fallback
 * fonts (NULL-terminated list, may be NULL; files that do not exist are
 * skipped, at most 3 used), once. On success *out is a new renderer owned by
 * the caller (ac_label_renderer_free).
 * Returns 0, -errno (cannot read the label font) or AC_ERENDER (not a usable
 * TrueType font). Any thread.
 */
int ac_label_renderer_new(const char *font_path, const char *const *fallbacks,
			  ac_label_renderer **out);

/* How many fonts the renderer uses (1 + the fallbacks found). */
int ac_label_renderer_fonts(const ac_label_renderer *r);

/* Frees the renderer; NULL is allowed. No render may be running. */
void ac_label_renderer_free(ac_label_renderer *r);

/*
 * Renders one label per data->codes[i] for printer *p. On success *out is
 * a malloc'd buffer of *len bytes (PDF, ZPL or TSPL), now owned by the
 * caller (free()).
 * Returns 0; AC_ERANGE (bad size or settings, ncodes 0 or above
 * AC_LABEL_MAX_CODES, a field or code too long, a code that does not fit a
 * QR); AC_ETOOBIG (the texts do not fit this label: why->field names the
 * first that did not); AC_EGLYPH (why->cp has no glyph in any font, in
 * why->field); AC_ERENDER; -ENOMEM. why may be NULL.
 * Thread-safe: any number of threads may render with one renderer at once.
 * Blocking CPU work (about 1-3 ms a PDF, well under 1 ms for ZPL and TSPL
 * once the glyphs are cached): call it from a worker thread.
 */
int ac_label_render(ac_label_renderer *r, const ac_label_printer *p, const ac_label_data *data,
		    unsigned char **out, size_t *len, ac_label_problem *why);

/* The same as a PDF at size (no dot gain): what earlier callers used. */
int ac_label_render_pdf(ac_label_renderer *r, const ac_label_size *size, const ac_label_data *data,
			unsigned char **pdf, size_t *len);

/*
 * A calibration run for printer *p: one label per dot-gain compensation
 * 0..AC_LABEL_MAX_GAIN, each with a QR code drawn with that compensation
 * (as a graphic in ZPL and TSPL) and its number in large type. The operator
 * keeps the setting whose code has black and white modules of equal width
 * and scans first time. Same returns as ac_label_render.
 */
int ac_label_render_calibration(ac_label_renderer *r, const ac_label_printer *p, const char *code,
				unsigned char **out, size_t *len);

/*
 * Checks that every character of the UTF-8 text s has a glyph in some font.
 * Returns 0, or AC_EGLYPH with *missing the first that has none. Any thread.
 */
int ac_label_check_text(const ac_label_renderer *r, const char *s, uint32_t *missing);

#endif

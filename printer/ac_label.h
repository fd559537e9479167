/*
 * Label layout and PDF rendering: one page per QR code, the page exactly the
 * label size, the font embedded so the PDF prints on a host without CJK
 * fonts. The only module that includes hpdf.h and qrencode.h.
 *
 * Layout (all sizes, scaled): 承诺达标合格证 across the top, largest and
 * bold; the promise text under it across the full width (up to three lines);
 * then the fields on the left ("承诺依据：…", 产品, 数量, 产地, 开具方,
 * 联系方式, 日期, 编号) and the QR code on the right. The QR modules are
 * whole printer dots at the label's dpi, aligned to the dot grid from the
 * top-left corner, with a quiet zone of 2 modules; the module is as large as
 * the label allows while the fields stay readable, and never below 3 dots at
 * 203 dpi (0.375 mm). Text is measured: long fields wrap (hanging indent) and
 * shrink; what still does not fit is cut with "…"; nothing runs off the label.
 */
#ifndef AC_LABEL_H
#define AC_LABEL_H

#include <stddef.h>

/* A label: 40x30, 60x40, 70x50 or 100x70 mm, at 203 or 300 dpi. */
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
 * What one certificate's labels show. All strings are UTF-8 and borrowed for
 * the duration of the call. Text fields may be NULL or "" to leave the line
 * out (title and QR are always drawn). Characters the font lacks print as
 * blanks; characters outside the Unicode BMP are dropped.
 */
typedef struct ac_label_data {
	const char *product;	  /* 豇豆 */
	const char *quantity;	  /* "25 千克", formatted by the caller */
	const char *origin;	  /* 福建省安溪县凤城镇 */
	const char *issuer;	  /* 张三家庭农场 */
	const char *contact;	  /* phone, possibly masked: 138****5678 */
	const char *date;	  /* 2026-11-23 */
	const char *number;	  /* certificate number */
	const char *promise;	  /* promise text, style 1 or 2 */
	const char *basis;	  /* 承诺依据, e.g. 质量安全控制符合要求 */
	const char *const *codes; /* QR texts, one label (PDF page) each */
	size_t ncodes;		  /* 1..AC_LABEL_MAX_CODES */
} ac_label_data;

/* Most labels (pages) in one PDF: callers split bigger print runs. */
#define AC_LABEL_MAX_CODES 1000
/* Longest QR text accepted, in bytes (a version 8-M QR holds 202 alphanumerics). */
#define AC_LABEL_MAX_CODE_LEN 1024
/* Longest text field accepted, in bytes. */
#define AC_LABEL_MAX_FIELD_LEN 1024

typedef struct ac_label_renderer ac_label_renderer;

/*
 * Loads the TrueType font at font_path (a .ttf, or face 0 of a .ttc such as
 * /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc) once. On success *out is a
 * new renderer owned by the caller (ac_label_renderer_free).
 * Returns 0, -errno (cannot read the font) or AC_ERENDER (not a usable
 * TrueType font). Any thread.
 */
int ac_label_renderer_new(const char *font_path, ac_label_renderer **out);

/* Frees the renderer; NULL is allowed. No render may be running. */
void ac_label_renderer_free(ac_label_renderer *r);

/*
 * Renders one PDF page per data->codes[i] at size *size. On success *pdf is
 * a malloc'd buffer of *len bytes, now owned by the caller (free()).
 * Returns 0; AC_ERANGE (bad size, ncodes 0 or above AC_LABEL_MAX_CODES, a
 * field or code too long, a code that does not fit a QR); AC_ERENDER
 * (libharu or libqrencode failed); -ENOMEM or another -errno.
 * Thread-safe: any number of threads may render with one renderer at once
 * (the renderer is read-only after ac_label_renderer_new; each call builds
 * its own libharu document). Blocking CPU work (about 1-3 ms per label):
 * call it from a worker thread, never the event loop.
 */
int ac_label_render_pdf(ac_label_renderer *r, const ac_label_size *size, const ac_label_data *data,
			unsigned char **pdf, size_t *len);

#endif

/*
 * A TrueType subsetter for label fonts.
 *
 * Why it exists: libharu 2.3.0 embeds a TrueType font by copying every table
 * whole and writing a width for every glyph into the PDF (growing its arrays
 * one block at a time, so quadratically). With wqy-zenhei (44,960 glyphs)
 * that costs about 130 ms of CPU and 500 kB per PDF however little text the
 * label holds. A label uses a few dozen characters, so ac_label builds, per
 * PDF, a font holding only those glyphs (typically 10-20 kB) and hands that
 * to libharu: the PDF is small, fast to make and still renders on a host
 * without CJK fonts.
 *
 * ac_ttf_open() does the font work once: it maps the font file and locates
 * its tables. The mapping is read-only afterwards, so ac_ttf_subset() may run
 * on any number of threads at once on the same ac_ttf.
 */
#ifndef AC_TTF_H
#define AC_TTF_H

#include <stddef.h>
#include <stdint.h>

typedef struct ac_ttf ac_ttf;

/*
 * Maps path (a .ttf, or a .ttc of which face `index` is used) and checks the
 * tables the subsetter needs (head, hhea, maxp, hmtx, loca, glyf, cmap with a
 * Unicode BMP subtable, OS/2, name, post).
 * On success *out is a new ac_ttf owned by the caller (ac_ttf_free).
 * Returns 0, -errno when the file cannot be read, or AC_EMALFORMED.
 * Any thread.
 */
int ac_ttf_open(const char *path, unsigned index, ac_ttf **out);

/* Unmaps and frees. NULL is allowed. No ac_ttf_subset may be running. */
void ac_ttf_free(ac_ttf *ttf);

/* Returns 1 when the font has a glyph for code point cp, else 0. Any thread. */
int ac_ttf_has_glyph(const ac_ttf *ttf, uint32_t cp);

/*
 * Builds a standalone TrueType font with the glyphs of the n code points in
 * cps (any order, duplicates allowed; code points the font lacks or outside
 * the BMP are left out) plus .notdef and the components of composite glyphs.
 * Glyphs are renumbered; the cmap is a single (3,1) format 4 subtable.
 * On success *buf (malloc'd, now owned by the caller) holds *len bytes.
 * Returns 0, -ENOMEM, AC_ETOOBIG (more than 8,000 glyphs) or AC_EMALFORMED
 * (the font's own data is inconsistent). Any thread, concurrently.
 */
int ac_ttf_subset(const ac_ttf *ttf, const uint32_t *cps, size_t n, unsigned char **buf,
		  size_t *len);

#endif

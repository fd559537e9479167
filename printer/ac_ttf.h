/*
 * A TrueType subsetter for label fonts.
 *
 * Why it exists: a label uses a few dozen characters of a font of tens of
 * thousands of glyphs (wqy-zenhei has 44,960), so every PDF embeds a font
 * holding only the glyphs it draws (typically 10-20 kB): the PDF stays small,
 * fast to make, and renders on a host without CJK fonts. ac_pdf.c writes the
 * PDF itself, with the subset's glyph ids as CIDs (libharu, used before,
 * compressed a 128 kB CID-to-GID map into every PDF and could not draw
 * characters outside the BMP).
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
 * Unicode format 4 or format 12 subtable, OS/2, name, post).
 * On success *out is a new ac_ttf owned by the caller (ac_ttf_free).
 * Returns 0, -errno when the file cannot be read, or AC_EMALFORMED.
 * Any thread.
 */
int ac_ttf_open(const char *path, unsigned index, ac_ttf **out);

/* Unmaps and frees. NULL is allowed. No ac_ttf_subset may be running. */
void ac_ttf_free(ac_ttf *ttf);

/* Returns 1 when the font has a glyph for code point cp, else 0. Any thread. */
int ac_ttf_has_glyph(const ac_ttf *ttf, uint32_t cp);

/* The glyph id of code point cp (any plane), 0 when the font lacks it. Any thread. */
unsigned ac_ttf_glyph(const ac_ttf *ttf, uint32_t cp);

/* The advance width of glyph gid, in font units. Any thread. */
unsigned ac_ttf_advance(const ac_ttf *ttf, unsigned gid);

/* What a PDF font descriptor needs, in font units. */
typedef struct ac_ttf_info {
	unsigned units_per_em;
	int ascent, descent; /* hhea; descent is negative */
	int bbox[4];	     /* head: xMin, yMin, xMax, yMax */
} ac_ttf_info;

void ac_ttf_metrics(const ac_ttf *ttf, ac_ttf_info *out);

/*
 * Builds a standalone TrueType font holding .notdef as glyph 0, then glyph
 * gids[i] of ttf as glyph i + 1 (gids distinct, below the font's glyph
 * count), then the components of composite glyphs, renumbered. cps (may be
 * NULL) gives the code point of each, for the (3,1) format 4 cmap (BMP code
 * points only; PDF text uses the glyph ids and a ToUnicode map, not this
 * cmap). On success *buf (malloc'd, now owned by the caller) holds *len
 * bytes. Returns 0, -ENOMEM, AC_ETOOBIG (8,000 glyphs or more) or
 * AC_EMALFORMED (a glyph id out of range, or the font's own data is
 * inconsistent). Any thread, concurrently.
 */
int ac_ttf_subset(const ac_ttf *ttf, const uint16_t *gids, const uint32_t *cps, size_t n,
		  unsigned char **buf, size_t *len);

#endif

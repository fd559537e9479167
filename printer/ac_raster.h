/*
 * Glyph bitmaps for the raw label languages (ZPL ^GF, TSPL BITMAP): each
 * glyph rendered once per size by FreeType, 1 bit per printer dot, and kept
 * for the renderer's life. The only module that includes FreeType.
 *
 * Thread-safe: any number of threads may ask at once (a mutex guards the
 * faces and the cache; a cached glyph is read without copying).
 */
#ifndef AC_RASTER_H
#define AC_RASTER_H

typedef struct ac_raster ac_raster;

/* A glyph's bitmap: rows of pitch bytes, most significant bit leftmost, 1 =
 * ink; left and top place it from the pen position on the baseline (top is
 * the rows above the baseline). Owned by the raster. */
typedef struct ac_glyph_bits {
	int width, rows, pitch, left, top;
	unsigned char bits[];
} ac_glyph_bits;

/*
 * Opens face 0 of each of the n font files (TrueType or anything FreeType
 * reads). *out is new, owned by the caller (ac_raster_free). Returns 0,
 * -ENOMEM, or AC_ERENDER (FreeType could not open a font). Any thread.
 */
int ac_raster_new(const char *const *paths, int n, ac_raster **out);

/* Frees the faces and every cached bitmap. NULL is fine. Nothing may be
 * using it. */
void ac_raster_free(ac_raster *r);

/*
 * The bitmap of glyph gid of font `font` at px dots per em, emboldened when
 * bold. Returns it (valid until ac_raster_free), or NULL when FreeType
 * fails or memory runs out. Any thread.
 */
const ac_glyph_bits *ac_raster_glyph(ac_raster *r, int font, unsigned gid, int px, int bold);

#endif

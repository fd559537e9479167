/*
 * Glyph bitmaps through FreeType (see ac_raster.h). Monochrome rendering
 * with the font's hinting, from the outlines (embedded bitmaps would ignore
 * emboldening). The cache is an open-addressing table keyed by font, size,
 * weight and glyph; it only grows (a county's labels use a few thousand
 * glyph sizes).
 */
#include "ac_raster.h"

#include <errno.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"

#define RASTER_FONTS 4

typedef struct slot {
	uint64_t key; /* 0: empty */
	ac_glyph_bits *g;
} slot;

struct ac_raster {
	FT_Library lib;
	FT_Face faces[RASTER_FONTS];
	int nfaces;
	pthread_mutex_t lock;
	slot *table;
	size_t cap, used;
};

int ac_raster_new(const char *const *paths, int n, ac_raster **out)
{
	ac_raster *r;

	*out = NULL;
	if (n < 1 || n > RASTER_FONTS)
		return AC_ERANGE;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	if (FT_Init_FreeType(&r->lib) != 0) {
		ac_raster_free(r);
		return AC_ERENDER;
	}
	for (int i = 0; i < n; i++) {
		if (FT_New_Face(r->lib, paths[i], 0, &r->faces[i]) != 0) {
			ac_raster_free(r);
			return AC_ERENDER;
		}
		r->nfaces++;
	}
	*out = r;
	return 0;
}

void ac_raster_free(ac_raster *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->cap; i++)
		free(r->table[i].g);
	free(r->table);
	for (int i = 0; i < r->nfaces; i++)
		FT_Done_Face(r->faces[i]);
	if (r->lib != NULL)
		FT_Done_FreeType(r->lib);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static size_t hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k;
}

static slot *find(slot *table, size_t cap, uint64_t key)
{
	size_t i = hash(key) & (cap - 1);

	while (table[i].key != 0 && table[i].key != key)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

/* Doubles the table (at least 1,024 slots). Returns 0 or -ENOMEM. */
static int grow(ac_raster *r)
{
	size_t cap = r->cap ? r->cap * 2 : 1024;
	slot *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < r->cap; i++) {
		if (r->table[i].key != 0)
			*find(t, cap, r->table[i].key) = r->table[i];
	}
	free(r->table);
	r->table = t;
	r->cap = cap;
	return 0;
}

/* Renders the glyph the face's slot holds into a new ac_glyph_bits. */
static ac_glyph_bits *render(FT_Face face, int px, int bold)
{
	FT_GlyphSlot gs = face->glyph;
	ac_glyph_bits *g;

	if (bold && gs->format == FT_GLYPH_FORMAT_OUTLINE)
		FT_Outline_Embolden(&gs->outline, (FT_Pos)(px * 64 / 18));
	if (FT_Render_Glyph(gs, FT_RENDER_MODE_MONO) != 0)
		return NULL;
	FT_Bitmap *b = &gs->bitmap;
	int pitch = ((int)b->width + 7) / 8;
	g = calloc(1, sizeof(*g) + (size_t)pitch * b->rows + 1);
	if (g == NULL)
		return NULL;
	g->width = (int)b->width;
	g->rows = (int)b->rows;
	g->pitch = pitch;
	g->left = gs->bitmap_left;
	g->top = gs->bitmap_top;
	for (unsigned y = 0; y < b->rows; y++) {
		const unsigned char *src = b->buffer + (ptrdiff_t)y * b->pitch;
		memcpy(g->bits + (size_t)y * pitch, src, (size_t)pitch);
	}
	return g;
}

const ac_glyph_bits *ac_raster_glyph(ac_raster *r, int font, unsigned gid, int px, int bold)
{
	uint64_t key = (uint64_t)(font + 1) << 48 | (uint64_t)(px & 0x7fff) << 33 |
		       (uint64_t)(bold != 0) << 32 | gid;
	ac_glyph_bits *g = NULL;
	slot *s;

	if (font < 0 || px < 4 || px > 2000)
		return NULL;
	pthread_mutex_lock(&r->lock);
	if (font >= r->nfaces)
		goto out;
	if (r->cap && (s = find(r->table, r->cap, key))->key == key) {
		g = s->g;
		goto out;
	}
	if ((r->used + 1) * 2 > r->cap && grow(r) != 0)
		goto out;
	FT_Face face = r->faces[font];
	if (FT_Set_Pixel_Sizes(face, 0, (FT_UInt)px) != 0 ||
	    FT_Load_Glyph(face, gid, FT_LOAD_NO_BITMAP | FT_LOAD_TARGET_MONO) != 0)
		goto out;
	g = render(face, px, bold);
	if (g == NULL)
		goto out;
	s = find(r->table, r->cap, key);
	s->key = key;
	s->g = g;
	r->used++;
out:
	pthread_mutex_unlock(&r->lock);
	return g;
}

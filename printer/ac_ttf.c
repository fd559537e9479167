/*
 * TrueType subsetting for label fonts (see ac_ttf.h). Every read of the font
 * file is bounds-checked: the font is a system file, but a broken one must
 * make rendering fail, not crash the service.
 */
#include "ac_ttf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac_error.h"

#define AC_TTF_MAX_GLYPHS 8000

typedef struct ac_ttf_table {
	uint32_t off;
	uint32_t len;
} ac_ttf_table;

struct ac_ttf {
	const uint8_t *map;
	size_t size;
	ac_ttf_table head, hhea, maxp, hmtx, loca, glyf, cmap, os2, name, post, cvt;
	uint32_t cmap4; /* absolute offset of the (3,1) or (0,3) format 4 subtable */
	uint32_t cmap4_len;
	uint32_t cmap12; /* absolute offset of the (3,10) or (0,4) format 12 subtable */
	uint32_t cmap12_groups;
	uint16_t num_glyphs;
	uint16_t num_hmetrics;
	int loca_long;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* True when [off, off + len) lies inside the file. */
static int in_file(const ac_ttf *t, uint64_t off, uint64_t len)
{
	return off <= t->size && len <= t->size - off;
}

/*
 * The Unicode subtables: format 4 for the BMP ((3,1) preferred, (0,3)
 * accepted) and format 12 for every plane ((3,10) or (0,4)); a font needs
 * one of them.
 */
static int find_cmaps(ac_ttf *t)
{
	const uint8_t *cm = t->map + t->cmap.off;
	uint16_t nsub = rd16(cm + 2);

	if ((uint64_t)nsub * 8 + 4 > t->cmap.len)
		return AC_EMALFORMED;
	for (uint16_t i = 0; i < nsub; i++) {
		uint16_t plat = rd16(cm + 4 + 8 * i);
		uint16_t enc = rd16(cm + 6 + 8 * i);
		uint32_t so = rd32(cm + 8 + 8 * i);
		if ((uint64_t)so + 16 > t->cmap.len)
			continue;
		if (((plat == 3 && enc == 10) || (plat == 0 && enc == 4)) && rd16(cm + so) == 12) {
			uint32_t groups = rd32(cm + so + 12);
			if ((uint64_t)so + 16 + (uint64_t)groups * 12 <= t->cmap.len) {
				t->cmap12 = t->cmap.off + so;
				t->cmap12_groups = groups;
			}
			continue;
		}
		if (!((plat == 3 && enc == 1) || (plat == 0 && enc == 3)) || rd16(cm + so) != 4)
			continue;
		uint32_t len = rd16(cm + so + 2);
		if ((uint64_t)so + len > t->cmap.len || (t->cmap4 && plat != 3))
			continue;
		t->cmap4 = t->cmap.off + so;
		t->cmap4_len = len;
	}
	return t->cmap4 || t->cmap12 ? 0 : AC_EMALFORMED;
}

static int find_tables(ac_ttf *t, uint32_t dir)
{
	static const struct {
		const char *tag;
		size_t field;
		uint32_t min_len;
	} want[] = {
		{ "head", offsetof(ac_ttf, head), 54 }, { "hhea", offsetof(ac_ttf, hhea), 36 },
		{ "maxp", offsetof(ac_ttf, maxp), 6 },	{ "hmtx", offsetof(ac_ttf, hmtx), 4 },
		{ "loca", offsetof(ac_ttf, loca), 4 },	{ "glyf", offsetof(ac_ttf, glyf), 0 },
		{ "cmap", offsetof(ac_ttf, cmap), 4 },	{ "OS/2", offsetof(ac_ttf, os2), 78 },
		{ "name", offsetof(ac_ttf, name), 6 },	{ "post", offsetof(ac_ttf, post), 32 },
		{ "cvt ", offsetof(ac_ttf, cvt), 0 },
	};

	if (!in_file(t, dir, 12))
		return AC_EMALFORMED;
	uint32_t ver = rd32(t->map + dir);
	if (ver != 0x00010000 && ver != 0x74727565 /* 'true' */)
		return AC_EMALFORMED;
	uint16_t n = rd16(t->map + dir + 4);
	if (!in_file(t, dir + 12, (uint64_t)n * 16))
		return AC_EMALFORMED;
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *rec = t->map + dir + 12 + 16 * i;
		for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
			if (memcmp(rec, want[w].tag, 4) != 0)
				continue;
			ac_ttf_table *tb = (ac_ttf_table *)((char *)t + want[w].field);
			tb->off = rd32(rec + 8);
			tb->len = rd32(rec + 12);
			if (!in_file(t, tb->off, tb->len) || tb->len < want[w].min_len)
				return AC_EMALFORMED;
		}
	}
	/* cvt is optional; everything else is needed. */
	if (!t->head.off || !t->hhea.off || !t->maxp.off || !t->hmtx.off || !t->loca.off ||
	    !t->glyf.off || !t->cmap.off || !t->os2.off || !t->name.off || !t->post.off)
		return AC_EMALFORMED;

	t->num_glyphs = rd16(t->map + t->maxp.off + 4);
	t->num_hmetrics = rd16(t->map + t->hhea.off + 34);
	t->loca_long = rd16(t->map + t->head.off + 50) == 1;
	if (t->num_glyphs == 0 || t->num_hmetrics == 0 || t->num_hmetrics > t->num_glyphs)
		return AC_EMALFORMED;
	if ((uint64_t)t->num_hmetrics * 4 + (uint64_t)(t->num_glyphs - t->num_hmetrics) * 2 >
	    t->hmtx.len)
		return AC_EMALFORMED;
	if ((uint64_t)(t->num_glyphs + 1) * (t->loca_long ? 4 : 2) > t->loca.len)
		return AC_EMALFORMED;

	return find_cmaps(t);
}

int ac_ttf_open(const char *path, unsigned index, ac_ttf **out)
{
	int r = AC_EMALFORMED;
	int fd = -1;
	ac_ttf *t = NULL;
	struct stat st;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		r = -ENOMEM;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size < 12) {
		r = AC_EMALFORMED;
		goto out;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	t->map = m;
	t->size = (size_t)st.st_size;

	uint32_t dir = 0;
	if (memcmp(t->map, "ttcf", 4) == 0) {
		uint32_t nfaces = rd32(t->map + 8);
		if (index >= nfaces || !in_file(t, 12 + 4 * (uint64_t)index, 4))
			goto out;
		dir = rd32(t->map + 12 + 4 * index);
	} else if (index != 0) {
		goto out;
	}
	r = find_tables(t, dir);
	if (r < 0)
		goto out;
	*out = t;
	t = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	ac_ttf_free(t);
	return r;
}

void ac_ttf_free(ac_ttf *ttf)
{
	if (!ttf)
		return;
	if (ttf->map)
		munmap((void *)ttf->map, ttf->size);
	free(ttf);
}

/* Glyph id for cp from the format 4 subtable, 0 when absent. */
static uint16_t lookup4(const ac_ttf *t, uint32_t cp)
{
	if (cp > 0xFFFF || !t->cmap4)
		return 0;
	const uint8_t *s = t->map + t->cmap4;
	uint32_t len = t->cmap4_len;
	uint32_t segs = rd16(s + 6) / 2;
	if (segs == 0 || 16 + (uint64_t)segs * 8 > len)
		return 0;
	const uint8_t *ends = s + 14;
	const uint8_t *starts = ends + 2 * segs + 2;
	const uint8_t *deltas = starts + 2 * segs;
	const uint8_t *ranges = deltas + 2 * segs;

	uint32_t lo = 0, hi = segs;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (rd16(ends + 2 * mid) < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == segs || rd16(starts + 2 * lo) > cp)
		return 0;
	uint16_t ro = rd16(ranges + 2 * lo);
	uint16_t delta = rd16(deltas + 2 * lo);
	if (ro == 0)
		return (uint16_t)(cp + delta);
	uint64_t at = (uint64_t)(ranges + 2 * lo - s) + ro + 2 * (cp - rd16(starts + 2 * lo));
	if (at + 2 > len)
		return 0;
	uint16_t g = rd16(s + at);
	return g ? (uint16_t)(g + delta) : 0;
}

/* Glyph id for cp from the format 12 subtable (sorted groups), 0 when absent. */
static uint16_t lookup12(const ac_ttf *t, uint32_t cp)
{
	const uint8_t *g = t->map + t->cmap12 + 16;
	uint32_t lo = 0, hi = t->cmap12_groups;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (rd32(g + 12 * mid + 4) < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->cmap12_groups || rd32(g + 12 * lo) > cp)
		return 0;
	uint32_t gid = rd32(g + 12 * lo + 8) + (cp - rd32(g + 12 * lo));
	return gid < t->num_glyphs ? (uint16_t)gid : 0;
}

unsigned ac_ttf_glyph(const ac_ttf *ttf, uint32_t cp)
{
	if (ttf->cmap12)
		return lookup12(ttf, cp);
	return lookup4(ttf, cp);
}

int ac_ttf_has_glyph(const ac_ttf *ttf, uint32_t cp)
{
	return ac_ttf_glyph(ttf, cp) != 0;
}

unsigned ac_ttf_advance(const ac_ttf *ttf, unsigned gid)
{
	const uint8_t *hm = ttf->map + ttf->hmtx.off;

	if (gid >= ttf->num_glyphs)
		gid = 0;
	if (gid >= ttf->num_hmetrics)
		gid = ttf->num_hmetrics - 1u;
	return rd16(hm + 4 * gid);
}

void ac_ttf_metrics(const ac_ttf *ttf, ac_ttf_info *out)
{
	const uint8_t *head = ttf->map + ttf->head.off;
	const uint8_t *hhea = ttf->map + ttf->hhea.off;

	out->units_per_em = rd16(head + 18);
	if (out->units_per_em < 16)
		out->units_per_em = 1000;
	out->bbox[0] = (int16_t)rd16(head + 36);
	out->bbox[1] = (int16_t)rd16(head + 38);
	out->bbox[2] = (int16_t)rd16(head + 40);
	out->bbox[3] = (int16_t)rd16(head + 42);
	out->ascent = (int16_t)rd16(hhea + 4);
	out->descent = (int16_t)rd16(hhea + 6);
}

static int glyph_range(const ac_ttf *t, uint16_t g, uint32_t *off, uint32_t *len)
{
	uint32_t a, b;
	if (g >= t->num_glyphs)
		return AC_EMALFORMED;
	if (t->loca_long) {
		a = rd32(t->map + t->loca.off + 4 * g);
		b = rd32(t->map + t->loca.off + 4 * g + 4);
	} else {
		a = 2 * (uint32_t)rd16(t->map + t->loca.off + 2 * g);
		b = 2 * (uint32_t)rd16(t->map + t->loca.off + 2 * g + 2);
	}
	if (a > b || b > t->glyf.len)
		return AC_EMALFORMED;
	*off = t->glyf.off + a;
	*len = b - a;
	return 0;
}

#define ARG_1_AND_2_ARE_WORDS	 0x0001
#define WE_HAVE_A_SCALE		 0x0008
#define MORE_COMPONENTS		 0x0020
#define WE_HAVE_AN_X_AND_Y_SCALE 0x0040
#define WE_HAVE_A_TWO_BY_TWO	 0x0080

/*
 * Calls fn for each component reference of a composite glyph (data, len);
 * fn gets the position of the 16-bit glyph index. Returns AC_EMALFORMED when
 * the component list runs past the glyph.
 */
static int each_component(uint8_t *data, uint32_t len, int (*fn)(uint8_t *at, void *arg), void *arg)
{
	uint32_t p = 10;
	uint16_t flags;
	do {
		if (p + 4 > len)
			return AC_EMALFORMED;
		flags = rd16(data + p);
		int r = fn(data + p + 2, arg);
		if (r < 0)
			return r;
		p += 4 + ((flags & ARG_1_AND_2_ARE_WORDS) ? 4 : 2);
		if (flags & WE_HAVE_A_SCALE)
			p += 2;
		else if (flags & WE_HAVE_AN_X_AND_Y_SCALE)
			p += 4;
		else if (flags & WE_HAVE_A_TWO_BY_TWO)
			p += 8;
	} while (flags & MORE_COMPONENTS);
	return p <= len ? 0 : AC_EMALFORMED;
}

typedef struct glyph_set {
	uint16_t old[AC_TTF_MAX_GLYPHS];
	uint32_t n;
} glyph_set;

/* Returns the new id of old glyph g, adding it when new; -1 when full. */
static int set_add(glyph_set *s, uint16_t g)
{
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->old[i] == g)
			return (int)i;
	}
	if (s->n == AC_TTF_MAX_GLYPHS)
		return -1;
	s->old[s->n] = g;
	return (int)s->n++;
}

static int add_component(uint8_t *at, void *arg)
{
	return set_add(arg, rd16(at)) < 0 ? AC_ETOOBIG : 0;
}

static int renumber_component(uint8_t *at, void *arg)
{
	int id = set_add(arg, rd16(at)); /* present already: finds, never adds */
	if (id < 0)
		return AC_ETOOBIG;
	wr16(at, (uint32_t)id);
	return 0;
}

typedef struct cmap_entry {
	uint16_t cp;
	uint16_t gid;
} cmap_entry;

static uint32_t checksum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; i < len; i += 4)
		sum += rd32(p + i);
	return sum;
}

/* Largest power of two not above n (n > 0), and its log2. */
static uint32_t search_for(uint32_t n)
{
	uint32_t p = 1;
	while (p * 2 <= n)
		p *= 2;
	return p;
}

static uint32_t log2_floor(uint32_t n)
{
	uint32_t l = 0;
	while (n > 1) {
		n /= 2;
		l++;
	}
	return l;
}

/*
 * Groups the sorted map into format 4 segments. libharu looks up every BMP
 * code point in the subset's cmap with a linear scan over the segments, so
 * few segments matter more than a small table: characters less than `gap`
 * apart share a segment with a glyph id array (0 for the holes). The widest
 * gap whose array fits the 16-bit table length is chosen.
 * Fills seg_start[] (indexes into map, last = nmap) and returns the count.
 */
static uint32_t plan_segments(const cmap_entry *map, size_t nmap, uint32_t *seg_start,
			      uint32_t *array_len)
{
	for (uint32_t gap = 256;; gap /= 2) {
		uint32_t segs = 0, arr = 0;
		for (size_t i = 0; i < nmap; i++) {
			if (i == 0 || (uint32_t)(map[i].cp - map[i - 1].cp) > gap)
				seg_start[segs++] = (uint32_t)i;
			if (i > 0 && (uint32_t)(map[i].cp - map[i - 1].cp) <= gap)
				arr += map[i].cp - map[i - 1].cp;
			else
				arr += 1;
		}
		seg_start[segs] = (uint32_t)nmap;
		if (16 + 8 * (uint64_t)(segs + 1) + 2 * (uint64_t)arr <= 65000 || gap <= 1) {
			*array_len = arr;
			return segs;
		}
	}
}

static uint32_t pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

enum { T_OS2, T_CMAP, T_CVT, T_GLYF, T_HEAD, T_HHEA, T_HMTX, T_LOCA, T_MAXP, T_NAME, T_POST, T_N };

/* The work of one ac_ttf_subset() call, freed at its end but for out. */
typedef struct subset {
	const ac_ttf *ttf;
	cmap_entry *map; /* code point to new glyph id, by code point */
	size_t nmap;
	glyph_set *set; /* old glyph ids in their new order */
	uint32_t *seg_start;
	uint32_t segs; /* format 4 segments, the final 0xFFFF one included */
	uint32_t tlen[T_N];
	uint32_t toff[T_N];
	uint32_t ntables;
	uint32_t total;
	uint8_t *out;
} subset;

static int cmp_entry(const void *a, const void *b)
{
	const cmap_entry *x = a, *y = b;
	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

/*
 * Glyph gids[i] becomes glyph i + 1 (.notdef is glyph 0); the BMP code points
 * of cps go into the cmap, sorted, each once.
 */
static int map_glyphs(subset *s, const uint16_t *gids, const uint32_t *cps, size_t n)
{
	s->set->n = 0;
	set_add(s->set, 0);
	for (size_t i = 0; i < n; i++) {
		if (s->set->n == AC_TTF_MAX_GLYPHS)
			return AC_ETOOBIG;
		if (gids[i] >= s->ttf->num_glyphs)
			return AC_EMALFORMED;
		s->set->old[s->set->n++] = gids[i];
		if (cps && cps[i] && cps[i] <= 0xFFFF) {
			s->map[s->nmap].cp = (uint16_t)cps[i];
			s->map[s->nmap].gid = (uint16_t)(i + 1);
			s->nmap++;
		}
	}
	qsort(s->map, s->nmap, sizeof(*s->map), cmp_entry);
	size_t k = 0;
	for (size_t i = 0; i < s->nmap; i++) {
		if (k == 0 || s->map[k - 1].cp != s->map[i].cp)
			s->map[k++] = s->map[i];
	}
	s->nmap = k;
	return 0;
}

/* Adds the components of composite glyphs to s->set; sums the glyf length. */
static int close_composites(subset *s, uint32_t *glyf_len)
{
	const ac_ttf *ttf = s->ttf;

	*glyf_len = 0;
	/* s->set->n grows while we walk it. */
	for (uint32_t i = 0; i < s->set->n; i++) {
		uint32_t off, gl;
		int r = glyph_range(ttf, s->set->old[i], &off, &gl);
		if (r < 0)
			return r;
		if (gl >= 10 && (int16_t)rd16(ttf->map + off) < 0) {
			/* add_component only reads: the mapping stays untouched. */
			r = each_component((uint8_t *)(ttf->map + off), gl, add_component, s->set);
			if (r < 0)
				return r;
		}
		*glyf_len += pad4(gl);
	}
	return 0;
}

/* Sizes and places every table, and allocates the zeroed font in s->out. */
static int plan_tables(subset *s, uint32_t glyf_len)
{
	const ac_ttf *ttf = s->ttf;
	uint32_t arr_len = 0;

	s->seg_start = malloc((s->nmap + 1) * sizeof(*s->seg_start));
	if (!s->seg_start)
		return -ENOMEM;
	s->segs = plan_segments(s->map, s->nmap, s->seg_start, &arr_len) + 1;
	s->tlen[T_OS2] = ttf->os2.len;
	s->tlen[T_CMAP] = 4 + 8 + 16 + 8 * s->segs + 2 * arr_len;
	s->tlen[T_CVT] = ttf->cvt.len;
	s->tlen[T_GLYF] = glyf_len;
	s->tlen[T_HEAD] = 54;
	s->tlen[T_HHEA] = 36;
	s->tlen[T_HMTX] = 4 * s->set->n;
	s->tlen[T_LOCA] = 4 * (s->set->n + 1);
	s->tlen[T_MAXP] = ttf->maxp.len;
	s->tlen[T_NAME] = ttf->name.len;
	s->tlen[T_POST] = 32;
	s->ntables = ttf->cvt.off ? T_N : T_N - 1;
	s->total = 12 + 16 * s->ntables;
	for (int t = 0; t < T_N; t++) {
		if (t == T_CVT && !ttf->cvt.off)
			continue;
		s->toff[t] = s->total;
		s->total += pad4(s->tlen[t]);
	}
	s->out = calloc(1, s->total);
	return s->out ? 0 : -ENOMEM;
}

/* The tables taken over from the font, some with new glyph counts. */
static void copy_tables(subset *s)
{
	const ac_ttf *ttf = s->ttf;
	const uint8_t *m = ttf->map;
	uint8_t *out = s->out;

	memcpy(out + s->toff[T_OS2], m + ttf->os2.off, s->tlen[T_OS2]);
	if (ttf->cvt.off)
		memcpy(out + s->toff[T_CVT], m + ttf->cvt.off, s->tlen[T_CVT]);
	memcpy(out + s->toff[T_MAXP], m + ttf->maxp.off, s->tlen[T_MAXP]);
	wr16(out + s->toff[T_MAXP] + 4, s->set->n);
	memcpy(out + s->toff[T_NAME], m + ttf->name.off, s->tlen[T_NAME]);
	memcpy(out + s->toff[T_HEAD], m + ttf->head.off, 54);
	wr32(out + s->toff[T_HEAD] + 8, 0);  /* checkSumAdjustment, set last */
	wr16(out + s->toff[T_HEAD] + 50, 1); /* long loca */
	memcpy(out + s->toff[T_HHEA], m + ttf->hhea.off, 36);
	wr16(out + s->toff[T_HHEA] + 34, s->set->n);

	/* post format 3: no glyph names. */
	uint8_t *post = out + s->toff[T_POST];
	wr32(post, 0x00030000);
	memcpy(post + 4, m + ttf->post.off + 4, 12);
}

/* Writes the horizontal metrics of old glyph g at hmtx entry i. */
static void copy_metrics(const ac_ttf *ttf, uint16_t g, uint8_t *hmtx, uint32_t i)
{
	const uint8_t *shm = ttf->map + ttf->hmtx.off;
	uint16_t adv;
	int16_t lsb;

	if (g < ttf->num_hmetrics) {
		adv = rd16(shm + 4 * g);
		lsb = (int16_t)rd16(shm + 4 * g + 2);
	} else {
		adv = rd16(shm + 4 * (ttf->num_hmetrics - 1));
		lsb = (int16_t)rd16(shm + 4 * ttf->num_hmetrics + 2 * (g - ttf->num_hmetrics));
	}
	wr16(hmtx + 4 * i, adv);
	wr16(hmtx + 4 * i + 2, (uint16_t)lsb);
}

/* glyf, loca and hmtx in the new order, composite glyphs renumbered. */
static int write_glyphs(subset *s)
{
	const ac_ttf *ttf = s->ttf;
	uint8_t *glyf = s->out + s->toff[T_GLYF];
	uint8_t *loca = s->out + s->toff[T_LOCA];
	uint8_t *hmtx = s->out + s->toff[T_HMTX];
	uint32_t at = 0;

	for (uint32_t i = 0; i < s->set->n; i++) {
		uint16_t g = s->set->old[i];
		uint32_t off, gl;
		int r = glyph_range(ttf, g, &off, &gl);
		if (r < 0)
			return r;
		wr32(loca + 4 * i, at);
		memcpy(glyf + at, ttf->map + off, gl);
		if (gl >= 10 && (int16_t)rd16(glyf + at) < 0) {
			r = each_component(glyf + at, gl, renumber_component, s->set);
			if (r < 0)
				return r;
		}
		at += pad4(gl);
		copy_metrics(ttf, g, hmtx, i);
	}
	wr32(loca + 4 * s->set->n, at);
	return 0;
}

/* cmap: one (3,1) format 4 subtable, with the segments plan_segments() chose. */
static void write_cmap(subset *s)
{
	uint32_t segs = s->segs;
	uint8_t *cm = s->out + s->toff[T_CMAP];
	wr16(cm, 0);
	wr16(cm + 2, 1);
	wr16(cm + 4, 3);
	wr16(cm + 6, 1);
	wr32(cm + 8, 12);
	uint8_t *f4 = cm + 12;
	uint32_t search = search_for(segs), selector = log2_floor(segs);
	wr16(f4, 4);
	wr16(f4 + 2, s->tlen[T_CMAP] - 12);
	wr16(f4 + 4, 0);
	wr16(f4 + 6, 2 * segs);
	wr16(f4 + 8, 2 * search);
	wr16(f4 + 10, selector);
	wr16(f4 + 12, 2 * segs - 2 * search);
	uint8_t *ends = f4 + 14, *starts = ends + 2 * segs + 2;
	uint8_t *deltas = starts + 2 * segs, *ranges = deltas + 2 * segs;
	uint8_t *gids = ranges + 2 * segs;
	uint32_t arr = 0;
	for (uint32_t sg = 0; sg + 1 < segs; sg++) {
		uint32_t a = s->seg_start[sg], b = s->seg_start[sg + 1];
		uint16_t first = s->map[a].cp, last = s->map[b - 1].cp;
		wr16(ends + 2 * sg, last);
		wr16(starts + 2 * sg, first);
		wr16(deltas + 2 * sg, 0);
		wr16(ranges + 2 * sg, 2 * (segs - sg) + 2 * arr);
		for (uint32_t i = a; i < b; i++)
			wr16(gids + 2 * (arr + s->map[i].cp - first), s->map[i].gid);
		arr += (uint32_t)(last - first) + 1;
	}
	wr16(ends + 2 * (segs - 1), 0xFFFF);
	wr16(starts + 2 * (segs - 1), 0xFFFF);
	wr16(deltas + 2 * (segs - 1), 1);
	wr16(ranges + 2 * (segs - 1), 0);
}

/* The table directory with checksums, then head's checkSumAdjustment. */
static void write_directory(subset *s)
{
	/* Sorted by tag, as the table directory must be. */
	static const char tags[T_N][5] = { "OS/2", "cmap", "cvt ", "glyf", "head", "hhea",
					   "hmtx", "loca", "maxp", "name", "post" };
	uint8_t *out = s->out;
	uint32_t ntables = s->ntables;

	wr32(out, 0x00010000);
	wr16(out + 4, ntables);
	wr16(out + 6, 16 * search_for(ntables));
	wr16(out + 8, log2_floor(ntables));
	wr16(out + 10, 16 * ntables - 16 * search_for(ntables));
	uint8_t *rec = out + 12;
	for (int t = 0; t < T_N; t++) {
		if (t == T_CVT && !s->ttf->cvt.off)
			continue;
		memcpy(rec, tags[t], 4);
		wr32(rec + 4, checksum(out + s->toff[t], s->tlen[t]));
		wr32(rec + 8, s->toff[t]);
		wr32(rec + 12, s->tlen[t]);
		rec += 16;
	}
	wr32(out + s->toff[T_HEAD] + 8, 0xB1B0AFBAu - checksum(out, s->total));
}

int ac_ttf_subset(const ac_ttf *ttf, const uint16_t *gids, const uint32_t *cps, size_t n,
		  unsigned char **buf, size_t *len)
{
	subset s = { .ttf = ttf };
	uint32_t glyf_len = 0;
	int r = -ENOMEM;

	*buf = NULL;
	*len = 0;
	if (n >= AC_TTF_MAX_GLYPHS)
		return AC_ETOOBIG;
	s.map = malloc((n ? n : 1) * sizeof(*s.map));
	s.set = malloc(sizeof(*s.set));
	if (!s.map || !s.set)
		goto out;
	r = map_glyphs(&s, gids, cps, n);
	if (r < 0)
		goto out;
	r = close_composites(&s, &glyf_len);
	if (r < 0)
		goto out;
	r = plan_tables(&s, glyf_len);
	if (r < 0)
		goto out;
	copy_tables(&s);
	r = write_glyphs(&s);
	if (r < 0)
		goto out;
	write_cmap(&s);
	write_directory(&s);

	*buf = s.out;
	*len = s.total;
	s.out = NULL;
	r = 0;
out:
	free(s.out);
	free(s.set);
	free(s.seg_start);
	free(s.map);
	return r;
}

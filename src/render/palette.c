/* Flame graph colours: palettes, shade selection, differential scale, backgrounds, the palette.map file. */
#include "palette.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"

const char *const palette_names[] = {
	"hot", "mem", "io", "wakeup", "chain", "java", "js", "perl",
	"red", "green", "blue", "aqua", "yellow", "purple", "orange", NULL,
};

int palette_by_name(const char *name)
{
	int i;

	for (i = 0; palette_names[i]; i++)
		if (!strcmp(palette_names[i], name))
			return i;
	return -1;
}

/* Decodes UTF-8 into code points (an invalid byte is U+FFFD, as a reader decoding with :utf8 sees it). */
static size_t decode_utf8(const char *str, size_t len, uint32_t *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n = 0, k, need;
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			out[n++] = c;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
		} else {
			out[n++] = 0xfffd;
			i++;
			continue;
		}
		if (i + need >= len) {
			out[n++] = 0xfffd;
			i++;
			continue;
		}
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (k <= need) {
			out[n++] = 0xfffd;
			i++;
			continue;
		}
		out[n++] = cp;
		i += need + 1;
	}
	return n;
}

/*
 * flamegraph.pl's namehash: a value in [0, 1] from the first three characters after any "module`" prefix,
 * weighting early characters more, so that similar names get similar shades.
 */
static double namehash(const uint32_t *cp, size_t n)
{
	double vector = 0, weight = 1, max = 1;
	unsigned mod = 10;
	size_t i, start = 0;

	/* s/.(.*?)`// : drop everything up to the first backtick after the first character */
	for (i = 1; i < n; i++) {
		if (cp[i] == '`') {
			start = i + 1;
			break;
		}
	}
	for (i = start; i < n; i++) {
		unsigned v = cp[i] % mod;

		vector += ((double)v / (mod++ - 1)) * weight;
		max += weight;
		weight *= 0.70;
		if (mod > 12)
			break;
	}
	return 1 - vector / max;
}

/*
 * flamegraph.pl's default shade: srand(sum of the code points mod 2^32) then rand(), with perl's own drand48,
 * so a name gets the same colour here as there.
 */
static double name_random(const uint32_t *cp, size_t n)
{
	uint32_t sum = 0;
	uint64_t x;
	size_t i;

	for (i = 0; i < n; i++)
		sum += cp[i];
	x = ((uint64_t)sum << 16) | 0x330e;
	x = (x * 0x5deece66dULL + 0xb) & ((1ULL << 48) - 1);
	return (double)x / (double)(1ULL << 48);
}

static double rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / (double)(1ULL << 53);
}

static bool has(const char *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle)) != NULL;
}

static bool ends(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* "^L?(java|javax|jdk|net|org|com|io|sun)/" */
static bool java_package(const char *s, size_t len)
{
	static const char *const pkgs[] = { "java/", "javax/", "jdk/", "net/", "org/", "com/", "io/", "sun/" };
	size_t i, n;

	if (len && s[0] == 'L') {
		for (i = 0; i < ARRAY_SIZE(pkgs); i++) {
			n = strlen(pkgs[i]);
			if (len - 1 >= n && !memcmp(s + 1, pkgs[i], n))
				return true;
		}
	}
	for (i = 0; i < ARRAY_SIZE(pkgs); i++) {
		n = strlen(pkgs[i]);
		if (len >= n && !memcmp(s, pkgs[i], n))
			return true;
	}
	return false;
}

/* "/.*\.js" : a slash followed, somewhere later, by ".js" */
static bool js_path(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);

	return slash && memmem(slash + 1, len - (size_t)(slash + 1 - s), ".js", 3);
}

/* The multi palettes pick a flat palette by what the frame is (annotations, name patterns, hints). */
static enum palette resolve(enum palette pal, const char *s, size_t len, unsigned hints)
{
	switch (pal) {
	case PALETTE_JAVA:
		if (ends(s, len, "_[j]") || (hints & PALETTE_HINT_JIT))
			return PALETTE_GREEN;
		if (ends(s, len, "_[i]") || (hints & PALETTE_HINT_INLINED))
			return PALETTE_AQUA;
		if (java_package(s, len) || has(s, len, ":::"))
			return PALETTE_GREEN;
		if (has(s, len, "::"))
			return PALETTE_YELLOW;
		if (ends(s, len, "_[k]") || (hints & PALETTE_HINT_KERNEL))
			return PALETTE_ORANGE;
		return PALETTE_RED;
	case PALETTE_JS:
		if (ends(s, len, "_[j]") || (hints & PALETTE_HINT_JIT))
			return memchr(s, '/', len) ? PALETTE_GREEN : PALETTE_AQUA;
		if (has(s, len, "::"))
			return PALETTE_YELLOW;
		if (js_path(s, len))
			return PALETTE_GREEN;
		if (memchr(s, ':', len))
			return PALETTE_AQUA;
		if (len == 1 && s[0] == ' ')
			return PALETTE_GREEN;
		if (has(s, len, "_[k]") || (hints & PALETTE_HINT_KERNEL))
			return PALETTE_ORANGE;
		return PALETTE_RED;
	case PALETTE_PERL:
		if (has(s, len, "::"))
			return PALETTE_YELLOW;
		if (has(s, len, "Perl") || has(s, len, ".pl"))
			return PALETTE_GREEN;
		if (ends(s, len, "_[k]") || (hints & PALETTE_HINT_KERNEL))
			return PALETTE_ORANGE;
		return PALETTE_RED;
	case PALETTE_WAKEUP:
		return PALETTE_AQUA;
	case PALETTE_CHAIN:
		if (has(s, len, "_[w]") || (hints & PALETTE_HINT_WAKER))
			return PALETTE_AQUA;
		return PALETTE_BLUE;
	default:
		return pal;
	}
}

static struct rgb mk(int r, int g, int b)
{
	struct rgb c = { (uint8_t)r, (uint8_t)g, (uint8_t)b };

	return c;
}

struct rgb palette_color(enum palette pal, enum palette_mode mode, const char *name, size_t len, unsigned hints,
			 uint64_t *rng)
{
	uint32_t small[64] = { 0 }, *cp = small, tmp;
	double v1, v2, v3;
	size_t n, i;

	if (mode == PALETTE_RANDOM) {
		v1 = rng_next(rng);
		v2 = rng_next(rng);
		v3 = rng_next(rng);
	} else {
		if (len > ARRAY_SIZE(small))
			cp = xmalloc(len * sizeof(*cp));
		n = decode_utf8(name, len, cp);
		if (mode == PALETTE_BY_HASH) {
			v1 = namehash(cp, n);
			for (i = 0; i < n / 2; i++) {
				tmp = cp[i];
				cp[i] = cp[n - 1 - i];
				cp[n - 1 - i] = tmp;
			}
			v2 = v3 = namehash(cp, n);
		} else {
			v1 = v2 = v3 = name_random(cp, n);
		}
		if (cp != small)
			free(cp);
	}

	switch (resolve(pal, name, len, hints)) {
	case PALETTE_HOT:
		return mk(205 + (int)(50 * v3), (int)(230 * v1), (int)(55 * v2));
	case PALETTE_MEM:
		return mk(0, 190 + (int)(50 * v2), (int)(210 * v1));
	case PALETTE_IO:
		return mk(80 + (int)(60 * v1), 80 + (int)(60 * v1), 190 + (int)(55 * v2));
	case PALETTE_RED:
		return mk(200 + (int)(55 * v1), 50 + (int)(80 * v1), 50 + (int)(80 * v1));
	case PALETTE_GREEN:
		return mk(50 + (int)(60 * v1), 200 + (int)(55 * v1), 50 + (int)(60 * v1));
	case PALETTE_BLUE:
		return mk(80 + (int)(60 * v1), 80 + (int)(60 * v1), 205 + (int)(50 * v1));
	case PALETTE_YELLOW:
		return mk(175 + (int)(55 * v1), 175 + (int)(55 * v1), 50 + (int)(20 * v1));
	case PALETTE_PURPLE:
		return mk(190 + (int)(65 * v1), 80 + (int)(60 * v1), 190 + (int)(65 * v1));
	case PALETTE_AQUA:
		return mk(50 + (int)(60 * v1), 165 + (int)(55 * v1), 165 + (int)(55 * v1));
	case PALETTE_ORANGE:
		return mk(190 + (int)(65 * v1), 90 + (int)(65 * v1), 0);
	default:
		return mk(0, 0, 0);
	}
}

struct rgb palette_diff_color(double delta, double maxdelta, bool negate)
{
	int r = 255, g = 255, b = 255;

	if (negate)
		delta = -delta;
	if (maxdelta <= 0)
		return mk(r, g, b);
	if (delta > 0)
		g = b = (int)(210 * (maxdelta - delta) / maxdelta);
	else if (delta < 0)
		r = g = (int)(210 * (maxdelta + delta) / maxdelta);
	return mk(r, g, b);
}

static bool is_hex_color(const char *s);

static double linear(uint8_t v)
{
	double c = v / 255.0;

	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

double palette_luminance(struct rgb c)
{
	return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

double palette_contrast(struct rgb a, struct rgb b)
{
	double la = palette_luminance(a), lb = palette_luminance(b);

	return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

struct rgb palette_text_color(struct rgb bg)
{
	struct rgb black = mk(0, 0, 0), white = mk(255, 255, 255);

	return palette_contrast(bg, white) > palette_contrast(bg, black) ? white : black;
}

bool palette_parse_rgb(const char *s, struct rgb *out)
{
	unsigned r, g, b;
	int end = -1;

	if (is_hex_color(s) && sscanf(s + 1, "%2x%2x%2x", &r, &g, &b) == 3) {
		*out = mk((int)r, (int)g, (int)b);
		return true;
	}
	if (sscanf(s, "rgb(%u,%u,%u)%n", &r, &g, &b, &end) != 3 || end < 0 || s[end] || r > 255 || g > 255 ||
	    b > 255)
		return false;
	*out = mk((int)r, (int)g, (int)b);
	return true;
}

const char *palette_rgb_str(char *out, struct rgb c)
{
	snprintf(out, 20, "rgb(%u,%u,%u)", c.r, c.g, c.b);
	return out;
}

static bool is_hex_color(const char *s)
{
	size_t i;

	if (s[0] != '#' || strlen(s) != 7)
		return false;
	for (i = 1; i < 7; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

int palette_background(const char *spec, enum palette pal, char top[8], char bottom[8], struct err *e)
{
	static const struct {
		const char *name, *top, *bottom;
	} grads[] = {
		{ "yellow", "#eeeeee", "#eeeeb0" },
		{ "blue", "#eeeeee", "#e0e0ff" },
		{ "green", "#eef2ee", "#e0ffe0" },
		{ "grey", "#f8f8f8", "#e8e8e8" },
		{ "gray", "#f8f8f8", "#e8e8e8" },
	};
	size_t i;

	if (!spec || !*spec) {
		if (pal == PALETTE_MEM)
			spec = "green";
		else if (pal == PALETTE_IO || pal == PALETTE_WAKEUP || pal == PALETTE_CHAIN)
			spec = "blue";
		else if (pal >= PALETTE_RED)
			spec = "grey";
		else
			spec = "yellow";
	}
	for (i = 0; i < ARRAY_SIZE(grads); i++) {
		if (!strcmp(spec, grads[i].name)) {
			memcpy(top, grads[i].top, 8);
			memcpy(bottom, grads[i].bottom, 8);
			return 0;
		}
	}
	if (is_hex_color(spec)) {
		memcpy(top, spec, 8);
		memcpy(bottom, spec, 8);
		return 0;
	}
	return err_set(e, "unknown background '%s' (yellow, blue, green, grey or #rrggbb)", spec);
}

/* A colour the map may hold: "rgb(R,G,B)" with 0..255 components, or "#rrggbb". */
static bool valid_color(const char *s)
{
	unsigned r, g, b;
	int end = -1;

	if (is_hex_color(s))
		return true;
	if (strlen(s) >= 24)
		return false;
	if (sscanf(s, "rgb(%3u,%3u,%3u)%n", &r, &g, &b, &end) != 3 || end < 0 || s[end])
		return false;
	return r < 256 && g < 256 && b < 256 && strspn(s + 4, "0123456789,)") == strlen(s + 4);
}

void palette_map_init(struct palette_map *m)
{
	memset(m, 0, sizeof(*m));
}

void palette_map_release(struct palette_map *m)
{
	strtab_release(&m->names);
	free(m->colors);
	palette_map_init(m);
}

const char *palette_map_get(const struct palette_map *m, const char *name, size_t len)
{
	int64_t id;

	if (!m->names.nr)
		return NULL;
	id = strtab_find(&m->names, name, len);
	return id < 0 ? NULL : m->colors[id];
}

void palette_map_set(struct palette_map *m, const char *name, size_t len, const char *color)
{
	uint32_t id = strtab_intern(&m->names, name, len);
	size_t need = (size_t)id + 1;

	if (need > m->colors_alloc) {
		size_t old = m->colors_alloc;

		ALLOC_GROW(m->colors, need, m->colors_alloc);
		memset(m->colors + old, 0, (m->colors_alloc - old) * sizeof(*m->colors));
	}
	if (strcmp(m->colors[id], color)) {
		snprintf(m->colors[id], sizeof(m->colors[id]), "%s", color);
		m->dirty = true;
	}
}

int palette_map_parse(struct palette_map *m, const char *data, size_t len, const char *name, struct err *e)
{
	const char *line = data, *end = data + len, *next, *arrow, *p;
	char color[24];
	size_t lineno = 0, l;

	for (; line < end; line = next) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));

		l = nl ? (size_t)(nl - line) : (size_t)(end - line);
		next = nl ? nl + 1 : end;
		lineno++;
		if (l && line[l - 1] == '\r')
			l--;
		if (!l)
			continue;
		/* the colour never contains "->", a name may ("operator->") */
		arrow = NULL;
		for (p = line; p + 1 < line + l; p++)
			if (p[0] == '-' && p[1] == '>')
				arrow = p;
		if (!arrow)
			return err_set(e, "invalid line %zu in palette file '%s': no '->'", lineno, name);
		p = arrow + 2;
		if ((size_t)(line + l - p) >= sizeof(color))
			return err_set(e, "invalid colour on line %zu of palette file '%s'", lineno, name);
		memcpy(color, p, (size_t)(line + l - p));
		color[line + l - p] = '\0';
		if (!valid_color(color))
			return err_set(e, "invalid colour on line %zu of palette file '%s'", lineno, name);
		palette_map_set(m, line, (size_t)(arrow - line), color);
	}
	m->dirty = false;
	return 0;
}

int palette_map_load(struct palette_map *m, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	int ret;
	FILE *fp;

	fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		return err_errno(e, "cannot open palette file '%s'", path);
	}
	fclose(fp);
	ret = buf_read_file(&b, path, e);
	if (!ret)
		ret = palette_map_parse(m, b.buf, b.len, path, e);
	buf_release(&b);
	return ret;
}

static const struct palette_map *sort_map;

static int cmp_name(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint32_t lx = strtab_len(&sort_map->names, x), ly = strtab_len(&sort_map->names, y);
	int c = memcmp(strtab_str(&sort_map->names, x), strtab_str(&sort_map->names, y), lx < ly ? lx : ly);

	if (c)
		return c;
	return lx < ly ? -1 : lx > ly;
}

int palette_map_save(const struct palette_map *m, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	uint32_t *ids, n = 0, i;
	int ret;

	ids = xmalloc((m->names.nr + 1) * sizeof(*ids));
	for (i = 0; i < m->names.nr; i++) {
		const char *s = strtab_str(&m->names, i);
		size_t len = strtab_len(&m->names, i);

		if (!m->colors[i][0] || memchr(s, '\n', len) || memchr(s, '\r', len))
			continue;
		ids[n++] = i;
	}
	sort_map = m;
	qsort(ids, n, sizeof(*ids), cmp_name);
	sort_map = NULL;
	for (i = 0; i < n; i++) {
		buf_add(&b, strtab_str(&m->names, ids[i]), strtab_len(&m->names, ids[i]));
		buf_adds(&b, "->");
		buf_adds(&b, m->colors[ids[i]]);
		buf_addch(&b, '\n');
	}
	free(ids);
	ret = afile_write_all(path, b.buf, b.len, e);
	buf_release(&b);
	return ret;
}

/*
 * Flame graph colours: flamegraph.pl's palettes (hot, mem, io, wakeup, chain, java, js, perl and the flat
 * colours), its three ways of picking a shade (by name, deterministic: the default; by --hash; at --random),
 * the differential red/blue scale, background gradients and the consistent palette file (palette.map:
 * "NAME->rgb(R,G,B)" lines, sorted by name).
 */
#ifndef KILN_PALETTE_H
#define KILN_PALETTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"

struct err;

enum palette {
	PALETTE_HOT = 0,
	PALETTE_MEM,
	PALETTE_IO,
	PALETTE_WAKEUP,
	PALETTE_CHAIN,
	PALETTE_JAVA,
	PALETTE_JS,
	PALETTE_PERL,
	PALETTE_RED,
	PALETTE_GREEN,
	PALETTE_BLUE,
	PALETTE_AQUA,
	PALETTE_YELLOW,
	PALETTE_PURPLE,
	PALETTE_ORANGE,
	PALETTE_NR
};

/* The palette names in enum order, NULL-terminated (usable as OPT_CHOICE choices). */
extern const char *const palette_names[];
/* Returns the palette called `name`, or -1. */
int palette_by_name(const char *name);

enum palette_mode {
	PALETTE_BY_NAME = 0, /* a pseudo-random shade seeded by the name: same name, same colour, everywhere */
	PALETTE_BY_HASH,     /* --hash: flamegraph.pl's namehash, similar names get similar shades */
	PALETTE_RANDOM,      /* --random: a fresh random shade per frame */
};

/* What a frame is, beyond its name, for the multi palettes (java, js, perl, chain). */
#define PALETTE_HINT_KERNEL  1u /* a kernel frame: as the "_[k]" annotation */
#define PALETTE_HINT_JIT     2u /* "_[j]" */
#define PALETTE_HINT_INLINED 4u /* "_[i]" */
#define PALETTE_HINT_WAKER   8u /* above a "--" separator in a chain graph: as "_[w]" */

struct rgb {
	uint8_t r, g, b;
};

/*
 * The colour of a frame called `name` (`len` bytes). `rng` is the state of PALETTE_RANDOM (any value seeds
 * it; it is advanced) and unused otherwise.
 */
struct rgb palette_color(enum palette pal, enum palette_mode mode, const char *name, size_t len, unsigned hints,
			 uint64_t *rng);
/* The differential scale: red for growth (`delta` > 0), blue for shrinkage; `negate` swaps the hues. */
struct rgb palette_diff_color(double delta, double maxdelta, bool negate);
/* WCAG 2's relative luminance of an sRGB colour (0 black .. 1 white) and contrast ratio (1 .. 21). */
double palette_luminance(struct rgb c);
double palette_contrast(struct rgb a, struct rgb b);
/*
 * The label colour for text on `bg`: black, or white where white contrasts more (dark blue and dark red diff
 * frames). The better of the two is always at least 4.6:1, above WCAG's 4.5:1 for normal text.
 */
struct rgb palette_text_color(struct rgb bg);
/* Parses "rgb(R,G,B)" or "#rrggbb"; returns false for anything else. */
bool palette_parse_rgb(const char *s, struct rgb *out);
/* Formats "rgb(R,G,B)" into `out` (at least 20 bytes); returns `out`. */
const char *palette_rgb_str(char *out, struct rgb c);

/*
 * The background gradient for --bgcolors `spec` (yellow, blue, green, grey or "#rrggbb"; NULL or "" picks the
 * palette's default). Writes two "#rrggbb" strings. Returns 0, or -1 with `e` set for an unknown spec.
 */
int palette_background(const char *spec, enum palette pal, char top[8], char bottom[8], struct err *e);

/* Consistent palette (--cp): colours remembered per function name across runs. */
struct palette_map {
	struct strtab names;
	char (*colors)[24]; /* by name id: "rgb(R,G,B)" or "#rrggbb" */
	size_t colors_alloc;
	bool dirty; /* an entry was added since loading */
};

void palette_map_init(struct palette_map *m);
void palette_map_release(struct palette_map *m);
/* Loads `path`; a missing file is an empty map. Returns 0, or -1 with `e` set (unreadable, bad colour). */
int palette_map_load(struct palette_map *m, const char *path, struct err *e);
/* Parses palette file text (`name` is for messages). Returns 0, or -1 with `e` set. */
int palette_map_parse(struct palette_map *m, const char *data, size_t len, const char *name, struct err *e);
/* The remembered colour of `name`, or NULL. */
const char *palette_map_get(const struct palette_map *m, const char *name, size_t len);
/* Remembers `color` (a valid colour string) for `name`. */
void palette_map_set(struct palette_map *m, const char *name, size_t len, const char *color);
/* Writes the map sorted by name, atomically. Names with a line break are not stored. */
int palette_map_save(const struct palette_map *m, const char *path, struct err *e);

#endif

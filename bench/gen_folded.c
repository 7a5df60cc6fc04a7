/*
 * Deterministic generator of a large folded-stacks file for bench/flamegraph.sh: STACKS unique stacks of
 * 12..26 frames with C++-like names (about 1 KB a line), written in order and repeated until BYTES are out.
 * Stacks share prefixes as real ones do: groups of 256 stacks share all but their last four frames, and the
 * groups' prefixes form a tree of their own, so the trie holds a few hundred thousand frames.
 *
 * usage: gen_folded BYTES STACKS [SEED] > file.folded
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES 20000

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static const char *const words[] = { "alloc", "parse", "render", "commit", "flush", "lookup", "insert", "encode",
				     "decode", "visit", "schedule", "dispatch", "compress", "hash", "merge", "sort" };
static const char *const types[] = { "int", "char const*", "std::string const&", "unsigned long", "void*",
				     "double", "std::vector<int, std::allocator<int> > const&" };

int main(int argc, char **argv)
{
	static char names[NAMES][128];
	unsigned long long bytes, stacks, seed, written = 0, i, pass = 0;
	char line[8192];
	size_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: gen_folded BYTES STACKS [SEED]\n");
		return 2;
	}
	bytes = strtoull(argv[1], NULL, 10);
	stacks = strtoull(argv[2], NULL, 10);
	seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	if (!stacks)
		return 2;
	for (i = 0; i < NAMES; i++) {
		uint64_t h = mix(seed * 1000003 + i);

		snprintf(names[i], sizeof(names[i]), "ns%u::%s%sModule%u::%s_%llu(%s)", (unsigned)(h % 13),
			 h & 0x100 ? "detail::" : "", h & 0x200 ? "Base" : "", (unsigned)((h >> 12) % 97),
			 words[(h >> 20) % 16], i, types[(h >> 28) % 7]);
	}
	while (written < bytes) {
		for (i = 0; i < stacks && written < bytes; i++) {
			uint64_t group = i / 256, tail = i % 256, g = group, path = seed;
			unsigned depth = 12 + (unsigned)(mix(group + seed) % 15), k;

			n = 0;
			for (k = 0; k < depth; k++) {
				unsigned digit;

				if (k < depth - 4) {
					/* the group's prefix: base-8 digits of the group number, then its own hash */
					digit = g ? (unsigned)(g % 8) : (unsigned)(mix(group * 31 + k) % 3);
					g /= 8;
				} else {
					digit = (unsigned)((tail >> (2 * (k - (depth - 4)))) & 3);
				}
				path = mix(path * 131 + digit + 1);
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", k ? ";" : "",
						      names[path % NAMES]);
			}
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %u\n",
					      1 + (unsigned)(mix(i * 7 + pass + seed) % 1000));
			fwrite(line, 1, n, stdout);
			written += n;
		}
		pass++;
	}
	return ferror(stdout) ? 1 : 0;
}

/*
 * Where the debug symbols of a module could come from, said as advice a user can act on: the Debian package
 * whose `-dbgsym` companion carries them (the package that owns the file, from dpkg), or the build-id that a
 * debuginfod server (DEBUGINFOD_URLS) or /usr/lib/debug/.build-id would serve. `kiln analyze` uses it for the
 * modules of a profile that stayed unsymbolized (src/analyze/symhint.c).
 *
 * The facts are gathered from this machine (dpkg-query, the debug directories, the environment), separately
 * from the wording, so that the wording can be tested on any machine.
 */
#ifndef KILN_DBGHINT_H
#define KILN_DBGHINT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct dbghint_facts {
	const char *module;          /* the module's file name, for the message */
	const char *package;         /* the Debian binary package owning the file, or NULL */
	bool dbgsym_installed;       /* PACKAGE-dbgsym is installed (and yet did not match) */
	const char *build_id;        /* hex, or NULL */
	bool debug_file_present;     /* /usr/lib/debug/.build-id/xx/yyyy.debug exists now */
	const char *debuginfod_urls; /* $DEBUGINFOD_URLS, or NULL */
	const char *debian_codename; /* "bookworm" on Debian, else NULL */
};

/* Appends the advice for `f` to `out`: one sentence, no final period. */
void dbghint_advice(struct buf *out, const struct dbghint_facts *f);

/*
 * The first package named by `dpkg-query -S` output (`len` bytes: "liblzma5:amd64: /usr/lib/...", "a, b: /x",
 * "diversion by ..." lines skipped), without its architecture; NULL when there is none. Returned malloc'd.
 */
char *dbghint_parse_owner(const char *out, size_t len);

/*
 * The facts for the file at `path` with build-id `build_id` (may be NULL), asking dpkg-query (the path as given,
 * then its merged-/usr alias: Debian 12 registers /lib/x/... for the file at /usr/lib/x/...). Strings in `f`
 * point into `path`, `build_id`, the environment or `*owned`, which the caller frees.
 */
void dbghint_gather(struct dbghint_facts *f, const char *path, const char *build_id, char **owned);

#endif

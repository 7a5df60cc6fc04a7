/* kiln pgo instrument / train / optimize: the working directory, the staged training runs, the reports. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "pgo/driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "pgo/run.h"

struct workdir {
	char *root;   /* absolute */
	bool created; /* by this call: removed again on failure */
	struct pgo_tools tools;
	size_t runs;
};

void pgo_result_release(struct pgo_result *r)
{
	pgo_diag_release(&r->diag);
	free(r->profile);
	r->profile = NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_of(const struct workdir *w, const char *name)
{
	return xasprintf("%s/%s", w->root, name);
}

/* The names in `dir` ending in `suffix`, sorted; returns their number (the array and strings are owned). */
static size_t list_files(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t nr = 0, alloc = 0, sl = strlen(suffix);

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n <= sl || strcmp(de->d_name + n - sl, suffix))
			continue;
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = xasprintf("%s/%s", dir, de->d_name);
	}
	if (d)
		closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), (int (*)(const void *, const void *))strcmp);
	*out = v;
	return nr;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int copy_file(const char *from, const char *to, struct err *e)
{
	struct buf b = BUF_INIT;
	int ret = buf_read_file(&b, from, e) ? -1 : afile_write_all(to, b.buf, b.len, e);

	buf_release(&b);
	return ret;
}

static int save_state(const struct workdir *w, struct err *e)
{
	char *path = path_of(w, "toolchain");
	char *s = xasprintf("toolchain %s\ncc %s\nruns %zu\n", pgo_toolchain_name(w->tools.tc), w->tools.cc, w->runs);
	int ret = afile_write_all(path, s, strlen(s), e);

	free(s);
	free(path);
	return ret;
}

char *pgo_state_parse(const char *text, size_t len, size_t *runs)
{
	const char *end = text + len;
	char *cc = NULL;

	*runs = 0;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);

		if (n > 3 && !memcmp(text, "cc ", 3) && !memchr(text, '\0', n)) {
			free(cc);
			cc = xstrndup(text + 3, n - 3);
		} else if (n > 5 && !memcmp(text, "runs ", 5)) {
			*runs = 0;
			for (const char *p = text + 5; p < text + n && *p >= '0' && *p <= '9' && *runs < 1000000000; p++)
				*runs = *runs * 10 + (size_t)(*p - '0');
		}
		text += n + (nl != NULL);
	}
	return cc;
}

/* Opens an existing working directory (train, optimize): its toolchain file says which compiler built it. */
static int open_workdir(struct workdir *w, const struct pgo_opts *o, struct err *e)
{
	const char *dir = o->dir ? o->dir : ".kiln-pgo";
	struct buf b = BUF_INIT;
	char *path = NULL, *cc = NULL;
	int ret = -1;

	memset(w, 0, sizeof(*w));
	w->root = realpath(dir, NULL);
	if (!w->root)
		return err_set(e, "no instrumented build in '%s': run 'kiln pgo instrument -- BUILD' first", dir);
	path = path_of(w, "toolchain");
	if (buf_read_file(&b, path, NULL)) {
		err_set(e, "no instrumented build in '%s': run 'kiln pgo instrument -- BUILD' first", dir);
		goto out;
	}
	cc = pgo_state_parse(b.buf, b.len, &w->runs);
	if (!cc) {
		err_set(e, "'%s' is damaged: run 'kiln pgo instrument -- BUILD' again", path);
		goto out;
	}
	if (pgo_tools_find(&w->tools, cc, e))
		goto out;
	ret = 0;
out:
	buf_release(&b);
	free(path);
	free(cc);
	if (ret) {
		free(w->root);
		w->root = NULL;
	}
	return ret;
}

static void close_workdir(struct workdir *w)
{
	pgo_tools_release(&w->tools);
	free(w->root);
	w->root = NULL;
}

/* Lines in compiles.log: the compilations the wrappers saw. */
static size_t count_compiles(const struct workdir *w)
{
	char *path = path_of(w, "compiles.log");
	struct buf b = BUF_INIT;
	size_t n = 0;

	if (!buf_read_file(&b, path, NULL))
		for (size_t i = 0; i < b.len; i++)
			n += b.buf[i] == '\n';
	buf_release(&b);
	free(path);
	return n;
}

static const char *profile_name(enum pgo_toolchain tc)
{
	return tc == PGO_GCC ? "profile" : "profile/merged.profdata";
}

/*
 * Runs the user's build with the wrappers of `phase` first on PATH and in CC/CXX; CFLAGS, CXXFLAGS and LDFLAGS
 * get the flags appended only when the environment already sets them: setting one the Makefile defaults with
 * `CFLAGS ?= -O2` would silently drop its optimisation level.
 */
static int run_build(struct workdir *w, const struct pgo_opts *o, enum pgo_phase phase, char *const *build,
		     struct buf *errout, struct pgo_result *r, struct err *e)
{
	char *target = phase == PGO_GENERATE ? path_of(w, "gen") : path_of(w, profile_name(w->tools.tc));
	char *log = path_of(w, "compiles.log");
	char *env[8] = { NULL };
	static const char *const flag_vars[] = { "CFLAGS", "CXXFLAGS", "LDFLAGS" };
	size_t n = 0;
	int status, ret = -1;
	struct pgo_cmd c = { .argv = build, .env = (const char *const *)env, .quiet = o->quiet, .stderr_copy = errout };

	if (pgo_write_wrappers(w->root, &w->tools, phase, target, e))
		goto out;
	if (afile_write_all(log, "", 0, e))
		goto out;
	env[n++] = xasprintf("PATH=%s/bin:%s", w->root, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	env[n++] = xasprintf("CC=%s/bin/cc", w->root);
	if (w->tools.cxx)
		env[n++] = xasprintf("CXX=%s/bin/c++", w->root);
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(flag_vars[i]);
		char *flags;

		if (!v)
			continue;
		flags = pgo_flags(&w->tools, phase, target, i == 2);
		env[n++] = xasprintf("%s=%s%s", flag_vars[i], v, flags);
		free(flags);
	}
	if (pgo_cmd_run(&c, &status, e)) {
		err_wrap(e, "build failed");
		goto out;
	}
	if (status) {
		char *d = pgo_cmd_display(build);

		err_set(e, "build '%s' failed with exit status %d", d, status);
		free(d);
		goto out;
	}
	r->compiles = count_compiles(w);
	if (!r->compiles) {
		char *d = pgo_cmd_display(build);

		err_set(e, "build '%s' compiled nothing through kiln's compiler wrappers (up to date? use a clean "
			   "build such as 'make -B', and let it find the compiler as cc/%s or $CC)",
			d, pgo_toolchain_name(w->tools.tc));
		free(d);
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(target);
	free(log);
	return ret;
}

int pgo_instrument(const struct pgo_opts *o, char *const *build, struct pgo_result *r, struct err *e)
{
	const char *dir = o->dir ? o->dir : ".kiln-pgo";
	struct workdir w = { 0 };
	char *gen = NULL, *prof = NULL;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (pgo_tools_find(&w.tools, o->cc, e))
		return -1;
	r->tc = w.tools.tc;
	if (mkdir(dir, 0755)) {
		if (errno != EEXIST) {
			err_errno(e, "cannot create '%s'", dir);
			goto out;
		}
	} else {
		w.created = true;
	}
	w.root = realpath(dir, NULL);
	if (!w.root) {
		err_errno(e, "cannot resolve '%s'", dir);
		goto out;
	}
	gen = path_of(&w, "gen");
	if (mkdir(gen, 0755) && errno != EEXIST) {
		err_errno(e, "cannot create '%s'", gen);
		goto out;
	}
	if (run_build(&w, o, PGO_GENERATE, build, NULL, r, e))
		goto out;
	/* A new instrumented build makes the old profile meaningless (other checksums): start afresh. */
	prof = path_of(&w, "profile");
	rm_rf(prof);
	w.runs = 0;
	if (save_state(&w, e))
		goto out;
	ret = 0;
out:
	if (ret && w.created)
		rm_rf(dir);
	free(gen);
	free(prof);
	close_workdir(&w);
	return ret;
}

/* Path components of `path` ("/a/b/c" has 3): GCOV_PREFIX_STRIP drops them from the .gcda paths. */
static size_t components(const char *path)
{
	size_t n = 0;

	for (const char *p = path; *p; p++)
		n += *p == '/' && p[1] && p[1] != '/';
	return n;
}

/* Files in `dir` with `suffix` written since the stage was seeded (seeds carry the time stamp 0). */
static size_t written_files(const char *dir, const char *suffix)
{
	char **v;
	size_t n = list_files(dir, suffix, &v), fresh = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;

		fresh += !stat(v[i], &st) && st.st_mtim.tv_sec > 0;
	}
	free_list(v, n);
	return fresh;
}

/* Runs `argv` quietly, keeping its output; a failure is one line naming the tool and its first error line. */
static int run_tool(char *const *argv, struct buf *out, struct err *e)
{
	struct pgo_cmd c = { .argv = argv, .quiet = true, .with_stdout = true, .stderr_copy = out };
	int status;

	if (pgo_cmd_run(&c, &status, e))
		return -1;
	if (status) {
		size_t n = strcspn(out->buf, "\n");

		return err_set(e, "'%s' failed with exit status %d%s%.*s", argv[0], status, n ? ": " : "",
			       (int)(n > 300 ? 300 : n), out->buf);
	}
	return 0;
}

/* Clang: merges the run's .profraw files with the profile so far into stage/merged.profdata. */
static int clang_merge(struct workdir *w, const char *stage, struct err *e)
{
	char **raw, *old = path_of(w, profile_name(PGO_CLANG)), *out = xasprintf("%s/merged.profdata", stage);
	size_t n = list_files(stage, ".profraw", &raw), argc = 0;
	char **argv = xcalloc(n + 8, sizeof(*argv));
	struct buf b = BUF_INIT;
	struct stat st;
	int ret;

	argv[argc++] = w->tools.helper;
	argv[argc++] = (char *)"merge";
	argv[argc++] = (char *)"-o";
	argv[argc++] = out;
	if (!stat(old, &st))
		argv[argc++] = old;
	for (size_t i = 0; i < n; i++)
		argv[argc++] = raw[i];
	ret = run_tool(argv, &b, e);
	for (size_t i = 0; !ret && i < n; i++)
		unlink(raw[i]);
	buf_release(&b);
	free_list(raw, n);
	free(argv);
	free(old);
	free(out);
	return ret;
}

int pgo_train(const struct pgo_opts *o, char *const *cmd, struct pgo_result *r, struct err *e)
{
	struct workdir w;
	char *stage = NULL, *prof = NULL, *old = NULL, *env[3] = { NULL }, **seed = NULL;
	size_t nseed = 0;
	struct pgo_cmd c = { .argv = cmd, .env = (const char *const *)env, .quiet = o->quiet };
	int status, ret = -1;

	memset(r, 0, sizeof(*r));
	if (open_workdir(&w, o, e))
		return -1;
	r->tc = w.tools.tc;
	stage = xasprintf("%s/stage.%ld", w.root, (long)getpid());
	prof = path_of(&w, "profile");
	old = xasprintf("%s.old", prof);
	rm_rf(stage);
	if (mkdir(stage, 0755)) {
		err_errno(e, "cannot create '%s'", stage);
		goto out;
	}
	if (w.tools.tc == PGO_GCC) {
		/* libgcov adds a run's counts to the .gcda it finds: seed the stage with the profile so far. */
		char *gen = path_of(&w, "gen");

		nseed = list_files(prof, ".gcda", &seed);
		for (size_t i = 0; i < nseed; i++) {
			char *to = xasprintf("%s/%s", stage, strrchr(seed[i], '/') + 1);
			const struct timespec epoch[2] = { { 0, 0 }, { 0, 0 } };
			int rc = copy_file(seed[i], to, e);

			if (!rc && utimensat(AT_FDCWD, to, epoch, 0))
				rc = err_errno(e, "cannot set the time of '%s'", to);
			free(to);
			if (rc) {
				free(gen);
				goto out;
			}
		}
		env[0] = xasprintf("GCOV_PREFIX=%s", stage);
		env[1] = xasprintf("GCOV_PREFIX_STRIP=%zu", components(gen));
		free(gen);
	} else {
		env[0] = xasprintf("LLVM_PROFILE_FILE=%s/%%m-%%p.profraw", stage);
	}
	if (pgo_cmd_run(&c, &status, e)) {
		err_wrap(e, "training run failed");
		goto out;
	}
	if (status) {
		char *d = pgo_cmd_display(cmd);

		err_set(e, "training run '%s' failed with exit status %d; its profile was discarded", d, status);
		free(d);
		goto out;
	}
	r->files = written_files(stage, w.tools.tc == PGO_GCC ? ".gcda" : ".profraw");
	if (!r->files) {
		char *d = pgo_cmd_display(cmd);

		err_set(e, "training run '%s' wrote no profile: is it a program built by 'kiln pgo instrument' "
			   "with %s?", d, pgo_toolchain_name(w.tools.tc));
		free(d);
		goto out;
	}
	if (w.tools.tc == PGO_CLANG && clang_merge(&w, stage, e))
		goto out;
	/* The stage becomes the profile in two renames; a crash between them leaves profile.old to recover. */
	rm_rf(old);
	if ((rename(prof, old) && errno != ENOENT) || rename(stage, prof)) {
		err_errno(e, "cannot replace '%s'", prof);
		goto out;
	}
	rm_rf(old);
	w.runs++;
	r->runs = w.runs;
	r->profile = path_of(&w, profile_name(w.tools.tc));
	ret = save_state(&w, e);
out:
	rm_rf(stage);
	for (size_t i = 0; i < 3; i++)
		free(env[i]);
	free_list(seed, nseed);
	free(stage);
	free(prof);
	free(old);
	close_workdir(&w);
	return ret;
}

/* Reads the merged profile's coverage with the toolchain's own dump tool. */
static int read_coverage(struct workdir *w, struct pgo_coverage *cov, struct err *e)
{
	char *prof = path_of(w, profile_name(w->tools.tc));
	char **files = NULL, **argv = NULL;
	size_t n = 0, argc = 0;
	struct buf b = BUF_INIT;
	int ret = -1;

	if (w->tools.tc == PGO_GCC) {
		n = list_files(prof, ".gcda", &files);
		if (!n)
			goto none;
		argv = xcalloc(n + 3, sizeof(*argv));
		argv[argc++] = w->tools.helper;
		argv[argc++] = (char *)"-l";
		for (size_t i = 0; i < n; i++)
			argv[argc++] = files[i];
	} else {
		struct stat st;

		if (stat(prof, &st))
			goto none;
		argv = xcalloc(5, sizeof(*argv));
		argv[argc++] = w->tools.helper;
		argv[argc++] = (char *)"show";
		argv[argc++] = (char *)"--all-functions";
		argv[argc++] = prof;
	}
	if (run_tool(argv, &b, e))
		goto out;
	if (w->tools.tc == PGO_GCC)
		pgo_coverage_parse_gcov_dump(cov, b.buf, b.len);
	else
		pgo_coverage_parse_llvm_show(cov, b.buf, b.len);
	ret = 0;
	goto out;
none:
	err_set(e, "no profile in '%s': run 'kiln pgo train -- CMD' with the instrumented program first", w->root);
out:
	buf_release(&b);
	free_list(files, n);
	free(argv);
	free(prof);
	return ret;
}

int pgo_optimize(const struct pgo_opts *o, char *const *build, struct pgo_result *r, struct err *e)
{
	struct workdir w;
	struct buf errout = BUF_INIT;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (open_workdir(&w, o, e))
		return -1;
	r->tc = w.tools.tc;
	r->runs = w.runs;
	if (read_coverage(&w, &r->cov, e))
		goto out;
	r->profile = path_of(&w, profile_name(w.tools.tc));
	if (run_build(&w, o, PGO_USE, build, &errout, r, e))
		goto out;
	pgo_diag_parse(&r->diag, errout.buf, errout.len);
	ret = 0;
out:
	buf_release(&errout);
	close_workdir(&w);
	return ret;
}

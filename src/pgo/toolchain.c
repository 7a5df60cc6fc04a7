/* Finding GCC or Clang and their profile tools, and writing the compiler wrappers that add the PGO flags. */
#include "pgo/toolchain.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "pgo/run.h"

const char *pgo_toolchain_name(enum pgo_toolchain tc)
{
	return tc == PGO_GCC ? "gcc" : tc == PGO_CLANG ? "clang" : "unknown";
}

static bool executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* The absolute, symlink-resolved path of `name` (a path, or a command looked up on PATH), or NULL. */
static char *which(const char *name)
{
	char full[PATH_MAX], *path, *save = NULL, *dirs;

	if (strchr(name, '/'))
		return executable(name) ? realpath(name, NULL) : NULL;
	path = getenv("PATH");
	dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", *d ? d : ".", name) >= sizeof(full))
			continue;
		if (strstr(d, ".kiln-pgo/bin"))
			continue; /* our own wrappers, when kiln pgo runs inside a build it drives */
		if (executable(full)) {
			free(dirs);
			return realpath(full, NULL);
		}
	}
	free(dirs);
	return NULL;
}

/* Runs `tool arg` and returns what it printed (stdout and stderr), or NULL when it did not exit 0. */
static char *query(const char *tool, const char *arg)
{
	char *argv[] = { (char *)tool, (char *)arg, NULL };
	struct buf out = BUF_INIT;
	struct pgo_cmd c = { .argv = argv, .quiet = true, .with_stdout = true, .stderr_copy = &out };
	struct err e = ERR_INIT;
	int status;

	if (pgo_cmd_run(&c, &status, &e) || status) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

/* `base` with the last `from` in its file name replaced by `to` ("x86_64-linux-gnu-gcc-12" -> "...g++-12"). */
static char *sibling(const char *path, const char *from, const char *to)
{
	const char *slash = strrchr(path, '/'), *hit = NULL;
	char *s, *found;

	for (const char *p = slash ? slash : path; (p = strstr(p, from)); p++)
		hit = p;
	if (!hit)
		return NULL;
	s = xasprintf("%.*s%s%s", (int)(hit - path), path, to, hit + strlen(from));
	found = executable(s) ? xstrdup(s) : NULL;
	free(s);
	return found;
}

/* The helper tool of the compiler's major version: NAME-MAJOR, NAME beside the compiler, or NAME. */
static char *find_helper(const char *cc, const char *name)
{
	char *ver = query(cc, "-dumpversion"), *s, *found = NULL;
	const char *slash = strrchr(cc, '/');

	if (ver) {
		s = xasprintf("%s-%d", name, atoi(ver));
		found = which(s);
		free(s);
		free(ver);
	}
	if (!found && slash) {
		s = xasprintf("%.*s/%s", (int)(slash - cc), cc, name);
		found = executable(s) ? xstrdup(s) : NULL;
		free(s);
	}
	return found ? found : which(name);
}

int pgo_tools_find(struct pgo_tools *t, const char *cc, struct err *e)
{
	const char *name = cc ? cc : getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
	char *ver;

	memset(t, 0, sizeof(*t));
	t->cc = which(name);
	if (!t->cc)
		return err_set(e, "no C compiler '%s' found%s", name, strchr(name, '/') ? "" : " on PATH");
	ver = query(t->cc, "--version");
	if (ver && strstr(ver, "clang version"))
		t->tc = PGO_CLANG;
	else if (ver && (strstr(ver, "Free Software Foundation") || strstr(ver, "gcc")))
		t->tc = PGO_GCC;
	free(ver);
	if (!t->tc) {
		err_set(e, "compiler '%s' is neither GCC nor Clang (kiln pgo drives those two)", t->cc);
		pgo_tools_release(t);
		return -1;
	}
	if (t->tc == PGO_GCC) {
		t->cxx = sibling(t->cc, "gcc", "g++");
		t->helper = find_helper(t->cc, "gcov-dump");
	} else {
		t->cxx = sibling(t->cc, "clang", "clang++");
		t->helper = find_helper(t->cc, "llvm-profdata");
	}
	if (!t->helper) {
		err_set(e, "'%s' not found: %s needs it to read profiles", t->tc == PGO_GCC ? "gcov-dump" : "llvm-profdata",
			t->tc == PGO_GCC ? "GCC (package gcc)" : "Clang (package llvm)");
		pgo_tools_release(t);
		return -1;
	}
	return 0;
}

void pgo_tools_release(struct pgo_tools *t)
{
	free(t->cc);
	free(t->cxx);
	free(t->helper);
	t->cc = t->cxx = t->helper = NULL;
}

/* Appends `s` single-quoted for /bin/sh. */
static void add_quoted(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

/*
 * link = 0: the flags of a compilation; 1: of a link step (the generate runtime must be linked in; a use
 * build adds nothing there, so Clang does not warn about unused arguments).
 */
static void add_flags(struct buf *b, const struct pgo_tools *t, enum pgo_phase phase, const char *profile, int link,
		      bool quote)
{
	char *v[4] = { NULL };
	size_t n = 0;

	if (t->tc == PGO_GCC && phase == PGO_GENERATE) {
		v[n++] = xasprintf("-fprofile-generate=%s", profile);
		v[n++] = xstrdup("-fprofile-update=atomic");
	} else if (t->tc == PGO_GCC && !link) {
		v[n++] = xasprintf("-fprofile-use=%s", profile);
		v[n++] = xstrdup("-Wno-error=coverage-mismatch");
		v[n++] = xstrdup("-Wmissing-profile");
	} else if (t->tc == PGO_CLANG && phase == PGO_GENERATE) {
		v[n++] = xasprintf("-fprofile-instr-generate=%s/%%m-%%p.profraw", profile);
	} else if (t->tc == PGO_CLANG && !link) {
		v[n++] = xasprintf("-fprofile-instr-use=%s", profile);
		v[n++] = xstrdup("-Wprofile-instr-out-of-date");
		v[n++] = xstrdup("-Wprofile-instr-missing");
		v[n++] = xstrdup("-Wprofile-instr-unprofiled");
	}
	for (size_t i = 0; i < n; i++) {
		buf_addch(b, ' ');
		if (quote)
			add_quoted(b, v[i]);
		else
			buf_adds(b, v[i]);
		free(v[i]);
	}
}

char *pgo_flags(const struct pgo_tools *t, enum pgo_phase phase, const char *profile, int link)
{
	struct buf b = BUF_INIT;

	add_flags(&b, t, phase, profile, link, false);
	return buf_detach(&b, NULL);
}

static int write_wrapper(const char *root, const char *name, const char *compiler, const struct pgo_tools *t,
			 enum pgo_phase phase, const char *profile, struct err *e)
{
	struct buf b = BUF_INIT, log = BUF_INIT;
	char *path = xasprintf("%s/bin/%s", root, name);
	int ret = -1;

	buf_addf(&log, "%s/compiles.log", root);
	buf_addf(&b, "#!/bin/sh\n# Written by kiln pgo (%s): runs the compiler with profile flags; see docs/pgo.md.\n",
		 phase == PGO_GENERATE ? "instrument" : "optimize");
	buf_adds(&b, "src= link=1 dump=\nfor a in \"$@\"; do\n\tcase $a in\n"
		     "\t-c|-S|-E|-M|-MM) link= ;;\n\t-dumpdir|-dumpbase) dump=1 ;;\n\t-*) ;;\n"
		     "\t*.c|*.cc|*.cp|*.cxx|*.cpp|*.CPP|*.c++|*.C|*.i|*.ii) src=1 ;;\n\tesac\ndone\n");
	/*
	 * Sources compiled and linked in one step: GCC names the .gcda after -o ("inst-main") unless -dumpdir is
	 * given; an empty one makes it the name a separate `-c main.c` gets ("#DIR#main.gcda"), where "./" would
	 * give "#DIR#.#main.gcda" and an absolute directory an unmangled path.
	 */
	buf_adds(&b, "if [ \"$src\" ]; then\n\tprintf '%s\\n' \"$PWD\" >>");
	add_quoted(&b, log.buf);
	buf_adds(&b, "\n\tif [ \"$link\" ] && [ -z \"$dump\" ]; then exec ");
	add_quoted(&b, compiler);
	buf_adds(&b, " \"$@\"");
	add_flags(&b, t, phase, profile, 0, true);
	if (t->tc == PGO_GCC)
		buf_adds(&b, " -dumpdir ''");
	buf_adds(&b, "; fi\n\texec ");
	add_quoted(&b, compiler);
	buf_adds(&b, " \"$@\"");
	add_flags(&b, t, phase, profile, 0, true);
	buf_adds(&b, "\nfi\nif [ \"$link\" ]; then exec ");
	add_quoted(&b, compiler);
	buf_adds(&b, " \"$@\"");
	add_flags(&b, t, phase, profile, 1, true);
	buf_adds(&b, "; fi\nexec ");
	add_quoted(&b, compiler);
	buf_adds(&b, " \"$@\"\n");
	if (afile_write_all(path, b.buf, b.len, e))
		goto out;
	if (chmod(path, 0755)) {
		err_errno(e, "cannot make '%s' executable", path);
		goto out;
	}
	ret = 0;
out:
	buf_release(&b);
	buf_release(&log);
	free(path);
	return ret;
}

int pgo_write_wrappers(const char *root, const struct pgo_tools *t, enum pgo_phase phase, const char *profile,
		       struct err *e)
{
	static const char *const c_names[][2] = { { "cc", "gcc" }, { "cc", "clang" } };
	static const char *const cxx_names[][2] = { { "c++", "g++" }, { "c++", "clang++" } };
	int k = t->tc == PGO_GCC ? 0 : 1;
	char *bin = xasprintf("%s/bin", root);

	if (mkdir(bin, 0755) && errno != EEXIST) {
		err_errno(e, "cannot create '%s'", bin);
		free(bin);
		return -1;
	}
	free(bin);
	for (int i = 0; i < 2; i++) {
		if (write_wrapper(root, c_names[k][i], t->cc, t, phase, profile, e))
			return -1;
		if (t->cxx && write_wrapper(root, cxx_names[k][i], t->cxx, t, phase, profile, e))
			return -1;
	}
	return 0;
}

int pgo_llvm_sample_tool(const char *in, const char *out, const char *format_flag, struct err *e)
{
	struct pgo_tools t;
	struct err ignored = ERR_INIT;
	struct buf b = BUF_INIT;
	char *tool = NULL, *argv[9] = { NULL };
	size_t n = 0;
	int status, ret = -1;

	if (!pgo_tools_find(&t, "clang", &ignored)) {
		tool = t.helper;
		t.helper = NULL;
		pgo_tools_release(&t);
	}
	if (!tool)
		tool = which("llvm-profdata");
	if (!tool)
		return 0;
	argv[n++] = tool;
	argv[n++] = (char *)(out ? "merge" : "show");
	argv[n++] = (char *)"--sample";
	if (out && format_flag)
		argv[n++] = (char *)format_flag;
	argv[n++] = (char *)in;
	if (out) {
		argv[n++] = (char *)"-o";
		argv[n++] = (char *)out;
	}
	struct pgo_cmd c = { .argv = argv, .quiet = true, .with_stdout = true, .stderr_copy = &b };
	if (pgo_cmd_run(&c, &status, e))
		goto out;
	if (status) {
		const char *msg = strstr(b.buf, "error: ") ? strstr(b.buf, "error: ") + 7 : b.buf;

		err_set(e, "llvm-profdata refused it: %.*s", (int)strcspn(msg, "\n"), msg);
		goto out;
	}
	ret = 1;
out:
	buf_release(&b);
	free(tool);
	return ret;
}

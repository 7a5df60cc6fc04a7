/* Hints for runtimes that come out without names (rt_hints.h): --language mismatches, attach without a map. */
#include "rt_hints.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"

/* Enough of /proc/PID/cmdline or environ to find a JVM flag. */
#define MAX_PROC_TEXT (1 << 20)

const char *rt_lang_display(enum rt_lang lang)
{
	switch (lang) {
	case RT_PYTHON:
		return "Python";
	case RT_NODE:
		return "Node.js";
	case RT_JAVA:
		return "Java";
	case RT_GO:
		return "Go";
	default:
		return "native code";
	}
}

static bool is_runtime(enum rt_lang l)
{
	return l == RT_PYTHON || l == RT_NODE || l == RT_JAVA || l == RT_GO;
}

int rt_check_language(enum rt_lang asked, const char *argv0, const uint32_t *pids, size_t npids, struct err *e)
{
	if (!is_runtime(asked))
		return 0;
	if (argv0) {
		enum rt_lang l = rt_detect_command(argv0);
		if (is_runtime(l) && l != asked)
			return err_set(e, "--language %s does not fit '%s': it is %s (from its executable); give "
					  "--language %s, or auto", rt_lang_name(asked), argv0, rt_lang_display(l),
				       rt_lang_name(l));
	}
	for (size_t i = 0; i < npids; i++) {
		enum rt_lang l = rt_detect_pid(pids[i]);
		if (is_runtime(l) && l != asked)
			return err_set(e, "--language %s does not fit process %" PRIu32 ": it runs %s (from /proc/%" PRIu32
					  "/exe); give --language %s, or auto", rt_lang_name(asked), pids[i],
				       rt_lang_display(l), pids[i], rt_lang_name(l));
	}
	return 0;
}

static enum frame_kind kind_of(enum rt_lang l)
{
	switch (l) {
	case RT_PYTHON:
		return FRAME_PYTHON;
	case RT_NODE:
		return FRAME_JS;
	case RT_JAVA:
		return FRAME_JAVA;
	default:
		return FRAME_GO;
	}
}

char *rt_language_missing(enum rt_lang asked, const struct profile *p, const char *argv0, const uint32_t *pids,
			  size_t npids)
{
	if (!is_runtime(asked))
		return NULL;
	for (size_t f = 0; f < p->frames_nr; f++)
		if (p->frames[f].kind == kind_of(asked))
			return NULL;
	if (argv0)
		return xasprintf("--language %s, but the profile has no %s frames: '%s' is %s (from its executable) and "
				 "started no %s program that was sampled", rt_lang_name(asked), rt_lang_display(asked), argv0,
				 rt_lang_display(rt_detect_command(argv0)), rt_lang_display(asked));
	return xasprintf("--language %s, but the profile has no %s frames: process %" PRIu32 " runs %s (from /proc/%"
			 PRIu32 "/exe)", rt_lang_name(asked), rt_lang_display(asked), npids ? pids[0] : 0,
			 rt_lang_display(npids ? rt_detect_pid(pids[0]) : RT_NATIVE), npids ? pids[0] : 0);
}

static bool has_perf_map(uint32_t pid)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/root/tmp/perf-%" PRIu32 ".map", pid, pid);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/tmp/perf-%" PRIu32 ".map", pid);
	return access(path, F_OK) == 0;
}

/* Whether /proc/PID/FILE (NUL-separated words: cmdline, environ) contains `needle`. */
static bool proc_text_has(uint32_t pid, const char *file, const char *needle)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/%s", pid, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char *text = xmalloc(MAX_PROC_TEXT);
	size_t n = fread(text, 1, MAX_PROC_TEXT, f);
	fclose(f);
	bool found = n && memmem(text, n, needle, strlen(needle));
	free(text);
	return found;
}

char *rt_attach_hint(uint32_t pid)
{
	switch (rt_detect_pid(pid)) {
	case RT_NODE:
		if (has_perf_map(pid))
			return NULL;
		return xasprintf("Node.js process %" PRIu32 " writes no perf map, so its JavaScript functions are [unknown]: "
				 "start it with 'node --perf-basic-prof' (or NODE_OPTIONS=--perf-basic-prof), or launch it "
				 "under kiln ('kiln profile node app.js'), which sets that", pid);
	case RT_JAVA:
		if (proc_text_has(pid, "cmdline", "-XX:+PreserveFramePointer") ||
		    proc_text_has(pid, "environ", "-XX:+PreserveFramePointer"))
			return NULL;
		return xasprintf("Java process %" PRIu32 " runs without -XX:+PreserveFramePointer, so stacks stop at its "
				 "JIT-compiled code (kiln names the methods by asking it for a perf map with jcmd): start "
				 "it with -XX:+PreserveFramePointer, or launch it under kiln ('kiln profile java ...'), which "
				 "sets that", pid);
	default:
		return NULL;
	}
}

const char *rt_python_version_hint(unsigned major, unsigned minor)
{
	if (major < 3 || (major == 3 && minor <= 10))
		return "kiln reads 3.11 to 3.13 from memory, and Python 3.10 and older cannot name their functions for "
		       "profilers (-X perf came with 3.12): run the program with Python 3.11 or newer";
	return "kiln reads 3.11 to 3.13 from memory, and newer versions are named through their perf map: start it "
	       "with 'python3 -X perf' (or PYTHONPERFSUPPORT=1), or launch it under kiln, which sets that";
}

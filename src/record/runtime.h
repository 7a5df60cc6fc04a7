/*
 * Language runtimes for `kiln profile`: tells Python, Node.js, Java and Go programs apart, prepares a launch so
 * that each runtime exposes its functions (Node's and Java's perf maps, Python 3.12+'s `-X perf`), and turns
 * what the recording sees into the program's own function names:
 *
 *   Python 3.11-3.13  frames read from the interpreter's memory at each sample (python.h) are spliced into
 *                the native stack where _PyEval_EvalFrameDefault runs them;
 *   Node.js      V8's perf map names ("JS:*hot /app/hot.js:3:13") become JS frames with file:line;
 *   Java         JVM perf map names ("double Hot.hot(int)") become Java frames ("Hot.hot");
 *   Python 3.14+ perf trampoline names ("py::hot:/app/hot.py") become Python frames;
 *   Go           needs nothing (frame pointers and symbols); its functions are marked as Go frames.
 *
 * The layer plugs into a rec_session through its runtime hooks (session.h). docs/runtimes.md has the details.
 * Library code: nothing is printed; notes for the user are collected (runtime_notes()).
 */
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct profile;
struct rec_session;

enum rt_lang {
	RT_AUTO = 0,
	RT_NATIVE,
	RT_PYTHON,
	RT_NODE,
	RT_JAVA,
	RT_GO,
};

/* "auto", "native", "python", "node", "java", "go" (also "nodejs", "js"). Returns 0, or -1 when unknown. */
int rt_lang_parse(const char *name, enum rt_lang *out);
const char *rt_lang_name(enum rt_lang lang);

/*
 * The language of a command from its executable (argv[0] looked up in PATH): an ELF file with Go build info
 * (.go.buildinfo), the python / node / java interpreters by name, a shebang script by its interpreter
 * (`#!/usr/bin/env node`). Anything else is RT_NATIVE.
 */
enum rt_lang rt_detect_command(const char *argv0);
/* The language of a running process, from /proc/PID/exe. */
enum rt_lang rt_detect_pid(uint32_t pid);

struct runtime;

/*
 * `lang` is what the user asked for (RT_AUTO to detect); `launched` is true when kiln starts the command
 * (its temporary perf maps are then removed by runtime_cleanup()).
 */
struct runtime *runtime_new(enum rt_lang lang, bool launched);
void runtime_free(struct runtime *rt); /* NULL is a no-op */

/* The language in effect (after detection). */
enum rt_lang runtime_lang(const struct runtime *rt);

/*
 * Before a launch: detects the language of `argv` (when auto) and sets the environment the command will
 * inherit: NODE_OPTIONS gets --perf-basic-prof --interpreted-frames-native-stack; Java gets
 * -XX:+PreserveFramePointer and a perf map dump at exit (on the command line of a `java` command, else in
 * JAVA_TOOL_OPTIONS); PYTHONPERFSUPPORT=1 (Python 3.12+); `go` keeps its binaries (GOFLAGS=-work in a
 * GOTMPDIR of kiln's). Existing values are kept (appended to). Returns 0 (-1 with `e` set only for an
 * environment that cannot be changed).
 */
int runtime_prepare_launch(struct runtime *rt, char *const *argv, struct err *e);
/* The command to launch after runtime_prepare_launch(): `argv` itself, or a copy with the runtime's options
 * (`java -XX:+PreserveFramePointer ... Main`); owned by `rt`, the strings still belong to `argv`. */
char *const *runtime_launch_argv(const struct runtime *rt, char *const *argv);
/* Before an attach: detects the language of the processes (when auto). */
void runtime_prepare_attach(struct runtime *rt, const uint32_t *pids, size_t npids);

/*
 * How often the recorder should hand samples over (recorder_opts.wakeup_events): Python stacks are read when a
 * sample is processed, so a Python recording wants every sample at once (1); 0 when nothing is read live.
 */
unsigned runtime_wakeup_events(const struct runtime *rt);

/* Installs the hooks in `s` (borrowed: it must outlive `s`'s use of them). */
void runtime_attach(struct runtime *rt, struct rec_session *s);

/*
 * After the recording, before rec_session_finish(): asks running JVMs that were sampled to write their perf
 * maps (`jcmd PID Compiler.perfmap`), which attached JVMs do not write by themselves.
 */
void runtime_end_recording(struct runtime *rt);

/* After the profile is written: removes the perf maps the profiled programs wrote because kiln asked them to. */
void runtime_cleanup(struct runtime *rt);

/* Messages for the user gathered while recording ("process 123 runs Python 3.9: ..."), NULL-terminated;
 * owned by `rt`. */
const char *const *runtime_notes(const struct runtime *rt);

/* Statistics of the Python reader. */
struct runtime_stats {
	uint64_t py_samples;   /* samples of Python threads whose frames were read */
	uint64_t py_frames;    /* Python frames spliced in */
	uint64_t py_failed;    /* samples of a Python process whose frames could not be read */
};
void runtime_get_stats(const struct runtime *rt, struct runtime_stats *st);

/*
 * Name parsing, exposed for tests and fuzzing. Each fills `*fn` (and `*file`, `*line`, `*sig` where the name has
 * them) as pointers/lengths into `name` and returns true when `name` is in that runtime's format. `line` is the
 * function's own first line (V8 names a function by where its source starts), not a line being executed.
 */
struct rt_name {
	const char *fn;
	size_t fn_len;
	const char *file;
	size_t file_len;
	unsigned line;
	const char *sig;  /* Java: the parameter list, "(int, long)": overloads are different functions */
	size_t sig_len;
};
bool rt_parse_v8_name(const char *name, struct rt_name *out);   /* "JS:*hot /a/hot.js:3:13", "LazyCompile:..." */
bool rt_parse_java_name(const char *name, struct rt_name *out); /* "double Hot.hot(int)" */
bool rt_parse_pyperf_name(const char *name, struct rt_name *out); /* "py::Hot.hot:/a/hot.py" */

/* The hooks runtime_attach() installs, for a caller that calls them itself (kiln profile --mode offcpu reads the
 * Python stacks of blocked threads from a thread of its own, behind a lock). */
struct rec_runtime_hooks;
void runtime_get_hooks(struct runtime *rt, struct rec_runtime_hooks *h);

#endif

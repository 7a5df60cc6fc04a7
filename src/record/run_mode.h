/*
 * Inside the recording driver (run.h): the state of one run and the table of modes. A new mode is one row
 * in run_modes.c with these four steps, and one RECORD_* bit in run.h.
 */
#ifndef KILN_RECORD_RUN_MODE_H
#define KILN_RECORD_RUN_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "heap_run.h"
#include "recorder.h"
#include "run.h"

struct err;
struct profile;
struct symbolizer;

struct record_run {
	const struct record_request *rq; /* the caller's, or rq_own when the run had to change it */
	struct record_request rq_own;
	const struct record_mode *mode;
	struct record_result *res;
	bool launch;
	bool windows; /* record_run_continuous(): finish hands over what was recorded since the last window */
	unsigned freq;
	struct symbolizer *sym;
	uint64_t child_ignored_signals; /* bit N: the caller ignores signal N, so the command does too */
	struct rec_session *s;
	struct runtime *rt;

	/* Modes on the perf_event recorder (cpu, offcpu, wall, io) */
	struct recorder_opts ro;
	struct recorder *rc;
	struct recorder_result rres;
	struct offcpu *oc;
	struct iotrace *it;
	struct iocount *ic;

	uint64_t start_mono_ns; /* now_ns() at the recording's start (every mode) */

	/* mem */
	struct heap_run_opts ho;
	struct heap_run *hr;
	struct heap_trace *ht;
	char *preload;
	struct heap_run_result hres;
	bool pymalloc_set; /* mem set PYTHONMALLOC=malloc for the command */
};

struct record_mode {
	const char *name;
	unsigned bit;
	bool windows; /* record_run_continuous() can cut it into windows */
	/* Opens the tracers and launches or attaches. -1 with `e` set; a command that cannot run is not an error
	 * (res->launch_failed, `e` set, and poll is not called). */
	int (*start)(struct record_run *r, struct err *e);
	/* Records until `until_ns` (now_ns() time, 0: no limit) or the end: 1 at the end, 0 at `until_ns`, -1
	 * with `e` set on failure (or 1 with res->launch_failed when the command could not be run). */
	int (*poll)(struct record_run *r, uint64_t until_ns, struct err *e);
	/* Stops the tracers and fills res (status, duration). */
	void (*stop)(struct record_run *r);
	/* Builds the profile of what was recorded since the last call; resets that state when `window`. */
	int (*finish)(struct record_run *r, struct profile *p, bool window, struct err *e);
	/* Passes a stop request on (async-signal-safe). */
	void (*signal)(int sig, bool forward);
};

const struct record_mode *record_mode_find(unsigned bit);

/* Adds a note for the user (printf-style). */
void record_note(struct record_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

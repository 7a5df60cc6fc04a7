/*
 * Idle CPU time in system-wide profiles (kiln profile -a, perf record -a): the kernel's idle loop is sampled like
 * any code, but it is the absence of work, so `kiln analyze` reports it apart and leaves it out of hotspots, the
 * hot path and the rules. This file holds the one definition (docs/analyze.md, "Idle time"):
 *
 *   a sample is idle when its stack holds a frame of the idle loop (the entries cpu_startup_entry, do_idle,
 *   cpu_idle that start_secondary/rest_init run, or the idle routines below them: cpuidle_enter*,
 *   default_idle*, pv_native_safe_halt, acpi_idle_*, intel_idle*, poll_idle, ...), or when it belongs to the
 *   idle task: pid label 0, comm label "swapper" or "swapper/N", or a root frame naming it ("swapper",
 *   "swapper/1", "swapper-0/0" as stackcollapse-perf writes it).
 *
 * Interrupts taken while a CPU idles run on the idle loop's stack: they count as idle, as perf attributes them
 * to the idle task.
 */
#ifndef KILN_IDLE_H
#define KILN_IDLE_H

#include <stdbool.h>
#include <stddef.h>

struct profile;

/* Whether `name` (a function, "_[k]" annotation allowed) is a function of the kernel's idle loop. */
bool idle_function(const char *name, size_t len);

/* Sets `idle[row]` for each of p->rows_nr rows by the definition above; returns how many rows are idle. */
size_t idle_rows(const struct profile *p, bool *idle);

#endif

/*
 * The clocks kiln reads, in nanoseconds: the monotonic one for intervals and deadlines (recordings, waits,
 * benchmark runs) and the real-time one for a profile's start. One helper, so that every duration kiln prints
 * is taken on the same clock.
 */
#ifndef KILN_CLOCK_H
#define KILN_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (also the clock of the heap wire format's times). */
uint64_t now_ns(void);
/* CLOCK_REALTIME in nanoseconds since the epoch. */
uint64_t epoch_ns(void);

#endif

/*
 * Kernel symbols from a kallsyms file: a table sorted by address, searched by binary search. Only text symbols
 * (t T w W) are kept. When kptr_restrict hides the addresses (all zero) the table is "hidden" and names nothing.
 */
#ifndef KILN_KSYMS_H
#define KILN_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

struct ksym {
	uint64_t addr;
	const char *name;   /* owned by the table */
	const char *module; /* "[kernel.kallsyms]" or "[modname]", owned by the table */
	uint32_t seq;       /* line order, breaks ties between aliases */
};

struct ksyms;

/* Reads and sorts `path` (e.g. /proc/kallsyms). Malformed lines are skipped. Returns NULL with `e` set when the
 * file cannot be read. */
struct ksyms *ksyms_load(const char *path, struct err *e);
/* Parses kallsyms text (need not be NUL-terminated). Never fails. */
struct ksyms *ksyms_parse(const char *text, size_t len);
void ksyms_free(struct ksyms *k); /* NULL is a no-op */
/* True when no text symbol had an address: every address zero (kptr_restrict), or no symbols at all. */
bool ksyms_hidden(const struct ksyms *k);
size_t ksyms_count(const struct ksyms *k);
/* The symbol containing `addr` (the closest one at or below it), or NULL. */
const struct ksym *ksyms_find(const struct ksyms *k, uint64_t addr);

#endif

/* Fuzzes the `go test -bench` text importer of kiln compare (and the comparison and reports after it). */
#define FUZZ_IMPORT(s, d, n, e) bench_import_go((s), (d), (n), (e))
#include "fuzz_compare_common.h"

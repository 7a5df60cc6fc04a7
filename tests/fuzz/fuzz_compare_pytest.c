/* Fuzzes the pytest importer of kiln compare (and the comparison and reports after it). */
#include "fuzz_compare_common.h"

/* `kiln pgo compare`: the baseline build against one or more optimized builds, interleaved (pgo_compare.c). */
#ifndef KILN_CMD_PGO_COMPARE_H
#define KILN_CMD_PGO_COMPARE_H

int pgo_compare_main(int argc, char **argv);

#endif

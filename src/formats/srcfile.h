/*
 * Guessing a frame's kind from its source file name, for formats that do not record kinds (pprof, speedscope):
 * "x.go" is Go, "x.py" Python, "x.js" or "node:..." JavaScript, "X.java" Java; anything else native.
 */
#ifndef KILN_SRCFILE_H
#define KILN_SRCFILE_H

#include <stddef.h>

#include "../profile/profile.h"

enum frame_kind srcfile_kind(const char *file, size_t len);

#endif

/*
 * Which language runtime a program is: from an executable's ELF contents (Go build info), its file name
 * (python3.11, node, java) or, for a script, its shebang line (`#!/usr/bin/env python3`). Used by runtime.c.
 */
#ifndef KILN_LANG_DETECT_H
#define KILN_LANG_DETECT_H

#include <stdbool.h>

#include "runtime.h"

struct lang_guess {
	enum rt_lang lang;
	char *interp; /* the interpreter's path for a script or an interpreter binary, else NULL; caller frees */
};

/* Looks `argv0` up in PATH (unless it has a '/') and guesses from the file. Never fails: RT_NATIVE. */
void lang_guess_command(const char *argv0, struct lang_guess *out);
/* Guesses from the file at `path` (following symlinks, e.g. /proc/PID/exe). */
void lang_guess_file(const char *path, struct lang_guess *out);
/* The language of an interpreter by its file name: "python3.11" -> RT_PYTHON; RT_NATIVE when none. */
enum rt_lang lang_by_name(const char *path);
/* Whether the ELF file at `path` is a Go program (.go.buildinfo or a Go build id note). */
bool lang_elf_is_go(const char *path);

#endif

/*
 * The one rule for naming a frame in every output (folded, speedscope, reports; docs/formats.md, "Frame
 * names"), so that one frame has one name whichever writer prints it:
 *
 *   a function name                  the name                 main, std::vector<int>::push_back
 *   no name, a module                [module+0xADDR]          [libc.so.6+0x27249]  (base name, module-relative)
 *   no name, a module, no address    [module]                 [libc.so.6]
 *   no name, no module, an address   0xADDR                   0x7f3a2c1d0e41
 *   nothing                          [unknown]
 *
 * An unsymbolized frame keeps its module and address in the model (and in pprof output, where it stays an
 * address for pprof to symbolize): only the printed name is made up.
 */
#ifndef KILN_FRAME_NAME_H
#define KILN_FRAME_NAME_H

#include <stdbool.h>
#include <stdint.h>

struct buf;
struct frame;
struct profile;

/* Appends the name of frame `id` of `p` to `b`. */
void profile_frame_name(struct buf *b, const struct profile *p, uint32_t id);

/*
 * Interpreted functions (Python, JS) are one function per name, file and first line: two modules may each have
 * a `work`, a script many `(anonymous)` functions. Their frames are "placed", and every output that has only a
 * name for a function (folded lines, flame graph labels, hotspot tables) labels them "work (modA.py:4)", with
 * the file's base name, or its whole path when two files of one base name would otherwise give two functions
 * one label. Outputs with fields for the file and line (pprof, speedscope) keep the plain name.
 */
bool frame_is_placed(const struct frame *f);
/* Per frame id, whether its label needs the file's whole path: malloc'd (the caller frees it); NULL when no
 * frame is placed. */
bool *profile_placed_full_paths(const struct profile *p);
/* Appends the label of frame `id`: a placed frame's "name (file:line)" (`full` from profile_placed_full_paths(),
 * may be NULL), else profile_frame_name(). */
void profile_frame_label(struct buf *b, const struct profile *p, uint32_t id, const bool *full);

#endif

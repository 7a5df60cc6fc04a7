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

#include <stdint.h>

struct buf;
struct profile;

/* Appends the name of frame `id` of `p` to `b`. */
void profile_frame_name(struct buf *b, const struct profile *p, uint32_t id);

#endif

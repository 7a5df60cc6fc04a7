/*
 * The debug file cache: distributions ship debug files (libc6-dbg, *-dbgsym, debuginfod's downloads) with
 * their DWARF sections compressed, which libdw inflates in full every time a process opens one (about 50 ms of
 * CPU for glibc's). The first time kiln needs such a file's DWARF it stores a copy with the sections
 * uncompressed, named by build-id, and maps that copy from then on (2 ms). The copy's build-id is checked on
 * every use, so a damaged or foreign file is rebuilt, never believed.
 *
 * Where: $KILN_CACHE_DIR/debuginfo, else $XDG_CACHE_HOME/kiln/debuginfo, else ~/.cache/kiln/debuginfo.
 * KILN_CACHE_DIR set to the empty string turns the cache off. Deleting the directory is always safe.
 */
#ifndef KILN_DEBUGCACHE_H
#define KILN_DEBUGCACHE_H

#include <elfutils/libdwfl.h>

/*
 * `fd`: a debug file just opened for the build-id `hex` (its path in *path, malloc'd). Returns the descriptor
 * to use instead, with *path replaced, and `fd` closed, when the cache has or can now make an uncompressed
 * copy; else `fd` itself, untouched. Never fails: the cache only ever saves time.
 */
int debugcache_substitute(const char *hex, int fd, char **path);

/* A Dwfl_Callbacks.find_debuginfo: dwfl_standard_find_debuginfo(), then debugcache_substitute(). */
int debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			      char **debuginfo_file_name);

#endif

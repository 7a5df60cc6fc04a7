/*
 * The debug file cache (debugcache.h): uncompressed copies of compressed debug files, named by build-id,
 * written atomically with libelf (each compressed section decompressed in place, the file laid out again).
 */
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "debugcache.h"
#include "sym_internal.h"

/* Larger debug files (a whole LLVM, say) stay compressed rather than fill a home directory. */
#define MAX_UNCOMPRESSED ((uint64_t)1 << 30)

static char *cache_dir(void)
{
	const char *d = getenv("KILN_CACHE_DIR");
	if (d)
		return *d ? xasprintf("%s/debuginfo", d) : NULL;
	d = getenv("XDG_CACHE_HOME");
	if (d && *d == '/')
		return xasprintf("%s/kiln/debuginfo", d);
	d = getenv("HOME");
	if (d && *d == '/')
		return xasprintf("%s/.cache/kiln/debuginfo", d);
	return NULL;
}

/* mkdir -p, the directories private to the user (debug files name what the user runs). */
static bool make_dirs(const char *dir)
{
	char *p = xstrdup(dir);
	bool ok = true;
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ok = false;
		if (!s || !ok)
			break;
		*s = '/';
	}
	free(p);
	return ok;
}

static bool build_id_is(Elf *elf, const char *hex)
{
	const void *bits;
	char have[BUILD_ID_HEX_MAX];
	ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
	return n > 0 && build_id_hex(bits, (size_t)n, have) && !strcmp(have, hex);
}

/* The cached copy of `hex`, opened, when it is an ELF file of that build-id without compressed sections. */
static int open_copy(const char *path, const char *hex)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool ok = build_id_is(elf, hex);
	for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		ok = gelf_getshdr(scn, &sh) && !(sh.sh_flags & SHF_COMPRESSED);
	}
	elf_end(elf);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The bytes of `fd`'s compressed sections once uncompressed: 0 when none is compressed (or not ELF). */
static uint64_t uncompressed_size(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	uint64_t total = 0;
	for (Elf_Scn *scn = NULL; elf && (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		GElf_Chdr ch;
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED) && gelf_getchdr(scn, &ch))
			total += ch.ch_size;
	}
	elf_end(elf);
	return total;
}

/* Copies `fd` to `out` (both from their start; `fd`'s own offset is left as it was). */
static bool copy_file(int fd, int out)
{
	struct stat st;
	off_t off = 0;
	if (fstat(fd, &st) < 0)
		return false;
	while (off < st.st_size) {
		ssize_t n = sendfile(out, fd, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			return false;
	}
	return true;
}

/* Writes the uncompressed copy of `fd` to `path`, atomically. */
static bool make_copy(int fd, const char *dir, const char *path)
{
	struct err e = ERR_INIT;
	struct afile f;
	if (!make_dirs(dir) || afile_open(&f, path, &e) < 0)
		return false;
	int out = fileno(f.fp);
	bool ok = copy_file(fd, out);
	Elf *elf = ok ? elf_begin(out, ELF_C_RDWR, NULL) : NULL;
	ok = elf != NULL;
	for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		ok = gelf_getshdr(scn, &sh) && (!(sh.sh_flags & SHF_COMPRESSED) || elf_compress(scn, 0, 0) >= 0);
	}
	if (ok)
		ok = elf_update(elf, ELF_C_WRITE) >= 0;
	elf_end(elf);
	if (!ok) {
		afile_abort(&f);
		return false;
	}
	return afile_commit(&f, &e) == 0;
}

/* The cache's directory and the copy's path for `hex`: false when the cache is off or `hex` is not a build-id. */
static bool copy_path(const char *hex, char **dir, char **copy)
{
	size_t len = hex ? strlen(hex) : 0;
	if (len < 4 || strspn(hex, "0123456789abcdef") != len || !(*dir = cache_dir()))
		return false;
	elf_version(EV_CURRENT);
	*copy = xasprintf("%s/%s.debug", *dir, hex);
	return true;
}

/* Makes the copy of `fd` when it has compressed sections that are worth it. */
static bool cache_file(int fd, const char *dir, const char *copy)
{
	uint64_t size = uncompressed_size(fd);
	return size && size <= MAX_UNCOMPRESSED && make_copy(fd, dir, copy);
}

int debugcache_substitute(const char *hex, int fd, char **path)
{
	char *dir, *copy;
	if (fd < 0 || !copy_path(hex, &dir, &copy))
		return fd;
	int cfd = open_copy(copy, hex);
	if (cfd < 0 && cache_file(fd, dir, copy))
		cfd = open_copy(copy, hex);
	if (cfd >= 0) {
		close(fd);
		free(*path);
		*path = copy;
		copy = NULL;
		fd = cfd;
	}
	free(copy);
	free(dir);
	return fd;
}

/*
 * libdwfl's standard search opens the debug file it finds into the module itself (and would keep using that
 * one whatever we returned), so the copy is looked for first; when there is none yet, the file the standard
 * search found serves this time and its copy the next.
 */
int debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			      char **debuginfo_file_name)
{
	char hex[BUILD_ID_HEX_MAX], *dir = NULL, *copy = NULL;
	bool cached = module_build_id_hex(mod, hex) && copy_path(hex, &dir, &copy);
	int fd = cached ? open_copy(copy, hex) : -1;
	if (fd >= 0) {
		*debuginfo_file_name = copy;
		free(dir);
		return fd;
	}
	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
					  debuginfo_file_name);
	if (cached && fd >= 0)
		cache_file(fd, dir, copy);
	free(copy);
	free(dir);
	return fd;
}

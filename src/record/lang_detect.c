/* Language detection from executables, interpreter names and shebang lines (see lang_detect.h). */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/xalloc.h"
#include "lang_detect.h"

#define MAX_SHEBANG_DEPTH 4

enum rt_lang lang_by_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!strncmp(base, "python", 6) || !strncmp(base, "pypy", 4))
		return RT_PYTHON;
	if (!strcmp(base, "node") || !strcmp(base, "nodejs") || !strncmp(base, "node-", 5))
		return RT_NODE;
	if (!strcmp(base, "java"))
		return RT_JAVA;
	return RT_NATIVE;
}

bool lang_elf_is_go(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool go = false;
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	if (elf && elf_kind(elf) == ELF_K_ELF && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		Elf_Scn *scn = NULL;
		while (!go && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;
			if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
				continue;
			go = !strcmp(name, ".go.buildinfo") || !strcmp(name, ".note.go.buildid") ||
			     !strcmp(name, ".gopclntab");
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return go;
}

/* The full path of `cmd` as execvp() would find it, or NULL. */
static char *which(const char *cmd)
{
	if (strchr(cmd, '/'))
		return access(cmd, F_OK) == 0 ? xstrdup(cmd) : NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char *cand = len ? xasprintf("%.*s/%s", (int)len, path, cmd) : xasprintf("./%s", cmd);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		path += len;
		if (*path == ':')
			path++;
	}
	return NULL;
}

static void guess(const char *path, struct lang_guess *out, int depth)
{
	unsigned char head[512];
	out->lang = RT_NATIVE;
	out->interp = NULL;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n < 4)
		return;
	head[n] = 0;
	if (!memcmp(head, "\177ELF", 4)) {
		char real[PATH_MAX];
		const char *name = realpath(path, real) ? real : path;
		enum rt_lang l = lang_by_name(name);
		/* A binary named like an interpreter, or the link it was reached through (python3 -> python3.11). */
		if (l == RT_NATIVE)
			l = lang_by_name(path);
		if (l != RT_NATIVE) {
			out->lang = l;
			out->interp = xstrdup(name);
		} else if (lang_elf_is_go(path)) {
			out->lang = RT_GO;
		}
		return;
	}
	if (head[0] != '#' || head[1] != '!' || depth >= MAX_SHEBANG_DEPTH)
		return;
	/* "#!/usr/bin/env -S node --flag", "#! /usr/bin/python3 -u" */
	char *line = (char *)head + 2;
	line[strcspn(line, "\n")] = 0;
	char *save = NULL, *tok = strtok_r(line, " \t", &save);
	if (!tok)
		return;
	char *interp = NULL;
	const char *base = strrchr(tok, '/');
	if (!strcmp(base ? base + 1 : tok, "env")) {
		while ((tok = strtok_r(NULL, " \t", &save)) && (tok[0] == '-' || strchr(tok, '=')))
			;
		if (tok)
			interp = which(tok);
	} else {
		interp = xstrdup(tok);
	}
	if (!interp)
		return;
	guess(interp, out, depth + 1);
	if (out->lang == RT_NATIVE && lang_by_name(interp) != RT_NATIVE)
		out->lang = lang_by_name(interp);
	/* A shell script named like an interpreter is a wrapper that execs it (pyenv and asdf shims). */
	if (out->lang == RT_NATIVE && lang_by_name(path) != RT_NATIVE) {
		out->lang = lang_by_name(path);
		free(interp);
		return;
	}
	if (out->lang != RT_NATIVE && out->lang != RT_GO && !out->interp)
		out->interp = xstrdup(interp);
	free(interp);
}

void lang_guess_file(const char *path, struct lang_guess *out)
{
	guess(path, out, 0);
}

void lang_guess_command(const char *argv0, struct lang_guess *out)
{
	out->lang = RT_NATIVE;
	out->interp = NULL;
	char *path = which(argv0);
	if (path)
		guess(path, out, 0);
	free(path);
	/* A wrapper named like its interpreter (pyenv shims, nvm or distribution wrapper scripts). */
	if (out->lang == RT_NATIVE)
		out->lang = lang_by_name(argv0);
}

/* Advice on where a module's missing debug symbols come from (dbghint.h): dpkg's owner, -dbgsym, debuginfod. */
#include "dbghint.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/xalloc.h"

#define DEBIAN_DEBUGINFOD "https://debuginfod.debian.net"
#define MAX_OUTPUT 65536

extern char **environ;

void dbghint_advice(struct buf *out, const struct dbghint_facts *f)
{
	const char *bid = f->build_id && *f->build_id ? f->build_id : NULL;

	if (f->debug_file_present && bid) {
		buf_addf(out, "its debug file for build-id %s is installed now: record the profile again", bid);
		return;
	}
	if (f->package && f->dbgsym_installed) {
		buf_addf(out, "%s-dbgsym is installed but holds nothing for this %s", f->package, f->module);
		if (bid)
			buf_addf(out, " (build-id %s)", bid);
		buf_addf(out, ": install the %s-dbgsym of the same version as %s", f->package, f->package);
		return;
	}
	if (f->package) {
		buf_addf(out, "apt install %s-dbgsym", f->package);
		if (f->debian_codename)
			buf_addf(out, " (from Debian's debug archive: deb http://deb.debian.org/debian-debug/ %s-debug main)",
				 f->debian_codename);
		if (bid && !f->debuginfod_urls)
			buf_addf(out, ", or let debuginfod fetch build-id %s (set DEBUGINFOD_URLS=" DEBIAN_DEBUGINFOD ")", bid);
		return;
	}
	if (bid && f->debuginfod_urls) {
		buf_addf(out, "build-id %s is neither in /usr/lib/debug/.build-id nor at DEBUGINFOD_URLS (%s): keep its "
			 "symbols (build with -g, do not strip) or put its debug file there", bid, f->debuginfod_urls);
		return;
	}
	if (bid) {
		buf_addf(out, "look its debug symbols up by build-id %s (set DEBUGINFOD_URLS=" DEBIAN_DEBUGINFOD " when it "
			 "comes from Debian, or install its debug file as /usr/lib/debug/.build-id/%.2s/%s.debug)", bid,
			 bid, bid + 2);
		return;
	}
	buf_adds(out, "it has neither symbols nor a build-id to find them by: build it with -g and do not strip it");
}

char *dbghint_parse_owner(const char *out, size_t len)
{
	const char *end = out + len;

	for (const char *line = out; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;
		size_t n = 0;

		/* "pkg[:arch][, pkg2...]: /path"; "diversion by pkg from: /path" lines name no owner */
		while (line + n < eol && !strchr(",: \t", line[n]))
			n++;
		if (n && (n != 9 || strncmp(line, "diversion", 9)) && memmem(line, (size_t)(eol - line), ": /", 3))
			return xstrndup(line, n);
		line = nl ? nl + 1 : end;
	}
	return NULL;
}

/* Runs argv (found in PATH) with stdin and stderr on /dev/null; its stdout in `out`. Returns the exit status,
 * -1 when it could not run. */
static int run_capture(char *const argv[], struct buf *out)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], status = -1;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc) {
		close(pipefd[0]);
		return -1;
	}
	char chunk[4096];
	ssize_t n;
	while ((n = read(pipefd[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0)
			break;
		if (out->len < MAX_OUTPUT)
			buf_add(out, chunk, (size_t)n);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *owner_of(const char *path)
{
	char *argv[] = { "dpkg-query", "-S", "--", (char *)path, NULL };
	struct buf out = BUF_INIT;
	char *pkg = NULL;

	if (run_capture(argv, &out) == 0)
		pkg = dbghint_parse_owner(out.buf, out.len);
	buf_release(&out);
	return pkg;
}

/* The file's other name under merged /usr (/usr/lib/x <-> /lib/x), or NULL. */
static char *usrmerge_alias(const char *path)
{
	static const char *const dirs[] = { "/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/", "/sbin/", NULL };

	for (size_t i = 0; dirs[i]; i++) {
		size_t n = strlen(dirs[i]);
		if (!strncmp(path, "/usr", 4) && !strncmp(path + 4, dirs[i], n))
			return xstrdup(path + 4);
		if (!strncmp(path, dirs[i], n))
			return xasprintf("/usr%s", path);
	}
	return NULL;
}

static bool package_installed(const char *pkg)
{
	char *argv[] = { "dpkg-query", "-W", "-f", "${Status}", (char *)pkg, NULL };
	struct buf out = BUF_INIT;
	bool yes = run_capture(argv, &out) == 0 && strstr(out.buf, "install ok installed");

	buf_release(&out);
	return yes;
}

static bool debug_file_present(const char *build_id)
{
	const char *dirs = getenv("KILN_DEBUGINFO_DIRS");
	char *list = xstrdup(dirs && *dirs ? dirs : "/usr/lib/debug"), *save = NULL;
	bool found = false;

	if (strlen(build_id) < 4 || strspn(build_id, "0123456789abcdef") != strlen(build_id)) {
		free(list);
		return false;
	}
	for (char *d = strtok_r(list, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/.build-id/%.2s/%s.debug", d, build_id, build_id + 2);
		found = access(cand, R_OK) == 0;
		free(cand);
	}
	free(list);
	return found;
}

/* VERSION_CODENAME of /etc/os-release when ID is debian. */
static char *debian_codename(void)
{
	FILE *f = fopen("/etc/os-release", "re");
	char line[256], *codename = NULL;
	bool debian = false;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "ID=debian") || !strcmp(line, "ID=\"debian\""))
			debian = true;
		else if (!strncmp(line, "VERSION_CODENAME=", 17) && line[17] && !codename)
			codename = xstrdup(line + 17 + (line[17] == '"'));
	}
	fclose(f);
	if (codename)
		codename[strcspn(codename, "\"")] = '\0';
	if (!debian || !codename || !*codename) {
		free(codename);
		return NULL;
	}
	return codename;
}

void dbghint_gather(struct dbghint_facts *f, const char *path, const char *build_id, char **owned)
{
	const char *slash = strrchr(path, '/');
	const char *urls = getenv("DEBUGINFOD_URLS");
	char *pkg = NULL;

	memset(f, 0, sizeof(*f));
	owned[0] = owned[1] = NULL;
	f->module = slash && slash[1] ? slash + 1 : path;
	f->build_id = build_id && *build_id ? build_id : NULL;
	f->debuginfod_urls = urls && *urls ? urls : NULL;
	f->debug_file_present = f->build_id && debug_file_present(f->build_id);
	if (path[0] == '/' && access(path, F_OK) == 0) {
		pkg = owner_of(path);
		if (!pkg) {
			char *alias = usrmerge_alias(path);
			pkg = alias ? owner_of(alias) : NULL;
			free(alias);
		}
	}
	if (pkg) {
		char *dbgsym = xasprintf("%s-dbgsym", pkg);
		f->package = pkg;
		f->dbgsym_installed = package_installed(dbgsym);
		f->debian_codename = owned[1] = debian_codename();
		free(dbgsym);
	}
	owned[0] = pkg;
}

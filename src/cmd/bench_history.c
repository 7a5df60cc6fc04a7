/* Storing a run in the benchmark history from the command line: defaults from the CI's environment. */
#include "bench_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/history.h"
#include "core/err.h"
#include "core/util.h"
#include "core/xalloc.h"

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (v && *v)
		return v;
	v = getenv(b);
	return v && *v ? v : NULL;
}

int hist_cli_check(struct hist_cli *h, const struct cmd_help *help)
{
	static char host[256];
	const char *what = h->dir ? "--history" : "--push";
	size_t i;

	if (!h->commit)
		h->commit = env_first("GITHUB_SHA", "CI_COMMIT_SHA");
	if (!h->branch)
		h->branch = env_first("GITHUB_REF_NAME", "CI_COMMIT_REF_NAME");
	if (h->push && !hist_is_url(h->push))
		return usage_error(help, "--push '%s': expected an http:// or https:// URL", h->push);
	if (!h->commit || !*h->commit)
		return usage_error(help, "%s needs --commit SHA (or $GITHUB_SHA, $CI_COMMIT_SHA)", what);
	if (!h->branch || !*h->branch)
		return usage_error(help, "%s needs --branch NAME (or $GITHUB_REF_NAME, $CI_COMMIT_REF_NAME)", what);
	if (!h->machine) {
		if (gethostname(host, sizeof(host) - 1))
			snprintf(host, sizeof(host), "unknown");
		h->machine = host;
	}
	if (!*h->machine)
		return usage_error(help, "--machine: empty name");
	for (i = 0; i < h->labels.nr; i++) {
		const char *eq = strchr(h->labels.v[i], '=');

		if (!eq || eq == h->labels.v[i])
			return usage_error(help, "--label '%s': expected KEY=VALUE", h->labels.v[i]);
	}
	return 0;
}

int hist_cli_push(const struct hist_cli *h, const struct bench_set *set, const char *profile)
{
	struct hist_meta m = { .commit = h->commit, .branch = h->branch, .machine = h->machine };
	char **keys = xcalloc(h->labels.nr + 1, sizeof(*keys)), **values = xcalloc(h->labels.nr + 1, sizeof(*values));
	struct err e = ERR_INIT;
	char stem[512];
	size_t i;
	int r;

	m.time = h->time >= 0 ? h->time : (long long)time(NULL);
	for (i = 0; i < h->labels.nr; i++) {
		const char *eq = strchr(h->labels.v[i], '=');

		keys[i] = xstrndup(h->labels.v[i], (size_t)(eq - h->labels.v[i]));
		values[i] = xstrdup(eq + 1);
	}
	m.label_keys = (const char *const *)keys;
	m.label_values = (const char *const *)values;
	m.nlabels = h->labels.nr;
	r = h->dir ? hist_append(h->dir, &m, set, profile, stem, sizeof(stem), &e) : 0;
	if (!r && h->dir)
		fprintf(stderr, "kiln: stored run %s in '%s'\n", stem, h->dir);
	/* The directory first: a server that is down still leaves the run in the repository's store. */
	if (!r && h->push && !(r = hist_push_url(h->push, &m, set, profile, stem, sizeof(stem), &e)))
		fprintf(stderr, "kiln: pushed run %s to %s\n", stem, h->push);
	for (i = 0; i < h->labels.nr; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
	if (r) {
		error_msg("%s", e.msg);
		return EXIT_USAGE;
	}
	return 0;
}

void hist_cli_release(struct hist_cli *h)
{
	free(h->labels.v);
	h->labels.v = NULL;
}

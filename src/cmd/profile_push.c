/* kiln profile --push: its options checked, the agent run (src/agent/agent.h), and the uploader's counters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/agent.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../record/run.h"
#include "profile_common.h"

#define PUSH_FREQ 97 /* production: low overhead, off the 100 Hz tick (and off 99, other agents' rate) */
#define PUSH_SAMPLE_BYTES (512 * 1024) /* --mode mem: Go's MemProfileRate, Node's and jemalloc's default */

int profile_push_check_mode(const struct profile_opts *o, const struct cmd_help *help)
{
	if (o->push && o->diff)
		return usage_error(help, "--push and --diff cannot be combined");
	if (!o->push && (o->every || o->service || o->tags.nr || o->service_from))
		return usage_error(help, "--every, --service, --tag and --service-from go with --push");
	if (!o->push || (o->mode_bit & (RECORD_CPU | RECORD_MEM | RECORD_OFFCPU)))
		return 0;
	/* The driver cuts cpu, mem and offcpu recordings into windows (run_modes.c: `windows`). */
	return usage_error(help, "--push records --mode cpu, mem or offcpu: --mode %s cannot be cut into windows yet",
			   record_mode_name(o->mode_bit));
}

/* "10s", "500ms", "2m", "1h" or plain seconds, into nanoseconds. */
static int parse_every(const char *s, uint64_t *ns, struct err *e)
{
	char *end;
	double v = strtod(s, &end), unit = 1e9;

	if (end == s)
		goto bad;
	if (!strcmp(end, "ms"))
		unit = 1e6;
	else if (!strcmp(end, "m"))
		unit = 60e9;
	else if (!strcmp(end, "h"))
		unit = 3600e9;
	else if (*end && strcmp(end, "s"))
		goto bad;
	v *= unit;
	if (!(v >= 1e8 && v <= 86400e9))
		return err_set(e, "--every '%s' is out of range (100ms to 24h)", s);
	*ns = (uint64_t)v;
	return 0;
bad:
	return err_set(e, "invalid --every '%s' (e.g. 10s, 500ms, 1m)", s);
}

/* --tag K=V: a key Pyroscope's name grammar accepts, and a value without its separators. */
static int check_tag(const char *t, struct err *e)
{
	const char *eq = strchr(t, '=');
	size_t klen = eq ? (size_t)(eq - t) : 0;

	if (!eq || !klen)
		return err_set(e, "invalid --tag '%s': expected KEY=VALUE", t);
	if (strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != klen)
		return err_set(e, "invalid --tag '%s': a key has letters, digits, '_' and '.' only", t);
	if (!strncmp(t, "__", 2))
		return err_set(e, "invalid --tag '%s': keys starting with '__' are reserved", t);
	if (strpbrk(eq + 1, ",{}"))
		return err_set(e, "invalid --tag '%s': a value cannot hold ',', '{' or '}'", t);
	return 0;
}

int profile_push_check(const struct profile_opts *o, const struct cmd_help *help, struct record_request *rq)
{
	struct err e = ERR_INIT;
	uint64_t ns;

	if (push_check_url(o->push, &e) < 0 || (o->every && parse_every(o->every, &ns, &e) < 0))
		return usage_error(help, "%s", e.msg);
	for (size_t i = 0; i < o->tags.nr; i++)
		if (check_tag(o->tags.v[i], &e) < 0)
			return usage_error(help, "%s", e.msg);
	if (o->output || o->flamegraph || o->format || o->json)
		return usage_error(help, "--push sends the profiles to the server: -o, --format, --flamegraph and "
					 "--json do not apply");
	if (o->service_from && !rq->all_cpus && !rq->npids)
		return usage_error(help, "--service-from names the processes of -a or -p; a command's series is "
					 "named after it (or --service)");
	if (!rq->freq)
		rq->freq = PUSH_FREQ;
	/* A production heap profile samples, as Go's runtime and Pyroscope's clients do (every 512 KiB): tracing
	 * every allocation of a service costs far more than 1 %. --sample-bytes chooses another interval. */
	if (o->mode_bit == RECORD_MEM && !o->sample_bytes)
		rq->sample_bytes = PUSH_SAMPLE_BYTES;
	return 0;
}

static void print_counters(const struct profile_opts *o, const struct agent_result *ar)
{
	const struct push_stats *s = &ar->push;

	fprintf(stderr, "kiln: pushed to %s: %llu windows (%llu empty), %llu profiles sent, %llu dropped, "
		"%llu rejected, %llu retries", o->push, (unsigned long long)ar->windows,
		(unsigned long long)ar->empty, (unsigned long long)s->sent, (unsigned long long)s->dropped,
		(unsigned long long)s->rejected, (unsigned long long)s->retries);
	if (*s->last_error)
		fprintf(stderr, "; last error: %s", s->last_error);
	fputc('\n', stderr);
}

int profile_push_run(const struct profile_opts *o, struct record_request *rq, char **argv)
{
	struct agent_opts ao = { .push = { .url = o->push, .app = o->service } };
	struct push_tag *tags = xcalloc(o->tags.nr + 1, sizeof(*tags));
	struct record_result res;
	struct agent_result ar;
	struct err e = ERR_INIT;
	int status;

	for (size_t i = 0; i < o->tags.nr; i++) {
		char *kv = xstrdup(o->tags.v[i]);

		*strchr(kv, '=') = 0;
		tags[i] = (struct push_tag){ kv, kv + strlen(kv) + 1 };
	}
	ao.push.tags = tags;
	ao.push.ntags = o->tags.nr;
	/* sampleRate and units=samples describe CPU samples; a heap or off-CPU upload says neither (as Go's
	 * client uploads heap profiles): their values and units are the pprof's. */
	if (o->mode_bit == RECORD_CPU)
		ao.push.sample_rate = rq->freq;
	else
		ao.push.units = "";
	/* Off-CPU time alone: the count of switches beside it would be a second profile type of its own. */
	if (o->mode_bit == RECORD_OFFCPU)
		ao.column = "off_cpu";
	if (o->every)
		parse_every(o->every, &ao.window_ns, &e);
	ao.per_process = rq->all_cpus || rq->npids > 1;
	ao.service_from = o->service_from ? (enum agent_service_from)agent_service_from_parse(o->service_from)
					  : AGENT_SERVICE_COMM;
	rq->argv = argv[0] ? argv : NULL;
	if (agent_run(rq, &ao, &res, &ar, &e) < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
	} else if (res.launch_failed) {
		error_msg("%s", e.msg);
		status = res.exit_status;
	} else {
		for (size_t i = 0; i < res.notes_nr; i++)
			warning_msg("%s", res.notes[i]);
		status = res.exit_status;
	}
	if (!res.launch_failed && (!o->quiet || ar.push.dropped || ar.push.rejected))
		print_counters(o, &ar);
	record_result_release(&res);
	for (size_t i = 0; i < o->tags.nr; i++)
		free((char *)tags[i].name);
	free(tags);
	return status;
}

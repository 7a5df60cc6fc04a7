/* The agent of `kiln profile --push` (agent.h): continuous recording, a profile per window and series, pushed. */
#include "agent/agent.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "record/run.h"

#define WINDOW_DEFAULT_NS 10000000000ULL
#define DRAIN_DEFAULT_MS 5000
#define MAX_TAGS 64
/* Per process, a window is as many profiles as processes ran: the queue holds a few windows of a busy host. */
#define QUEUE_PER_PROCESS 2048

static const char *const service_rules[] = { "comm", "exe", "cgroup" };

int agent_service_from_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(service_rules); i++)
		if (name && !strcmp(name, service_rules[i]))
			return (int)i;
	return -1;
}

/* ---- one process's rows, without sample labels ---- */

struct proj {
	const struct profile *src;
	struct profile *dst;
	uint32_t *fmap, *nmap; /* src id + 1 -> dst id + 1; 0 while unmapped */
	uint32_t *chain;
	size_t chain_alloc;
};

static uint32_t map_str(struct proj *j, uint32_t id)
{
	return id ? profile_intern(j->dst, profile_str(j->src, id), profile_strlen(j->src, id)) : 0;
}

static uint32_t map_frame(struct proj *j, uint32_t f)
{
	if (!j->fmap[f]) {
		struct frame fr = j->src->frames[f];

		fr.function = map_str(j, fr.function);
		fr.module = map_str(j, fr.module);
		fr.file = map_str(j, fr.file);
		j->fmap[f] = profile_frame(j->dst, &fr) + 1;
	}
	return j->fmap[f] - 1;
}

/* The node of `n`'s stack in dst: the unmapped ancestors are walked up first, then created root first. */
static uint32_t map_node(struct proj *j, uint32_t n)
{
	size_t k = 0;
	uint32_t d;

	while (n && !j->nmap[n]) {
		ALLOC_GROW(j->chain, k + 1, j->chain_alloc);
		j->chain[k++] = n;
		n = j->src->nodes[n].parent;
	}
	d = n ? j->nmap[n] - 1 : 0;
	while (k--) {
		uint32_t s = j->chain[k];

		d = profile_node(j->dst, d, map_frame(j, j->src->nodes[s].frame));
		j->nmap[s] = d + 1;
	}
	return d;
}

/* The rows whose pid (row_pid[r]) is `pid`, or all when `pid` < 0; only column `col` when it is >= 0. */
static struct profile *project_cols(const struct profile *src, const int64_t *row_pid, int64_t pid, int col)
{
	struct proj j = { src, profile_new(0), NULL, NULL, NULL, 0 };
	struct profile *dst = j.dst;

	j.fmap = xcalloc(src->frames_nr + 1, sizeof(*j.fmap));
	j.nmap = xcalloc(src->nodes_nr + 1, sizeof(*j.nmap));
	for (size_t c = 0; c < src->ncolumns; c++)
		if (col < 0 || (size_t)col == c)
			profile_add_column(dst, profile_str(src, src->columns[c].type),
					   profile_str(src, src->columns[c].unit));
	dst->default_column = col < 0 ? src->default_column : 0;
	dst->period_type.type = map_str(&j, src->period_type.type);
	dst->period_type.unit = map_str(&j, src->period_type.unit);
	dst->period = src->period;
	dst->time_nanos = src->time_nanos;
	dst->duration_nanos = src->duration_nanos;
	for (size_t r = 0; r < src->rows_nr; r++) {
		const int64_t *v = profile_row_values(src, r);

		if (pid >= 0 && row_pid[r] != pid)
			continue;
		if (col >= 0 && !v[col])
			continue;
		profile_add_sample(dst, map_node(&j, src->rows[r].node), 0, col < 0 ? v : v + col);
	}
	profile_meta_merge(dst, src, true); /* build ids and mappings, for symbolization on the server's side */
	free(j.fmap);
	free(j.nmap);
	free(j.chain);
	return dst;
}

static struct profile *project_rows(const struct profile *src, const int64_t *row_pid, int64_t pid)
{
	return project_cols(src, row_pid, pid, -1);
}

static int64_t *row_pids(const struct profile *p)
{
	int64_t *v = xcalloc(p->rows_nr + 1, sizeof(*v));

	for (size_t r = 0; r < p->rows_nr; r++)
		if (!profile_label_num(p, p->rows[r].labelset, "pid", &v[r]))
			v[r] = -1;
	return v;
}

struct profile *agent_project(const struct profile *src, int64_t pid)
{
	int64_t *pids = pid < 0 ? NULL : row_pids(src);
	struct profile *p = project_rows(src, pids, pid);

	free(pids);
	return p;
}

/* ---- service names ---- */

static bool read_first_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	bool ok = f && fgets(out, (int)n, f);

	if (f)
		fclose(f);
	if (ok)
		out[strcspn(out, "\n")] = 0;
	return ok && *out;
}

/* The last component of the process's cgroup v2 path ("0::/system.slice/nginx.service" -> nginx.service). */
static bool cgroup_name(pid_t pid, char *out, size_t n)
{
	char path[64], line[PATH_MAX];
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (!(f = fopen(path, "r")))
		return false;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *s, *end;

		if (strncmp(line, "0::", 3))
			continue;
		s = line + 3;
		s[strcspn(s, "\n")] = 0;
		end = s + strlen(s);
		while (end > s && end[-1] == '/')
			*--end = 0;
		s = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
		/* The root cgroup names nothing: the process belongs to no unit or container. */
		if (*s) {
			snprintf(out, n, "%s", s);
			ok = true;
		}
	}
	fclose(f);
	return ok;
}

void agent_service_name(struct buf *out, pid_t pid, enum agent_service_from rule, const char *fallback)
{
	char path[64], val[PATH_MAX];
	bool ok = false;

	if (rule == AGENT_SERVICE_EXE) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		n = readlink(path, val, sizeof(val) - 1);
		if (n > 0) {
			char *del;

			val[n] = 0;
			if ((del = strstr(val, " (deleted)")) && !del[10])
				*del = 0; /* replaced by an upgrade since it started: still the same program's name */
			memmove(val, strrchr(val, '/') ? strrchr(val, '/') + 1 : val, strlen(val) + 1);
			ok = *val;
		}
	} else if (rule == AGENT_SERVICE_CGROUP) {
		ok = cgroup_name(pid, val, sizeof(val));
	}
	/* Kernel threads have no executable, processes in the root cgroup no unit: their comm names them. */
	if (!ok) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		ok = read_first_line(path, val, sizeof(val));
	}
	buf_adds(out, ok ? val : fallback && *fallback ? fallback : "unknown");
}

/* ---- the run ---- */

struct agent {
	const struct agent_opts *o;
	struct pusher *pusher;
	struct agent_result *ar;
	struct err err;
	bool failed;
	int col; /* the column pushed (o->column's index in the windows' profiles), -1: all */
};

/* A comm seen in the samples of `pid` (its main thread's when there is one), for a process gone from /proc. */
static const char *sample_comm(const struct profile *p, const int64_t *pids, int64_t pid)
{
	const char *any = NULL;

	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t ls = p->rows[r].labelset, comm;
		int64_t tid;

		if (pids[r] != pid || !(comm = profile_label_str(p, ls, "comm")))
			continue;
		if (profile_label_num(p, ls, "tid", &tid) && tid == pid)
			return profile_str(p, comm);
		if (!any)
			any = profile_str(p, comm);
	}
	return any;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* One series per process: the distinct pids of the window, each projected, named and pushed. */
static int push_per_process(struct agent *a, const struct profile *p, uint64_t from, uint64_t until)
{
	int64_t *pids = row_pids(p), *uniq = xmalloc((p->rows_nr + 1) * sizeof(*uniq));
	size_t n = 0;
	int ret = 0;

	memcpy(uniq, pids, p->rows_nr * sizeof(*uniq));
	qsort(uniq, p->rows_nr, sizeof(*uniq), cmp_i64);
	for (size_t i = 0; i < p->rows_nr; i++)
		if (!n || uniq[n - 1] != uniq[i])
			uniq[n++] = uniq[i];
	for (size_t i = 0; i < n && !ret; i++) {
		struct buf app = BUF_INIT;
		char pidstr[24];
		struct push_tag tag = { "pid", pidstr };
		struct profile *q;

		/* pid 0 is the idle task: time no service spent. */
		if (uniq[i] <= 0)
			continue;
		snprintf(pidstr, sizeof(pidstr), "%lld", (long long)uniq[i]);
		if (a->o->push.app)
			buf_adds(&app, a->o->push.app);
		else
			agent_service_name(&app, (pid_t)uniq[i], a->o->service_from, sample_comm(p, pids, uniq[i]));
		q = project_cols(p, pids, uniq[i], a->col);
		ret = pusher_push_as(a->pusher, app.buf, q, (int64_t)from, (int64_t)until, &tag, 1, &a->err);
		profile_free(q);
		buf_release(&app);
	}
	free(uniq);
	free(pids);
	return ret;
}

static int on_window(struct profile *p, uint64_t from, uint64_t until, void *arg)
{
	struct agent *a = arg;
	int ret;

	a->ar->windows++;
	a->col = a->o->column ? profile_find_column(p, a->o->column) : -1;
	if (a->o->column && a->col < 0) {
		err_set(&a->err, "no column '%s' in the recorded profile", a->o->column);
		a->failed = true;
		return 1;
	}
	if (!p->rows_nr) {
		a->ar->empty++;
		return 0;
	}
	if (a->o->per_process) {
		ret = push_per_process(a, p, from, until);
	} else {
		struct profile *q = project_cols(p, NULL, -1, a->col);

		ret = pusher_push(a->pusher, q, (int64_t)from, (int64_t)until, NULL, 0, &a->err);
		profile_free(q);
	}
	if (ret < 0)
		a->failed = true;
	return ret < 0; /* a profile that cannot be encoded ends the run */
}

/* The service of the one series: --service, else the command's name or the process's, else "kiln". */
static char *single_app(const struct record_request *rq, const struct agent_opts *o)
{
	struct buf b = BUF_INIT;

	if (o->push.app) {
		buf_adds(&b, o->push.app);
	} else if (rq->argv && rq->argv[0]) {
		const char *s = strrchr(rq->argv[0], '/');

		buf_adds(&b, s ? s + 1 : rq->argv[0]);
	} else if (rq->npids) {
		agent_service_name(&b, (pid_t)rq->pids[0], o->service_from, NULL);
	} else {
		buf_adds(&b, "kiln");
	}
	return buf_detach(&b, NULL);
}

int agent_run(const struct record_request *rq, const struct agent_opts *o, struct record_result *res,
	      struct agent_result *ar, struct err *e)
{
	struct agent a = { o, NULL, ar, ERR_INIT, false, -1 };
	struct push_tag tags[MAX_TAGS + 1];
	struct push_opts po = o->push;
	char host[256] = "";
	char *app = single_app(rq, o);
	int ret;

	memset(ar, 0, sizeof(*ar));
	memset(res, 0, sizeof(*res));
	if (o->push.ntags > MAX_TAGS) {
		free(app);
		return err_set(e, "more than %d tags", MAX_TAGS);
	}
	gethostname(host, sizeof(host) - 1);
	/* The host first: a --tag host=NAME given by the user comes later and wins (the last of a key does). */
	tags[0] = (struct push_tag){ "host", host };
	memcpy(tags + 1, o->push.tags, o->push.ntags * sizeof(*tags));
	po.tags = tags;
	po.ntags = o->push.ntags + 1;
	po.app = app;
	if (o->per_process && !po.queue_max)
		po.queue_max = QUEUE_PER_PROCESS;
	if (!(a.pusher = pusher_start(&po, e))) {
		free(app);
		return -1;
	}
	ret = record_run_continuous(rq, o->window_ns ? o->window_ns : WINDOW_DEFAULT_NS, on_window, &a, res, e);
	pusher_stop(a.pusher, o->drain_ms > 0 ? o->drain_ms : DRAIN_DEFAULT_MS, &ar->push);
	if (!ret && a.failed)
		ret = err_set(e, "%s", a.err.msg);
	free(app);
	return ret;
}

/*
 * Group commit of the PostgreSQL backend: the ingest requests that arrive while others are being stored wait
 * in a queue, and the next writer takes all of them (of one tenant) into one transaction, so that one commit
 * (one WAL flush: synchronous_commit stays on, acknowledged means durable) and one pipeline serve many
 * requests, as SQLite's writer thread does. Each request is acknowledged only once the transaction holding
 * it has committed. A few writers run at once, so that one can fill its transaction while another waits for
 * its flush; should a combined transaction fail, its requests are stored one by one, so that one request's
 * fault (a series limit, a bad time) is not another's.
 */
#include "server/store_pg.h"

#include <stdlib.h>

#define GROUP_WRITERS 4    /* transactions being stored at once */
#define GROUP_MAX_WRITES 256 /* profiles in one transaction */

struct pg_group_req {
	const struct store_write *w;
	size_t n;
	const char *tenant;
	int rc;
	bool taken, done;
	struct err e;
	struct pg_group_req *next;
};

static const char *tenant_of(const struct store_write *w, size_t n)
{
	return n && w[0].tenant ? w[0].tenant : "";
}

/* Takes the oldest waiting request and those of its tenant after it, up to GROUP_MAX_WRITES profiles. */
static size_t take_group(struct pg_store *s, struct pg_group_req **out, size_t max)
{
	const char *tenant = NULL;
	size_t nr = 0, writes = 0;

	for (struct pg_group_req *r = s->group_head; r && nr < max; r = r->next) {
		if (r->taken || (tenant && strcmp(tenant, r->tenant)))
			continue;
		if (nr && writes + r->n > GROUP_MAX_WRITES)
			break;
		tenant = r->tenant;
		r->taken = true;
		writes += r->n;
		out[nr++] = r;
	}
	return nr;
}

static void unlink_req(struct pg_store *s, struct pg_group_req *req)
{
	for (struct pg_group_req **p = &s->group_head; *p; p = &(*p)->next)
		if (*p == req) {
			*p = req->next;
			return;
		}
}

/* Stores the taken requests in one transaction (one by one if that fails); without the group lock. */
static void store_group(struct pg_store *s, struct pg_group_req **g, size_t nr)
{
	struct store_write *all = NULL;
	size_t n = 0, alloc = 0;
	struct err e = ERR_INIT; /* the combined attempt's: each request then gets its own */

	if (nr > 1) {
		for (size_t i = 0; i < nr; i++)
			for (size_t k = 0; k < g[i]->n; k++)
				PUSH(all, n, alloc, g[i]->w[k]);
		if (!pg_ingest_batch(s, all, n, &e)) {
			for (size_t i = 0; i < nr; i++)
				g[i]->rc = 0;
			free(all);
			return;
		}
		free(all);
	}
	for (size_t i = 0; i < nr; i++)
		g[i]->rc = pg_ingest_batch(s, g[i]->w, g[i]->n, &g[i]->e);
}

int pg_ingest(struct store *h, const struct store_write *w, size_t n, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	struct pg_group_req req = { w, n, tenant_of(w, n), -1, false, false, ERR_INIT, NULL };
	struct pg_group_req *group[GROUP_MAX_WRITES];

	if (s->read_only)
		return err_set(e, "this store is read-only");
	for (size_t i = 1; i < n; i++)
		if (strcmp(w[i].tenant ? w[i].tenant : "", req.tenant))
			return err_set(e, "one ingest batch holds profiles of several tenants");

	pthread_mutex_lock(&s->group_lock);
	/* Appended at the tail: the oldest request is taken first. */
	{
		struct pg_group_req **p = &s->group_head;

		while (*p)
			p = &(*p)->next;
		*p = &req;
	}
	while (!req.done) {
		size_t nr;

		if (req.taken || s->group_writers >= GROUP_WRITERS) {
			pthread_cond_wait(&s->group_cond, &s->group_lock);
			continue;
		}
		/* This thread becomes a writer: its own request is in what it takes (it is the oldest untaken of its
		 * tenant or comes after one, and the loop goes on until it is done). */
		nr = take_group(s, group, GROUP_MAX_WRITES);
		s->group_writers++;
		pthread_mutex_unlock(&s->group_lock);
		store_group(s, group, nr);
		pthread_mutex_lock(&s->group_lock);
		s->group_writers--;
		for (size_t i = 0; i < nr; i++) {
			group[i]->done = true;
			unlink_req(s, group[i]);
		}
		pthread_cond_broadcast(&s->group_cond);
	}
	pthread_mutex_unlock(&s->group_lock);
	if (req.rc && e)
		*e = req.e;
	return req.rc;
}

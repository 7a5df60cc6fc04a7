/*
 * The PostgreSQL reader's stack nodes (store_nodes.h): what queries have read of a tenant's content-addressed
 * stacks, numbered densely in this process's memory so that a merge sums by number over arrays and a flame graph
 * of maxNodes nodes rebuilds only the nodes it shows (store_nodes_truncated), as SQLite's merge does.
 *
 * A stored stack row holds its frame ids root first, and a node's id is the hash of its parent's id and its frame
 * (store_impl.h), so one row gives the whole path and the nodes it shares with stacks read before. A node is
 * numbered when first read, after its parent; its frame is read with it, so every numbered node can be named.
 * Ids map to numbers through a key set of 4-byte slots (struct store_keys): a week of a fleet is 2.9 M nodes,
 * 60 to 80 MB here, where maps of 16-byte slots for the parent and the frame of each node took over 200 MB and,
 * emptied whenever they overflowed, made every large merge read all its stacks again.
 *
 * One read-write lock covers every tenant's table: a merge holds it for reading while it sums and rebuilds, and
 * takes it for writing only to add what it read from the database. When the tables have grown past nodes_max
 * nodes they are emptied (under the write lock, so no merge is using them) before more are added; a merge whose
 * stacks were dropped between being read and being summed reads them again.
 */
#include "server/store_pg.h"

#include <stdbool.h>
#include <stdlib.h>

#include "profile/profile.h"
#include "server/store_nodes.h"


/* One tenant's nodes: numbers, arrays by number, and each numbered frame's row. */
struct pg_nodes {
	uint64_t tenant;         /* tenant_key() */
	struct store_nodes t;    /* its lock unused: pg_store.nodes_lock covers all tenants */
	struct store_keys ids;   /* stored node id -> number */
	struct frame_info *info; /* by index in t.frame_ids */
	size_t ninfo, info_alloc;
};

void pg_nodes_release(struct pg_store *s)
{
	for (size_t i = 0; i < s->ntenant_nodes; i++) {
		struct pg_nodes *n = s->tenant_nodes[i];

		store_nodes_release(&n->t);
		store_keys_release(&n->ids);
		free(n->info);
		free(n);
	}
	free(s->tenant_nodes);
	s->tenant_nodes = NULL;
	s->ntenant_nodes = s->tenant_nodes_alloc = 0;
	s->nodes_total = 0;
	strtab_release(&s->strings);
	strtab_intern(&s->strings, "", 0);
}

/* The table of tenant `tk`, NULL when there is none (with the lock held). */
static struct pg_nodes *tenant_nodes(const struct pg_store *s, uint64_t tk)
{
	for (size_t i = 0; i < s->ntenant_nodes; i++)
		if (s->tenant_nodes[i]->tenant == tk)
			return s->tenant_nodes[i];
	return NULL;
}

/* The number of stored node `id`, 0 when it has none (with the lock held). */
static int64_t number_of(const struct pg_nodes *n, int64_t id)
{
	return n ? store_keys_find(&n->ids, (uint64_t)id, INT64_MAX) : 0;
}

/*
 * What a fetch read: the stack rows, copied as they stream in (the first merge of a week of a fleet reads half a
 * million of them, and libpq's result holding them whole raised the server's peak RSS from 202 to 252 MB), and
 * the rows of the frames that the table lacks.
 */
struct fetched {
	int64_t *ids;     /* stack ids */
	size_t *end;      /* by stack: the end of its frame ids in `frames` */
	size_t n, alloc, end_alloc;
	int64_t *frames;  /* every stack's frame ids, root first, one stack after another */
	size_t nframes, frames_alloc;
	PGresult *frame_rows;
};

static void fetched_release(struct fetched *f)
{
	free(f->ids);
	free(f->end);
	free(f->frames);
	PQclear(f->frame_rows);
}

static int copy_stack(void *arg, const PGresult *r, struct err *e)
{
	struct fetched *f = arg;
	const char *frames = PQgetvalue(r, 0, 1);
	size_t len = (size_t)PQgetlength(r, 0, 1);
	int64_t id = field_i64(r, 0, 0);

	if (!id || !len || len % 8)
		return err_set(e, "the store is damaged: stack %lld", (long long)id);
	ALLOC_GROW(f->frames, f->nframes + len / 8, f->frames_alloc);
	for (size_t at = 0; at < len; at += 8)
		f->frames[f->nframes++] = (int64_t)get_be64(frames + at);
	PUSH(f->ids, f->n, f->alloc, id);
	ALLOC_GROW(f->end, f->n, f->end_alloc);
	f->end[f->n - 1] = f->nframes;
	return 0;
}

/* Reads the stack rows of the ids in `ids` (a bigint[] literal) and the frames of theirs that the table lacks. */
static int fetch_rows(struct pg_store *s, PGconn *c, const char *tenant, const char *ids, struct fetched *f,
		      struct err *e)
{
	uint64_t tk = tenant_key(tenant);
	struct u64map asked = U64MAP_INIT;
	struct buf fids = BUF_INIT;
	size_t nfids = 0;
	int rc = -1;

	if (stream_rows(c, "SELECT id, frames FROM kiln_stacks WHERE tenant = $1 AND id = ANY($2::bigint[])", 2,
			(const char *const[]){ tenant, ids }, copy_stack, f, e))
		return -1;
	buf_addch(&fids, '{');
	pthread_rwlock_rdlock(&s->nodes_lock);
	{
		const struct pg_nodes *n = tenant_nodes(s, tk);

		for (size_t i = 0; i < f->nframes; i++) {
			uint64_t frame = (uint64_t)f->frames[i];
			int ins;

			if (n && u64map_find(&n->t.frame_at, frame))
				continue;
			u64map_insert(&asked, frame, &ins);
			if (ins)
				add_array_int(&fids, frame, !nfids++);
		}
	}
	pthread_rwlock_unlock(&s->nodes_lock);
	buf_addch(&fids, '}');
	if (nfids) {
		f->frame_rows = run(c, "SELECT id, name, file, line, module, kind, addr FROM kiln_frames WHERE tenant = $1"
				       " AND id = ANY($2::bigint[])", 2, (const char *const[]){ tenant, fids.buf }, NULL,
				    NULL, 1, e);
		if (!f->frame_rows)
			goto out;
	}
	rc = 0;
out:
	u64map_release(&asked);
	buf_release(&fids);
	return rc;
}

/* Numbers frame row `i` of `r` in `n` with what it says (with the write lock held). */
static void add_frame(struct pg_store *s, struct pg_nodes *n, const PGresult *r, int i)
{
	int64_t id = field_i64(r, i, 0);
	struct frame_info fi;
	uint64_t *at;
	int ins;

	if (!id || u64map_find(&n->t.frame_at, (uint64_t)id))
		return;
	fi.name = strtab_intern(&s->strings, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
	fi.file = strtab_intern(&s->strings, PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2));
	fi.line = field_i64(r, i, 3);
	fi.module = strtab_intern(&s->strings, PQgetvalue(r, i, 4), (size_t)PQgetlength(r, i, 4));
	fi.kind = (uint32_t)field_i32(r, i, 5);
	fi.addr = field_i64(r, i, 6);
	if (fi.kind >= FRAME_KIND_NR)
		fi.kind = FRAME_UNKNOWN;
	at = u64map_insert(&n->t.frame_at, (uint64_t)id, &ins);
	ALLOC_GROW(n->t.frame_ids, n->t.nframes + 1, n->t.frames_alloc);
	n->t.frame_ids[n->t.nframes] = id;
	*at = n->t.nframes++;
	PUSH(n->info, n->ninfo, n->info_alloc, fi);
}

/*
 * Numbers the nodes of stack `i` of `f` (with the write lock held): 0, or -1 when it names a frame that the
 * database does not have (a stack is written after its frames, in the same transaction).
 */
static int add_stack(struct pg_store *s, struct pg_nodes *n, const struct fetched *f, size_t i, struct err *e)
{
	int64_t id = f->ids[i], parent = 0, parent_seq = 0;
	size_t first = i ? f->end[i - 1] : 0;

	for (size_t at = first; at < f->end[i]; at++) {
		int64_t frame = f->frames[at], key[2] = { parent, frame };
		int64_t node = at + 1 == f->end[i] ? id : store_id_of(key, sizeof(key));
		int64_t seq = number_of(n, node);

		if (!seq) {
			if (!u64map_find(&n->t.frame_at, (uint64_t)frame))
				return err_set(e, "the store is damaged: frame %lld is missing", (long long)frame);
			seq = n->t.n ? (int64_t)n->t.n : 1;
			if (seq > INT32_MAX)
				return err_set(e, "too many stack nodes to merge");
			store_keys_add(&n->ids, (uint64_t)node, seq);
			store_nodes_put(&n->t, seq, parent_seq, frame);
			s->nodes_total++;
		}
		parent = node;
		parent_seq = seq;
	}
	return 0;
}

/*
 * Adds what fetch_rows read to the tenant's table (taking the write lock), emptying the tables first when they are
 * full and `may_empty`: a merge empties them once at most, or its own stacks would go each time it reads them.
 */
static int add_rows(struct pg_store *s, uint64_t tk, const struct fetched *f, bool may_empty, struct err *e)
{
	struct pg_nodes *n;
	int rc = 0;

	pthread_rwlock_wrlock(&s->nodes_lock);
	if (may_empty && s->nodes_total > s->nodes_max)
		pg_nodes_release(s);
	if (!(n = tenant_nodes(s, tk))) {
		n = xcalloc(1, sizeof(*n));
		n->tenant = tk;
		PUSH(s->tenant_nodes, s->ntenant_nodes, s->tenant_nodes_alloc, n);
	}
	for (int i = 0; f->frame_rows && i < PQntuples(f->frame_rows); i++)
		add_frame(s, n, f->frame_rows, i);
	for (size_t i = 0; !rc && i < f->n; i++)
		rc = add_stack(s, n, f, i, e);
	pthread_rwlock_unlock(&s->nodes_lock);
	return rc;
}

/* Reads the stacks `ids` (a bigint[] literal) into the tenant's table. */
static int pg_nodes_fetch(struct pg_store *s, PGconn *c, const char *tenant, const char *ids, bool may_empty,
			  struct err *e)
{
	struct fetched f = { 0 };
	int rc = fetch_rows(s, c, tenant, ids, &f, e) || add_rows(s, tenant_key(tenant), &f, may_empty, e) ? -1 : 0;

	fetched_release(&f);
	return rc;
}

/* store_rebuild's view of a tenant's table, whose read lock the caller holds. Stacks go by number. */
struct pg_rebuild {
	const struct pg_store *s;
	const struct pg_nodes *n;
	struct profile *out;
};

static int numbered_node(void *arg, int64_t seq, int64_t *parent, int64_t *frame, struct err *e)
{
	const struct pg_nodes *n = ((const struct pg_rebuild *)arg)->n;

	(void)e;
	if (seq <= 0 || (size_t)seq >= n->t.n || !n->t.frame[seq])
		return 1;
	*parent = n->t.parent[seq];
	*frame = store_node_frame(&n->t, (size_t)seq);
	return 0;
}

static int numbered_frame(void *arg, int64_t frame, uint32_t *idx, struct err *e)
{
	const struct pg_rebuild *r = arg;
	struct profile *out = r->out;
	const uint64_t *at = u64map_find(&r->n->t.frame_at, (uint64_t)frame);
	const struct frame_info *fi;
	struct frame f = { 0 };

	(void)e;
	if (!at)
		return 1;
	fi = &r->n->info[*at];
	f.function = profile_intern_str(out, strtab_str(&r->s->strings, fi->name));
	f.file = profile_intern_str(out, strtab_str(&r->s->strings, fi->file));
	f.module = profile_intern_str(out, strtab_str(&r->s->strings, fi->module));
	f.line = fi->line > 0 && fi->line <= UINT32_MAX ? (uint32_t)fi->line : 0;
	f.kind = fi->kind;
	f.addr = (uint64_t)fi->addr;
	*idx = profile_frame(out, &f);
	return 0;
}

/*
 * The numbers of the stacks of `acc` into `sums` (by number) and `late` (the empty stack, id 0): 0, or 1 with the
 * stacks that have none in `missing` (a bigint[] literal): not read yet, or dropped since. The keys are looked up
 * in batches, each batch's slots fetched first (a miss per stack, one at a time, was a seventh of a week's merge).
 */
static int number_all(const struct pg_nodes *n, const struct merge_acc *acc, int64_t *sums, struct store_sums *late,
		      struct buf *missing)
{
	enum { BATCH = 32 };
	uint64_t keys[BATCH], vals[BATCH];
	size_t pos = 0, nmissing = 0, nb;

	buf_addch(missing, '{');
	do {
		for (nb = 0; nb < BATCH && u64map_next(&acc->values, &pos, &keys[nb], &vals[nb]); nb++)
			if (n)
				store_keys_prefetch(&n->ids, keys[nb]);
		for (size_t i = 0; i < nb; i++) {
			int64_t seq = keys[i] ? number_of(n, (int64_t)keys[i]) : 0;

			if (keys[i] && !seq)
				add_array_int(missing, keys[i], !nmissing++);
			else if (nmissing || !sums)
				continue;
			else if (seq)
				sums[seq] = sat_add64(sums[seq], (int64_t)vals[i]);
			else
				store_sums_add(late, 0, (int64_t)vals[i]);
		}
	} while (nb == BATCH);
	buf_addch(missing, '}');
	return nmissing ? 1 : 0;
}

/*
 * emit's work with the read lock held: 1 when a stack of `acc` has no number (its id in `missing`), before
 * anything is added to `out`.
 */
static int emit_numbered(const struct pg_store *s, const struct pg_nodes *n, const struct merge_acc *acc,
			 int64_t max_nodes, struct profile *out, struct buf *missing, struct err *e)
{
	static const struct store_nodes none; /* a tenant without a table: only empty stacks to merge */
	struct pg_rebuild pr = { s, n, out };
	struct store_rebuild b = { out, numbered_node, numbered_frame, &pr, U64MAP_INIT, U64MAP_INIT, NULL, 0 };
	struct store_sums late = STORE_SUMS_INIT;
	int64_t *sums = NULL;
	size_t nsums = 0, pos = 0;
	uint64_t k, v;
	int rc;

	if (max_nodes > 0) {
		nsums = n && n->t.n ? n->t.n : 1;
		sums = store_big_zalloc(nsums * sizeof(*sums));
	}
	if ((rc = number_all(n, acc, sums, &late, missing)))
		goto out;
	if (sums) {
		rc = store_nodes_truncated(&b, n ? &n->t : &none, &sums, &nsums, &late, max_nodes, e);
		goto out;
	}
	while (!rc && u64map_next(&acc->values, &pos, &k, &v)) {
		uint32_t node = 0;

		if (k)
			rc = store_rebuild_stack(&b, number_of(n, (int64_t)k), &node, e);
		if (!rc)
			profile_add_sample1(out, node, 0, (int64_t)v);
	}
	if (rc > 0) /* the table has every node of a numbered stack: only damage gets here */
		rc = -1;
out:
	store_big_free(sums, nsums * sizeof(*sums));
	store_sums_release(&late);
	store_rebuild_release(&b);
	return rc;
}

int pg_nodes_emit(struct pg_store *s, PGconn *c, const char *tenant, const struct merge_acc *acc, int64_t max_nodes,
		  struct profile *out, struct err *e)
{
	uint64_t tk = tenant_key(tenant);
	struct buf missing = BUF_INIT;
	int rc = 1;

	/* Read what is missing and try again: three times, for stacks dropped by other merges in between. */
	for (int attempt = 0; attempt < 4 && rc > 0; attempt++) {
		if (attempt && pg_nodes_fetch(s, c, tenant, missing.buf, attempt == 1, e)) {
			rc = -1;
			break;
		}
		buf_reset(&missing);
		pthread_rwlock_rdlock(&s->nodes_lock);
		rc = emit_numbered(s, tenant_nodes(s, tk), acc, max_nodes, out, &missing, e);
		pthread_rwlock_unlock(&s->nodes_lock);
	}
	buf_release(&missing);
	/* Stacks the database does not have (damaged), or a table emptied by other merges each time. */
	if (rc > 0)
		return err_set(e, "stored stacks of tenant '%s' are incomplete", tenant);
	return rc;
}

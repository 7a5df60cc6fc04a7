/* --auth-file bearer tokens scoped to a tenant and roles, and the per-tenant request rate limit (server.h). */
#include "server/server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"

struct token {
	char *token, *tenant;
	unsigned roles; /* 1 << ROLE_PUSH | 1 << ROLE_READ */
};

struct auth {
	struct token *v;
	size_t n, alloc;
};

void auth_free(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].token);
		free(a->v[i].tenant);
	}
	free(a->v);
	free(a);
}

static int parse_roles(char *s, unsigned *roles)
{
	*roles = 0;
	for (char *save = NULL, *r = strtok_r(s, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		if (!strcmp(r, "push"))
			*roles |= 1u << ROLE_PUSH;
		else if (!strcmp(r, "read"))
			*roles |= 1u << ROLE_READ;
		else
			return -1;
	}
	return *roles ? 0 : -1;
}

struct auth *auth_load(const char *path, struct err *e)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	struct buf file = BUF_INIT;
	char *save = NULL;
	unsigned lineno = 0;

	if (buf_read_file(&file, path, e))
		goto fail;
	for (char *line = strtok_r(file.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char tok[512], tenant[160], roles[64], extra[2];
		int n;

		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		n = sscanf(line, "%511s %159s %63s %1s", tok, tenant, roles, extra);
		if (n <= 0)
			continue;
		ALLOC_GROW(a->v, a->n + 1, a->alloc);
		if (n != 3 || parse_roles(roles, &a->v[a->n].roles)) {
			err_set(e, "'%s': line %u is not 'TOKEN TENANT push|read|push,read'", path, lineno);
			goto fail;
		}
		a->v[a->n].token = xstrdup(tok);
		a->v[a->n].tenant = xstrdup(tenant);
		a->n++;
	}
	if (!a->n) {
		err_set(e, "'%s' has no token", path);
		goto fail;
	}
	buf_release(&file);
	return a;
fail:
	buf_release(&file);
	auth_free(a);
	return NULL;
}

/* Compares without an early exit, so that timing does not reveal how much of a token matched. */
static bool token_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i < lb ? i : 0]);
	return !d;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes base64 `in` into `out` (NUL-terminated); -1 when it is not base64 or does not fit. */
static int base64_decode(const char *in, char *out, size_t max)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(b64, *in);

		if (!p || !*in)
			return -1;
		acc = (acc << 6) | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= max)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return 0;
}

int auth_check(const struct auth *a, const char *authorization, const char *scope, enum route_role role,
	       const char **tenant, struct err *e)
{
	char basic[512];
	const char *tok = NULL;

	if (authorization && !strncasecmp(authorization, "Bearer ", 7)) {
		tok = authorization + 7;
	} else if (authorization && !strncasecmp(authorization, "Basic ", 6)) {
		/* Basic user:password, as Pyroscope's clients send it: the password is the token. */
		if (!base64_decode(authorization + 6, basic, sizeof(basic)) && strchr(basic, ':'))
			tok = strchr(basic, ':') + 1;
	}
	if (!tok || !*tok)
		return err_set(e, "authentication required: send 'Authorization: Bearer TOKEN'"), 401;
	for (size_t i = 0; i < a->n; i++) {
		if (!token_eq(a->v[i].token, tok))
			continue;
		if (!(a->v[i].roles & (1u << role)))
			return err_set(e, "the token may not %s", role == ROLE_PUSH ? "push" : "read"), 403;
		if (scope && *scope && strcmp(scope, a->v[i].tenant))
			return err_set(e, "the token is not valid for tenant '%s'", scope), 403;
		*tenant = a->v[i].tenant;
		return 0;
	}
	return err_set(e, "unknown token"), 401;
}

/* ---- rate limit ---------------------------------------------------------------------------------------------- */

struct bucket {
	double tokens;
	uint64_t last_ns;
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate;
	struct u64map index; /* tenant hash -> bucket */
	struct bucket *v;
	size_t n, alloc;
};

struct ratelimit *ratelimit_new(double per_second)
{
	struct ratelimit *r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->lock, NULL);
	r->rate = per_second;
	return r;
}

void ratelimit_free(struct ratelimit *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	u64map_release(&r->index);
	free(r->v);
	free(r);
}

bool ratelimit_take(struct ratelimit *r, const char *tenant, uint64_t now)
{
	uint64_t key = hash_bytes(tenant, strlen(tenant)) & INT64_MAX;
	struct bucket *b;
	uint64_t *slot;
	bool ok;
	int ins;

	pthread_mutex_lock(&r->lock);
	slot = u64map_insert(&r->index, key, &ins);
	if (ins) {
		ALLOC_GROW(r->v, r->n + 1, r->alloc);
		r->v[r->n] = (struct bucket){ 2 * r->rate, now };
		*slot = r->n++;
	}
	b = &r->v[*slot];
	b->tokens += (double)(now - b->last_ns) / 1e9 * r->rate;
	if (b->tokens > 2 * r->rate)
		b->tokens = 2 * r->rate;
	b->last_ns = now;
	ok = b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* Fuzz target: kiln serve's folded-stack cache (src/server/stack_cache.c) on any body: no crash, and what the
 * cache finds, with the full path's reading of the lines it does not, is exactly what the full path (the folded
 * reader, then store_encode) makes of the whole body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "formats/input.h"
#include "profile/profile.h"
#include "server/stack_cache.h"
#include "server/store.h"
#include "server/store_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int encode(const char *body, size_t len, struct profile **pp, const struct store_pair *pairs, size_t npairs,
		  struct store_enc *enc)
{
	static const struct label_pair labels[] = { { "service_name", "app" } };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;
	int rc;

	input_from_memory(&in, body, len, "body");
	rc = format_by_name("folded")->read(p, &in, &(struct format_read_opts){ 0 }, &e);
	input_close(&in);
	if (rc || store_encode(&(struct store_write){ .tenant = "", .profile_type = "t:s:c:s:c", .labels = labels,
						      .nlabels = 1, .prof = p, .column = profile_default_column(p),
						      .pairs = pairs, .npairs = npairs },
			       enc, &e)) {
		profile_free(p);
		return -1;
	}
	*pp = p;
	return 0;
}

static void same(const struct store_pair *v, size_t n, const struct store_enc *enc)
{
	if (n != enc->npairs)
		abort();
	for (size_t i = 0; i < n; i++)
		if (v[i].stack != enc->pairs[i].stack || v[i].value != enc->pairs[i].value)
			abort();
}

/*
 * The cache learns the first half of the body's lines (as the folded reader read them), then looks up the
 * whole body: the pairs it found with the full path's pairs of the lines it missed give the full path's pairs of
 * the whole body.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data, *half = memchr(body + size / 2, '\n', size - size / 2);
	size_t hlen = half ? (size_t)(half - body) + 1 : size;
	struct stack_cache *c = stack_cache_new(1024);
	struct profile *p, *q;
	struct store_enc full, rest;
	struct store_pair *v;
	struct buf missed = BUF_INIT;
	size_t n;
	int found;

	/* nothing found before learning */
	if (stack_cache_lookup(c, 1, body, size, &v, &n, &missed) > 0)
		abort();
	free(v);
	buf_reset(&missed);
	if (!encode(body, hlen, &p, NULL, 0, &rest)) {
		stack_cache_learn(c, 1, body, hlen, p);
		store_enc_release(&rest);
		profile_free(p);
	}
	if (!encode(body, size, &p, NULL, 0, &full)) {
		found = stack_cache_lookup(c, 1, body, size, &v, &n, &missed);
		if (found > 0 && !missed.len) {
			same(v, n, &full);
		} else if (found > 0) {
			if (encode(missed.buf, missed.len, &q, v, n, &rest))
				abort(); /* plain lines always read */
			same(rest.pairs, rest.npairs, &full);
			store_enc_release(&rest);
			profile_free(q);
		}
		free(v);
		store_enc_release(&full);
		profile_free(p);
	}
	buf_release(&missed);
	stack_cache_free(c);
	return 0;
}

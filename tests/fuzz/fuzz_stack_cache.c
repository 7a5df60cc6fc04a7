/* Fuzz target: kiln serve's folded-stack cache (src/server/stack_cache.c) on any body: no crash, and once the
 * cache has learned a body from the folded reader's profile of it, a lookup that succeeds gives exactly the
 * pairs that the full path (the reader, then store_encode) gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "formats/format.h"
#include "formats/input.h"
#include "profile/profile.h"
#include "server/stack_cache.h"
#include "server/store.h"
#include "server/store_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct label_pair labels[] = { { "service_name", "app" } };
	struct stack_cache *c = stack_cache_new(1024);
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct store_enc enc;
	struct store_pair *v;
	struct input in;
	size_t n;
	int rc;

	/* never before learning: the cache is empty */
	if (stack_cache_lookup(c, 1, (const char *)data, size, &v, &n))
		abort();
	input_from_memory(&in, data, size, "body");
	rc = format_by_name("folded")->read(p, &in, &(struct format_read_opts){ 0 }, &e);
	input_close(&in);
	if (!rc && !store_encode(&(struct store_write){ .tenant = "", .profile_type = "t:s:c:s:c", .labels = labels,
							.nlabels = 1, .prof = p, .column = profile_default_column(p) },
				 &enc, &e)) {
		stack_cache_learn(c, 1, (const char *)data, size, p);
		if (stack_cache_lookup(c, 1, (const char *)data, size, &v, &n)) {
			if (n != enc.npairs)
				abort();
			for (size_t i = 0; i < n; i++)
				if (v[i].stack != enc.pairs[i].stack || v[i].value != enc.pairs[i].value)
					abort();
			free(v);
		}
		store_enc_release(&enc);
	}
	profile_free(p);
	stack_cache_free(c);
	return 0;
}

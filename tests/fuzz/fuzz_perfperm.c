/* Fuzz target: perfperm_parse() of src/record/perfperm.c on a /proc/self/status text and a paranoid value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "record/perfperm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfperm pp;
	struct err e = ERR_INIT;
	char paranoid[16] = { 0 };
	size_t n = size < sizeof(paranoid) - 1 ? size : sizeof(paranoid) - 1;

	/* the first bytes double as the paranoid file, the whole input as the status file (not NUL-terminated) */
	memcpy(paranoid, data, n);
	perfperm_parse(&pp, paranoid, (const char *)data, size);
	if (pp.paranoid < -1 || pp.paranoid > 1000)
		__builtin_trap();
	perfperm_user_space_only(&pp);
	perfperm_check_bpf(&pp, "--mode io", true, &e);
	perfperm_open_error(&pp, true, 13, &e);
	return 0;
}

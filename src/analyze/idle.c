/* The kernel idle loop's functions and the idle task, in one place (see idle.h). */
#include "idle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/xalloc.h"
#include "../profile/profile.h"

/* Exact names, then prefixes (a trailing '*'). Kernels from 3.x (cpu_idle) to 6.x (pv_native_safe_halt). */
static const char *const idle_names[] = {
	"cpu_startup_entry", "do_idle", "cpu_idle", "cpu_idle_loop", "cpu_idle_poll", "cpuidle_idle_call",
	"cpuidle_enter*", "default_idle*", "default_enter_idle", "arch_cpu_idle*", "pv_native_safe_halt",
	"native_safe_halt", "safe_halt", "xen_safe_halt", "acpi_idle_*", "acpi_safe_halt", "intel_idle*",
	"poll_idle", "mwait_idle*", "amd_e400_idle", "haltpoll_enter_idle", "psci_enter_idle_state",
	"cpu_do_idle", NULL,
};

static bool swapper_name(const char *s, size_t len)
{
	/* "swapper", "swapper/3" (the comm of each CPU's idle task), "swapper-0" or "swapper-0/0" (comm-PID/TID) */
	if (len < 7 || memcmp(s, "swapper", 7))
		return false;
	return len == 7 || s[7] == '/' || (len >= 9 && s[7] == '-' && s[8] == '0' && (len == 9 || s[9] == '/'));
}

bool idle_function(const char *name, size_t len)
{
	if (len > 4 && !memcmp(name + len - 4, "_[k]", 4))
		len -= 4;
	for (size_t i = 0; idle_names[i]; i++) {
		const char *n = idle_names[i];
		size_t nl = strlen(n);

		if (n[nl - 1] == '*' ? len >= nl - 1 && !memcmp(name, n, nl - 1) : len == nl && !memcmp(name, n, nl))
			return true;
	}
	return false;
}

size_t idle_rows(const struct profile *p, bool *idle)
{
	size_t nr = 0, nn = p->nodes_nr ? p->nodes_nr : 1;
	unsigned char *frame_idle = xcalloc(p->frames_nr ? p->frames_nr : 1, 1); /* 0 unknown, 1 no, 2 yes */
	bool *node_idle = xcalloc(nn, sizeof(*node_idle));
	int64_t key_pid = strtab_find(&p->strings, "pid", 3), key_comm = strtab_find(&p->strings, "comm", 4);

	/* Parents come before children: one pass marks every node under an idle frame. */
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t f = p->nodes[n].frame, fn = p->frames[f].function;

		if (!frame_idle[f])
			frame_idle[f] = idle_function(profile_str(p, fn), profile_strlen(p, fn)) ? 2 : 1;
		node_idle[n] = node_idle[p->nodes[n].parent] || frame_idle[f] == 2 ||
			       (p->nodes[n].depth == 1 && swapper_name(profile_str(p, fn), profile_strlen(p, fn)));
	}
	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t ls = p->rows[r].labelset, comm;
		int64_t pid;

		idle[r] = node_idle[p->rows[r].node];
		if (!idle[r] && ls && key_pid >= 0 && profile_label_num(p, ls, "pid", &pid) && pid == 0)
			idle[r] = true;
		if (!idle[r] && ls && key_comm >= 0 && (comm = profile_label_str(p, ls, "comm")) &&
		    swapper_name(profile_str(p, comm), profile_strlen(p, comm)))
			idle[r] = true;
		nr += idle[r];
	}
	free(frame_idle);
	free(node_idle);
	return nr;
}

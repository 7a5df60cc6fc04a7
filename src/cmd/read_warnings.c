/* What every command does with a profile it has read: its reader's warnings go to stderr, never into output. */
#include <string.h>

#include "../core/util.h"
#include "../profile/profile.h"
#include "cmds.h"

void print_read_warnings(const struct profile *p, const char *path)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";

	for (size_t i = 0; i < p->warnings_nr; i++)
		warning_msg("'%s': %s", name, profile_str(p, p->warnings[i]));
}

/* C++ demangling via libstdc++'s __cxa_demangle, looked up once with dlopen (see demangle.h). */
#include "demangle.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/xalloc.h"

typedef char *(*cxa_demangle_fn)(const char *mangled, char *buf, size_t *n, int *status);

static cxa_demangle_fn demangler;
static pthread_once_t demangler_once = PTHREAD_ONCE_INIT;

static void load_demangler(void)
{
	void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	if (h)
		*(void **)&demangler = dlsym(h, "__cxa_demangle");
	/* The handle stays open for the life of the process: the function lives in it. */
}

char *sym_demangle(const char *name, size_t len)
{
	char stackbuf[512], *copy = stackbuf, *out;
	int status = -1;

	if (len < 3 || name[0] != '_' || name[1] != 'Z')
		return NULL;
	pthread_once(&demangler_once, load_demangler);
	if (!demangler)
		return NULL;
	if (len >= sizeof(stackbuf))
		copy = xmalloc(len + 1);
	memcpy(copy, name, len);
	copy[len] = '\0';
	out = demangler(copy, NULL, NULL, &status);
	if (copy != stackbuf)
		free(copy);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Growable arrays as `T *v; size_t nr, alloc;` grown by one macro (git's ALLOC_GROW). */
#ifndef KILN_ARRAY_H
#define KILN_ARRAY_H

#include "xalloc.h"

#define alloc_nr(x) (((x) + 16) * 3 / 2)

/* Makes room for at least `nr` elements in `x`, whose capacity is `alloc`. */
#define ALLOC_GROW(x, nr, alloc)                                                \
	do {                                                                    \
		if ((nr) > (alloc)) {                                           \
			if (alloc_nr(alloc) < (nr))                             \
				(alloc) = (nr);                                 \
			else                                                    \
				(alloc) = alloc_nr(alloc);                      \
			(x) = xrealloc((x), (alloc) * sizeof(*(x)));            \
		}                                                               \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif

/* Frame kinds from source file names (see srcfile.h). */
#include "srcfile.h"

#include <string.h>

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

enum frame_kind srcfile_kind(const char *file, size_t len)
{
	static const struct {
		const char *suffix;
		enum frame_kind kind;
	} kinds[] = {
		{ ".go", FRAME_GO },   { ".py", FRAME_PYTHON }, { ".js", FRAME_JS },     { ".mjs", FRAME_JS },
		{ ".cjs", FRAME_JS },  { ".ts", FRAME_JS },     { ".java", FRAME_JAVA }, { ".kt", FRAME_JAVA },
		{ ".scala", FRAME_JAVA },
	};

	if (!file || !len)
		return FRAME_NATIVE;
	if (len > 5 && !memcmp(file, "node:", 5))
		return FRAME_JS;
	/* CPython's frozen modules (importlib, site, codecs): "<frozen importlib._bootstrap>". */
	if (len > 8 && !memcmp(file, "<frozen ", 8))
		return FRAME_PYTHON;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (ends_with(file, len, kinds[i].suffix))
			return kinds[i].kind;
	return FRAME_NATIVE;
}

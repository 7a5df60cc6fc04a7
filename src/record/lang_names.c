/* Parsing of the function names runtimes write into perf maps: V8, the JVM, CPython 3.12+ (see runtime.h). */
#include <stdbool.h>
#include <string.h>

#include "runtime.h"

/* Parses "FILE:LINE[:COL]" at the end of [s, s + len); returns false when it does not end that way. */
static bool parse_location(const char *s, size_t len, struct rt_name *out)
{
	size_t e = len, nums = 0;
	unsigned vals[2] = { 0, 0 };
	while (nums < 2) {
		size_t d = e;
		while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9')
			d--;
		if (d == e || e - d > 9 || d == 0 || s[d - 1] != ':')
			break;
		unsigned v = 0;
		for (size_t i = d; i < e; i++)
			v = v * 10 + (unsigned)(s[i] - '0');
		vals[nums++] = v;
		e = d - 1;
	}
	if (!nums || !e)
		return false;
	out->file = s;
	out->file_len = e;
	out->line = nums == 2 ? vals[1] : vals[0];
	return true;
}

bool rt_parse_v8_name(const char *name, struct rt_name *out)
{
	static const char *const prefixes[] = { "JS:", "LazyCompile:", "Function:", "Eval:", "Script:",
						"InterpretedFunction:" };
	const char *p = NULL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) {
			p = name + strlen(prefixes[i]);
			break;
		}
	if (!p)
		return false;
	if (*p == '~' || *p == '*' || *p == '^' || *p == '+')
		p++;
	size_t len = strlen(p);
	/* "NAME FILE:LINE:COL": both may hold spaces ("get x", "/my dir/a.js"); a file starts like a path or URL. */
	const char *sp = NULL;
	for (const char *c = strchr(p, ' '); c && !sp; c = strchr(c + 1, ' '))
		if ((c[1] == '/' || !strncmp(c + 1, "file:", 5) || !strncmp(c + 1, "node:", 5) ||
		     !strncmp(c + 1, "http", 4)) && parse_location(c + 1, len - (size_t)(c + 1 - p), out))
			sp = c;
	if (!sp)
		sp = memrchr(p, ' ', len);
	if (sp && parse_location(sp + 1, len - (size_t)(sp + 1 - p), out)) {
		out->fn = p;
		out->fn_len = (size_t)(sp - p);
	} else {
		/* No location (a native function or a builtin-like name): the name alone. */
		out->fn = p;
		out->fn_len = len;
		out->file = NULL;
		out->file_len = 0;
		out->line = 0;
	}
	while (out->fn_len && out->fn[out->fn_len - 1] == ' ')
		out->fn_len--;
	return true;
}

bool rt_parse_java_name(const char *name, struct rt_name *out)
{
	memset(out, 0, sizeof(*out));
	const char *paren = strchr(name, '('), *end = name + strlen(name);
	if (!paren || paren == name || end[-1] != ')' || strstr(name, "::"))
		return false;
	const char *start = paren;
	while (start > name && start[-1] != ' ')
		start--;
	/* Class.method: a dot, and nothing but identifier characters, '.', '$', '<', '>' and '/'. */
	bool dot = false;
	for (const char *c = start; c < paren; c++) {
		if (*c == '.')
			dot = true;
		else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			   *c == '_' || *c == '$' || *c == '<' || *c == '>' || *c == '/' || (unsigned char)*c >= 0x80))
			return false;
	}
	if (!dot || start[0] == '.' || paren[-1] == '.')
		return false;
	out->fn = start;
	out->fn_len = (size_t)(paren - start);
	out->sig = paren;
	out->sig_len = (size_t)(end - paren);
	return true;
}

bool rt_parse_pyperf_name(const char *name, struct rt_name *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(name, "py::", 4))
		return false;
	const char *p = name + 4, *colon = strchr(p, ':');
	if (!colon || colon == p)
		return false;
	out->fn = p;
	out->fn_len = (size_t)(colon - p);
	if (colon[1]) {
		out->file = colon + 1;
		out->file_len = strlen(colon + 1);
	}
	return true;
}

/* JSON input shared by the JSON format readers (see json_input.h). */
#include "json_input.h"

#include "../core/err.h"
#include "input.h"

json_t *json_input_parse(const void *data, size_t len, struct err *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);

	if (!root)
		err_set(e, "invalid JSON at line %d: %s", jerr.line, jerr.text);
	return root;
}

json_t *json_input_read(struct input *in, struct err *e)
{
	const unsigned char *data;
	size_t len;

	if (input_read_all(in, &data, &len, e))
		return NULL;
	return json_input_parse(data, len, e);
}

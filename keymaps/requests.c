/* requests.c - names and help texts of the requests, from the X-macro lists. */
#include <string.h>

#include "keymaps/requests.h"

static const struct {
	const char *name;
	const char *help;
} request_table[] = {[REQ_NONE] = {"none", "Do nothing"},
#define REQ_ROW_(id, n, h) [REQ_##id] = {n, h},
                     REQ_ALL(REQ_ROW_)
#undef REQ_ROW_
};

const char *request_name(enum request req)
{
	if ((int)req <= REQ_NONE || req >= REQ_COUNT_)
		return NULL;
	return request_table[req].name;
}

const char *request_help(enum request req)
{
	if ((int)req <= REQ_NONE || req >= REQ_COUNT_)
		return NULL;
	return request_table[req].help;
}

enum request request_from_name(const char *name)
{
	if (!name)
		return REQ_NONE;
	for (int i = REQ_NONE + 1; i < REQ_COUNT_; i++)
		if (!strcmp(request_table[i].name, name))
			return (enum request)i;
	return REQ_NONE;
}

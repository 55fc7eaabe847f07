#include "core/console_line.h"

bool console_line_claim(struct console_line *l, const void *writer, const char *s, size_t n)
{
	if (!n)
		return false;
	bool cut = l->open && l->open != writer;
	l->open = s[n - 1] == '\n' ? NULL : writer;
	return cut;
}

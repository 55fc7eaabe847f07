/* Who holds the host console's current line. keel's log, its shell and the VMs' consoles share
 * one serial port; each writes whole lines where it can, but a prompt ("login: ", "keel> " and
 * what is typed after it) leaves a line open. When another writer comes while a line is open,
 * its text must start a line of its own, or it is glued into the middle of someone else's text
 * (a log line inside a guest's line, a guest's line after a half-typed shell command).
 * Host-testable: the caller serialises every call (keel: the console's lock). */
#ifndef KEEL_CORE_CONSOLE_LINE_H
#define KEEL_CORE_CONSOLE_LINE_H

#include "lib/types.h"

struct console_line {
	const void *open; /* the writer whose text ends the current line; NULL at a line's start */
};

/* writer is about to write s[0 .. n). Returns true when a '\n' must go out first because
 * another writer left the line open, and records who leaves it open after s. */
bool console_line_claim(struct console_line *l, const void *writer, const char *s, size_t n);

#endif

/* keel's console: every log line goes to the host serial port and the framebuffer (when there is
 * one), stamped with the time since keel started. */
#ifndef KEEL_CORE_CONSOLE_H
#define KEEL_CORE_CONSOLE_H

#include "lib/log.h"
#include "lib/types.h"

struct boot_framebuffer;

void console_init_serial(void);
void console_init_framebuffer(const struct boot_framebuffer *fb);
/* Raw bytes, no stamp: guest console output and keel's shell pass through here. writer (any
 * address that stands for one writer: its VM, the shell) tells whose text it is: text that
 * comes while another writer's line is open starts on a new line (core/console_line.h). */
void console_write(const void *writer, const char *s, size_t n);
/* Whether keel draws on a framebuffer; the status bar there (drivers/fbcon.h), between lines. */
bool console_has_framebuffer(void);
void console_set_status(const char *text);

#endif

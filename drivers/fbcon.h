/* Text console on the boot framebuffer (GOP or Multiboot2), drawn with keel's bitmap font. */
#ifndef KEEL_DRIVERS_FBCON_H
#define KEEL_DRIVERS_FBCON_H

#include "lib/types.h"

struct boot_framebuffer;

void fbcon_init(const struct boot_framebuffer *fb);
void fbcon_write(const char *s, size_t n);
/* Whether there is a framebuffer to draw on. */
bool fbcon_active(void);
/* Draws text (cut at the width, padded with blanks; unprintable bytes as '?') as a status bar in
 * the top row, in inverse; from the first call on, the console scrolls only the rows below it. */
void fbcon_set_status(const char *text);

#endif

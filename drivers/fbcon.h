/* Text console on the boot framebuffer (GOP or Multiboot2), drawn with keel's bitmap font. */
#ifndef KEEL_DRIVERS_FBCON_H
#define KEEL_DRIVERS_FBCON_H

#include "lib/types.h"

struct boot_framebuffer;

void fbcon_init(const struct boot_framebuffer *fb);
void fbcon_write(const char *s, size_t n);

#endif

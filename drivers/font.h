#ifndef KEEL_DRIVERS_FONT_H
#define KEEL_DRIVERS_FONT_H

#include "lib/types.h"

/* 8x16 glyphs for code points 0-127, one byte a row, bit 7 leftmost. Generated at build time
 * (tools/psf2c.c) from a Debian console font. */
extern const uint8_t font8x16[128][16];

#endif

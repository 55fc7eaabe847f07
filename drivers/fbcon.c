/* A scrolling text console on a linear 32-bit framebuffer, with an optional status bar: the top
 * text row, drawn in inverse and left alone by the scrolling below it. */
#include "drivers/fbcon.h"

#include "core/boot_info.h"
#include "drivers/font.h"
#include "lib/kstring.h"

#define GLYPH_W 8
#define GLYPH_H 16
#define FG 0x00c0c0c0u
#define BG 0x00000000u

static struct {
	uint32_t *base;
	uint32_t width, height, pitch;
	uint32_t cols, rows, col, row;
	uint32_t top; /* the first row the console scrolls: 1 once a status bar is drawn */
	/* inside an escape sequence (ECMA-48): 1 after ESC, 2 inside CSI "ESC [" */
	int esc;
} fb;

void fbcon_init(const struct boot_framebuffer *bfb)
{
	if (!bfb->base || bfb->width < GLYPH_W || bfb->height < GLYPH_H)
		return;
	fb.base = (uint32_t *)(uintptr_t)bfb->base;
	fb.width = bfb->width;
	fb.height = bfb->height;
	fb.pitch = bfb->pitch_pixels;
	fb.cols = fb.width / GLYPH_W;
	fb.rows = fb.height / GLYPH_H;
	fb.col = fb.row = fb.top = 0;
	for (uint32_t y = 0; y < fb.height; y++)
		for (uint32_t x = 0; x < fb.width; x++)
			fb.base[y * fb.pitch + x] = BG;
}

static void draw_glyph_in(uint32_t col, uint32_t row, unsigned char c, uint32_t fg, uint32_t bg)
{
	const uint8_t *g = font8x16[c < 128 ? c : '?'];
	uint32_t *p = fb.base + (size_t)row * GLYPH_H * fb.pitch + (size_t)col * GLYPH_W;

	for (int y = 0; y < GLYPH_H; y++, p += fb.pitch)
		for (int x = 0; x < GLYPH_W; x++)
			p[x] = (g[y] & (0x80 >> x)) ? fg : bg;
}

static void draw_glyph(uint32_t col, uint32_t row, unsigned char c)
{
	draw_glyph_in(col, row, c, FG, BG);
}

static void newline(void)
{
	fb.col = 0;
	if (++fb.row < fb.rows)
		return;
	/* scroll the rows below the status bar (if any) one text row up */
	size_t row_pixels = (size_t)GLYPH_H * fb.pitch;
	memmove(fb.base + fb.top * row_pixels, fb.base + (fb.top + 1) * row_pixels,
		(fb.rows - 1 - fb.top) * row_pixels * sizeof(uint32_t));
	for (size_t i = 0; i < row_pixels; i++)
		fb.base[(fb.rows - 1) * row_pixels + i] = BG;
	fb.row = fb.rows - 1;
}

void fbcon_write(const char *s, size_t n)
{
	if (!fb.base)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* escape sequences (colours, cursor queries) are not drawn: skip ESC [ params final */
		if (fb.esc == 1) {
			fb.esc = c == '[' ? 2 : 0;
			continue;
		}
		if (fb.esc == 2) {
			if (c >= 0x40 && c <= 0x7e)
				fb.esc = 0;
			continue;
		}
		if (c == 0x1b) {
			fb.esc = 1;
		} else if (c == '\n') {
			newline();
		} else if (c == '\r') {
			fb.col = 0;
		} else if (c == '\b') {
			if (fb.col)
				fb.col--;
		} else if (c >= 0x20) {
			if (fb.col >= fb.cols)
				newline();
			draw_glyph(fb.col++, fb.row, c);
		}
	}
}

bool fbcon_active(void)
{
	return fb.base != NULL;
}

void fbcon_set_status(const char *text)
{
	size_t n = strlen(text);

	/* a console of one row has no room for a bar and its text */
	if (!fb.base || fb.rows < 2)
		return;
	if (!fb.top) {
		fb.top = 1;
		if (fb.row == 0)
			newline(); /* the console's first row becomes the bar */
	}
	for (uint32_t c = 0; c < fb.cols; c++) {
		unsigned char ch = c < n ? (unsigned char)text[c] : ' ';

		draw_glyph_in(c, 0, ch >= 0x20 && ch < 0x7f ? ch : '?', BG, FG);
	}
}

/* The framebuffer console (drivers/fbcon.c) on a framebuffer in memory with keel's font: text
 * lands glyph by glyph, scrolling moves rows up, and once a status bar is set the top row is the
 * bar (inverse, cut and padded to the width) and scrolling never touches it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot_info.h"
#include "drivers/fbcon.h"

#define FG 0x00c0c0c0u
#define BG 0x00000000u
#define COLS 10
#define ROWS 4
#define PITCH (COLS * 8 + 3) /* a pitch wider than the width */
#define GUARD 4096	     /* pixels after the framebuffer, never written */
#define PAD 0xdeadbeefu

#include "drivers/font.h"

static uint32_t *pixels;

static int setup(void **state)
{
	(void)state;
	pixels = malloc(sizeof(uint32_t) * (PITCH * ROWS * 16 + GUARD));
	for (unsigned i = 0; i < PITCH * ROWS * 16 + GUARD; i++)
		pixels[i] = PAD;
	struct boot_framebuffer fb = { (uintptr_t)pixels, COLS * 8, ROWS * 16, PITCH, false };
	fbcon_init(&fb);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(pixels);
	return 0;
}

/* The cell at col, row shows c in fg on bg. */
static void expect_cell(unsigned col, unsigned row, unsigned char c, uint32_t fg, uint32_t bg)
{
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 8; x++) {
			uint32_t want = (font8x16[c][y] & (0x80 >> x)) ? fg : bg;
			uint32_t got = pixels[(row * 16 + y) * PITCH + col * 8 + x];
			if (got != want)
				fail_msg("cell %u,%u pixel %u,%u: %08x, expected %08x for '%c'",
					 col, row, x, y, got, want, c);
		}
}

static void padding_untouched(void)
{
	for (unsigned i = 0; i < GUARD; i++)
		assert_int_equal(pixels[PITCH * ROWS * 16 + i], PAD);
}

static void text_and_scrolling(void **state)
{
	(void)state;
	fbcon_write("ab\ncd\n", 6);
	expect_cell(0, 0, 'a', FG, BG);
	expect_cell(1, 0, 'b', FG, BG);
	expect_cell(0, 1, 'c', FG, BG);
	fbcon_write("e\nf\ng", 5); /* row 3 filled, then a scroll: "ab" leaves */
	expect_cell(0, 0, 'c', FG, BG);
	expect_cell(0, 1, 'e', FG, BG);
	expect_cell(0, 2, 'f', FG, BG);
	expect_cell(0, 3, 'g', FG, BG);
	expect_cell(1, 3, ' ', FG, BG); /* the new row is cleared */
	/* an escape sequence is not drawn; a long line wraps (and scrolls) */
	fbcon_write("\x1b[31mh0123456789", 16);
	expect_cell(0, 2, 'g', FG, BG);
	expect_cell(1, 2, 'h', FG, BG);
	expect_cell(9, 2, '7', FG, BG);
	expect_cell(0, 3, '8', FG, BG); /* the 11th column starts the next row */
	expect_cell(1, 3, '9', FG, BG);
	padding_untouched();
}

static void status_bar(void **state)
{
	(void)state;
	fbcon_write("one\n", 4);
	fbcon_set_status("keel | vms 2 running and more"); /* longer than the 10 columns */
	const char *want = "keel | vms";
	for (unsigned c = 0; c < COLS; c++)
		expect_cell(c, 0, (unsigned char)want[c], BG, FG);
	/* the console goes on below it, and scrolling leaves the bar alone */
	fbcon_write("two\nthree\nfour\nfive\n", 20);
	for (unsigned c = 0; c < COLS; c++)
		expect_cell(c, 0, (unsigned char)want[c], BG, FG);
	expect_cell(0, 1, 'f', FG, BG); /* "four" and "five" scrolled up under the bar */
	expect_cell(0, 2, 'f', FG, BG);
	expect_cell(1, 2, 'i', FG, BG);
	expect_cell(0, 3, ' ', FG, BG);
	/* a shorter text is padded with blanks; unprintable bytes are shown as '?' */
	fbcon_set_status("a\tb");
	expect_cell(0, 0, 'a', BG, FG);
	expect_cell(1, 0, '?', BG, FG);
	expect_cell(2, 0, 'b', BG, FG);
	for (unsigned c = 3; c < COLS; c++)
		expect_cell(c, 0, ' ', BG, FG);
	padding_untouched();
}

static void status_first(void **state)
{
	(void)state;
	/* before any text: the console starts in the second row */
	fbcon_set_status("bar");
	fbcon_write("x", 1);
	expect_cell(0, 0, 'b', BG, FG);
	expect_cell(0, 1, 'x', FG, BG);
}

static void no_framebuffer(void **state)
{
	(void)state;
	struct boot_framebuffer none = { 0, 0, 0, 0, false };
	fbcon_init(&none);
	fbcon_write("x\n", 2); /* nothing to draw on: nothing happens */
	fbcon_set_status("bar");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_and_scrolling, setup, teardown),
		cmocka_unit_test_setup_teardown(status_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(status_first, setup, teardown),
		cmocka_unit_test_setup_teardown(no_framebuffer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

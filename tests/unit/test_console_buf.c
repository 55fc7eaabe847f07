/* conbuf: a VM's console output queued in whole lines, drained with its prefix, dropped and
 * counted when the ring is full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/console_buf.h"

static struct conbuf *new_buf(void)
{
	struct conbuf *b = malloc(sizeof(*b));
	assert_non_null(b);
	conbuf_init(b);
	return b;
}

/* Guest output at time 0 (the age of a partial line matters only where a test says so). */
static void put(struct conbuf *b, const char *s)
{
	conbuf_put(b, (const uint8_t *)s, strlen(s), 0);
}

/* The next piece must be exactly want (no drop report). */
static void take_is(struct conbuf *b, const char *prefix, const char *want)
{
	char out[CONBUF_TAKE_MAX + 1];
	uint64_t dropped = 99;
	size_t n = conbuf_take(b, prefix, out, &dropped);
	out[n] = 0;
	assert_int_equal(dropped, 0);
	assert_string_equal(out, want);
}

static void take_drop_report(struct conbuf *b, uint64_t want)
{
	char out[CONBUF_TAKE_MAX];
	uint64_t dropped = 0;
	assert_int_equal(conbuf_take(b, "a", out, &dropped), 0);
	assert_int_equal(dropped, want);
}

/* count queued lines of len bytes each, behind "a| " */
static void take_lines(struct conbuf *b, unsigned count, size_t len)
{
	for (unsigned i = 0; i < count; i++) {
		char out[CONBUF_TAKE_MAX];
		uint64_t dropped;
		assert_int_equal(conbuf_take(b, "a", out, &dropped), 3 + len);
		assert_int_equal(dropped, 0);
	}
}

static void lines_get_their_prefix(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	assert_false(conbuf_pending(b));
	take_is(b, "a", "");
	put(b, "hello\nwor");
	put(b, "ld\n");
	take_is(b, "a", "a| hello\n");
	take_is(b, "a", "a| world\n");
	assert_false(conbuf_pending(b));
	/* "wor" waits for its line end: nothing of it went out alone */
	put(b, "par");
	assert_false(conbuf_pending(b));
	take_is(b, "a", "");
	free(b);
}

static void partial_line_then_its_rest(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	put(b, "login: ");
	conbuf_end_line(b); /* the guest waits for input: the prompt shows */
	take_is(b, "vm-1", "vm-1| login: ");
	put(b, "root\n");
	take_is(b, "vm-1", "root\n"); /* the same line goes on, no second prefix */
	put(b, "next\n");
	take_is(b, "vm-1", "vm-1| next\n");
	conbuf_end_line(b); /* nothing partial: nothing queued */
	assert_false(conbuf_pending(b));
	free(b);
}

static void long_line_in_pieces(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	char line[CONBUF_LINE + 11], want[CONBUF_TAKE_MAX + 1];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = 0;
	put(b, line);
	snprintf(want, sizeof(want), "a| %.*s", CONBUF_LINE, line);
	take_is(b, "a", want);
	take_is(b, "a", "xxxxxxxxx\n");
	free(b);
}

static void prefix_is_bounded(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	char name[CONBUF_PREFIX_MAX + 20], want[CONBUF_TAKE_MAX + 1];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	put(b, "x\n");
	snprintf(want, sizeof(want), "%.*s| x\n", CONBUF_PREFIX_MAX, name);
	take_is(b, name, want);
	free(b);
}

/* One VM alone: no prefix, but its lines are whole all the same, so a keel log line written
 * while the drainer is halfway through one cannot land inside it. */
static void whole_lines_without_prefix(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	put(b, "hello fr");
	assert_false(conbuf_pending(b));
	take_is(b, NULL, "");
	put(b, "om a guest\nnext");
	take_is(b, NULL, "hello from a guest\n");
	take_is(b, NULL, "");
	conbuf_end_line(b);
	take_is(b, NULL, "next");
	free(b);
}

/* A partial line shows once its first byte is age old, not before; a new line's age starts at
 * its own first byte. */
static void partial_line_shows_when_old(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	conbuf_put(b, (const uint8_t *)"Load", 4, 1000);
	conbuf_put(b, (const uint8_t *)"ing.", 4, 1040);
	conbuf_end_line_older(b, 1049, 50);
	assert_false(conbuf_pending(b));
	conbuf_end_line_older(b, 1050, 50);
	take_is(b, NULL, "Loading.");
	conbuf_put(b, (const uint8_t *)"..", 2, 1060);
	conbuf_end_line_older(b, 1100, 50);
	assert_false(conbuf_pending(b));
	conbuf_end_line_older(b, 1110, 50);
	take_is(b, NULL, "..");
	conbuf_end_line_older(b, 5000, 50); /* nothing partial: nothing queued */
	assert_false(conbuf_pending(b));
	free(b);
}

/* Lines of different lengths through the ring many times over: every byte comes out as it went
 * in, across the wrap. */
static void wrap_around(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	char line[200], want[CONBUF_TAKE_MAX + 1];
	for (unsigned i = 0; i < 20000; i++) {
		unsigned len = 20 + i % 150;
		for (unsigned k = 0; k < len - 1; k++)
			line[k] = (char)('a' + (i + k) % 26);
		line[len - 1] = '\n';
		line[len] = 0;
		put(b, line);
		/* keep about 3 lines queued so the positions cross the ring's end mid-line */
		if (i >= 3) {
			unsigned j = i - 3, jl = 20 + j % 150;
			char *w = want + snprintf(want, sizeof(want), "a| ");
			for (unsigned k = 0; k < jl - 1; k++)
				w[k] = (char)('a' + (j + k) % 26);
			w[jl - 1] = '\n';
			w[jl] = 0;
			take_is(b, "a", want);
		}
	}
	assert_true(b->head > 2 * CONBUF_RING); /* it did wrap */
	free(b);
}

/* A full ring drops whole lines, counts their bytes and reports them where they went missing,
 * once; what fits afterwards follows the report. */
static void full_ring_drops_and_counts(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	char line[65];
	memset(line, 'q', 63);
	line[63] = '\n';
	line[64] = 0;
	for (unsigned i = 0; i < CONBUF_RING / 64; i++)
		put(b, line);
	assert_int_equal(b->head - b->tail, CONBUF_RING);
	put(b, "lost 1\n");
	put(b, "lost 22\n");
	assert_int_equal(b->dropped, 15);
	take_is(b, "a", "a| qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n");
	/* room again: this line is queued behind the place of the drop */
	put(b, "after\n");
	put(b, line); /* 64 bytes in 58 of room: counted with the others */
	take_lines(b, CONBUF_RING / 64 - 1, 64);
	take_drop_report(b, 15 + 64);
	take_is(b, "a", "a| after\n");
	assert_false(conbuf_pending(b));
	/* a later drop is a new count */
	put(b, "x\n");
	for (unsigned i = 0; i < CONBUF_RING / 64; i++)
		put(b, line); /* the last of them finds 62 bytes of room */
	take_is(b, "a", "a| x\n");
	take_lines(b, CONBUF_RING / 64 - 1, 64);
	take_drop_report(b, 64);
	take_is(b, "a", "");
	free(b);
}

/* Output dropped after a partial line: the report must not be glued to it. */
static void drop_after_partial_line(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	char line[65];
	memset(line, 'z', 63);
	line[63] = '\n';
	line[64] = 0;
	for (unsigned i = 0; i < CONBUF_RING / 64 - 1; i++)
		put(b, line);
	put(b, "prompt> "); /* fits: 64 bytes of room */
	conbuf_end_line(b);
	put(b, line); /* 56 bytes of room left: dropped */
	take_lines(b, CONBUF_RING / 64 - 1, 64);
	take_is(b, "a", "a| prompt> ");
	take_is(b, "a", "\n");
	take_drop_report(b, 64);
	put(b, "ok\n");
	take_is(b, "a", "a| ok\n");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_get_their_prefix),
		cmocka_unit_test(partial_line_then_its_rest),
		cmocka_unit_test(long_line_in_pieces),
		cmocka_unit_test(prefix_is_bounded),
		cmocka_unit_test(whole_lines_without_prefix),
		cmocka_unit_test(partial_line_shows_when_old),
		cmocka_unit_test(wrap_around),
		cmocka_unit_test(full_ring_drops_and_counts),
		cmocka_unit_test(drop_after_partial_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

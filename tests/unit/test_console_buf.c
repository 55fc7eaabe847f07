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

static void put(struct conbuf *b, const char *s, bool prefixed)
{
	conbuf_put(b, (const uint8_t *)s, strlen(s), prefixed);
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

static void lines_get_their_prefix(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	assert_false(conbuf_pending(b));
	take_is(b, "a", "");
	put(b, "hello\nwor", true);
	put(b, "ld\n", true);
	take_is(b, "a", "a| hello\n");
	take_is(b, "a", "a| world\n");
	assert_false(conbuf_pending(b));
	/* "wor" waits for its line end: nothing of it went out alone */
	put(b, "par", true);
	assert_false(conbuf_pending(b));
	take_is(b, "a", "");
	free(b);
}

static void partial_line_then_its_rest(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	put(b, "login: ", true);
	conbuf_end_line(b); /* the guest waits for input: the prompt shows */
	take_is(b, "vm-1", "vm-1| login: ");
	put(b, "root\n", true);
	take_is(b, "vm-1", "root\n"); /* the same line goes on, no second prefix */
	put(b, "next\n", true);
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
	put(b, line, true);
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
	put(b, "x\n", true);
	snprintf(want, sizeof(want), "%.*s| x\n", CONBUF_PREFIX_MAX, name);
	take_is(b, name, want);
	free(b);
}

static void pass_through_without_prefix(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	put(b, "abc", false); /* queued at once: one VM alone needs no whole lines */
	assert_true(conbuf_pending(b));
	take_is(b, NULL, "abc");
	put(b, "de\nfg", false);
	take_is(b, NULL, "de\n");
	take_is(b, NULL, "fg");
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
		put(b, line, true);
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
		put(b, line, true);
	assert_int_equal(b->head - b->tail, CONBUF_RING);
	put(b, "lost 1\n", true);
	put(b, "lost 22\n", true);
	assert_int_equal(b->dropped, 15);
	take_is(b, "a", "a| qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n");
	/* room again: this line is queued behind the place of the drop */
	put(b, "after\n", true);
	put(b, line, true); /* 64 bytes in 58 of room: counted with the others */
	for (unsigned i = 1; i < CONBUF_RING / 64; i++) {
		char out[CONBUF_TAKE_MAX];
		uint64_t dropped;
		assert_int_equal(conbuf_take(b, "a", out, &dropped), 3 + 64);
		assert_int_equal(dropped, 0);
	}
	take_drop_report(b, 15 + 64);
	take_is(b, "a", "a| after\n");
	assert_false(conbuf_pending(b));
	/* a later drop is a new count */
	put(b, "x\n", true);
	b->dropped = 0;
	char big[CONBUF_RING + 2];
	memset(big, 'b', sizeof(big));
	conbuf_put(b, (const uint8_t *)big, sizeof(big), false);
	take_is(b, "a", "a| x\n");
	take_drop_report(b, sizeof(big));
	take_is(b, "a", "");
	free(b);
}

/* Output dropped after a partial line: the report must not be glued to it. */
static void drop_after_partial_line(void **state)
{
	(void)state;
	struct conbuf *b = new_buf();
	put(b, "prompt> ", true);
	conbuf_end_line(b);
	char big[CONBUF_RING];
	memset(big, 'z', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	conbuf_put(b, (const uint8_t *)big, sizeof(big), false);
	take_is(b, "a", "a| prompt> ");
	take_is(b, "a", "\n");
	take_drop_report(b, sizeof(big));
	put(b, "ok\n", true);
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
		cmocka_unit_test(pass_through_without_prefix),
		cmocka_unit_test(wrap_around),
		cmocka_unit_test(full_ring_drops_and_counts),
		cmocka_unit_test(drop_after_partial_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The console multiplexer: Ctrl-T three times moves the focus along the alive VMs and the shell;
 * fewer Ctrl-Ts reach the focus unharmed; a stopped VM hands its focus on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/console_mux.h"
#include "lib/kstring.h"

#define T CONSOLE_HOTKEY

static bool alive[4];

static bool fake_alive(void *ctx, unsigned i)
{
	assert_ptr_equal(ctx, alive);
	assert_true(i < ARRAY_SIZE(alive));
	return alive[i];
}

static void set_alive(bool a, bool b, bool c, bool d)
{
	alive[0] = a, alive[1] = b, alive[2] = c, alive[3] = d;
}

/* Feeds s (n bytes) and collects what the focus receives; returns the number of switches. */
static unsigned feed(struct console_mux *m, const uint8_t *s, size_t n, uint8_t *got,
		     size_t *got_len)
{
	unsigned switches = 0;

	*got_len = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t out[CONSOLE_HOTKEY_COUNT];
		bool sw = true;
		unsigned k = console_mux_feed(m, s[i], out, &sw);
		assert_true(k <= CONSOLE_HOTKEY_COUNT);
		memcpy(got + *got_len, out, k);
		*got_len += k;
		switches += sw;
	}
	return switches;
}

/* Three Ctrl-Ts: one switch and nothing passed on. */
static void switch_once(struct console_mux *m)
{
	static const uint8_t hot[] = { T, T, T };
	uint8_t got[8];
	size_t n;

	assert_int_equal(feed(m, hot, sizeof(hot), got, &n), 1);
	assert_int_equal(n, 0);
}

static void init_focus(void **state)
{
	struct console_mux m;

	(void)state;
	set_alive(true, true, true, true);
	console_mux_init(&m, 3, fake_alive, alive);
	assert_int_equal(m.focus, 0);
	assert_false(console_mux_is_shell(&m));
	set_alive(false, false, true, true);
	console_mux_init(&m, 3, fake_alive, alive);
	assert_int_equal(m.focus, 2);
	set_alive(false, false, false, true);
	console_mux_init(&m, 3, fake_alive, alive);
	assert_int_equal(m.focus, 3);
	assert_true(console_mux_is_shell(&m));
	console_mux_init(&m, 0, fake_alive, alive);
	assert_int_equal(m.focus, 0);
	assert_true(console_mux_is_shell(&m));
	/* no liveness callback: every VM takes input */
	console_mux_init(&m, 2, NULL, NULL);
	assert_int_equal(m.focus, 0);
	assert_int_equal(m.held, 0);
}

static void plain_bytes_pass(void **state)
{
	struct console_mux m;
	uint8_t out[CONSOLE_HOTKEY_COUNT];
	bool sw = true;

	(void)state;
	set_alive(true, true, false, false);
	console_mux_init(&m, 2, fake_alive, alive);
	for (unsigned c = 0; c < 256; c++) {
		if (c == T)
			continue;
		assert_int_equal(console_mux_feed(&m, (uint8_t)c, out, &sw), 1);
		assert_int_equal(out[0], c);
		assert_false(sw);
	}
	assert_int_equal(m.focus, 0);
}

static void one_or_two_hotkeys_pass_on(void **state)
{
	struct console_mux m;
	uint8_t got[16];
	size_t n;

	(void)state;
	set_alive(true, true, false, false);
	console_mux_init(&m, 2, fake_alive, alive);

	static const uint8_t one[] = { 'a', T, 'b' };
	assert_int_equal(feed(&m, one, sizeof(one), got, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(got, one, 3);

	static const uint8_t two[] = { T, T, 'x' };
	assert_int_equal(feed(&m, two, sizeof(two), got, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(got, two, 3);
	assert_int_equal(m.focus, 0);

	/* a lone hotkey waits for the next byte: it may be the start of a switch */
	uint8_t out[CONSOLE_HOTKEY_COUNT];
	bool sw;
	assert_int_equal(console_mux_feed(&m, T, out, &sw), 0);
	assert_false(sw);
	assert_int_equal(m.held, 1);
	assert_int_equal(console_mux_feed(&m, 0x00, out, &sw), 2);
	assert_int_equal(out[0], T);
	assert_int_equal(out[1], 0x00);
	assert_int_equal(m.held, 0);
}

static void three_switch_and_more_count_again(void **state)
{
	struct console_mux m;
	uint8_t got[16];
	size_t n;

	(void)state;
	set_alive(true, true, false, false);
	console_mux_init(&m, 2, fake_alive, alive);
	switch_once(&m);
	assert_int_equal(m.focus, 1);
	/* four in a row: a switch, then one held that the next byte releases */
	static const uint8_t four[] = { T, T, T, T, 'q' };
	assert_int_equal(feed(&m, four, sizeof(four), got, &n), 1);
	assert_int_equal(m.focus, 2);
	assert_true(console_mux_is_shell(&m));
	assert_int_equal(n, 2);
	assert_int_equal(got[0], T);
	assert_int_equal(got[1], 'q');
	/* six: two switches */
	static const uint8_t six[] = { T, T, T, T, T, T };
	assert_int_equal(feed(&m, six, sizeof(six), got, &n), 2);
	assert_int_equal(n, 0);
	assert_int_equal(m.focus, 1);
}

static void cycle_skips_stopped_vms(void **state)
{
	struct console_mux m;

	(void)state;
	set_alive(true, false, true, false);
	console_mux_init(&m, 4, fake_alive, alive);
	assert_int_equal(m.focus, 0);
	switch_once(&m);
	assert_int_equal(m.focus, 2);
	switch_once(&m);
	assert_int_equal(m.focus, 4); /* the shell */
	switch_once(&m);
	assert_int_equal(m.focus, 0);
	/* a VM that came back is in the cycle again */
	alive[1] = true;
	switch_once(&m);
	assert_int_equal(m.focus, 1);
}

static void shell_always_reachable(void **state)
{
	struct console_mux m;
	uint8_t out[CONSOLE_HOTKEY_COUNT];
	bool sw;

	(void)state;
	set_alive(false, false, false, false);
	console_mux_init(&m, 4, fake_alive, alive);
	assert_true(console_mux_is_shell(&m));
	/* nothing else lives: the hotkey completes (the caller says so) but stays on the shell */
	switch_once(&m);
	assert_true(console_mux_is_shell(&m));
	/* the only VM dies while focused: the next switch still lands on the shell */
	set_alive(false, false, true, false);
	switch_once(&m);
	assert_int_equal(m.focus, 2);
	alive[2] = false;
	switch_once(&m);
	assert_true(console_mux_is_shell(&m));
	/* the shell takes every byte, the hotkey's too when it is not a switch */
	assert_int_equal(console_mux_feed(&m, 'v', out, &sw), 1);
	assert_int_equal(out[0], 'v');
	/* no VMs at all */
	console_mux_init(&m, 0, fake_alive, alive);
	switch_once(&m);
	assert_true(console_mux_is_shell(&m));
}

static void focused_vm_stops(void **state)
{
	struct console_mux m;

	(void)state;
	set_alive(true, true, true, false);
	console_mux_init(&m, 3, fake_alive, alive);
	switch_once(&m);
	assert_int_equal(m.focus, 1);
	/* a VM without the focus stops: nothing moves */
	alive[2] = false;
	assert_false(console_mux_target_stopped(&m, 2));
	assert_int_equal(m.focus, 1);
	/* the focused one: on to the next alive VM, wrapping round past the dead VM 2 */
	alive[1] = false;
	assert_true(console_mux_target_stopped(&m, 1));
	assert_int_equal(m.focus, 0);
	/* VM 0 stops before its state says so: it is not picked again, the shell is */
	assert_true(console_mux_target_stopped(&m, 0));
	assert_true(console_mux_is_shell(&m));
	/* the shell and numbers past it never stop */
	assert_false(console_mux_target_stopped(&m, 3));
	assert_false(console_mux_target_stopped(&m, 99));
	assert_true(console_mux_is_shell(&m));
}

static void held_hotkeys_follow_the_focus(void **state)
{
	struct console_mux m;
	uint8_t out[CONSOLE_HOTKEY_COUNT];
	bool sw;

	(void)state;
	set_alive(true, true, false, false);
	console_mux_init(&m, 2, fake_alive, alive);
	assert_int_equal(console_mux_feed(&m, T, out, &sw), 0);
	assert_int_equal(console_mux_feed(&m, T, out, &sw), 0);
	alive[0] = false;
	assert_true(console_mux_target_stopped(&m, 0));
	assert_int_equal(m.focus, 1);
	/* the third completes the switch begun before the stop: from VM 1 to the shell */
	assert_int_equal(console_mux_feed(&m, T, out, &sw), 0);
	assert_true(sw);
	assert_true(console_mux_is_shell(&m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_focus),
		cmocka_unit_test(plain_bytes_pass),
		cmocka_unit_test(one_or_two_hotkeys_pass_on),
		cmocka_unit_test(three_switch_and_more_count_again),
		cmocka_unit_test(cycle_skips_stopped_vms),
		cmocka_unit_test(shell_always_reachable),
		cmocka_unit_test(focused_vm_stops),
		cmocka_unit_test(held_hotkeys_follow_the_focus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

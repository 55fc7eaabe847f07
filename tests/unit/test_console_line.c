/* console_line: text from one writer never lands inside a line another writer left open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/console_line.h"

static const char keel, shell, vm_a, vm_b;

static bool claim(struct console_line *l, const void *writer, const char *s)
{
	return console_line_claim(l, writer, s, strlen(s));
}

static void whole_lines_need_no_break(void **state)
{
	(void)state;
	struct console_line l = { 0 };
	assert_false(claim(&l, &vm_a, "hello\n"));
	assert_false(claim(&l, &keel, "[0001.000000] vm a: stopped\n"));
	assert_false(claim(&l, &vm_b, "b| hi\n"));
	assert_null(l.open);
}

static void a_writer_goes_on_with_its_own_line(void **state)
{
	(void)state;
	struct console_line l = { 0 };
	assert_false(claim(&l, &vm_a, "login: "));
	assert_false(claim(&l, &vm_a, "root"));
	assert_false(claim(&l, &vm_a, "\r\n"));
	assert_false(claim(&l, &shell, "keel> "));
	assert_false(claim(&l, &shell, "m"));
	assert_ptr_equal(l.open, &shell);
}

/* The cases the e2e runs met: a log line after a guest's prompt, a guest's line while a shell
 * command is half typed, the shell's echo after that guest line. */
static void another_writer_breaks_the_line(void **state)
{
	(void)state;
	struct console_line l = { 0 };
	assert_false(claim(&l, &vm_a, "login: "));
	assert_true(claim(&l, &keel, "[0001.000000] vm a: unclaimed port\n"));
	assert_false(claim(&l, &shell, "keel> m"));
	assert_true(claim(&l, &vm_a, "hello: done, exit code 0\n"));
	assert_false(claim(&l, &shell, "em\r\n"));
	assert_false(claim(&l, &shell, "keel> "));
	assert_true(claim(&l, &vm_b, "b| x"));
	assert_ptr_equal(l.open, &vm_b);
}

static void nothing_written_changes_nothing(void **state)
{
	(void)state;
	struct console_line l = { 0 };
	assert_false(claim(&l, &vm_a, "partial"));
	assert_false(console_line_claim(&l, &keel, "", 0));
	assert_ptr_equal(l.open, &vm_a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_lines_need_no_break),
		cmocka_unit_test(a_writer_goes_on_with_its_own_line),
		cmocka_unit_test(another_writer_breaks_the_line),
		cmocka_unit_test(nothing_written_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

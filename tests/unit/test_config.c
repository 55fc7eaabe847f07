/* keel.cfg parser: good files, and every kind of bad file with its line and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/config.h"
#include "lib/kstring.h"

static struct keel_config cfg;
static struct config_error err;
static const struct config_limits limits = { .max_cpus = 4 };

static int parse(const char *text)
{
	return config_parse(text, strlen(text), &limits, &cfg, &err);
}

/* Asserts that text fails at line with a message containing want. */
static void expect_error(const char *text, unsigned line, const char *want)
{
	assert_int_equal(parse(text), -1);
	if (err.line != line || !strstr(err.msg, want))
		fail_msg("got line %u '%s'; wanted line %u containing '%s'", err.line, err.msg,
			 line, want);
}

static void good_single_vm(void **state)
{
	(void)state;
	assert_int_equal(
		parse("# demo\n[vm linux]\nmemory = 512M\nkernel = vmlinuz\n"
		      "initrd = boot\\initrd.gz\ncmdline =  console=ttyS0 root=/dev/vda rw  \n"),
		0);
	assert_int_equal(cfg.nr_vms, 1);
	assert_string_equal(cfg.vms[0].name, "linux");
	assert_int_equal(cfg.vms[0].memory, 512ull << 20);
	assert_int_equal(cfg.vms[0].cpus, 1);
	assert_string_equal(cfg.vms[0].kernel, "vmlinuz");
	assert_string_equal(cfg.vms[0].initrd, "boot/initrd.gz");
	assert_string_equal(cfg.vms[0].cmdline, "console=ttyS0 root=/dev/vda rw");
	assert_true(cfg.vms[0].exit_port);
	assert_false(cfg.vms[0].on_crash_restart);
	assert_true(cfg.vms[0].on_reboot_restart);
	assert_int_equal(cfg.vms[0].restart_limit, 3);
	assert_int_equal(cfg.vms[0].line, 2);
	assert_int_equal(cfg.vms[0].memory_line, 3);
}

static void good_several_vms_crlf_and_comments(void **state)
{
	(void)state;
	assert_int_equal(parse("; keel\r\n\r\n[vm a]\r\nmemory=1G\r\ncpus = 4\r\nkernel=k\r\n"
			       "exit_port = no\r\n[ vm  b-2_x ]\nmemory = 64m\nkernel = dir/k2"),
			 0);
	assert_int_equal(cfg.nr_vms, 2);
	assert_int_equal(cfg.vms[0].memory, 1ull << 30);
	assert_int_equal(cfg.vms[0].cpus, 4);
	assert_false(cfg.vms[0].exit_port);
	assert_string_equal(cfg.vms[1].name, "b-2_x");
	assert_string_equal(cfg.vms[1].kernel, "dir/k2");
	assert_string_equal(cfg.vms[1].cmdline, "");
	assert_string_equal(cfg.vms[1].initrd, "");
}

static void crash_policy(void **state)
{
	(void)state;
	assert_int_equal(parse("[vm a]\nmemory = 16M\nkernel = k\non_crash = restart\n"
			       "restart_limit = 0\n[vm b]\nmemory = 16M\nkernel = k\n"
			       "on_crash = stop\nrestart_limit = 1000\n"),
			 0);
	assert_true(cfg.vms[0].on_crash_restart);
	assert_int_equal(cfg.vms[0].restart_limit, 0);
	assert_false(cfg.vms[1].on_crash_restart);
	assert_int_equal(cfg.vms[1].restart_limit, 1000);
	expect_error("[vm a]\nmemory = 16M\nkernel = k\non_crash = reboot\n", 4,
		     "bad on_crash value 'reboot'; expected stop or restart");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\nrestart_limit = 1001\n", 4,
		     "bad restart_limit '1001'; expected a whole number, 0 to 1000");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\nrestart_limit = -1\n", 4,
		     "bad restart_limit");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\non_crash = stop\non_crash = stop\n", 5,
		     "set twice");
}

static void reboot_policy(void **state)
{
	(void)state;
	assert_int_equal(parse("[vm a]\nmemory = 16M\nkernel = k\non_reboot = stop\n"
			       "[vm b]\nmemory = 16M\nkernel = k\non_reboot = restart\n"),
			 0);
	assert_false(cfg.vms[0].on_reboot_restart);
	assert_true(cfg.vms[1].on_reboot_restart);
	expect_error("[vm a]\nmemory = 16M\nkernel = k\non_reboot = reboot\n", 4,
		     "bad on_reboot value 'reboot'; expected restart or stop");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\non_reboot = stop\non_reboot = stop\n", 5,
		     "set twice");
}

static void pins(void **state)
{
	(void)state;
	assert_int_equal(parse("[vm a]\nmemory = 16M\nkernel = k\ncpus = 3\npin = 1, 2,3\n"), 0);
	assert_int_equal(cfg.vms[0].nr_pins, 3);
	assert_int_equal(cfg.vms[0].pins[0], 1);
	assert_int_equal(cfg.vms[0].pins[2], 3);
	assert_int_equal(cfg.vms[0].pin_line, 5);
	assert_int_equal(parse("[vm a]\nmemory = 16M\nkernel = k\n"), 0);
	assert_int_equal(cfg.vms[0].nr_pins, 0);
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npin = 1,2\n", 4,
		     "pin names 2 CPUs for 1 vCPUs");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npin = 1,\n", 4, "bad pin '1,'");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npin = x\n", 4, "bad pin 'x'");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npin = 256\n", 4, "CPU numbers 0 to 255");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npin =\n", 4, "bad pin");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npin = 1 2\n", 4, "bad pin");
}

static void bad_files(void **state)
{
	(void)state;
	expect_error("", 1, "no VM defined");
	expect_error("# nothing\n", 1, "no VM defined");
	expect_error("memory = 1G\n", 1, "outside a VM section");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\nfoo = 1\n", 4, "unknown key 'foo'");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\nMemory = 1G\n", 4, "unknown key");
	expect_error("[vm a]\nmemory = 512\nkernel = k\n", 2, "bad memory size '512'");
	expect_error("[vm a]\nmemory = 512X\nkernel = k\n", 2, "bad memory size");
	expect_error("[vm a]\nmemory = M\nkernel = k\n", 2, "bad memory size");
	expect_error("[vm a]\nmemory = 99999999999999999999G\nkernel = k\n", 2, "bad memory size");
	expect_error("[vm a]\nmemory = 8M\nkernel = k\n", 2, "out of range");
	expect_error("[vm a]\nmemory = 2048G\nkernel = k\n", 2, "out of range");
	expect_error("[vm a]\nmemory = 33M\nkernel = k\n", 2, "not a multiple of 2M");
	expect_error("[vm a]\nmemory = 1G\nmemory = 2G\nkernel = k\n", 3, "set twice");
	expect_error("[vm a]\nkernel = k\n", 1, "has no memory");
	expect_error("[vm a]\nmemory = 1G\n[vm b]\nmemory = 1G\nkernel = k\n", 1, "has no kernel");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\n[vm a]\n", 4, "duplicate VM name 'a'");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\ncpus = 5\n", 4, "more than keel supports");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\ncpus = 99999999999\n", 4, "more than keel");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\ncpus = 0\n", 4, "bad cpus");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\ncpus = two\n", 4, "bad cpus");
	expect_error("[vm a]\nmemory = 1G\nkernel = /boot/k\n", 3, "absolute");
	expect_error("[vm a]\nmemory = 1G\nkernel = C:\\k\n", 3, "absolute");
	expect_error("[vm a]\nmemory = 1G\nkernel = ../k\n", 3, "'..'");
	expect_error("[vm a]\nmemory = 1G\nkernel = a\\..\\..\\k\n", 3, "'..'");
	expect_error("[vm a]\nmemory = 1G\nkernel = a//k\n", 3, "empty component");
	expect_error("[vm a]\nmemory = 1G\nkernel = a/\n", 3, "ends with '/'");
	expect_error("[vm a]\nmemory = 1G\nkernel =\n", 3, "empty kernel path");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\xe9\n", 3,
		     "byte 0xe9; expected printable ASCII");
	expect_error("[vm a]\nmemory = 1G\nkernel = k\nexit_port = maybe\n", 4, "yes or no");
	expect_error("[vm]\n", 1, "unknown section");
	expect_error("[vmx a]\n", 1, "unknown section");
	expect_error("[host]\n", 1, "unknown section");
	expect_error("[vm a\n", 1, "without ']'");
	expect_error("[vm a b]\n", 1, "bad VM name");
	expect_error("[vm a.b]\n", 1, "bad VM name");
	expect_error("[vm abcdefghijklmnopqrstuvwxyz0123456]\n", 1, "bad VM name");
	expect_error("[vm a]\nmemory 1G\n", 2, "not a setting");
	expect_error("[vm a]\n= 1G\n", 2, "without a key");
	expect_error("[vm a]\nmemory = 1G\x01\n", 2, "control character");
}

static void nul_byte_is_reported_even_when_len_covers_it(void **state)
{
	(void)state;
	const char text[] = "[vm a]\nmemory = 1G\nkernel = k\n\0garbage";
	assert_int_equal(config_parse(text, sizeof(text) - 1, &limits, &cfg, &err), -1);
	assert_int_equal(err.line, 4);
}

static void too_many_vms(void **state)
{
	(void)state;
	char text[8192];
	size_t n = 0;
	for (int i = 0; i <= CFG_MAX_VMS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[vm v%d]\nmemory = 16M\nkernel = k\n", i);
	expect_error(text, 3 * CFG_MAX_VMS + 1, "more than 16 VMs");
}

static void long_values(void **state)
{
	(void)state;
	static char text[16384];
	char path[200], cmd[CFG_CMDLINE_MAX + 2];
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	snprintf(text, sizeof(text), "[vm a]\nmemory = 1G\nkernel = %s\n", path);
	expect_error(text, 3, "characters long");

	memset(cmd, 'c', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	snprintf(text, sizeof(text), "[vm a]\nmemory = 1G\nkernel = k\ncmdline = %s\n", cmd);
	expect_error(text, 4, "cmdline is 2048 characters long");
	cmd[sizeof(cmd) - 2] = 0; /* exactly the maximum */
	snprintf(text, sizeof(text), "[vm a]\nmemory = 1G\nkernel = k\ncmdline = %s\n", cmd);
	assert_int_equal(parse(text), 0);
	assert_int_equal(strlen(cfg.vms[0].cmdline), CFG_CMDLINE_MAX);

	memset(text, 'x', 5000);
	text[5000] = 0;
	expect_error(text, 1, "line is 5000 characters long");
}

static void sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(config_parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("3G", &v), 0);
	assert_int_equal(v, 3ull << 30);
	assert_int_equal(config_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(config_parse_size("16777216T", &v), -1); /* 2^64 */
	assert_int_equal(config_parse_size("16777215T", &v), 0);
	assert_int_equal(config_parse_size("1 G", &v), -1);
	assert_int_equal(config_parse_size("1GB", &v), -1);
	assert_int_equal(config_parse_size("-1G", &v), -1);
	assert_int_equal(config_parse_size("", &v), -1);
}

static void memory_check(void **state)
{
	(void)state;
	assert_int_equal(parse("[vm a]\nmemory = 512M\nkernel = k\n[vm b]\nkernel = k\n"
			       "memory = 256M\n"),
			 0);
	assert_int_equal(config_check_memory(&cfg, 768ull << 20, &err), 0);
	assert_int_equal(config_check_memory(&cfg, 700ull << 20, &err), -1);
	assert_int_equal(err.line, 6);
	assert_non_null(strstr(err.msg, "[vm b] memory = 256M does not fit: 700 MiB free"));
	assert_int_equal(config_check_memory(&cfg, 100ull << 20, &err), -1);
	assert_int_equal(err.line, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_single_vm),
		cmocka_unit_test(good_several_vms_crlf_and_comments),
		cmocka_unit_test(crash_policy),
		cmocka_unit_test(reboot_policy),
		cmocka_unit_test(pins),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(nul_byte_is_reported_even_when_len_covers_it),
		cmocka_unit_test(too_many_vms),
		cmocka_unit_test(long_values),
		cmocka_unit_test(sizes),
		cmocka_unit_test(memory_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
	expect_error("[hosts]\n", 1, "unknown section");
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

/* A VM with its required keys, then the lines of extra (line 4 on) */
static int parse_vm(const char *extra)
{
	static char text[8192];
	snprintf(text, sizeof(text), "[vm a]\nmemory = 16M\nkernel = k\n%s", extra);
	return parse(text);
}

static void expect_vm_error(const char *extra, unsigned line, const char *want)
{
	assert_int_equal(parse_vm(extra), -1);
	if (err.line != line || !strstr(err.msg, want))
		fail_msg("got line %u '%s'; wanted line %u containing '%s'", err.line, err.msg,
			 line, want);
}

static void disks(void **state)
{
	(void)state;
	assert_int_equal(parse_vm("disk = root.img\ndisk = data\\d.img , ro\ndisk = x.img,ro,ro\n"),
			 0);
	const struct vm_config *vm = &cfg.vms[0];
	assert_int_equal(vm->nr_disks, 3);
	assert_int_equal(vm->disks[0].kind, CFG_DISK_FILE);
	assert_string_equal(vm->disks[0].path, "root.img");
	assert_false(vm->disks[0].read_only);
	assert_int_equal(vm->disks[0].line, 4);
	assert_string_equal(vm->disks[1].path, "data/d.img");
	assert_true(vm->disks[1].read_only);
	assert_int_equal(vm->disks[2].line, 6);
	assert_true(vm->disks[2].read_only);
	/* none: the defaults */
	assert_int_equal(parse_vm(""), 0);
	assert_int_equal(cfg.vms[0].nr_disks, 0);
	assert_int_equal(cfg.vms[0].nr_nets, 0);
	assert_int_equal(cfg.vms[0].console, CFG_CONSOLE_UART);

	expect_vm_error("disk = a.img,rw\n", 4, "unknown disk option 'rw'; expected ro");
	expect_vm_error("disk = a.img,\n", 4, "unknown disk option ''; expected ro");
	expect_vm_error("disk =\n", 4, "empty disk; expected disk = FILE");
	expect_vm_error("disk = ,ro\n", 4, "empty disk; expected disk = FILE");
	expect_vm_error("disk = ../a.img\n", 4, "disk path '../a.img' leaves keel.cfg's folder");
	expect_vm_error("disk = /a.img\n", 4, "disk path '/a.img' is absolute");
	expect_vm_error("disk = a//b\n", 4, "disk path 'a//b' has an empty component");
	expect_error("disk = a.img\n[vm a]\nmemory = 16M\nkernel = k\n", 1,
		     "'disk' outside a VM section; expected a [vm NAME] line first");
	expect_vm_error("disk = a\ndisk = b\ndisk = c\ndisk = d\ndisk = e\ndisk = f\ndisk = g\n"
			"disk = h\ndisk = i\n",
			12, "more than 8 disks in [vm a]; expected at most 8 (vda to vdh)");
	assert_int_equal(parse_vm("disk = a\ndisk = b\ndisk = c\ndisk = d\ndisk = e\ndisk = f\n"
				  "disk = g\ndisk = h\n"),
			 0);
	assert_int_equal(cfg.vms[0].nr_disks, CFG_MAX_DISKS);
}

static void host_disks(void **state)
{
	(void)state;
	assert_int_equal(parse_vm("disk = part:root\ndisk = part:data,ro\ndisk = nvme:2\n"
				  "disk = root.img\n"),
			 0);
	assert_int_equal(cfg.vms[0].nr_disks, 4);
	assert_int_equal(cfg.vms[0].disks[0].kind, CFG_DISK_PART);
	assert_string_equal(cfg.vms[0].disks[0].path, "root");
	assert_false(cfg.vms[0].disks[0].read_only);
	assert_int_equal(cfg.vms[0].disks[1].kind, CFG_DISK_PART);
	assert_true(cfg.vms[0].disks[1].read_only);
	assert_int_equal(cfg.vms[0].disks[2].kind, CFG_DISK_NVME);
	assert_int_equal(cfg.vms[0].disks[2].nsid, 2);
	/* a label and a file of the same name are different disks */
	assert_int_equal(cfg.vms[0].disks[3].kind, CFG_DISK_FILE);
	assert_int_equal(parse_vm("disk = part:k\n"), 0);
	expect_vm_error("disk = part:\n", 4, "the label has 0 characters; expected 1 to 36");
	expect_vm_error("disk = part:0123456789012345678901234567890123456\n", 4,
			"the label has 37 characters");
	expect_vm_error("disk = part:root,bad\n", 4, "unknown disk option 'bad'");
	expect_vm_error("disk = nvme:0\n", 4, "bad disk 'nvme:0'; expected nvme:N");
	expect_vm_error("disk = nvme:x\n", 4, "bad disk 'nvme:x'; expected nvme:N");
	expect_vm_error("disk = nvme:\n", 4, "bad disk 'nvme:'; expected nvme:N");
	/* one disk of one VM each, read-only or not */
	expect_vm_error("disk = part:root,ro\ndisk = part:root,ro\n", 5,
			"disk = part:root is also vda of [vm a] (line 4); expected each host "
			"partition in one disk of one VM");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\ndisk = nvme:1\n"
		     "[vm b]\nmemory = 16M\nkernel = k\ndisk = a.img\ndisk = nvme:1,ro\n",
		     9,
		     "disk = nvme:1 is also vda of [vm a] (line 4); expected each host namespace "
		     "in one disk of one VM");
	assert_int_equal(parse_vm("disk = part:a\ndisk = part:A\ndisk = nvme:1\ndisk = nvme:2\n"),
			 0);
}

static void shared_images(void **state)
{
	(void)state;
	/* read-only everywhere: any number may share an image */
	assert_int_equal(
		parse("[vm a]\nmemory = 16M\nkernel = k\ndisk = s.img,ro\ndisk = s.img,ro\n"
		      "[vm b]\nmemory = 16M\nkernel = k\ndisk = S.IMG,ro\ndisk = k,ro\n"),
		0);
	expect_error("[vm a]\nmemory = 16M\nkernel = k\ndisk = s.img,ro\n"
		     "[vm b]\nmemory = 16M\nkernel = k\ndisk = s.img\n",
		     8,
		     "disk s.img is also vda of [vm a] (line 4), and one of them writes it; "
		     "expected ,ro on every disk that shares an image");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\ndisk = d/s.img\n"
		     "[vm b]\nmemory = 16M\nkernel = k\ndisk = ./D/./S.img,ro\n",
		     8, "disk ./D/./S.img is also vda of [vm a] (line 4)");
	expect_vm_error("disk = x.img\ndisk = s.img\ndisk = s.img\n", 6,
			"disk s.img is also vdb of [vm a] (line 5)");
	expect_vm_error("initrd = i.gz\ndisk = I.gz\n", 5,
			"disk I.gz is the initrd of [vm a]; expected ,ro, or a copy of the file");
	/* a kernel named after the disk, in a later VM */
	expect_error("[vm a]\nmemory = 16M\nkernel = k\ndisk = k2\n"
		     "[vm b]\nmemory = 16M\nkernel = k2\n",
		     4, "disk k2 is the kernel of [vm b]");
}

static void nets_and_macs(void **state)
{
	(void)state;
	assert_int_equal(parse_vm("net = lan\nmac = 52:54:00:aB:cd:EF\nnet = sw-2_x\nnet = lan\n"
				  "mac = 02:00:00:00:00:01\n"),
			 0);
	const struct vm_config *vm = &cfg.vms[0];
	assert_int_equal(vm->nr_nets, 3);
	assert_string_equal(vm->nets[0].sw, "lan");
	assert_true(vm->nets[0].has_mac);
	const uint8_t mac0[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	assert_memory_equal(vm->nets[0].mac, mac0, 6);
	/* the second mac line belongs to the second net, whatever lines come between */
	assert_string_equal(vm->nets[1].sw, "sw-2_x");
	assert_true(vm->nets[1].has_mac);
	assert_int_equal(vm->nets[1].mac[5], 1);
	assert_false(vm->nets[2].has_mac);
	assert_int_equal(vm->nets[2].line, 7);

	expect_vm_error("mac = 52:54:00:12:34:56\n", 4,
			"mac without a net before it in [vm a]; expected each mac after its net");
	expect_vm_error("net = a\nmac = 52:54:00:12:34:56\nmac = 52:54:00:12:34:57\n", 6,
			"mac without a net before it");
	expect_vm_error(
		"net = a\nmac = 01:00:5e:00:00:01\n", 5,
		"mac = 01:00:5e:00:00:01 is a multicast address; expected a unicast address");
	expect_vm_error("net = a\nmac = 00:00:00:00:00:00\n", 5,
			"mac = 00:00:00:00:00:00 is all zero; expected a unicast address");
	expect_vm_error("net = a\nmac = 52:54:00:12:34\n", 5,
			"bad mac '52:54:00:12:34'; expected six hex bytes XX:XX:XX:XX:XX:XX");
	expect_vm_error("net = a\nmac = 52-54-00-12-34-56\n", 5, "bad mac '52-54-00-12-34-56'");
	expect_vm_error("net = a\nmac = 52:54:00:12:34:5g\n", 5, "bad mac");
	expect_vm_error("net = a\nmac = 52:54:00:12:34:567\n", 5, "bad mac");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\nnet = x\nmac = 52:54:00:12:34:56\n"
		     "[vm b]\nmemory = 16M\nkernel = k\nnet = x\nmac = 52:54:00:12:34:56\n",
		     10,
		     "mac = 52:54:00:12:34:56 is already the mac of a net of [vm a] (line 4); "
		     "expected every mac once");
	expect_vm_error("net =\n", 4, "bad switch name ''; expected 1 to 31 letters");
	expect_vm_error("net = a b\n", 4, "bad switch name 'a b'");
	expect_vm_error("net = 0123456789012345678901234567890123\n", 4, "bad switch name");
	expect_vm_error("net = a\nnet = a\nnet = a\nnet = a\nnet = a\n", 8,
			"more than 4 nets in [vm a]; expected at most 4");
	expect_error("net = a\n", 1, "'net' outside a VM section");
	expect_error("mac = 52:54:00:12:34:56\n", 1, "'mac' outside a VM section");
}

static void console_key(void **state)
{
	(void)state;
	assert_int_equal(parse_vm("console = virtio\n"), 0);
	assert_int_equal(cfg.vms[0].console, CFG_CONSOLE_VIRTIO);
	assert_int_equal(parse_vm("console = uart\n"), 0);
	assert_int_equal(cfg.vms[0].console, CFG_CONSOLE_UART);
	expect_vm_error("console = hvc\n", 4, "bad console value 'hvc'; expected uart or virtio");
	expect_vm_error("console = uart\nconsole = uart\n", 5,
			"'console' set twice in [vm a]; expected each key once");
	/* once per VM, not per file */
	assert_int_equal(parse("[vm a]\nmemory = 16M\nkernel = k\nconsole = virtio\n"
			       "[vm b]\nmemory = 16M\nkernel = k\nconsole = uart\n"),
			 0);
	expect_error("console = uart\n", 1, "'console' outside a VM section");
	expect_vm_error(
		"colour = blue\n", 4,
		"unknown key 'colour'; expected one of memory, cpus, kernel, initrd, "
		"cmdline, exit_port, on_crash, restart_limit, pin, on_reboot, disk, net, mac, "
		"console, pci");
}

static void switches(void **state)
{
	(void)state;
	assert_int_equal(parse("[switch lan]\n[vm a]\nmemory = 16M\nkernel = k\nnet = lan\n"
			       "[ switch  dmz-1 ]\n# no uplink\n"),
			 0);
	assert_int_equal(cfg.nr_switches, 2);
	assert_string_equal(cfg.switches[0].name, "lan");
	assert_int_equal(cfg.switches[0].line, 1);
	assert_string_equal(cfg.switches[1].name, "dmz-1");
	assert_false(cfg.switches[1].has_uplink);
	assert_int_equal(cfg.nr_vms, 1);

	/* uplinks: by keel's NIC number or by the NIC's MAC, one switch per NIC */
	assert_int_equal(parse("[switch lan]\nuplink = nic3\n[switch wan]\n"
			       "uplink = 52:54:00:12:34:56\n[vm a]\nmemory = 16M\nkernel = k\n"),
			 0);
	assert_true(cfg.switches[0].has_uplink);
	assert_false(cfg.switches[0].uplink_by_mac);
	assert_int_equal(cfg.switches[0].uplink_nic, 3);
	assert_int_equal(cfg.switches[0].uplink_line, 2);
	assert_true(cfg.switches[1].uplink_by_mac);
	assert_int_equal(cfg.switches[1].uplink_mac[5], 0x56);
	expect_error("[switch lan]\nuplink = nic0\n[switch wan]\nuplink = nic0\n", 4,
		     "uplink = nic0 is also the uplink of [switch lan] (line 2); expected each NIC "
		     "in one switch");
	expect_error("[switch lan]\nuplink = 52:54:00:12:34:56\n[switch wan]\n"
		     "uplink = 52:54:00:12:34:56\n",
		     4, "is also the uplink of [switch lan] (line 2)");
	expect_error("[switch lan]\nuplink = 01:00:5e:00:00:01\n", 2,
		     "uplink = 01:00:5e:00:00:01 is not a NIC's address; expected a unicast MAC or "
		     "nicN");
	expect_error("[switch lan]\nuplink = nic0\nuplink = nic1\n", 3,
		     "'uplink' set twice in [switch lan]; expected each key once");
	expect_error("[switch lan]\nuplink = eth0\n", 2,
		     "bad uplink 'eth0'; expected nicN with N a host NIC number");
	expect_error("[switch lan]\nuplink = nic64\n", 2, "bad uplink 'nic64'");
	expect_error("[switch lan]\nuplink = nic\n", 2, "bad uplink 'nic'");
	expect_error("[switch lan]\nmemory = 16M\n", 2,
		     "unknown key 'memory' in [switch lan]; expected uplink");
	expect_error("[switch lan]\n[switch lan]\n", 2,
		     "duplicate [switch lan] (first at line 1); expected one section per switch");
	expect_error("[switch a.b]\n", 1, "bad switch name 'a.b'; expected 1 to 31 letters");
	expect_error("[switch lan]\n", 1, "no VM defined");
	/* a VM section is closed (its required keys checked) when a switch section starts */
	expect_error("[vm a]\nmemory = 16M\n[switch lan]\n", 1, "[vm a] has no kernel");
	expect_error("[switchlan]\n", 1,
		     "unknown section '[switchlan]'; expected [vm NAME], [switch NAME] or "
		     "[host]");
	char text[2048] = "";
	for (int i = 0; i <= CFG_MAX_SWITCHES; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[switch s%d]\n", i);
	expect_error(text, 17, "more than 16 [switch NAME] sections; expected at most 16");
}

static void disk_sizes(void **state)
{
	(void)state;
	struct disk_config d = { .kind = CFG_DISK_FILE, .path = "d.img", .line = 7 };
	assert_int_equal(config_check_disk_size(&d, 512, &err), 0);
	assert_int_equal(config_check_disk_size(&d, CFG_DISK_IMAGE_MAX, &err), 0);
	assert_int_equal(config_check_disk_size(&d, 1000, &err), -1);
	assert_int_equal(err.line, 7);
	assert_string_equal(err.msg,
			    "disk d.img (1000 bytes) is not a whole number of 512-byte "
			    "sectors; expected a raw image whose size is a multiple of 512");
	assert_int_equal(config_check_disk_size(&d, 0, &err), -1);
	assert_non_null(strstr(err.msg, "disk d.img (0 bytes) is empty; expected a raw image of at "
					"least one 512-byte sector"));
	assert_int_equal(config_check_disk_size(&d, CFG_DISK_IMAGE_MAX + 512, &err), -1);
	assert_non_null(strstr(err.msg, "is too large; expected at most 2 GiB (keel holds disk "
					"images in RAM)"));
}

static void mac_and_name_checks(void **state)
{
	(void)state;
	const uint8_t ok[6] = { 2, 0, 0, 0, 0, 0 }, multi[6] = { 3 }, zero[6] = { 0 };
	assert_true(config_mac_ok(ok));
	assert_false(config_mac_ok(multi));
	assert_false(config_mac_ok(zero));
	assert_true(config_name_ok("a", 1));
	assert_false(config_name_ok("", 0));
	assert_false(config_name_ok("a/b", 3));
}

static void pci_functions(void **state)
{
	(void)state;
	assert_int_equal(parse_vm("pci = 00:04.0\npci = FF:1F.7\npci = 0000:0a:1b.3\n"), 0);
	const struct vm_config *vm = &cfg.vms[0];
	assert_int_equal(vm->nr_pcis, 3);
	assert_int_equal(vm->pcis[0].segment, 0);
	assert_int_equal(vm->pcis[0].bus, 0);
	assert_int_equal(vm->pcis[0].dev, 4);
	assert_int_equal(vm->pcis[0].fn, 0);
	assert_int_equal(vm->pcis[0].line, 4);
	assert_int_equal(vm->pcis[1].bus, 0xff);
	assert_int_equal(vm->pcis[1].dev, 0x1f);
	assert_int_equal(vm->pcis[1].fn, 7);
	assert_int_equal(vm->pcis[2].bus, 0x0a);
	assert_int_equal(vm->pcis[2].dev, 0x1b);
	assert_int_equal(vm->pcis[2].fn, 3);
	assert_int_equal(vm->pcis[2].line, 6);
	assert_int_equal(parse_vm(""), 0);
	assert_int_equal(cfg.vms[0].nr_pcis, 0);
	/* two functions of one device may go to two VMs here; their IOMMU group is checked when
	 * the VMs are built (drivers/pci_claim.h) */
	assert_int_equal(parse("[vm a]\nmemory = 16M\nkernel = k\npci = 00:04.0\n"
			       "[vm b]\nmemory = 16M\nkernel = k\npci = 00:04.1\n"),
			 0);
	assert_int_equal(cfg.vms[1].pcis[0].fn, 1);

	expect_vm_error("pci = 0:4.0\n", 4,
			"pci = 0:4.0 is not BB:DD.F; expected two hex digits of bus, two of device "
			"(00-1f), one of function (0-7), e.g. pci = 00:04.0");
	expect_vm_error("pci =\n", 4, "empty pci; expected two hex digits of bus");
	expect_vm_error("pci = 00:04:0\n", 4, "pci = 00:04:0 is not BB:DD.F");
	expect_vm_error("pci = 00-04.0\n", 4, "pci = 00-04.0 is not BB:DD.F");
	expect_vm_error("pci = 0g:04.0\n", 4, "pci = 0g:04.0 is not BB:DD.F");
	expect_vm_error("pci = 00:04.0,ro\n", 4, "pci = 00:04.0,ro is not BB:DD.F");
	expect_vm_error("pci = 000:00:04.0\n", 4, "pci = 000:00:04.0 is not BB:DD.F");
	expect_vm_error("pci = 000x:00:04.0\n", 4, "pci = 000x:00:04.0 is not BB:DD.F");
	expect_vm_error("pci = 00:20.0\n", 4,
			"pci = 00:20.0: device 20 is past 1f; expected a device number 00 to 1f");
	expect_vm_error("pci = 00:04.8\n", 4,
			"pci = 00:04.8: function 8 is past 7; expected a function number 0 to 7");
	expect_vm_error("pci = 0001:00:04.0\n", 4,
			"pci = 0001:00:04.0: segment 0001 is not 0; expected a function of segment "
			"0000 (the only one keel reaches so far)");
	expect_vm_error("pci = 00:04.0\npci = 00:04.1\npci = 00:04.2\npci = 00:04.3\n"
			"pci = 00:04.4\npci = 00:04.5\npci = 00:04.6\npci = 00:04.7\n"
			"pci = 00:05.0\n",
			12, "more than 8 pci functions in [vm a]; expected at most 8");
	expect_vm_error("pci = 00:04.0\npci = 0000:00:04.0\n", 5,
			"pci 00:04.0 is also given to [vm a] (line 4); expected each function in "
			"one VM");
	expect_error("[vm a]\nmemory = 16M\nkernel = k\npci = 00:04.0\n"
		     "[vm b]\nmemory = 16M\nkernel = k\npci = 00:04.0\n",
		     8,
		     "pci 00:04.0 is also given to [vm a] (line 4); expected each function in one "
		     "VM");
	expect_error("pci = 00:04.0\n[vm a]\nmemory = 16M\nkernel = k\n", 1,
		     "'pci' outside a VM section; expected a [vm NAME] line first");
}

/* [host] sriov = BB:DD.F N [namespaces=...]: parsed, and every malformed line refused */
static void host_sriov(void **state)
{
	(void)state;
	const char *vm = "[vm a]\nmemory = 16M\nkernel = k\npci = 00:04.1\n";
	char text[512];

	snprintf(text, sizeof(text),
		 "[host]\nsriov = 00:04.0 2 namespaces=2,3\nsriov = 0a:1f.7 1\n%s", vm);
	assert_int_equal(parse(text), 0);
	assert_int_equal(cfg.host_line, 1);
	assert_int_equal(cfg.nr_sriovs, 2);
	assert_int_equal(cfg.sriovs[0].pf.dev, 4);
	assert_int_equal(cfg.sriovs[0].nr_vfs, 2);
	assert_int_equal(cfg.sriovs[0].nr_ns, 2);
	assert_int_equal(cfg.sriovs[0].ns[0], 2);
	assert_int_equal(cfg.sriovs[0].ns[1], 3);
	assert_int_equal(cfg.sriovs[0].line, 2);
	assert_int_equal(cfg.sriovs[1].pf.bus, 0x0a);
	assert_int_equal(cfg.sriovs[1].pf.fn, 7);
	assert_int_equal(cfg.sriovs[1].nr_ns, 0);
	/* [host] after a VM closes it; the VM's keys do not go to [host] */
	snprintf(text, sizeof(text), "%s[host]\nsriov = 00:04.0 16\n", vm);
	if (parse(text))
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.sriovs[0].nr_vfs, 16);

	static const struct {
		const char *line, *want;
	} bad[] = {
		{ "sriov = 00:04.0", "sriov = 00:04.0; expected sriov = BB:DD.F N [namespaces=" },
		{ "sriov = 00:04.0 2 namespaces=2,3 x", "expected sriov = BB:DD.F N" },
		{ "sriov = 00:04 2", "sriov = 00:04 is not BB:DD.F; expected two hex digits" },
		{ "sriov = 00:20.0 2", "sriov = 00:20.0: device 20 is past 1f" },
		{ "sriov = 00:04.0 0", "sriov = 00:04.0 0: bad number of VFs; expected 1 to 16" },
		{ "sriov = 00:04.0 17", "bad number of VFs; expected 1 to 16" },
		{ "sriov = 00:04.0 x", "bad number of VFs" },
		{ "sriov = 00:04.0 2 ns=2,3", "sriov: unknown option 'ns=2,3'" },
		{ "sriov = 00:04.0 2 namespaces=2", "sriov: 1 namespaces for 2 VFs; expected one "
						    "namespace per VF" },
		{ "sriov = 00:04.0 1 namespaces=0", "sriov: bad namespace '0'" },
		{ "sriov = 00:04.0 1 namespaces=4294967295", "sriov: bad namespace '4294967295'" },
		{ "sriov = 00:04.0 2 namespaces=2,,3", "sriov: bad namespace ''" },
		{ "sriov = 00:04.0 1 namespaces=", "sriov: bad namespace ''" },
		{ "pci = 00:04.0", "unknown key 'pci' in [host]; expected sriov" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "[host]\n%s\n%s", bad[i].line, vm);
		expect_error(text, 2, bad[i].want);
	}
	snprintf(text, sizeof(text), "[host]\nsriov = 00:04.0 1\nsriov = 00:04.0 2\n%s", vm);
	expect_error(text, 3,
		     "sriov 00:04.0 is also on line 2; expected each physical function once");
	snprintf(text, sizeof(text), "[host]\n[host]\n%s", vm);
	expect_error(text, 2, "a second [host] section (the first at line 1); expected one");
	snprintf(text, sizeof(text),
		 "[host]\nsriov = 00:01.0 1\nsriov = 00:02.0 1\nsriov = 00:03.0 1\n"
		 "sriov = 00:04.0 1\nsriov = 00:05.0 1\n%s",
		 vm);
	expect_error(text, 6, "more than 4 sriov lines; expected at most 4");
	char big[400];
	memset(big, '1', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "[host]\nsriov = %s\n%s", big, vm);
	expect_error(text, 2, "sriov value too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_single_vm),
		cmocka_unit_test(host_sriov),
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
		cmocka_unit_test(disks),
		cmocka_unit_test(host_disks),
		cmocka_unit_test(shared_images),
		cmocka_unit_test(nets_and_macs),
		cmocka_unit_test(console_key),
		cmocka_unit_test(switches),
		cmocka_unit_test(disk_sizes),
		cmocka_unit_test(mac_and_name_checks),
		cmocka_unit_test(pci_functions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* keel's shell against a fake host: every command and error message, line editing, an over-long
 * line and hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/shell.h"
#include "drivers/iommu_hw.h"
#include "lib/kstring.h"

struct fake_vm {
	struct shell_vm_view view;
	struct shell_net_view nets[2];
	struct shell_disk_view disks[2];
	uint64_t exits[4][NR_EXIT_REASONS];
	int stops, restarts;
	const char *refuse; /* stop and restart fail with this */
	bool has_console;
	struct shell_console_view console;
	struct shell_balloon_view balloon;
	uint64_t balloon_asked; /* the last size vm_set_balloon was given */
};

static struct fake_host {
	struct fake_vm vms[4];
	unsigned nr;
	char out[16384];
	size_t out_len;
} fake;

static unsigned fake_nr_vms(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake.nr;
}

static void fake_vm_view(void *ctx, unsigned i, struct shell_vm_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	*out = fake.vms[i].view;
}

static void fake_vm_exits(void *ctx, unsigned i, unsigned vcpu, uint64_t counts[NR_EXIT_REASONS])
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	assert_true(vcpu < fake.vms[i].view.nr_vcpus && vcpu < 4);
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		assert_int_equal(counts[r], 0); /* the shell hands over a zeroed array */
	memcpy(counts, fake.vms[i].exits[vcpu], sizeof(fake.vms[i].exits[vcpu]));
}

static void fake_vm_disk(void *ctx, unsigned i, unsigned disk, struct shell_disk_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	assert_true(disk < fake.vms[i].view.nr_disks && disk < 2);
	assert_int_equal(out->sectors | out->reads | out->errors, 0); /* zeroed first */
	*out = fake.vms[i].disks[disk];
}

static struct shell_nvme_view fake_nvme_views[2];
static unsigned fake_nr_nvme_ctrls;
static struct host_disks fake_disks;

static unsigned fake_nr_nvme(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake_nr_nvme_ctrls;
}

static void fake_nvme(void *ctx, unsigned i, struct shell_nvme_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake_nr_nvme_ctrls);
	assert_null(out->where); /* zeroed first */
	*out = fake_nvme_views[i];
}

static struct shell_nic_view fake_nic_views[2];
static unsigned fake_nr_nic;

static unsigned fake_nr_nics(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake_nr_nic;
}

static void fake_nic(void *ctx, unsigned i, struct shell_nic_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake_nr_nic);
	assert_null(out->where); /* zeroed first */
	*out = fake_nic_views[i];
}

static const struct host_disks *fake_host_disks(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return &fake_disks;
}

static void fake_vm_net(void *ctx, unsigned i, unsigned net, struct shell_net_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	assert_true(net < fake.vms[i].view.nr_nets && net < 2);
	assert_false(out->attached); /* zeroed first */
	assert_int_equal(out->tx_frames | out->rx_queued, 0);
	*out = fake.vms[i].nets[net];
}

static bool fake_vm_console(void *ctx, unsigned i, struct shell_console_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	assert_int_equal(out->tx_bytes | out->rx_dropped | out->rx_waiting, 0); /* zeroed first */
	if (!fake.vms[i].has_console)
		return false;
	*out = fake.vms[i].console;
	return true;
}

static int fake_op(unsigned i, char *err, size_t err_size, int *count)
{
	assert_true(i < fake.nr);
	assert_true(err_size > 0);
	if (fake.vms[i].refuse) {
		/* fill the whole buffer unterminated when asked to: the shell must cope */
		if (!strcmp(fake.vms[i].refuse, "garbage"))
			memset(err, 'g', err_size);
		else
			snprintf(err, err_size, "%s", fake.vms[i].refuse);
		return -1;
	}
	(*count)++;
	return 0;
}

static int fake_vm_stop(void *ctx, unsigned i, char *err, size_t err_size)
{
	assert_ptr_equal(ctx, &fake);
	return fake_op(i, err, err_size, &fake.vms[i].stops);
}

static int fake_vm_restart(void *ctx, unsigned i, char *err, size_t err_size)
{
	assert_ptr_equal(ctx, &fake);
	return fake_op(i, err, err_size, &fake.vms[i].restarts);
}

static void fake_vm_balloon(void *ctx, unsigned i, struct shell_balloon_view *out)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	assert_false(out->present); /* zeroed first */
	*out = fake.vms[i].balloon;
}

static int fake_vm_set_balloon(void *ctx, unsigned i, uint64_t bytes, char *err, size_t err_size)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(i < fake.nr);
	if (bytes > fake.vms[i].view.memory) {
		snprintf(err, err_size, "too big");
		return -1;
	}
	fake.vms[i].balloon_asked = bytes;
	return 0;
}

static void fake_mem(void *ctx, struct shell_mem *out)
{
	assert_ptr_equal(ctx, &fake);
	out->free_bytes = 1536 * MiB + 123;
	out->largest_free = 512 * MiB + 4096;
	out->used_bytes = 640 * MiB;
	out->keel_bytes = 487424;
}

static struct pci_host fake_pci_table;

static const struct pci_host *fake_pci(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return &fake_pci_table;
}

static void fake_write(void *ctx, const char *s, size_t n)
{
	assert_ptr_equal(ctx, &fake);
	assert_true(fake.out_len + n < sizeof(fake.out));
	memcpy(fake.out + fake.out_len, s, n);
	fake.out_len += n;
	fake.out[fake.out_len] = '\0';
}

static const char *fake_iommu_name;

static const char *fake_iommu(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake_iommu_name;
}

static const struct shell_host host = {
	.ctx = &fake,
	.nr_vms = fake_nr_vms,
	.vm_view = fake_vm_view,
	.vm_exits = fake_vm_exits,
	.vm_net = fake_vm_net,
	.vm_disk = fake_vm_disk,
	.nr_nvme = fake_nr_nvme,
	.nvme = fake_nvme,
	.disks = fake_host_disks,
	.nr_nics = fake_nr_nics,
	.nic = fake_nic,
	.vm_console = fake_vm_console,
	.vm_stop = fake_vm_stop,
	.vm_restart = fake_vm_restart,
	.mem = fake_mem,
	.vm_balloon = fake_vm_balloon,
	.vm_set_balloon = fake_vm_set_balloon,
	.pci = fake_pci,
	.iommu = fake_iommu,
	.write = fake_write,
};

static struct shell sh;

static void clear_out(void)
{
	fake.out_len = 0;
	fake.out[0] = '\0';
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.nr = 3;
	fake.vms[0].view = (struct shell_vm_view){
		.name = "linux",
		.state = "running",
		.nr_vcpus = 2,
		.memory = 512 * MiB,
		.uptime_ns = (3 * 3600 + 4 * 60 + 5) * 1000000000ull + 999,
	};
	fake.vms[1].view = (struct shell_vm_view){ .name = "hello",
						   .state = "stopped",
						   .nr_vcpus = 1,
						   .memory = 64 * KiB,
						   .restarts = 12 };
	fake.vms[2].view = (struct shell_vm_view){
		.name = "big-vm_2", .state = "crashed", .nr_vcpus = 16, .memory = GiB, .restarts = 3
	};
	shell_init(&sh, &host);
	return 0;
}

/* Runs line and asserts the result and the exact output. */
static void expect_run(const char *line, int rc, const char *out)
{
	clear_out();
	assert_int_equal(shell_run_line(&sh, line), rc);
	assert_string_equal(fake.out, out);
}

static void type(const char *s)
{
	while (*s)
		shell_input(&sh, (uint8_t)*s++);
}

static void help_lists_every_command(void **state)
{
	(void)state;
	clear_out();
	assert_int_equal(shell_run_line(&sh, "help"), 0);
	static const char *const usages[] = {
		"  help ",  "  vms ",	       "  stats NAME ",	       "  stop NAME ",
		"  mem ",   "  restart NAME ", "  balloon NAME SIZE ", "  pci ",
		"  disks ", "  nics "
	};
	for (unsigned i = 0; i < ARRAY_SIZE(usages); i++)
		assert_non_null(strstr(fake.out, usages[i]));
	assert_non_null(strstr(fake.out, "Ctrl-T three times"));
	/* every line ends CR LF, and there is one per command and one for the hotkey */
	unsigned lines = 0;
	for (const char *p = fake.out; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines, 11);
	assert_null(strstr(fake.out, "\n\n"));
	assert_string_equal(fake.out + fake.out_len - 2, "\r\n");
	expect_run("help me", -1, "usage: help\r\n");
}

static void vms_table(void **state)
{
	(void)state;
	expect_run("vms", 0,
		   "NAME      STATE    VCPUS  MEMORY  UPTIME   RESTARTS\r\n"
		   "linux     running  2      512M    3:04:05  0\r\n"
		   "hello     stopped  1      64K     -        12\r\n"
		   "big-vm_2  crashed  16     1G      -        3\r\n");
	/* sizes that are no whole unit, hours past a day, a host that leaves strings out */
	fake.nr = 2;
	fake.vms[0].view = (struct shell_vm_view){ .name = "a",
						   .state = "running",
						   .nr_vcpus = 1,
						   .memory = 1536 * MiB,
						   .uptime_ns = (100 * 3600 + 59) * 1000000000ull,
						   .restarts = 1 };
	fake.vms[1].view = (struct shell_vm_view){ .memory = 1000, .uptime_ns = 1 };
	expect_run("vms", 0,
		   "NAME  STATE    VCPUS  MEMORY  UPTIME     RESTARTS\r\n"
		   "a     running  1      1536M   100:00:59  1\r\n"
		   "?     ?        0      1000B   0:00:00    0\r\n");
	fake.nr = 0;
	expect_run("vms", 0, "NAME  STATE  VCPUS  MEMORY  UPTIME  RESTARTS\r\n");
	expect_run("vms x", -1, "usage: vms\r\n");
}

static void stats_per_vcpu(void **state)
{
	(void)state;
	fake.vms[0].exits[0][EXIT_IO] = 100;
	fake.vms[0].exits[0][EXIT_CPUID] = 7;
	fake.vms[0].exits[1][EXIT_IO] = 1;
	fake.vms[0].exits[1][EXIT_HLT] = 5;
	fake.vms[0].exits[1][EXIT_UNKNOWN] = 1;
	fake.vms[0].exits[1][EXIT_IRQ_WINDOW] = 1ull << 40;
	fake.vms[0].exits[1][EXIT_RDPMC] = 2;
	fake.vms[0].view.pmu_msr_accesses = 8;
	fake.vms[0].view.mitig = (struct mitig_counts){ 3, 1099511627892, 0, 99 };
	expect_run("stats linux", 0,
		   "vm linux: exits since start, per vcpu\r\n"
		   "  vcpu 0: total 107 io=100 cpuid=7\r\n"
		   "  vcpu 1: total 1099511627785 io=1 hlt=5 irq-window=1099511627776 rdpmc=2 "
		   "unknown=1\r\n"
		   "  all: total 1099511627892 io=101 cpuid=7 hlt=5 irq-window=1099511627776 "
		   "rdpmc=2 unknown=1\r\n"
		   "  pmu msrs: 8 (no PMU: read 0, writes ignored)\r\n"
		   "  mitigations: ibpb=3 rsb-fill=1099511627892 l1d-flush=0 verw=99\r\n");
	expect_run("stats hello", 0,
		   "vm hello: exits since start, per vcpu\r\n"
		   "  vcpu 0: total 0\r\n"
		   "  all: total 0\r\n"
		   "  pmu msrs: 0 (no PMU: read 0, writes ignored)\r\n"
		   "  mitigations: ibpb=0 rsb-fill=0 l1d-flush=0 verw=0\r\n");
	/* a VM with passed functions: their remapped interrupts and DMA faults */
	fake.vms[1].view.nr_pcis = 1;
	fake.vms[1].view.pci_interrupts = 17;
	fake.vms[1].view.pci_faults = 64;
	fake.vms[1].view.pci_on_target = 15;
	expect_run("stats hello", 0,
		   "vm hello: exits since start, per vcpu\r\n"
		   "  vcpu 0: total 0\r\n"
		   "  all: total 0\r\n"
		   "  pmu msrs: 0 (no PMU: read 0, writes ignored)\r\n"
		   "  mitigations: ibpb=0 rsb-fill=0 l1d-flush=0 verw=0\r\n"
		   "  passthrough: 1 functions, 17 interrupts taken through remapping entries and "
		   "sent on, 64 DMA faults; 15 of the interrupts taken on the CPU running their "
		   "vCPU\r\n");
	fake.vms[1].view.nr_pcis = 0;
	expect_run("stats", -1, "usage: stats NAME\r\n");
	expect_run("stats linux hello", -1, "usage: stats NAME\r\n");
	expect_run("stats nope", -1, "no vm named 'nope'; vms lists them\r\n");
	/* names match whole and exactly */
	expect_run("stats Linux", -1, "no vm named 'Linux'; vms lists them\r\n");
	expect_run("stats lin", -1, "no vm named 'lin'; vms lists them\r\n");
}

/* Each virtio-net device after the rest: switch, MAC, and both ways' counters by reason. */
static void stats_nets(void **state)
{
	(void)state;
	fake.vms[1].view.nr_nets = 2;
	fake.vms[1].nets[0] = (struct shell_net_view){
		.sw = "lan",
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.attached = true,
		.tx_frames = 10,
		.tx_bytes = 1234,
		.tx_bad_header = 2,
		.rx_frames = 8,
		.rx_bytes = 999,
		.rx_ring_full = 1,
		.rx_queued = 3,
		.rx_bad_chain = 4,
	};
	fake.vms[1].nets[1] = (struct shell_net_view){
		.sw = "storage-net_2",
		.mac = { 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23 },
		.tx_no_link = 5,
		.tx_spoofed = 9,
		.rx_too_small = 6,
		.rx_lost = 7,
		.rx_flushed = 18446744073709551615ull,
	};
	expect_run("stats hello", 0,
		   "vm hello: exits since start, per vcpu\r\n"
		   "  vcpu 0: total 0\r\n"
		   "  all: total 0\r\n"
		   "  pmu msrs: 0 (no PMU: read 0, writes ignored)\r\n"
		   "  mitigations: ibpb=0 rsb-fill=0 l1d-flush=0 verw=0\r\n"
		   "  net 0: switch lan, mac 52:54:00:12:34:56\r\n"
		   "    tx: 10 frames, 1234 bytes; dropped: bad-chain=0 bad-header=2 "
		   "bad-length=0 no-link=0 spoofed=0\r\n"
		   "    rx: 8 frames, 999 bytes, 3 queued; dropped: ring-full=1 too-small=0 lost=0 "
		   "flushed=0; empty-chains=4\r\n"
		   "  net 1: switch storage-net_2, mac 02:ab:cd:ef:01:23 (not on the switch)\r\n"
		   "    tx: 0 frames, 0 bytes; dropped: bad-chain=0 bad-header=0 bad-length=0 "
		   "no-link=5 spoofed=9\r\n"
		   "    rx: 0 frames, 0 bytes, 0 queued; dropped: ring-full=0 too-small=6 lost=7 "
		   "flushed=18446744073709551615; empty-chains=0\r\n");
	/* a host that leaves the switch's name out */
	fake.vms[1].view.nr_nets = 1;
	fake.vms[1].nets[0].sw = NULL;
	clear_out();
	assert_int_equal(shell_run_line(&sh, "stats hello"), 0);
	assert_non_null(strstr(fake.out, "  net 0: switch ?, mac 52:54:00:12:34:56\r\n"));
}

/* A virtio console after the nets: both ways' counters by reason; none without one. */
static void stats_console(void **state)
{
	(void)state;
	fake.vms[1].has_console = true;
	fake.vms[1].console = (struct shell_console_view){
		.tx_bytes = 4096,
		.emerg_bytes = 3,
		.tx_bad_chain = 1,
		.tx_cut = 2,
		.rx_bytes = 77,
		.rx_dropped = 18446744073709551615ull,
		.rx_bad_chain = 5,
		.rx_waiting = 512,
	};
	expect_run("stats hello", 0,
		   "vm hello: exits since start, per vcpu\r\n"
		   "  vcpu 0: total 0\r\n"
		   "  all: total 0\r\n"
		   "  pmu msrs: 0 (no PMU: read 0, writes ignored)\r\n"
		   "  mitigations: ibpb=0 rsb-fill=0 l1d-flush=0 verw=0\r\n"
		   "  console: virtio\r\n"
		   "    tx: 4096 bytes, 3 emergency; dropped: bad-chain=1 cut=2\r\n"
		   "    rx: 77 bytes, 512 waiting; dropped: buffer-full=18446744073709551615; "
		   "empty-chains=5\r\n");
	fake.vms[1].has_console = false;
	clear_out();
	assert_int_equal(shell_run_line(&sh, "stats hello"), 0);
	assert_null(strstr(fake.out, "console"));
}

static void stop_and_restart(void **state)
{
	(void)state;
	expect_run("stop linux", 0, "vm linux: stop requested\r\n");
	assert_int_equal(fake.vms[0].stops, 1);
	expect_run("restart big-vm_2", 0, "vm big-vm_2: restart requested\r\n");
	assert_int_equal(fake.vms[2].restarts, 1);
	fake.vms[1].refuse = "vm hello is not running";
	expect_run("stop hello", -1, "stop: vm hello is not running\r\n");
	fake.vms[1].refuse = "";
	expect_run("restart hello", -1, "restart: refused\r\n");
	fake.vms[1].refuse = "garbage";
	clear_out();
	assert_int_equal(shell_run_line(&sh, "stop hello"), -1);
	assert_int_equal(strlen(fake.out), strlen("stop: ") + 127 + 2);
	assert_int_equal(fake.vms[1].stops + fake.vms[1].restarts, 0);
	expect_run("stop", -1, "usage: stop NAME\r\n");
	expect_run("restart", -1, "usage: restart NAME\r\n");
	expect_run("restart a b", -1, "usage: restart NAME\r\n");
	expect_run("stop ghost", -1, "no vm named 'ghost'; vms lists them\r\n");
	expect_run("restart ghost", -1, "no vm named 'ghost'; vms lists them\r\n");
	assert_int_equal(fake.vms[0].stops, 1);
}

static void mem(void **state)
{
	(void)state;
	expect_run(
		"mem", 0,
		"host memory: 1536 MiB free (largest block 512 MiB), 640 MiB used; keel itself 487424 bytes\r\n");
	expect_run("mem all", -1, "usage: mem\r\n");
}

/* `pci`: the table keel found at boot, one function a line with its owner; a VM owner by the
 * name its claim recorded (owner_vm is the claim's id, not the VM's index), one without a name as
 * "vm". */
static void pci(void **state)
{
	(void)state;
	struct pci_host *t = &fake_pci_table;

	memset(t, 0, sizeof(*t));
	expect_run("pci", 0, "pci: no host PCI functions known\r\n");
	t->mechanism = "ECAM";
	t->nr = 3;
	t->nr_buses = 1;
	t->funcs[0] =
		(struct pci_func){ .vendor = 0x8086, .device = 0x29c0, .class_code = 0x060000 };
	t->funcs[1] = (struct pci_func){ .dev = 4,
					 .vendor = 0x1b36,
					 .device = 0x0010,
					 .class_code = 0x010802,
					 .nr_bars = 6,
					 .owner = PCI_OWNER_VM,
					 .owner_vm = 7,
					 .owner_name = "hello" };
	t->funcs[1].bar[0] =
		(struct pci_host_bar){ PCI_HBAR_MEM64, false, 0xfebd0000, 16384, true };
	t->funcs[2] = (struct pci_func){ .dev = 5,
					 .vendor = 0x8086,
					 .device = 0x10d3,
					 .class_code = 0x020000,
					 .owner = PCI_OWNER_VM,
					 .owner_vm = 99 };
	expect_run(
		"pci", 0,
		"pci: 3 functions on 1 buses through ECAM; no IOMMU: DMA is not restricted\r\n"
		"00:00.0 8086:29c0 class 060000 host bridge; owner none\r\n"
		"00:04.0 1b36:0010 class 010802 NVMe; bar0 mem64 febd0000+16K; owner vm hello\r\n"
		"00:05.0 8086:10d3 class 020000 Ethernet; owner vm\r\n");
	expect_run("pci 0", -1, "usage: pci\r\n");
	/* behind an IOMMU: each function's DMA domain, or blocked */
	fake_iommu_name = "VT-d";
	t->funcs[1].dma_domain = 3;
	t->funcs[2].dma_domain = IOMMU_DOMAIN_KEEL;
	t->funcs[2].owner = PCI_OWNER_KEEL;
	expect_run(
		"pci", 0,
		"pci: 3 functions on 1 buses through ECAM; DMA translated by the VT-d\r\n"
		"00:00.0 8086:29c0 class 060000 host bridge; owner none; DMA blocked\r\n"
		"00:04.0 1b36:0010 class 010802 NVMe; bar0 mem64 febd0000+16K; owner vm hello; DMA "
		"domain 3\r\n"
		"00:05.0 8086:10d3 class 020000 Ethernet; owner keel; DMA domain 1 (keel's)\r\n");
	t->funcs[0].dma_domain = IOMMU_DOMAIN_FIRMWARE;
	clear_out();
	assert_int_equal(shell_run_line(&sh, "pci"), 0);
	assert_non_null(strstr(fake.out, "00:00.0 8086:29c0 class 060000 host bridge; owner none; "
					 "DMA domain 2 (firmware's)\r\n"));
	fake_iommu_name = NULL;
	memset(t, 0, sizeof(*t));
}

/* `disks`: each controller, then each namespace and partition on it with its keel.cfg name, size
 * and owner */
static void disks(void **state)
{
	struct disk_config d = { .kind = CFG_DISK_PART, .path = "root", .line = 7 };
	char err[160];

	(void)state;
	memset(&fake_disks, 0, sizeof(fake_disks));
	fake_nr_nvme_ctrls = 0;
	expect_run("disks", 0, "disks: no NVMe controller found\r\n");
	fake_nr_nvme_ctrls = 2;
	fake_nvme_views[0] = (struct shell_nvme_view){
		"00:04.0", "QEMU NVMe Ctrl", "keel", "ready", 1234, 2, 1, 1, 900, 3, true, 77
	};
	fake_nvme_views[1] =
		(struct shell_nvme_view){ "01:00.0", "Disk", "s2", "failed", 0,	    0,
					  0,	     0,	     0,	   0,	     false, 77 };
	assert_int_equal(host_disks_add_ns(&fake_disks, 0, 1, 131072), 0);
	assert_int_equal(host_disks_add_part(&fake_disks, 0, 1, 2048, 61440, "root"), 1);
	assert_int_equal(host_disks_add_part(&fake_disks, 0, 2, 63488, 2048, NULL), 2);
	assert_int_equal(host_disks_claim(&fake_disks, &d, "web", 1, err, sizeof(err)), 1);
	expect_run(
		"disks", 0,
		"nvme0 00:04.0 QEMU NVMe Ctrl (serial keel): ready, MSI-X; commands 1234, failed 2, "
		"timeouts 1, resets 1, lock waits 3 of 900\r\n"
		"  nvme0n1      nvme:1                        64M  free\r\n"
		"  nvme0n1p1    part:root                     30M  vm web vdb\r\n"
		"  nvme0n1p2    (no usable label)              1M  free\r\n"
		"nvme1 01:00.0 Disk (serial s2): failed, polled; commands 0, failed 0, "
		"timeouts 0, resets 0, lock waits 0 of 0\r\n"
		"device interrupts: 77\r\n");
	expect_run("disks x", -1, "usage: disks\r\n");
	fake_nr_nvme_ctrls = 0;
}

/* `nics`: each NIC, its switch, and its counters each way */
static void nics(void **state)
{
	(void)state;
	fake_nr_nic = 0;
	expect_run("nics", 0, "nics: no host NIC found\r\n");
	fake_nr_nic = 2;
	fake_nic_views[0] = (struct shell_nic_view){ .where = "00:05.0",
						     .model = "Intel 82574L",
						     .state = "running",
						     .sw = "wan",
						     .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
						     .link_up = true,
						     .rx_frames = 10,
						     .rx_bytes = 6000,
						     .tx_frames = 7,
						     .tx_bytes = 900,
						     .rx_dropped = 2,
						     .tx_dropped = 1,
						     .resets = 1 };
	fake_nic_views[1] = (struct shell_nic_view){ .where = "01:00.0",
						     .model = "Intel 82574L",
						     .state = "failed",
						     .mac = { 2, 0, 0, 0, 0, 1 } };
	expect_run(
		"nics", 0,
		"nic0 00:05.0 Intel 82574L, mac 52:54:00:12:34:56: running, link up, uplink of "
		"switch wan\r\n"
		"  rx: 10 frames, 6000 bytes, 2 dropped\r\n"
		"  tx: 7 frames, 900 bytes, 1 dropped; resets 1\r\n"
		"nic1 01:00.0 Intel 82574L, mac 02:00:00:00:00:01: failed, link down, no switch\r\n"
		"  rx: 0 frames, 0 bytes, 0 dropped\r\n"
		"  tx: 0 frames, 0 bytes, 0 dropped; resets 0\r\n");
	expect_run("nics 1", -1, "usage: nics\r\n");
	fake_nr_nic = 0;
}

/* `stats`' line per virtio-blk disk */
static void stats_disks(void **state)
{
	(void)state;
	fake.vms[1].view.nr_disks = 2;
	fake.vms[1].disks[0] = (struct shell_disk_view){ 2048, false, 10, 3, 2, 1, 40960, 12288 };
	fake.vms[1].disks[1] = (struct shell_disk_view){ 131072, true, 1, 0, 0, 0, 512, 0 };
	clear_out();
	assert_int_equal(shell_run_line(&sh, "stats hello"), 0);
	assert_non_null(strstr(fake.out, "  disk vda: 1M; reads 10 (40960 bytes), writes 3 (12288 "
					 "bytes), flushes 2, errors 1\r\n"));
	assert_non_null(strstr(fake.out, "  disk vdb: 64M read-only; reads 1 (512 bytes), writes 0 "
					 "(0 bytes), flushes 0, errors 0\r\n"));
}

static void words_and_errors(void **state)
{
	(void)state;
	expect_run("", 0, "");
	expect_run(" \t  ", 0, "");
	expect_run("  stop\t linux  ", 0, "vm linux: stop requested\r\n");
	expect_run("frobnicate", -1, "unknown command 'frobnicate'; type help\r\n");
	expect_run("frobnicate a b c d e", -1, "unknown command 'frobnicate'; type help\r\n");
	expect_run("HELP", -1, "unknown command 'HELP'; type help\r\n");
	/* control bytes never go back out in a message */
	expect_run("\x1b[2J\x01", -1, "unknown command '?[2J?'; type help\r\n");
	expect_run("stats \xff", -1, "no vm named '?'; vms lists them\r\n");

	char longest[SHELL_LINE_SIZE], too_long[SHELL_LINE_SIZE + 1];
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'x', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	clear_out();
	assert_int_equal(shell_run_line(&sh, longest), -1);
	assert_non_null(strstr(fake.out, "unknown command 'xxxx"));
	expect_run(too_long, -1, "line too long: at most 127 characters\r\n");
}

static void typing_runs_lines(void **state)
{
	(void)state;
	clear_out();
	shell_prompt(&sh);
	assert_string_equal(fake.out, "keel> ");
	clear_out();
	type("stop linux\r");
	assert_string_equal(fake.out, "stop linux\r\nvm linux: stop requested\r\nkeel> ");
	/* CR LF counts once; LF alone works; an empty line is just a new prompt */
	clear_out();
	type("\n");
	assert_string_equal(fake.out, "");
	type("\r\n\n");
	assert_string_equal(fake.out, "\r\nkeel> \r\nkeel> ");
	clear_out();
	type("mem\n");
	assert_string_equal(
		fake.out,
		"mem\r\nhost memory: 1536 MiB free (largest block 512 MiB), 640 MiB used; keel itself 487424 bytes\r\n"
		"keel> ");
	clear_out();
	type("bogus\r\n");
	assert_string_equal(fake.out, "bogus\r\nunknown command 'bogus'; type help\r\nkeel> ");
	/* LF CR is two line ends, the second an empty line */
	clear_out();
	type("\n\r");
	assert_string_equal(fake.out, "\r\nkeel> \r\nkeel> ");
}

/* balloon NAME SIZE: sizes as keel.cfg writes them, the host's refusal passed on; stats shows
 * the balloon and the guest's report. */
static void balloon(void **state)
{
	(void)state;
	expect_run("balloon linux 128M", 0, "vm linux: balloon target 128 MiB of its 512 MiB\r\n");
	assert_int_equal(fake.vms[0].balloon_asked, 128 * MiB);
	expect_run("balloon linux 1G", -1, "balloon: too big\r\n");
	expect_run("balloon linux 128", -1,
		   "balloon: '128' is not a size; expected a number and K, M or G (128M)\r\n");
	expect_run("balloon nosuch 128M", -1, "no vm named 'nosuch'; vms lists them\r\n");
	expect_run("balloon linux", -1, "usage: balloon NAME SIZE\r\n");
	expect_run("balloon linux 1M 2M", -1, "usage: balloon NAME SIZE\r\n");
	fake.vms[0].balloon = (struct shell_balloon_view){
		.present = true,
		.target_bytes = 384 * MiB,
		.actual_bytes = 256 * MiB,
		.held_bytes = 256 * MiB,
		.refaults = 2,
		.refused = 3,
		.stat_valid = 1u << 4 | 1u << 5 | 1u << 2,
		.stat = { [2] = 17, [4] = 100 * MiB, [5] = 490 * MiB },
		.reports = 1,
	};
	clear_out();
	assert_int_equal(shell_run_line(&sh, "stats linux"), 0);
	assert_non_null(strstr(fake.out, "  balloon: target 393216 KiB, actual 262144 KiB, keel "
					 "holds 262144 KiB; refaults=2 refused=3\r\n"));
	assert_non_null(strstr(fake.out, "  guest memory: major-faults=17 free=102400K "
					 "total=501760K\r\n"));
	fake.vms[0].balloon.reports = 0;
	clear_out();
	assert_int_equal(shell_run_line(&sh, "stats linux"), 0);
	assert_non_null(strstr(fake.out, "  guest memory: no report yet\r\n"));
}

static void line_editing(void **state)
{
	(void)state;
	clear_out();
	type("stpo");
	shell_input(&sh, 0x7f);
	shell_input(&sh, 0x08);
	type("op linux\r");
	assert_string_equal(fake.out,
			    "stpo\b \b\b \bop linux\r\nvm linux: stop requested\r\nkeel> ");
	/* backspace on an empty line does nothing */
	clear_out();
	shell_input(&sh, 0x7f);
	shell_input(&sh, 0x08);
	assert_string_equal(fake.out, "");
	/* Ctrl-U rubs out the whole line */
	clear_out();
	type("stop linux");
	shell_input(&sh, 0x15);
	assert_int_equal(sh.len, 0);
	type("mem\r");
	char want[128];
	size_t w = (size_t)snprintf(want, sizeof(want), "stop linux");
	for (int i = 0; i < 10; i++)
		w += (size_t)snprintf(want + w, sizeof(want) - w, "\b \b");
	snprintf(want + w, sizeof(want) - w, "mem\r\nhost memory:");
	assert_non_null(strstr(fake.out, want));
	assert_int_equal(fake.vms[0].stops, 1);
	/* Ctrl-C abandons the line and runs nothing */
	clear_out();
	type("stop linux");
	shell_input(&sh, 0x03);
	assert_string_equal(fake.out, "stop linux^C\r\nkeel> ");
	type("\r");
	assert_int_equal(fake.vms[0].stops, 1);
}

static void over_long_line(void **state)
{
	(void)state;
	char line[200];
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';

	/* 199 characters: 127 echoed, 72 bells, the line refused */
	clear_out();
	type(line);
	assert_int_equal(sh.len, SHELL_LINE_SIZE - 1);
	assert_int_equal(sh.typed, 199);
	assert_int_equal(fake.out_len, 127 + 72);
	assert_int_equal(fake.out[127], '\a');
	assert_int_equal(fake.out[198], '\a');
	clear_out();
	type("\r");
	assert_string_equal(fake.out,
			    "\r\nline too long: at most 127 characters; not run\r\nkeel> ");
	assert_int_equal(sh.len, 0);
	assert_int_equal(sh.typed, 0);

	/* erased back within its room, the line is what is shown and runs */
	clear_out();
	memset(line, ' ', 115);
	memcpy(line + 115, "stop linuxxXXXXX", 16);
	line[131] = '\0';
	type(line);
	assert_int_equal(sh.len, 127);
	assert_int_equal(sh.typed, 131);
	for (int i = 0; i < 6; i++)
		shell_input(&sh, 0x7f);
	/* the four dropped characters were never shown: two visible rub-outs, 'X' and 'x' */
	assert_non_null(strstr(fake.out, "xX\a\a\a\a\b \b\b \b"));
	assert_null(strstr(fake.out, "\b \b\b \b\b \b"));
	type("\r");
	assert_non_null(strstr(fake.out, "vm linux: stop requested\r\n"));
	assert_int_equal(fake.vms[0].stops, 1);

	/* exactly full is fine; Ctrl-U forgets the overflow too */
	memset(line, 'b', 127);
	line[127] = '\0';
	clear_out();
	type(line);
	type("\r");
	assert_non_null(strstr(fake.out, "unknown command 'bbbb"));
	type(line);
	type("bbb");
	shell_input(&sh, 0x15);
	clear_out();
	type("vms\r");
	assert_non_null(strstr(fake.out, "NAME"));
}

static void hostile_bytes(void **state)
{
	(void)state;
	/* NUL, 0xff, other control bytes, bytes with the top bit set: ignored */
	clear_out();
	static const uint8_t junk[] = {
		0x00, 0xff, 0x80, 0x9b, 0x07, 0x09, 0x0c, 0x14, 0x01, 0xfe
	};
	for (unsigned i = 0; i < sizeof(junk); i++)
		shell_input(&sh, junk[i]);
	assert_string_equal(fake.out, "");
	assert_int_equal(sh.len, 0);
	type("m");
	shell_input(&sh, 0x00);
	shell_input(&sh, 0xff);
	type("em\r");
	assert_non_null(strstr(fake.out, "m"
					 "em\r\nhost memory:"));

	/* arrow keys (CSI and SS3), a CSI with parameters, Alt-x: swallowed whole */
	clear_out();
	type("vm\x1b[A\x1b[1;5D\x1bOA\x1bx\x1b[200~s\r");
	assert_string_equal(fake.out,
			    "vms\r\nNAME      STATE    VCPUS  MEMORY  UPTIME   RESTARTS\r\n"
			    "linux     running  2      512M    3:04:05  0\r\n"
			    "hello     stopped  1      64K     -        12\r\n"
			    "big-vm_2  crashed  16     1G      -        3\r\n"
			    "keel> ");
	/* a control byte ends a sequence and counts as itself: the Enter is not eaten */
	clear_out();
	type("mem\x1b[12\r");
	assert_non_null(strstr(fake.out, "host memory:"));
	clear_out();
	type("mem\x1b\r");
	assert_non_null(strstr(fake.out, "host memory:"));
	clear_out();
	type("\x1bO\r");
	assert_string_equal(fake.out, "\r\nkeel> ");
	/* ESC ESC [ A: the second ESC starts its own sequence */
	clear_out();
	type("\x1b\x1b[Amem\r");
	assert_string_equal(
		fake.out,
		"mem\r\nhost memory: 1536 MiB free (largest block 512 MiB), 640 MiB used; keel itself "
		"487424 bytes\r\nkeel> ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(help_lists_every_command, setup),
		cmocka_unit_test_setup(vms_table, setup),
		cmocka_unit_test_setup(stats_per_vcpu, setup),
		cmocka_unit_test_setup(stats_console, setup),
		cmocka_unit_test_setup(stats_nets, setup),
		cmocka_unit_test_setup(stop_and_restart, setup),
		cmocka_unit_test_setup(mem, setup),
		cmocka_unit_test_setup(pci, setup),
		cmocka_unit_test_setup(disks, setup),
		cmocka_unit_test_setup(stats_disks, setup),
		cmocka_unit_test_setup(nics, setup),
		cmocka_unit_test_setup(words_and_errors, setup),
		cmocka_unit_test_setup(typing_runs_lines, setup),
		cmocka_unit_test_setup(balloon, setup),
		cmocka_unit_test_setup(line_editing, setup),
		cmocka_unit_test_setup(over_long_line, setup),
		cmocka_unit_test_setup(hostile_bytes, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

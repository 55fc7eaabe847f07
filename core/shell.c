#include "core/shell.h"

#include "core/config.h"
#include "drivers/iommu_hw.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

#define CTRL_C 0x03
#define BACKSPACE 0x08
#define CTRL_U 0x15
#define ESC 0x1b
#define DEL 0x7f
#define BELL "\a"

/* Escape sequences a terminal sends for arrow and function keys (ECMA-48: ESC [ parameters and
 * intermediates 0x20-0x3f, a final byte 0x40-0x7e; ESC O x; ESC x). The shell has no use for
 * them, and taking their printable tail as typed text would put "[A" on the line. */
enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

/* ---- output ------------------------------------------------------------------------------- */

static void put(struct shell *sh, const char *s)
{
	sh->host->write(sh->host->ctx, s, strlen(s));
}

static void put_spaces(struct shell *sh, size_t n)
{
	static const char spaces[] = "                ";

	while (n) {
		size_t k = MIN(n, sizeof(spaces) - 1);
		sh->host->write(sh->host->ctx, spaces, k);
		n -= k;
	}
}

/* Pieces are short (a VM name, a number, a word the user typed), so the buffer only cuts what a
 * host gives beyond reason. */
static void vsay(struct shell *sh, const char *fmt, va_list ap)
{
	char buf[256];

	kvsnprintf(buf, sizeof(buf), fmt, ap);
	put(sh, buf);
}

/* A piece of a line. */
static void say(struct shell *sh, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void say(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(sh, fmt, ap);
	va_end(ap);
}

/* A whole line: its end survives even when the text is cut. */
static void sayln(struct shell *sh, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void sayln(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(sh, fmt, ap);
	va_end(ap);
	put(sh, "\r\n");
}

/* ---- what the host tells ------------------------------------------------------------------ */

static void view_of(struct shell *sh, unsigned i, struct shell_vm_view *v)
{
	memset(v, 0, sizeof(*v));
	sh->host->vm_view(sh->host->ctx, i, v);
	/* a host that leaves a string out still gets a table, not a NULL dereference */
	if (!v->name)
		v->name = "?";
	if (!v->state)
		v->state = "?";
}

/* The VM called name, or -1 with the error written. */
static int find_vm(struct shell *sh, const char *name, struct shell_vm_view *v)
{
	unsigned n = sh->host->nr_vms(sh->host->ctx);

	for (unsigned i = 0; i < n; i++) {
		view_of(sh, i, v);
		if (strcmp(v->name, name) == 0)
			return (int)i;
	}
	sayln(sh, "no vm named '%s'; vms lists them", name);
	return -1;
}

/* keel.cfg's own size syntax, so a size reads as it was configured: the largest unit that
 * divides it exactly. */
static void format_size(char *buf, size_t size, uint64_t bytes)
{
	static const struct {
		uint64_t unit;
		char suffix;
	} units[] = { { GiB, 'G' }, { MiB, 'M' }, { KiB, 'K' }, { 1, 'B' } };

	for (unsigned u = 0; u < ARRAY_SIZE(units); u++) {
		if (bytes % units[u].unit == 0 && (bytes || units[u].unit == 1)) {
			ksnprintf(buf, size, "%llu%c", (unsigned long long)(bytes / units[u].unit),
				  units[u].suffix);
			return;
		}
	}
}

static void format_uptime(char *buf, size_t size, uint64_t ns)
{
	if (!ns) {
		kstrlcpy(buf, "-", size);
		return;
	}
	unsigned long long s = ns / 1000000000ull;
	ksnprintf(buf, size, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
}

/* ---- commands ----------------------------------------------------------------------------- */

static int cmd_help(struct shell *sh, const char *arg, const char *more);

#define VMS_COLUMNS 6
#define VMS_GAP 2

struct vms_row {
	const char *cell[VMS_COLUMNS];
	char vcpus[12], memory[24], uptime[32], restarts[12];
};

static void vms_row_of(const struct shell_vm_view *v, struct vms_row *r)
{
	ksnprintf(r->vcpus, sizeof(r->vcpus), "%u", v->nr_vcpus);
	format_size(r->memory, sizeof(r->memory), v->memory);
	format_uptime(r->uptime, sizeof(r->uptime), v->uptime_ns);
	ksnprintf(r->restarts, sizeof(r->restarts), "%u", v->restarts);
	r->cell[0] = v->name;
	r->cell[1] = v->state;
	r->cell[2] = r->vcpus;
	r->cell[3] = r->memory;
	r->cell[4] = r->uptime;
	r->cell[5] = r->restarts;
}

static void vms_print_row(struct shell *sh, const char *const cell[VMS_COLUMNS],
			  const size_t width[VMS_COLUMNS])
{
	for (unsigned c = 0; c < VMS_COLUMNS; c++) {
		put(sh, cell[c]);
		/* no trailing blanks: a terminal log stays clean */
		if (c + 1 < VMS_COLUMNS) {
			size_t len = strlen(cell[c]);
			put_spaces(sh, (width[c] > len ? width[c] - len : 0) + VMS_GAP);
		}
	}
	put(sh, "\r\n");
}

static int cmd_vms(struct shell *sh, const char *arg, const char *more)
{
	(void)more;
	static const char *const header[VMS_COLUMNS] = { "NAME",   "STATE",  "VCPUS",
							 "MEMORY", "UPTIME", "RESTARTS" };
	unsigned n = sh->host->nr_vms(sh->host->ctx);
	size_t width[VMS_COLUMNS];
	struct shell_vm_view v;
	struct vms_row r;

	(void)arg;
	/* Two passes, the first for the column widths, so no table of VMs need be kept. A value
	 * that grows in between (an uptime) only pushes its row's later cells right. */
	for (unsigned c = 0; c < VMS_COLUMNS; c++)
		width[c] = strlen(header[c]);
	for (unsigned i = 0; i < n; i++) {
		view_of(sh, i, &v);
		vms_row_of(&v, &r);
		for (unsigned c = 0; c < VMS_COLUMNS; c++)
			width[c] = MAX(width[c], strlen(r.cell[c]));
	}
	vms_print_row(sh, header, width);
	for (unsigned i = 0; i < n; i++) {
		view_of(sh, i, &v);
		vms_row_of(&v, &r);
		vms_print_row(sh, r.cell, width);
	}
	return 0;
}

static void print_exits(struct shell *sh, const uint64_t counts[NR_EXIT_REASONS])
{
	uint64_t total = 0;

	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		total += counts[r];
	say(sh, "total %llu", (unsigned long long)total);
	/* the same REASON=N words as the `exits total` line keel logs when a VM stops */
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		if (counts[r])
			say(sh, " %s=%llu", exit_reason_name((enum exit_reason)r),
			    (unsigned long long)counts[r]);
	put(sh, "\r\n");
}

/* A virtio-blk device: its size, then its requests */
static void print_disk(struct shell *sh, unsigned i, unsigned j)
{
	struct shell_disk_view d;
	char size[24];

	memset(&d, 0, sizeof(d));
	sh->host->vm_disk(sh->host->ctx, i, j, &d);
	format_size(size, sizeof(size), d.sectors * 512);
	say(sh, "  disk vd%c: %s%s; reads %llu (%llu bytes), ", 'a' + j, size,
	    d.read_only ? " read-only" : "", (unsigned long long)d.reads,
	    (unsigned long long)d.read_bytes);
	sayln(sh, "writes %llu (%llu bytes), flushes %llu, errors %llu",
	      (unsigned long long)d.writes, (unsigned long long)d.written_bytes,
	      (unsigned long long)d.flushes, (unsigned long long)d.errors);
}

/* A virtio-net device: its switch and MAC, then a line each way with the drops by reason (in
 * pieces: twenty-digit counters would not fit one say). */
static void print_net(struct shell *sh, unsigned i, unsigned j)
{
	struct shell_net_view n;

	memset(&n, 0, sizeof(n));
	sh->host->vm_net(sh->host->ctx, i, j, &n);
	const uint8_t *m = n.mac;
	sayln(sh, "  net %u: switch %.31s, mac %02x:%02x:%02x:%02x:%02x:%02x%s", j,
	      n.sw ? n.sw : "?", m[0], m[1], m[2], m[3], m[4], m[5],
	      n.attached ? "" : " (not on the switch)");
	say(sh, "    tx: %llu frames, %llu bytes; ", (unsigned long long)n.tx_frames,
	    (unsigned long long)n.tx_bytes);
	sayln(sh,
	      "dropped: bad-chain=%llu bad-header=%llu bad-length=%llu no-link=%llu spoofed=%llu",
	      (unsigned long long)n.tx_bad_chain, (unsigned long long)n.tx_bad_header,
	      (unsigned long long)n.tx_bad_length, (unsigned long long)n.tx_no_link,
	      (unsigned long long)n.tx_spoofed);
	say(sh, "    rx: %llu frames, %llu bytes, %llu queued; ", (unsigned long long)n.rx_frames,
	    (unsigned long long)n.rx_bytes, (unsigned long long)n.rx_queued);
	say(sh, "dropped: ring-full=%llu too-small=%llu lost=%llu flushed=%llu",
	    (unsigned long long)n.rx_ring_full, (unsigned long long)n.rx_too_small,
	    (unsigned long long)n.rx_lost, (unsigned long long)n.rx_flushed);
	sayln(sh, "; empty-chains=%llu", (unsigned long long)n.rx_bad_chain);
}

/* The virtio console, when the VM has one: a line each way with the drops by reason. */
static void print_console(struct shell *sh, unsigned i)
{
	struct shell_console_view c;

	memset(&c, 0, sizeof(c));
	if (!sh->host->vm_console || !sh->host->vm_console(sh->host->ctx, i, &c))
		return;
	sayln(sh, "  console: virtio");
	say(sh, "    tx: %llu bytes, %llu emergency; ", (unsigned long long)c.tx_bytes,
	    (unsigned long long)c.emerg_bytes);
	sayln(sh, "dropped: bad-chain=%llu cut=%llu", (unsigned long long)c.tx_bad_chain,
	      (unsigned long long)c.tx_cut);
	say(sh, "    rx: %llu bytes, %u waiting; ", (unsigned long long)c.rx_bytes, c.rx_waiting);
	sayln(sh, "dropped: buffer-full=%llu; empty-chains=%llu", (unsigned long long)c.rx_dropped,
	      (unsigned long long)c.rx_bad_chain);
}

/* The balloon: keel's target, what the guest gave, what keel holds, the guest's statistics in
 * the words of Linux's /proc/vmstat and meminfo. */
static void print_balloon(struct shell *sh, unsigned i)
{
	static const char *const tag[10] = { "swap-in",	     "swap-out", "major-faults",
					     "minor-faults", "free",	 "total",
					     "available",    "caches",	 "hugetlb-allocs",
					     "hugetlb-fails" };
	struct shell_balloon_view b;

	memset(&b, 0, sizeof(b));
	sh->host->vm_balloon(sh->host->ctx, i, &b);
	if (!b.present)
		return;
	sayln(sh,
	      "  balloon: target %llu KiB, actual %llu KiB, keel holds %llu KiB; refaults=%llu "
	      "refused=%llu",
	      (unsigned long long)(b.target_bytes / KiB),
	      (unsigned long long)(b.actual_bytes / KiB), (unsigned long long)(b.held_bytes / KiB),
	      (unsigned long long)b.refaults, (unsigned long long)b.refused);
	if (!b.reports) {
		sayln(sh, "  guest memory: no report yet");
		return;
	}
	put(sh, "  guest memory:");
	/* swap and memory sizes are bytes (5.5.6.3), shown in KiB; faults and huge-page
	 * allocations are counts */
	for (unsigned t = 0; t < 10; t++) {
		bool bytes = t <= 1 || (t >= 4 && t <= 7);
		if (b.stat_valid >> t & 1)
			say(sh, " %s=%llu%s", tag[t],
			    (unsigned long long)(bytes ? b.stat[t] / KiB : b.stat[t]),
			    bytes ? "K" : "");
	}
	put(sh, "\r\n");
}

static int cmd_stats(struct shell *sh, const char *name, const char *more)
{
	(void)more;
	struct shell_vm_view v;
	int i = find_vm(sh, name, &v);
	uint64_t counts[NR_EXIT_REASONS], all[NR_EXIT_REASONS] = { 0 };

	if (i < 0)
		return -1;
	sayln(sh, "vm %s: exits since start, per vcpu", v.name);
	for (unsigned c = 0; c < v.nr_vcpus; c++) {
		memset(counts, 0, sizeof(counts));
		sh->host->vm_exits(sh->host->ctx, (unsigned)i, c, counts);
		for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
			all[r] += counts[r];
		say(sh, "  vcpu %u: ", c);
		print_exits(sh, counts);
	}
	put(sh, "  all: ");
	print_exits(sh, all);
	sayln(sh, "  pmu msrs: %llu (no PMU: read 0, writes ignored)",
	      (unsigned long long)v.pmu_msr_accesses);
	/* the same words as the `vm NAME: mitigations:` line keel logs when a VM stops */
	sayln(sh, "  mitigations: ibpb=%llu rsb-fill=%llu l1d-flush=%llu verw=%llu",
	      (unsigned long long)v.mitig.ibpb, (unsigned long long)v.mitig.rsb_fill,
	      (unsigned long long)v.mitig.l1d_flush, (unsigned long long)v.mitig.verw);
	for (unsigned j = 0; sh->host->vm_disk && j < v.nr_disks; j++)
		print_disk(sh, (unsigned)i, j);
	for (unsigned j = 0; sh->host->vm_net && j < v.nr_nets; j++)
		print_net(sh, (unsigned)i, j);
	print_console(sh, (unsigned)i);
	if (sh->host->vm_balloon)
		print_balloon(sh, (unsigned)i);
	if (v.nr_pcis)
		sayln(sh,
		      "  passthrough: %u functions, %llu interrupts taken through remapping "
		      "entries and sent on, %llu DMA faults; %llu of the interrupts taken on the CPU "
		      "running their vCPU",
		      v.nr_pcis, (unsigned long long)v.pci_interrupts,
		      (unsigned long long)v.pci_faults, (unsigned long long)v.pci_on_target);
	return 0;
}

/* stop and restart: the host acts (or refuses), the shell says which. */
static int request(struct shell *sh, const char *name, const char *what,
		   int (*op)(void *ctx, unsigned i, char *err, size_t err_size))
{
	struct shell_vm_view v;
	int i = find_vm(sh, name, &v);
	char err[128] = "";

	if (i < 0)
		return -1;
	if (op(sh->host->ctx, (unsigned)i, err, sizeof(err))) {
		err[sizeof(err) - 1] = '\0'; /* the host's string, terminated whatever it did */
		sayln(sh, "%s: %s", what, err[0] ? err : "refused");
		return -1;
	}
	sayln(sh, "vm %s: %s requested", v.name, what);
	return 0;
}

static int cmd_stop(struct shell *sh, const char *name, const char *more)
{
	(void)more;
	return request(sh, name, "stop", sh->host->vm_stop);
}

static int cmd_restart(struct shell *sh, const char *name, const char *more)
{
	(void)more;
	return request(sh, name, "restart", sh->host->vm_restart);
}

static int cmd_mem(struct shell *sh, const char *arg, const char *more)
{
	(void)more;
	struct shell_mem m = { 0, 0, 0, 0 };

	(void)arg;
	sh->host->mem(sh->host->ctx, &m);
	sayln(sh,
	      "host memory: %llu MiB free (largest block %llu MiB), %llu MiB used; keel itself %llu bytes",
	      (unsigned long long)(m.free_bytes / MiB), (unsigned long long)(m.largest_free / MiB),
	      (unsigned long long)(m.used_bytes / MiB), (unsigned long long)m.keel_bytes);
	return 0;
}

static int cmd_balloon(struct shell *sh, const char *name, const char *size)
{
	struct shell_vm_view v;
	int i = find_vm(sh, name, &v);
	char err[160] = "";
	uint64_t bytes;

	if (i < 0)
		return -1;
	if (!sh->host->vm_set_balloon) {
		sayln(sh, "balloon: keel has no balloons");
		return -1;
	}
	if (config_parse_size(size, &bytes)) {
		sayln(sh, "balloon: '%.24s' is not a size; expected a number and K, M or G (128M)",
		      size);
		return -1;
	}
	if (sh->host->vm_set_balloon(sh->host->ctx, (unsigned)i, bytes, err, sizeof(err))) {
		/* the host's string, terminated and printable whatever it did */
		err[sizeof(err) - 1] = '\0';
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		sayln(sh, "balloon: %s", err[0] ? err : "refused");
		return -1;
	}
	sayln(sh, "vm %s: balloon target %llu MiB of its %llu MiB", v.name,
	      (unsigned long long)(bytes / MiB), (unsigned long long)(v.memory / MiB));
	return 0;
}

/* "; DMA domain 3", "; DMA domain 1 (keel's)", "; DMA blocked", or nothing without an IOMMU */
static const char *dma_words(char buf[48], const char *iommu, const struct pci_func *f)
{
	if (!iommu)
		return "";
	if (!f->dma_domain)
		return "; DMA blocked";
	ksnprintf(buf, 48, "; DMA domain %u%s", f->dma_domain,
		  f->dma_domain == IOMMU_DOMAIN_KEEL	   ? " (keel's)"
		  : f->dma_domain == IOMMU_DOMAIN_FIRMWARE ? " (firmware's)"
							   : "");
	return buf;
}

static int cmd_pci(struct shell *sh, const char *arg, const char *more)
{
	const struct pci_host *ph = sh->host->pci ? sh->host->pci(sh->host->ctx) : NULL;
	const char *iommu = sh->host->iommu ? sh->host->iommu(sh->host->ctx) : NULL;
	char line[200], dma[48];

	(void)arg;
	(void)more;
	if (!ph || !ph->mechanism) {
		sayln(sh, "pci: no host PCI functions known");
		return 0;
	}
	sayln(sh, "pci: %u functions on %u buses through %s; %s%s", MIN(ph->nr, PCI_HOST_MAX_FUNCS),
	      ph->nr_buses, ph->mechanism,
	      iommu ? "DMA translated by the " : "no IOMMU: DMA is not restricted",
	      iommu ? iommu : "");
	for (unsigned i = 0; i < ph->nr && i < PCI_HOST_MAX_FUNCS; i++) {
		const struct pci_func *f = &ph->funcs[i];

		pci_func_describe(f, line, sizeof(line));
		/* the claim's own record of its VM's name (pci_claim_take), not an index */
		if (f->owner == PCI_OWNER_VM && f->owner_name) {
			sayln(sh, "%s; owner vm %s%s", line, f->owner_name,
			      dma_words(dma, iommu, f));
		} else {
			sayln(sh, "%s; owner %s%s", line, pci_owner_name(f->owner),
			      dma_words(dma, iommu, f));
		}
	}
	return 0;
}

/* One host disk: its name, the keel.cfg words that take it, its size and who has it */
static void print_host_disk(struct shell *sh, const struct host_disk *h)
{
	char size[24], cfg[CFG_LABEL_MAX + 16];

	format_size(size, sizeof(size), h->sectors * 512);
	if (!h->part)
		ksnprintf(cfg, sizeof(cfg), "nvme:%u", h->number);
	else if (h->has_label)
		ksnprintf(cfg, sizeof(cfg), "part:%s", h->label);
	else
		kstrlcpy(cfg, "(no usable label)", sizeof(cfg));
	if (h->vm)
		sayln(sh, "  %-12s %-24s %8s  vm %s vd%c", h->name, cfg, size, h->vm,
		      'a' + h->vm_disk);
	else
		sayln(sh, "  %-12s %-24s %8s  free", h->name, cfg, size);
}

static int cmd_disks(struct shell *sh, const char *arg, const char *more)
{
	unsigned nr = sh->host->nr_nvme ? sh->host->nr_nvme(sh->host->ctx) : 0;
	const struct host_disks *t = sh->host->disks ? sh->host->disks(sh->host->ctx) : NULL;

	(void)arg;
	(void)more;
	if (!nr) {
		sayln(sh, "disks: no NVMe controller found");
		return 0;
	}
	for (unsigned c = 0; c < nr; c++) {
		struct shell_nvme_view n;

		memset(&n, 0, sizeof(n));
		sh->host->nvme(sh->host->ctx, c, &n);
		say(sh, "nvme%u %s %s (serial %s): %s, %s; ", c, n.where ? n.where : "?",
		    n.model ? n.model : "?", n.serial ? n.serial : "?", n.state ? n.state : "?",
		    n.msix ? "MSI-X" : "polled");
		sayln(sh,
		      "commands %llu, failed %llu, timeouts %u, resets %u, lock waits %llu of "
		      "%llu",
		      (unsigned long long)n.done, (unsigned long long)n.failed, n.timeouts,
		      n.resets, (unsigned long long)n.lock_waits, (unsigned long long)n.lock_takes);
		for (unsigned i = 0; t && i < t->nr && i < HOST_DISKS_MAX; i++)
			if (t->d[i].ctrl == c)
				print_host_disk(sh, &t->d[i]);
		if (c + 1 == nr)
			sayln(sh, "device interrupts: %llu", (unsigned long long)n.interrupts);
	}
	return 0;
}

static int cmd_nics(struct shell *sh, const char *arg, const char *more)
{
	unsigned nr = sh->host->nr_nics ? sh->host->nr_nics(sh->host->ctx) : 0;

	(void)arg;
	(void)more;
	if (!nr) {
		sayln(sh, "nics: no host NIC found");
		return 0;
	}
	for (unsigned i = 0; i < nr; i++) {
		struct shell_nic_view n;
		const uint8_t *m = n.mac;

		memset(&n, 0, sizeof(n));
		sh->host->nic(sh->host->ctx, i, &n);
		say(sh, "nic%u %s %s, mac %02x:%02x:%02x:%02x:%02x:%02x: %s, link %s", i,
		    n.where ? n.where : "?", n.model ? n.model : "?", m[0], m[1], m[2], m[3], m[4],
		    m[5], n.state ? n.state : "?", n.link_up ? "up" : "down");
		if (n.sw)
			sayln(sh, ", uplink of switch %.31s", n.sw);
		else
			sayln(sh, ", no switch");
		sayln(sh, "  rx: %llu frames, %llu bytes, %llu dropped",
		      (unsigned long long)n.rx_frames, (unsigned long long)n.rx_bytes,
		      (unsigned long long)n.rx_dropped);
		sayln(sh, "  tx: %llu frames, %llu bytes, %llu dropped; resets %u",
		      (unsigned long long)n.tx_frames, (unsigned long long)n.tx_bytes,
		      (unsigned long long)n.tx_dropped, n.resets);
	}
	return 0;
}

static const struct shell_cmd {
	const char *name;
	unsigned nr_args; /* 0, 1 or 2 */
	const char *usage, *what;
	int (*run)(struct shell *sh, const char *arg, const char *more);
} cmds[] = {
	{ "help", 0, "help", "this list", cmd_help },
	{ "vms", 0, "vms", "every VM: state, vCPUs, memory, uptime, restarts", cmd_vms },
	{ "stats", 1, "stats NAME",
	  "exits of VM NAME since it started, by reason, per vCPU; its nets", cmd_stats },
	{ "stop", 1, "stop NAME", "stop VM NAME", cmd_stop },
	{ "restart", 1, "restart NAME", "rebuild VM NAME from its images and start it again",
	  cmd_restart },
	{ "mem", 0, "mem", "host memory free and used, and keel's own", cmd_mem },
	{ "balloon", 2, "balloon NAME SIZE",
	  "VM NAME's guest keeps SIZE (e.g. 128M) of its memory; its balloon gives keel the rest",
	  cmd_balloon },
	{ "pci", 0, "pci", "host PCI functions: address, IDs, class, BARs, owner", cmd_pci },
	{ "nics", 0, "nics", "host NICs: MAC, link, switch, frames and drops each way", cmd_nics },
	{ "disks", 0, "disks", "NVMe controllers, their namespaces and partitions, and owners",
	  cmd_disks },
};

static int cmd_help(struct shell *sh, const char *arg, const char *more)
{
	(void)more;
	(void)arg;
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++)
		sayln(sh, "  %-19s%s", cmds[i].usage, cmds[i].what);
	/* the hotkey belongs to core/console_mux.c, but the shell is where a user asks */
	sayln(sh, "Ctrl-T three times moves the console to the next VM, and round to this shell");
	return 0;
}

/* ---- lines -------------------------------------------------------------------------------- */

#define MAX_WORDS 4 /* a command, its arguments, and one more to tell "too many" */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int shell_run_line(struct shell *sh, const char *line)
{
	char buf[SHELL_LINE_SIZE];
	char *word[MAX_WORDS];
	unsigned nr_words = 0;
	size_t n = kstrnlen(line, sizeof(buf));

	if (n >= sizeof(buf)) {
		sayln(sh, "line too long: at most %u characters", SHELL_LINE_SIZE - 1);
		return -1;
	}
	/* Whatever the caller passed, no control byte goes back out to the terminal in a message
	 * that quotes a word. */
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)line[k];
		buf[k] = line[k];
		if (c != '\t' && (c < 0x20 || c >= 0x7f))
			buf[k] = '?';
	}
	buf[n] = '\0';
	for (char *p = buf; *p;) {
		while (is_blank(*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (nr_words < MAX_WORDS)
			word[nr_words] = p;
		nr_words++;
		while (*p && !is_blank(*p))
			p++;
	}
	if (!nr_words)
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct shell_cmd *cmd = &cmds[i];
		if (strcmp(word[0], cmd->name) != 0)
			continue;
		if (nr_words != cmd->nr_args + 1) {
			sayln(sh, "usage: %s", cmd->usage);
			return -1;
		}
		return cmd->run(sh, cmd->nr_args ? word[1] : NULL,
				cmd->nr_args > 1 ? word[2] : NULL);
	}
	sayln(sh, "unknown command '%s'; type help", word[0]);
	return -1;
}

void shell_init(struct shell *sh, const struct shell_host *host)
{
	memset(sh, 0, sizeof(*sh));
	sh->host = host;
}

void shell_prompt(struct shell *sh)
{
	put(sh, "keel> ");
}

static void new_line(struct shell *sh)
{
	sh->len = 0;
	sh->typed = 0;
	shell_prompt(sh);
}

static void end_line(struct shell *sh)
{
	put(sh, "\r\n");
	if (sh->typed > sh->len) {
		sayln(sh, "line too long: at most %u characters; not run", SHELL_LINE_SIZE - 1);
	} else {
		sh->line[sh->len] = '\0';
		shell_run_line(sh, sh->line);
	}
	new_line(sh);
}

static void erase_one(struct shell *sh)
{
	if (!sh->typed)
		return;
	/* A character dropped past the line's end was never shown: nothing to rub out. */
	if (sh->typed-- > sh->len)
		return;
	sh->len--;
	put(sh, "\b \b");
}

/* True when c belongs to an escape sequence and is swallowed. A control byte ends the sequence
 * and is taken as itself, so a stray ESC can never eat the Enter after it. */
static bool swallow_escape(struct shell *sh, uint8_t c)
{
	bool printable = c >= 0x20 && c < 0x7f;

	if (!printable) {
		sh->esc = ESC_NONE;
		return false;
	}
	switch (sh->esc) {
	case ESC_START:
		sh->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
		break;
	case ESC_CSI:
		if (c >= 0x40)
			sh->esc = ESC_NONE; /* the final byte */
		break;
	default:
		sh->esc = ESC_NONE; /* SS3's one byte */
		break;
	}
	return true;
}

void shell_input(struct shell *sh, uint8_t c)
{
	bool after_cr = sh->after_cr;

	sh->after_cr = false;
	if (sh->esc != ESC_NONE && swallow_escape(sh, c))
		return;
	switch (c) {
	case '\r':
		sh->after_cr = true;
		end_line(sh);
		return;
	case '\n':
		if (!after_cr)
			end_line(sh);
		return;
	case BACKSPACE:
	case DEL:
		erase_one(sh);
		return;
	case CTRL_U:
		/* rub out what is shown; anything dropped past the end goes with it */
		for (unsigned i = 0; i < sh->len; i++)
			put(sh, "\b \b");
		sh->len = 0;
		sh->typed = 0;
		return;
	case CTRL_C:
		put(sh, "^C\r\n");
		new_line(sh);
		return;
	case ESC:
		sh->esc = ESC_START;
		return;
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f)
		return;
	if (sh->typed < SHELL_LINE_SIZE - 1) {
		sh->line[sh->len++] = (char)c;
		sh->typed++;
		sh->host->write(sh->host->ctx, (const char *)&c, 1);
		return;
	}
	/* Full: keep counting so that backspaces over the dropped characters come out right. */
	if (sh->typed != (unsigned)-1)
		sh->typed++;
	put(sh, BELL);
}

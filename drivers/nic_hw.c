/* keel's host NICs on the real machine (drivers/nic_hw.h): BAR 0 through keel's uncached identity
 * mapping, DMA pages in keel's identity-mapped memory, and each NIC as a port of one switch. */
#include "drivers/nic_hw.h"

#include "arch/x86/time.h"
#include "core/kmem.h"
#include "drivers/iommu_hw.h"
#include "drivers/pci_host_hw.h"
#include "io/net_offload.h"
#include "io/net_switch.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "mm/phys.h"

/* The 82574L (Intel's PCI ID 8086:10d3, which QEMU's e1000e model uses too) */
#define VENDOR_INTEL 0x8086
#define DEVICE_82574L 0x10d3
/* virtio-net: the modern ID (1040 + 1, virtio 1.2 4.1.2.1) and the transitional one, which
 * offers the modern interface too */
#define VENDOR_VIRTIO 0x1af4
#define DEVICE_VIRTIO_NET 0x1041
#define DEVICE_VIRTIO_NET_TRANS 0x1000
#define CLASS_ETHERNET 0x020000u

enum nic_kind { NIC_E1000E, NIC_VIRTIO };

struct nic_hw {
	enum nic_kind kind;
	union {
		struct e1000e_dev e;
		struct vnh_dev v;
	} dev;
	union {
		struct e1000e_ops e;
		struct vnh_ops v;
	} ops;
	volatile uint8_t *bars[6]; /* each memory BAR keel mapped, or NULL */
	struct pci_func *func;
	struct spinlock lock; /* held for one driver call (or a drain of the port), never waiting */
	char where[16];
	uint64_t link_changes_logged;
	bool failed_logged;
	bool link_up;
	struct net_port *port; /* its switch's uplink port (kmem), or NULL */
	struct net_switch *sw;
	uint64_t to_switch, to_switch_dropped, from_switch_dropped;
	/* a received frame copied out of the NIC's buffer; a frame from the switch and its segments */
	uint8_t rx_copy[NET_FRAME_MAX];
	uint8_t tx_frame[NET_GSO_FRAME_MAX];
	uint8_t tx_seg[NET_FRAME_MAX];
};

static struct nic_hw *nics[NIC_HW_MAX];
static unsigned nr_nics;

/* 82574L: BAR 0 */
static uint32_t e_read32(void *ctx, uint32_t off)
{
	const struct nic_hw *n = ctx;

	return *(volatile uint32_t *)(n->bars[0] + off);
}

static void e_write32(void *ctx, uint32_t off, uint32_t v)
{
	const struct nic_hw *n = ctx;

	*(volatile uint32_t *)(n->bars[0] + off) = v;
}

/* virtio: whichever BAR a capability names (the core checked it against the BAR's size, 0 for
 * one keel did not map) */
static uint32_t v_cfg_read32(void *ctx, uint32_t off)
{
	const struct nic_hw *n = ctx;

	return pci_host_cfg_read32(n->func, (uint16_t)off);
}

static uint8_t v_read8(void *ctx, unsigned bar, uint64_t off)
{
	const struct nic_hw *n = ctx;

	return *(volatile uint8_t *)(n->bars[bar] + off);
}

static uint16_t v_read16(void *ctx, unsigned bar, uint64_t off)
{
	const struct nic_hw *n = ctx;

	return *(volatile uint16_t *)(n->bars[bar] + off);
}

static uint32_t v_read32(void *ctx, unsigned bar, uint64_t off)
{
	const struct nic_hw *n = ctx;

	return *(volatile uint32_t *)(n->bars[bar] + off);
}

static void v_write8(void *ctx, unsigned bar, uint64_t off, uint8_t v)
{
	const struct nic_hw *n = ctx;

	*(volatile uint8_t *)(n->bars[bar] + off) = v;
}

static void v_write16(void *ctx, unsigned bar, uint64_t off, uint16_t v)
{
	const struct nic_hw *n = ctx;

	*(volatile uint16_t *)(n->bars[bar] + off) = v;
}

static void v_write32(void *ctx, unsigned bar, uint64_t off, uint32_t v)
{
	const struct nic_hw *n = ctx;

	*(volatile uint32_t *)(n->bars[bar] + off) = v;
}

static uint64_t clock_ns(void *ctx)
{
	(void)ctx;
	return time_now_ns();
}

/* ---- the two cores behind one face --------------------------------------------------------- */

enum nic_state { NIC_BUSY, NIC_RUNNING, NIC_FAILED };

static enum nic_state core_poll(struct nic_hw *n, uint64_t now)
{
	if (n->kind == NIC_E1000E) {
		enum e1000e_state s = e1000e_poll(&n->dev.e, now);

		n->link_up = n->dev.e.link_up;
		return s == E1000E_S_RUNNING  ? NIC_RUNNING
		       : s == E1000E_S_FAILED ? NIC_FAILED
					      : NIC_BUSY;
	}
	enum vnh_state s = vnh_poll(&n->dev.v, now);

	n->link_up = n->dev.v.link_up;
	return s == VNH_S_RUNNING ? NIC_RUNNING : s == VNH_S_FAILED ? NIC_FAILED : NIC_BUSY;
}

static const uint8_t *core_mac(const struct nic_hw *n)
{
	return n->kind == NIC_E1000E ? n->dev.e.mac : n->dev.v.mac;
}

static bool core_failed(const struct nic_hw *n)
{
	return n->kind == NIC_E1000E ? n->dev.e.state == E1000E_S_FAILED
				     : n->dev.v.state == VNH_S_FAILED;
}

static const char *core_why(const struct nic_hw *n)
{
	const char *why = n->kind == NIC_E1000E ? n->dev.e.why : n->dev.v.why;

	return why ? why : "?";
}

static uint64_t core_link_changes(const struct nic_hw *n)
{
	return n->kind == NIC_E1000E ? n->dev.e.st.link_changes : n->dev.v.st.link_changes;
}

/* refused frames are counted by the core */
static void core_tx(struct nic_hw *n, const uint8_t *frame, unsigned len)
{
	if (n->kind == NIC_E1000E)
		e1000e_tx(&n->dev.e, frame, len);
	else
		vnh_tx(&n->dev.v, frame, len);
}

static void from_wire(void *arg, const void *buf, unsigned len);

static void core_rx(struct nic_hw *n)
{
	if (n->kind == NIC_E1000E)
		e1000e_rx(&n->dev.e, from_wire, n);
	else
		vnh_rx(&n->dev.v, from_wire, n);
}

static const char *model_name(const struct nic_hw *n)
{
	return n->kind == NIC_E1000E ? "Intel 82574L" : "virtio-net";
}

static void set_command(struct pci_func *f, uint32_t set, uint32_t clear)
{
	uint32_t cmd = pci_host_cfg_read32(f, PCIH_COMMAND) & 0xFFFFu;

	/* the status half (RW1C) written 0 */
	pci_host_cfg_write32(f, PCIH_COMMAND, ((cmd | set) & ~clear) & 0xFFFFu);
}

/* Logs what changed since the last look: the link, or the core giving up (once each). */
static void log_changes(struct nic_hw *n, unsigned idx)
{
	if (core_link_changes(n) != n->link_changes_logged) {
		n->link_changes_logged = core_link_changes(n);
		klog("keel: nic%u: link %s", idx, n->link_up ? "up" : "down");
	}
	if (core_failed(n) && !n->failed_logged) {
		n->failed_logged = true;
		/* the core no longer touches the rings; the NIC must not either */
		set_command(n->func, 0, PCIH_CMD_BUS_MASTER);
		klog("keel: nic%u: %s failed: %s; bus mastering off, its switch has no wire now",
		     idx, n->where, core_why(n));
	}
}

/* The DMA pages a core takes: the larger of the two layouts */
#define NIC_DMA_PAGES                                                                              \
	((unsigned)E1000E_DMA_PAGES > (unsigned)VNH_DMA_PAGES ? (unsigned)E1000E_DMA_PAGES         \
							      : (unsigned)VNH_DMA_PAGES)

static void bring_up(struct pci_func *f, enum nic_kind kind)
{
	struct e1000e_dma_page epages[E1000E_DMA_PAGES];
	struct vnh_dma_page vpages[VNH_DMA_PAGES];
	uint64_t bar_size[6] = { 0 };
	unsigned idx = nr_nics;
	enum nic_state s;
	struct nic_hw *n;
	uint8_t *dma;
	int rc;

	n = kmem_alloc_pages(sizeof(*n), PAGE_SIZE);
	dma = kmem_alloc_pages((uint64_t)NIC_DMA_PAGES * PAGE_SIZE, PAGE_SIZE);
	if (!n || !dma) {
		klog("keel: nic: %02x:%02x.%x: out of memory; left alone", f->bus, f->dev, f->fn);
		if (n)
			kmem_free_pages(n, sizeof(*n));
		if (dma)
			kmem_free_pages(dma, (uint64_t)NIC_DMA_PAGES * PAGE_SIZE);
		return;
	}
	if (iommu_attach_keel(f)) {
		kmem_free_pages(n, sizeof(*n));
		kmem_free_pages(dma, (uint64_t)NIC_DMA_PAGES * PAGE_SIZE);
		return;
	}
	/* descriptor rings and packet buffers: all the NIC's DMA reaches */
	iommu_dma_allow((uintptr_t)dma, (uint64_t)NIC_DMA_PAGES * PAGE_SIZE);
	n->kind = kind;
	n->func = f;
	ksnprintf(n->where, sizeof(n->where), "%02x:%02x.%x", f->bus, f->dev, f->fn);
	for (unsigned i = 0; i < f->nr_bars && i < 6; i++) {
		const struct pci_host_bar *b = &f->bar[i];

		if ((b->kind == PCI_HBAR_MEM32 || b->kind == PCI_HBAR_MEM64) && b->mapped) {
			n->bars[i] = (volatile uint8_t *)(uintptr_t)b->base;
			bar_size[i] = b->size;
		}
	}
	if (kind == NIC_E1000E) {
		for (unsigned i = 0; i < E1000E_DMA_PAGES; i++)
			epages[i] = (struct e1000e_dma_page){ dma + (size_t)i * PAGE_SIZE,
							      (uintptr_t)dma +
								      (uint64_t)i * PAGE_SIZE };
		n->ops.e = (struct e1000e_ops){ n, e_read32, e_write32, clock_ns };
		rc = n->bars[0] ? e1000e_init(&n->dev.e, &n->ops.e, bar_size[0], epages) : -1;
	} else {
		for (unsigned i = 0; i < VNH_DMA_PAGES; i++)
			vpages[i] =
				(struct vnh_dma_page){ dma + (size_t)i * PAGE_SIZE,
						       (uintptr_t)dma + (uint64_t)i * PAGE_SIZE };
		n->ops.v = (struct vnh_ops){ n,	       v_cfg_read32, v_read8,	v_read16, v_read32,
					     v_write8, v_write16,    v_write32, clock_ns };
		rc = vnh_init(&n->dev.v, &n->ops.v, bar_size, vpages);
	}
	if (rc) {
		klog("keel: nic: %s %s: %s; left alone", n->where, model_name(n),
		     kind == NIC_E1000E ? "BAR 0 missing, unmapped or too small"
					: (n->dev.v.why ? n->dev.v.why : "refused"));
		kmem_free_pages(n, sizeof(*n));
		iommu_dma_revoke((uintptr_t)dma, (uint64_t)NIC_DMA_PAGES * PAGE_SIZE);
		kmem_free_pages(dma, (uint64_t)NIC_DMA_PAGES * PAGE_SIZE);
		return;
	}
	set_command(f, PCIH_CMD_MEM | PCIH_CMD_BUS_MASTER | PCIH_CMD_INTX_DISABLE, 0);
	f->owner = PCI_OWNER_KEEL;
	nics[nr_nics++] = n;
	/* bounded by the core's reset and EEPROM timeouts */
	do {
		s = core_poll(n, time_now_ns());
		__builtin_ia32_pause();
	} while (s == NIC_BUSY);
	n->link_changes_logged = core_link_changes(n);
	if (s == NIC_RUNNING) {
		const uint8_t *m = core_mac(n);

		klog("keel: nic%u: %s %s, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s", idx,
		     n->where, model_name(n), m[0], m[1], m[2], m[3], m[4], m[5],
		     n->link_up ? "up" : "down");
	}
	log_changes(n, idx);
}

void nic_hw_init(void)
{
	const struct pci_host *ph = pci_host_table();

	for (unsigned i = 0; i < ph->nr; i++) {
		struct pci_func *f = pci_host_func_mut(i);

		enum nic_kind kind;

		if (f->owner != PCI_OWNER_NONE || f->class_code != CLASS_ETHERNET ||
		    f->set_aside_for)
			continue;
		if (f->vendor == VENDOR_INTEL && f->device == DEVICE_82574L)
			kind = NIC_E1000E;
		else if (f->vendor == VENDOR_VIRTIO &&
			 (f->device == DEVICE_VIRTIO_NET || f->device == DEVICE_VIRTIO_NET_TRANS))
			kind = NIC_VIRTIO;
		else
			continue;
		if (nr_nics == NIC_HW_MAX) {
			klog("keel: nic: %02x:%02x.%x: more than %d NICs; left alone", f->bus,
			     f->dev, f->fn, NIC_HW_MAX);
			continue;
		}
		bring_up(f, kind);
	}
}

unsigned nic_hw_count(void)
{
	return nr_nics;
}

int nic_hw_find_mac(const uint8_t mac[6])
{
	for (unsigned i = 0; i < nr_nics; i++)
		if (!core_failed(nics[i]) && memcmp(core_mac(nics[i]), mac, 6) == 0)
			return (int)i;
	return -1;
}

/* ---- frames -------------------------------------------------------------------------------- */

/* A frame the core refuses (ring full, link down, not running) is counted by the core */
static void to_wire(struct nic_hw *n, const uint8_t *frame, size_t len)
{
	if (len > E1000E_ETH_MAX || len > VNH_ETH_MAX) {
		n->from_switch_dropped++; /* an 802.1Q-tagged full-size frame: no room for it */
		return;
	}
	core_tx(n, frame, (unsigned)len);
}

/* Everything the switch queued for the wire, with the NIC's lock held. A frame with offloads is
 * finished here, as the core has none: its checksum filled in, or cut into segments. */
static void drain_port(struct nic_hw *n)
{
	struct net_offload off;
	size_t len;

	while ((len = net_port_recv_offload(n->port, n->tx_frame, sizeof(n->tx_frame), &off))) {
		if (off.gso_type != NET_GSO_NONE) {
			struct net_gso g;
			size_t seg;

			if (!net_gso_start(&g, n->tx_frame, len, &off)) {
				n->from_switch_dropped++;
				continue;
			}
			while ((seg = net_gso_next(&g, n->tx_seg, sizeof(n->tx_seg))))
				to_wire(n, n->tx_seg, seg);
			continue;
		}
		if (!net_csum_fill(n->tx_frame, len, &off)) {
			n->from_switch_dropped++;
			continue;
		}
		to_wire(n, n->tx_frame, len);
	}
}

static void from_wire(void *arg, const void *buf, unsigned len)
{
	struct nic_hw *n = arg;

	if (!n->port || len > sizeof(n->rx_copy))
		return;
	/* the switch checks what it is given; the copy makes what it checked what it forwards */
	memcpy(n->rx_copy, buf, len);
	if (net_switch_send(n->port, n->rx_copy, len) > 0)
		n->to_switch++;
	else
		n->to_switch_dropped++;
}

static void poll_one(struct nic_hw *n, unsigned idx)
{
	if (!spin_trylock(&n->lock))
		return;
	if (core_poll(n, time_now_ns()) == NIC_RUNNING) {
		core_rx(n);
		if (n->port)
			drain_port(n);
	} else if (n->port) {
		/* no wire: what the switch queued is dropped (counted by the core as refused) */
		drain_port(n);
	}
	log_changes(n, idx);
	spin_unlock(&n->lock);
}

/* Called on every guest exit and between slices, but a NIC's poll reads a register (a trip to
 * the device), which an exit must not pay each time: one CPU at a time polls, at most once per
 * NIC_POLL_NS, so a frame from the wire waits that long at most. */
#define NIC_POLL_NS 50000ull
static uint64_t next_poll_ns;

void nic_hw_poll(void)
{
	uint64_t now, next;

	if (!nr_nics)
		return;
	now = time_now_ns();
	next = __atomic_load_n(&next_poll_ns, __ATOMIC_RELAXED);
	if (now < next || !__atomic_compare_exchange_n(&next_poll_ns, &next, now + NIC_POLL_NS,
						       false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	for (unsigned i = 0; i < nr_nics; i++)
		poll_one(nics[i], i);
}

/* The switch queued frames for the wire: sent now, unless another CPU holds the NIC (its poll,
 * or the next one, sends them). Called with no lock held. */
static void port_notify(void *ctx)
{
	struct nic_hw *n = ctx;

	if (!spin_trylock(&n->lock))
		return;
	drain_port(n);
	spin_unlock(&n->lock);
}

int nic_hw_attach(unsigned i, struct net_switch *sw, char *err, size_t err_size)
{
	struct nic_hw *n;
	struct net_port *port;

	if (i >= nr_nics) {
		ksnprintf(err, err_size, "keel has no nic%u; expected one of the %u NICs it listed",
			  i, nr_nics);
		return -1;
	}
	n = nics[i];
	if (n->sw) {
		ksnprintf(err, err_size, "nic%u is the uplink of switch %s already", i,
			  n->sw->name);
		return -1;
	}
	port = kmem_alloc_pages(sizeof(*port), PAGE_SIZE);
	if (!port) {
		ksnprintf(err, err_size, "out of memory for the uplink's port");
		return -1;
	}
	net_port_init(port, port_notify, n);
	if (net_switch_attach(sw, port)) {
		kmem_free_pages(port, sizeof(*port));
		ksnprintf(err, err_size, "switch %s has no free port for the uplink", sw->name);
		return -1;
	}
	spin_lock(&n->lock);
	n->port = port;
	n->sw = sw;
	spin_unlock(&n->lock);
	return 0;
}

void nic_hw_view(unsigned i, struct nic_hw_view *out)
{
	const struct nic_hw *n;

	if (i >= nr_nics)
		return;
	n = nics[i];
	/* a racy snapshot of counters is fine for a listing */
	out->where = n->where;
	out->model = model_name(n);
	out->sw = n->sw ? n->sw->name : NULL;
	memcpy(out->mac, core_mac(n), 6);
	out->link_up = n->link_up;
	if (n->kind == NIC_E1000E) {
		const struct e1000e_stats *st = &n->dev.e.st;

		out->state = e1000e_state_name(n->dev.e.state);
		out->st = (struct nic_hw_stats){ st->rx_frames, st->rx_bytes,	st->tx_frames,
						 st->tx_bytes,	st->rx_dropped, st->tx_dropped,
						 st->resets };
	} else {
		const struct vnh_stats *st = &n->dev.v.st;

		out->state = vnh_state_name(n->dev.v.state);
		out->st = (struct nic_hw_stats){ st->rx_frames, st->rx_bytes,	st->tx_frames,
						 st->tx_bytes,	st->rx_dropped, st->tx_dropped,
						 st->resets };
	}
	out->to_switch = n->to_switch;
	out->to_switch_dropped = n->to_switch_dropped;
	out->from_switch_dropped = n->from_switch_dropped;
}

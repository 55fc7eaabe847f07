/* keel's host NICs on the real machine (drivers/nic_hw.h): BAR 0 through keel's uncached identity
 * mapping, DMA pages in keel's identity-mapped memory, and each NIC as a port of one switch. */
#include "drivers/nic_hw.h"

#include "arch/x86/time.h"
#include "core/kmem.h"
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

struct nic_hw {
	struct e1000e_dev dev;
	struct e1000e_ops ops;
	struct pci_func *func;
	volatile uint8_t *bar;
	struct spinlock lock; /* held for one driver call (or a drain of the port), never waiting */
	char where[16];
	uint64_t link_changes_logged;
	bool failed_logged;
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

static uint32_t bar_read32(void *ctx, uint32_t off)
{
	const struct nic_hw *n = ctx;

	return *(volatile uint32_t *)(n->bar + off);
}

static void bar_write32(void *ctx, uint32_t off, uint32_t v)
{
	const struct nic_hw *n = ctx;

	*(volatile uint32_t *)(n->bar + off) = v;
}

static uint64_t clock_ns(void *ctx)
{
	(void)ctx;
	return time_now_ns();
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
	if (n->dev.st.link_changes != n->link_changes_logged) {
		n->link_changes_logged = n->dev.st.link_changes;
		klog("keel: nic%u: link %s", idx, n->dev.link_up ? "up" : "down");
	}
	if (n->dev.state == E1000E_S_FAILED && !n->failed_logged) {
		n->failed_logged = true;
		/* the core no longer touches the rings; the NIC must not either */
		set_command(n->func, 0, PCIH_CMD_BUS_MASTER);
		klog("keel: nic%u: %s failed: %s; bus mastering off, its switch has no wire now",
		     idx, n->where, n->dev.why ? n->dev.why : "?");
	}
}

static void bring_up(struct pci_func *f)
{
	const struct pci_host_bar *bar0 = &f->bar[0];
	struct e1000e_dma_page pages[E1000E_DMA_PAGES];
	unsigned idx = nr_nics;
	enum e1000e_state s;
	struct nic_hw *n;
	uint8_t *dma;

	if ((bar0->kind != PCI_HBAR_MEM32 && bar0->kind != PCI_HBAR_MEM64) || !bar0->mapped) {
		klog("keel: nic: %02x:%02x.%x: BAR 0 is not a mapped memory BAR; left alone",
		     f->bus, f->dev, f->fn);
		return;
	}
	n = kmem_alloc_pages(sizeof(*n), PAGE_SIZE);
	dma = kmem_alloc_pages((uint64_t)E1000E_DMA_PAGES * PAGE_SIZE, PAGE_SIZE);
	if (!n || !dma) {
		klog("keel: nic: %02x:%02x.%x: out of memory; left alone", f->bus, f->dev, f->fn);
		if (n)
			kmem_free_pages(n, sizeof(*n));
		if (dma)
			kmem_free_pages(dma, (uint64_t)E1000E_DMA_PAGES * PAGE_SIZE);
		return;
	}
	for (unsigned i = 0; i < E1000E_DMA_PAGES; i++)
		pages[i] = (struct e1000e_dma_page){ dma + (size_t)i * PAGE_SIZE,
						     (uintptr_t)dma + (uint64_t)i * PAGE_SIZE };
	n->func = f;
	n->bar = (volatile uint8_t *)(uintptr_t)bar0->base;
	n->ops = (struct e1000e_ops){ n, bar_read32, bar_write32, clock_ns };
	ksnprintf(n->where, sizeof(n->where), "%02x:%02x.%x", f->bus, f->dev, f->fn);
	if (e1000e_init(&n->dev, &n->ops, bar0->size, pages)) {
		klog("keel: nic: %s: BAR 0 of %llu bytes is too small for an 82574L; left alone",
		     n->where, (unsigned long long)bar0->size);
		kmem_free_pages(n, sizeof(*n));
		kmem_free_pages(dma, (uint64_t)E1000E_DMA_PAGES * PAGE_SIZE);
		return;
	}
	set_command(f, PCIH_CMD_MEM | PCIH_CMD_BUS_MASTER | PCIH_CMD_INTX_DISABLE, 0);
	f->owner = PCI_OWNER_KEEL;
	nics[nr_nics++] = n;
	/* bounded by the core's reset and EEPROM timeouts */
	do {
		s = e1000e_poll(&n->dev, time_now_ns());
		__builtin_ia32_pause();
	} while (s != E1000E_S_RUNNING && s != E1000E_S_FAILED);
	n->link_changes_logged = n->dev.st.link_changes;
	if (s == E1000E_S_RUNNING) {
		const uint8_t *m = n->dev.mac;

		klog("keel: nic%u: %s Intel 82574L, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s",
		     idx, n->where, m[0], m[1], m[2], m[3], m[4], m[5],
		     n->dev.link_up ? "up" : "down");
	}
	log_changes(n, idx);
}

void nic_hw_init(void)
{
	const struct pci_host *ph = pci_host_table();

	for (unsigned i = 0; i < ph->nr; i++) {
		struct pci_func *f = pci_host_func_mut(i);

		if (f->vendor != VENDOR_INTEL || f->device != DEVICE_82574L ||
		    f->owner != PCI_OWNER_NONE)
			continue;
		if (nr_nics == NIC_HW_MAX) {
			klog("keel: nic: %02x:%02x.%x: more than %d NICs; left alone", f->bus,
			     f->dev, f->fn, NIC_HW_MAX);
			continue;
		}
		bring_up(f);
	}
}

unsigned nic_hw_count(void)
{
	return nr_nics;
}

int nic_hw_find_mac(const uint8_t mac[6])
{
	for (unsigned i = 0; i < nr_nics; i++)
		if (nics[i]->dev.state != E1000E_S_FAILED && memcmp(nics[i]->dev.mac, mac, 6) == 0)
			return (int)i;
	return -1;
}

/* ---- frames -------------------------------------------------------------------------------- */

/* A frame the core refuses (ring full, link down, not running) is counted by the core */
static void to_wire(struct nic_hw *n, const uint8_t *frame, size_t len)
{
	if (len > E1000E_ETH_MAX) {
		n->from_switch_dropped++; /* an 802.1Q-tagged full-size frame: no room for it */
		return;
	}
	e1000e_tx(&n->dev, frame, (unsigned)len);
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
	enum e1000e_state s;

	if (!spin_trylock(&n->lock))
		return;
	s = e1000e_poll(&n->dev, time_now_ns());
	if (s == E1000E_S_RUNNING) {
		e1000e_rx(&n->dev, from_wire, n);
		if (n->port)
			drain_port(n);
	} else if (n->port) {
		/* no wire: what the switch queued is dropped (counted by the core as refused) */
		drain_port(n);
	}
	log_changes(n, idx);
	spin_unlock(&n->lock);
}

void nic_hw_poll(void)
{
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
	out->model = "Intel 82574L";
	out->state = e1000e_state_name(n->dev.state);
	out->sw = n->sw ? n->sw->name : NULL;
	memcpy(out->mac, n->dev.mac, 6);
	out->link_up = n->dev.link_up;
	out->st = n->dev.st;
	out->to_switch = n->to_switch;
	out->to_switch_dropped = n->to_switch_dropped;
	out->from_switch_dropped = n->from_switch_dropped;
}

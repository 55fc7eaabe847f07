/* The virtual platform of one VM: creates the devices, wires their interrupt lines through the
 * router to the 8259 pair and the IOAPIC, the IOAPIC and IPIs to the local APICs, and answers
 * the vCPU loop. */
#include "vdev/platform.h"

#include "core/guest_layout.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "vdev/pci/host_bridge.h"
#include "vdev/virtio/rng.h"

/* ---- the devices' environment: the VM's, with interrupt lines going to the router --------- */

static struct platform *from_ctx(void *ctx)
{
	return ctx;
}

static uint64_t dev_now_ns(void *ctx)
{
	struct platform *p = from_ctx(ctx);
	return p->env.now_ns(p->env.ctx);
}

static void dev_kick(void *ctx, unsigned cpu)
{
	struct platform *p = from_ctx(ctx);
	if (p->env.kick)
		p->env.kick(p->env.ctx, cpu);
}

static void dev_set_irq(void *ctx, unsigned irq, bool level)
{
	struct platform *p = from_ctx(ctx);
	irq_router_set(&p->router, irq, level);
	/* the 8259's INTR reaches the BSP through LINT0 (or past a disabled APIC) */
	if (level && vpic_has_interrupt(&p->pic) && vlapic_accepts_extint(&p->lapic[0]))
		dev_kick(ctx, 0);
}

static void dev_request_stop(void *ctx, enum vm_stop_reason reason, uint32_t code)
{
	struct platform *p = from_ctx(ctx);
	if (p->stop != VM_STOP_NONE)
		return; /* the first reason wins until the VM has stopped */
	p->stop = reason;
	p->stop_code = code;
	if (p->env.request_stop)
		p->env.request_stop(p->env.ctx, reason, code);
}

static void dev_uart_tx(void *ctx, const uint8_t *buf, size_t n)
{
	struct platform *p = from_ctx(ctx);
	if (p->env.uart_tx)
		p->env.uart_tx(p->env.ctx, buf, n);
}

/* A net's port got frames (on the sending CPU, maybe under another VM's lock, with none of the
 * switch's locks held), or a disk's request finished on its host device (on the polling CPU,
 * under the device's lock). Only the VM's kick (no lock: keel sends vCPU 0's CPU a wake-up IPI);
 * a vCPU then moves the frames or finishes the requests under its own VM's lock
 * (platform_net_rx, platform_blk_complete). */
static void dev_io_kick(void *ctx)
{
	dev_kick(ctx, 0);
}

static uint64_t dev_tsc_to_ns(void *ctx, uint64_t tsc)
{
	struct platform *p = from_ctx(ctx);
	return p->env.tsc_to_ns ? p->env.tsc_to_ns(p->env.ctx, tsc) : tsc;
}

/* ---- interrupt messages to local APICs --------------------------------------------------- */

/* Lowest priority goes to the matching APIC with the lowest processor priority (SDM vol 3A,
 * 11.6.2.4); the others to every match. */
static void route_msg(struct platform *p, const struct vapic_msg *m, bool short_dest,
		      const struct vlapic *skip)
{
	if (m->delivery == VAPIC_DM_LOWEST) {
		struct vlapic *best = NULL;
		for (unsigned i = 0; i < p->nr_cpus; i++) {
			struct vlapic *a = &p->lapic[i];
			if (a == skip || !vlapic_match_dest(a, m->dest, m->logical, short_dest))
				continue;
			if (!best || vlapic_ppr(a) < vlapic_ppr(best))
				best = a;
		}
		if (best)
			vlapic_deliver(best, m);
		return;
	}
	for (unsigned i = 0; i < p->nr_cpus; i++) {
		struct vlapic *a = &p->lapic[i];
		if (a != skip && vlapic_match_dest(a, m->dest, m->logical, short_dest))
			vlapic_deliver(a, m);
	}
}

static void vioapic_deliver(void *ctx, const struct vapic_msg *m)
{
	route_msg(from_ctx(ctx), m, true, NULL);
}

static void vlapic_send_ipi(void *ctx, struct vlapic *src, const struct vapic_msg *m,
			    enum vapic_shorthand sh)
{
	struct platform *p = from_ctx(ctx);
	switch (sh) {
	case VAPIC_SH_SELF:
		vlapic_deliver(src, m);
		break;
	case VAPIC_SH_ALL:
	case VAPIC_SH_OTHERS:
		for (unsigned i = 0; i < p->nr_cpus; i++)
			if (sh == VAPIC_SH_ALL || &p->lapic[i] != src)
				vlapic_deliver(&p->lapic[i], m);
		break;
	default:
		route_msg(p, m, !vlapic_x2apic(src), NULL);
		break;
	}
}

/* An MSI's address and data (Intel SDM vol 3A, 11.11.1 and 11.11.2) as an APIC message: the
 * destination in address bits 19:12, logical with bit 2; vector, delivery mode and trigger in
 * the data. False for what is not sent: modes other than fixed, lowest priority and NMI (SMI,
 * INIT, ExtINT are not what a PCI device sends), and a level-triggered deassert message. */
static bool msi_as_msg(uint64_t addr, uint32_t data, struct vapic_msg *a)
{
	*a = (struct vapic_msg){ .vector = (uint8_t)data,
				 .delivery = (uint8_t)((data >> 8) & 7),
				 .logical = (addr >> 2) & 1,
				 .level = false,
				 .dest = (uint32_t)(addr >> 12) & 0xFF };
	bool deassert = (data & (1u << 15)) && !(data & (1u << 14));
	return !deassert && (a->delivery == VAPIC_DM_FIXED || a->delivery == VAPIC_DM_LOWEST ||
			     a->delivery == VAPIC_DM_NMI);
}

static void pci_deliver_msg(void *ctx, const struct pci_msg *m)
{
	struct vapic_msg a;
	if (msi_as_msg(m->addr, m->data, &a))
		route_msg(from_ctx(ctx), &a, true, NULL);
}

int platform_msi_target(const struct platform *p, uint64_t addr, uint32_t data)
{
	struct vapic_msg a;
	if (!msi_as_msg(addr, data, &a))
		return -1;
	for (unsigned i = 0; i < p->nr_cpus; i++)
		if (vlapic_match_dest(&p->lapic[i], a.dest, a.logical, true))
			return (int)i;
	return -1;
}

static void vlapic_eoi_broadcast(void *ctx, uint8_t vector)
{
	vioapic_eoi(&from_ctx(ctx)->ioapic, vector);
}

/* ---- MMIO glue ---------------------------------------------------------------------------- */

static int vioapic_mmio_rd(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	vioapic_mmio_read(dev, off, size, val);
	return 0;
}

static int vioapic_mmio_wr(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	vioapic_mmio_write(dev, off, size, val);
	return 0;
}

static const struct mmio_ops vioapic_mmio_ops = { .read = vioapic_mmio_rd,
						  .write = vioapic_mmio_wr };

/* ---- creation ----------------------------------------------------------------------------- */

void platform_default_config(struct platform_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 1;
	cfg->exit_port = true;
	cfg->time = (struct vrtc_time){
		.sec = 0, .min = 0, .hour = 0, .day = 1, .mon = 1, .year = 2026
	};
	cfg->pm = (struct vacpi_pm_config){ .pm1a_evt = VACPI_PM1A_EVT_DEFAULT,
					    .pm1a_cnt = VACPI_PM1A_CNT_DEFAULT,
					    .pm_tmr = VACPI_PM_TMR_DEFAULT,
					    .slp_typ_s5 = VACPI_SLP_TYP_S5_DEFAULT,
					    .timer_32bit = false,
					    .sci_gsi = VACPI_SCI_GSI_DEFAULT };
	cfg->phys_bits = 48;
}

/* Every net's port onto its switch, once nothing else can fail: 0, or -1 with none attached. */
static int attach_nets(struct platform *p, const struct platform_config *cfg)
{
	for (unsigned i = 0; i < p->nr_nets; i++) {
		if (!cfg->nets[i].sw || net_switch_attach(cfg->nets[i].sw, &p->net[i]->port)) {
			platform_fini(p);
			return -1;
		}
	}
	return 0;
}

int platform_init(struct platform *p, const struct vdev_env *env, const struct platform_config *cfg)
{
	if (!env || !env->now_ns || cfg->cpus < 1 || cfg->cpus > PLATFORM_MAX_CPUS ||
	    cfg->pm.sci_gsi >= IRQ_ROUTER_LINES || cfg->nr_disks > PLATFORM_MAX_DISKS ||
	    cfg->nr_nets > PLATFORM_MAX_NETS || (cfg->nr_nets && !cfg->nets) ||
	    (cfg->phys_bits && (cfg->phys_bits < 36 || cfg->phys_bits > 52)))
		return -1;
	memset(p, 0, sizeof(*p));
	p->env = *env;
	if (!p->env.vm_name)
		p->env.vm_name = "?";
	p->dev_env = (struct vdev_env){
		.ctx = p,
		.vm_name = p->env.vm_name,
		.now_ns = dev_now_ns,
		.set_irq = dev_set_irq,
		.request_stop = dev_request_stop,
		.uart_tx = dev_uart_tx,
		.tsc_to_ns = dev_tsc_to_ns,
		.kick = dev_kick,
		.mem = env->mem,
		.random = env->random,
	};
	const struct vdev_env *de = &p->dev_env;
	p->nr_cpus = cfg->cpus;
	io_bus_init(&p->io, de);
	mmio_bus_init(&p->mmio, de);

	vpic_init(&p->pic, de);
	vioapic_init(&p->ioapic, de, vioapic_deliver, p);
	irq_router_init(&p->router, &p->pic, &p->ioapic);
	p->vlapic_bus = (struct vlapic_bus){ .ctx = p,
					     .send_ipi = vlapic_send_ipi,
					     .eoi_broadcast = vlapic_eoi_broadcast };
	for (unsigned i = 0; i < p->nr_cpus; i++) {
		vlapic_init(&p->lapic[i], de, &p->vlapic_bus, i, i, i == 0);
		p->lapic[i].phys_bits = cfg->phys_bits ? cfg->phys_bits : 48;
	}
	vuart_init(&p->uart, de, VUART_COM1_BASE, VUART_COM1_GSI);
	vpit_init(&p->pit, de);
	vrtc_init(&p->rtc, de, &cfg->time);
	vacpi_pm_init(&p->pm, de, &cfg->pm);
	vi8042_init(&p->kbc, de);
	exit_port_init(&p->exit, de);
	p->has_exit_port = cfg->exit_port;

	if (vpic_register(&p->pic, &p->io) || vpit_register(&p->pit, &p->io) ||
	    vuart_register(&p->uart, &p->io) || vrtc_register(&p->rtc, &p->io) ||
	    vacpi_pm_register(&p->pm, &p->io) || vi8042_register(&p->kbc, &p->io) ||
	    (p->has_exit_port && exit_port_register(&p->exit, &p->io)) ||
	    mmio_bus_register(&p->mmio, PLATFORM_IOAPIC_BASE, VIOAPIC_MMIO_SIZE, &vioapic_mmio_ops,
			      &p->ioapic))
		return -1; /* overlapping ports: the PM ports in cfg collide with a device */
	const struct pci_bus_config pci = { .ecam_base = GUEST_PCI_ECAM_BASE,
					    .mmio_base = GUEST_PCI_MMIO32_BASE,
					    .mmio_end = GUEST_PCI_MMIO32_END,
					    .mmio64_base = cfg->pci_mmio64_base,
					    .mmio64_end = cfg->pci_mmio64_end,
					    .io_base = GUEST_PCI_IO_BASE,
					    .io_end = GUEST_PCI_IO_END };
	pci_host_bridge_init(&p->host_bridge);
	if (pci_bus_init(&p->pci, de, &p->io, &p->mmio, &pci, pci_deliver_msg, p) ||
	    pci_bus_plug(&p->pci, 0, &p->host_bridge))
		return -1;
	/* every VM gets entropy, when the VM has a source for it */
	if (de->random && (virtio_rng_init(&p->rng, de) ||
			   pci_bus_plug(&p->pci, PLATFORM_SLOT_RNG, &p->rng.vpci.pci)))
		return -1;
	p->has_balloon = cfg->balloon != NULL;
	if (p->has_balloon) {
		if (virtio_balloon_init(&p->balloon, de, cfg->balloon) ||
		    pci_bus_plug(&p->pci, PLATFORM_SLOT_BALLOON, &p->balloon.vpci.pci))
			return -1;
		p->balloon.target = cfg->balloon_target; /* before any driver: no interrupt */
	}
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		char serial[16];
		ksnprintf(serial, sizeof(serial), "keel-vd%c", 'a' + i);
		if (virtio_blk_init(&p->blk[i], de, cfg->disks[i], serial, dev_io_kick, p))
			return -1;
		p->nr_disks = i + 1;
		if (pci_bus_plug(&p->pci, PLATFORM_SLOT_DISK0 + i, &p->blk[i].vpci.pci))
			return -1;
	}
	/* the nets right after the disks; each device keeps its MAC for the platform's life */
	unsigned slot = PLATFORM_SLOT_DISK0 + cfg->nr_disks;
	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		struct virtio_net *n = cfg->nets[i].dev;
		if (!n || virtio_net_init(n, de, cfg->nets[i].mac, dev_io_kick, p))
			return -1;
		p->net[p->nr_nets++] = n; /* its port is initialised: platform_fini may detach it */
		if (pci_bus_plug(&p->pci, slot + i, &n->vpci.pci))
			return -1;
	}
	slot += cfg->nr_nets;
	for (unsigned i = 0; i < cfg->nr_passthru; i++)
		if (slot + i >= PLATFORM_SLOT_CONSOLE || !cfg->passthru[i] ||
		    pci_bus_plug(&p->pci, slot + i, cfg->passthru[i]))
			return -1;
	if (cfg->virtio_console) {
		if (virtio_console_init(&p->console, de, VIRTIO_CONSOLE_COLS,
					VIRTIO_CONSOLE_ROWS) ||
		    pci_bus_plug(&p->pci, PLATFORM_SLOT_CONSOLE, &p->console.vpci.pci))
			return -1;
		p->has_console = true;
	}
	if (pci_bus_assign(&p->pci))
		return -1;
	vlapic_virtual_wire(&p->lapic[0]);
	return attach_nets(p, cfg);
}

void platform_fini(struct platform *p)
{
	for (unsigned i = 0; i < p->nr_nets; i++)
		net_switch_detach(&p->net[i]->port);
}

void platform_net_rx(struct platform *p)
{
	for (unsigned i = 0; i < p->nr_nets; i++)
		if (virtio_net_rx_pending(p->net[i]))
			virtio_net_rx(p->net[i]);
}

void platform_blk_complete(struct platform *p)
{
	for (unsigned i = 0; i < p->nr_disks; i++)
		virtio_blk_complete(&p->blk[i]);
}

bool platform_blk_busy(const struct platform *p)
{
	for (unsigned i = 0; i < p->nr_disks; i++)
		if (virtio_blk_busy(&p->blk[i]))
			return true;
	return false;
}

uint64_t platform_blk_sent(const struct platform *p)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < p->nr_disks; i++)
		n += __atomic_load_n(&p->blk[i].sent, __ATOMIC_RELAXED);
	return n;
}

bool platform_blk_dma_busy(const struct platform *p)
{
	for (unsigned i = 0; i < p->nr_disks; i++)
		if (virtio_blk_dma_busy(&p->blk[i]))
			return true;
	return false;
}

void platform_reset(struct platform *p)
{
	pci_bus_reset(&p->pci);
	vuart_reset(&p->uart);
	vpic_reset(&p->pic);
	vpit_reset(&p->pit);
	vrtc_reset(&p->rtc);
	vacpi_pm_reset(&p->pm);
	vi8042_reset(&p->kbc);
	exit_port_reset(&p->exit);
	vioapic_reset(&p->ioapic);
	/* lines stay as their devices drive them; the controllers forget what they latched */
	p->router.levels = 0;
	for (unsigned i = 0; i < p->nr_cpus; i++) {
		vlapic_reset(&p->lapic[i]);
		p->offered[i] = PLATFORM_IRQ_NONE;
	}
	vlapic_virtual_wire(&p->lapic[0]);
	p->stop = VM_STOP_NONE;
	p->stop_code = 0;
}

/* ---- the vCPU loop's calls ---------------------------------------------------------------- */

static int result(const struct platform *p, int rc)
{
	if (rc < 0)
		return PLATFORM_GP;
	return p->stop != VM_STOP_NONE ? PLATFORM_STOP : PLATFORM_OK;
}

int platform_io(struct platform *p, uint16_t port, unsigned size, bool write, uint32_t *val)
{
	int rc = write ? io_bus_write(&p->io, port, size, *val)
		       : io_bus_read(&p->io, port, size, val);
	return result(p, rc);
}

static bool vlapic_page(const struct platform *p, unsigned cpu, uint64_t gpa)
{
	const struct vlapic *a = &p->lapic[cpu];
	return vlapic_enabled(a) && !vlapic_x2apic(a) && gpa >= vlapic_mmio_base(a) &&
	       gpa - vlapic_mmio_base(a) < VLAPIC_MMIO_SIZE;
}

int platform_mmio(struct platform *p, unsigned cpu, uint64_t gpa, unsigned size, bool write,
		  uint64_t *val)
{
	if (cpu >= p->nr_cpus || !(size == 1 || size == 2 || size == 4 || size == 8)) {
		if (!write)
			*val = ~0ull;
		return PLATFORM_GP;
	}
	if (vlapic_page(p, cpu, gpa)) {
		struct vlapic *a = &p->lapic[cpu];
		uint64_t off = gpa - vlapic_mmio_base(a);
		if (write)
			vlapic_mmio_write(a, off, size, *val);
		else
			vlapic_mmio_read(a, off, size, val);
		return result(p, 0);
	}
	int rc = write ? mmio_bus_write(&p->mmio, gpa, size, *val)
		       : mmio_bus_read(&p->mmio, gpa, size, val);
	return result(p, rc);
}

bool platform_msr_is_apic(uint32_t msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST);
}

int platform_msr_read(struct platform *p, unsigned cpu, uint32_t msr, uint64_t *val)
{
	*val = 0;
	if (cpu >= p->nr_cpus || !platform_msr_is_apic(msr))
		return PLATFORM_GP;
	return vlapic_msr_read(&p->lapic[cpu], msr, val) ? PLATFORM_GP : PLATFORM_OK;
}

int platform_msr_write(struct platform *p, unsigned cpu, uint32_t msr, uint64_t val)
{
	if (cpu >= p->nr_cpus || !platform_msr_is_apic(msr))
		return PLATFORM_GP;
	return vlapic_msr_write(&p->lapic[cpu], msr, val) ? PLATFORM_GP : PLATFORM_OK;
}

static void update_timers(struct platform *p)
{
	vpit_update(&p->pit);
	vrtc_update(&p->rtc);
}

uint64_t platform_next_event_ns(struct platform *p, unsigned cpu)
{
	if (cpu >= p->nr_cpus)
		return UINT64_MAX;
	update_timers(p);
	vuart_flush(&p->uart);
	uint64_t next = vlapic_next_event_ns(&p->lapic[cpu]);
	/* the ISA timers interrupt the BSP (IOAPIC or 8259); masked lines need no wake-up */
	if (cpu == 0) {
		if (!irq_router_masked(&p->router, VPIT_IRQ))
			next = MIN(next, vpit_next_event_ns(&p->pit));
		if (!irq_router_masked(&p->router, VRTC_IRQ))
			next = MIN(next, vrtc_next_event_ns(&p->rtc));
	}
	return next;
}

int platform_pending_interrupt(struct platform *p, unsigned cpu)
{
	if (cpu >= p->nr_cpus)
		return -1;
	update_timers(p);
	struct vlapic *a = &p->lapic[cpu];
	int v = vlapic_pending_vector(a);
	if (v >= 0) {
		p->offered[cpu] = PLATFORM_IRQ_LAPIC;
		return v;
	}
	if (cpu == 0 && vlapic_accepts_extint(a)) {
		v = vpic_peek_vector(&p->pic);
		if (v >= 0) {
			p->offered[cpu] = PLATFORM_IRQ_PIC;
			return v;
		}
	}
	p->offered[cpu] = PLATFORM_IRQ_NONE;
	return -1;
}

void platform_ack_interrupt(struct platform *p, unsigned cpu, int vector)
{
	if (cpu >= p->nr_cpus || vector < 0 || vector > 255)
		return;
	struct vlapic *a = &p->lapic[cpu];
	switch (p->offered[cpu]) {
	case PLATFORM_IRQ_LAPIC:
		vlapic_ack(a, (uint8_t)vector);
		break;
	case PLATFORM_IRQ_PIC:
		vpic_get_interrupt(&p->pic);
		a->extint_pending = false;
		break;
	default:
		break;
	}
	p->offered[cpu] = PLATFORM_IRQ_NONE;
}

bool platform_take_nmi(struct platform *p, unsigned cpu)
{
	return cpu < p->nr_cpus && vlapic_take_nmi(&p->lapic[cpu]);
}

bool platform_uart_input(struct platform *p, uint8_t byte)
{
	if (!vuart_can_receive(&p->uart))
		return false;
	return vuart_receive(&p->uart, byte);
}

size_t platform_console_input(struct platform *p, const uint8_t *buf, size_t n)
{
	if (p->has_console)
		return virtio_console_input(&p->console, buf, n);
	size_t i = 0;
	while (i < n && platform_uart_input(p, buf[i]))
		i++;
	return i;
}

void platform_power_button(struct platform *p)
{
	vacpi_pm_power_button(&p->pm);
}

enum vm_stop_reason platform_stop_reason(const struct platform *p, uint32_t *code)
{
	if (code)
		*code = p->stop_code;
	return p->stop;
}

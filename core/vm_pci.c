/* Host PCI functions passed to a VM (core/vm_pci.h). */
#include "core/vm_pci.h"

#include "arch/x86/apic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/time.h"
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/vm.h"
#include "core/vm_balloon.h"
#include "core/vm_dma.h"
#include "drivers/iommu_hw.h"
#include "drivers/pci_claim.h"
#include "drivers/pci_host_hw.h"
#include "drivers/pci_msix.h"
#include "drivers/pci_msix_hw.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "mm/phys.h"
#include "mm/stage2.h"
#include "vdev/pci/passthru.h"
#include "vdev/platform.h"

/* MSI capability (PCI Local Bus 3.0, 6.8.1): control in the upper half of the first dword */
#define MSI_CTRL_ENABLE (1u << 16)
#define MSI_CTRL_64BIT (1u << 23)
#define MSI_CTRL_MME (7u << 20)
#define PCI_CAP_ID_MSI 0x05
/* PCI Express capability (PCIe Base 4.0, 7.5.3): Device Capabilities bit 28 FLR, Device
 * Control bit 15 Initiate FLR; the function is back 100 ms after (6.6.2) */
#define PCI_CAP_ID_EXP 0x10
#define PCIE_DEVCAP 4
#define PCIE_DEVCTL 8
#define PCIE_DEVCAP_FLR (1u << 28)
#define PCIE_DEVCTL_FLR (1u << 15)
#define FLR_WAIT_NS (100ull * 1000 * 1000)

struct vm_pci {
	struct passthru model;
	struct vm *vm;
	struct pci_func *func;
	unsigned host_index;
	uint16_t msi_cap; /* the host function's MSI capability, 0 without */
	struct pci_msix msix;
	bool has_msix, msix_on;
	struct passthru_bar_info model_bars[PCI_NR_BARS]; /* what passthru_init is given */
	uint64_t interrupts, on_target; /* on_target: taken on the CPU of the vCPU they went to */
	bool told_no_vector; /* the "no host vector left" line is logged once per function */
	/* each BAR's guest-physical place while its pages are mapped straight in stage 2 */
	struct {
		uint64_t gpa, size;
		bool on;
	} direct[PCI_NR_BARS];
	uint8_t told_direct; /* bit n: BAR n's direct mapping was logged this life */
};

/* Passthrough vectors one function may hold: a guest unmasking all its vectors must leave some
 * for the other VMs' functions (Linux's nvme driver wants one per vCPU, plus one). */
#define VECTORS_PER_FUNC (HOST_PASSTHRU_VECTORS / 2)

/* Which function's which message each passthrough vector carries (vp NULL: free) */
static struct {
	struct vm_pci *vp;
	unsigned msg;
} slots[HOST_PASSTHRU_VECTORS];
static struct spinlock slots_lock;
static unsigned next_vm_id;

/* config access with ctx the host function (drivers/pci_msix.h's form) */
static uint32_t func_cfg_read(void *ctx, uint16_t reg)
{
	return pci_host_cfg_read32(ctx, reg);
}

static void func_cfg_write(void *ctx, uint16_t reg, uint32_t v)
{
	pci_host_cfg_write32(ctx, reg, v);
}

static uint32_t cfg_read32(void *ctx, uint16_t reg)
{
	struct vm_pci *vp = ctx;
	return pci_host_cfg_read32(vp->func, reg);
}

static void cfg_write32(void *ctx, uint16_t reg, uint32_t v)
{
	struct vm_pci *vp = ctx;
	pci_host_cfg_write32(vp->func, reg, v);
}

/* The model checked bar, off and size against the host BAR (naturally aligned, inside) */
static volatile void *bar_at(struct vm_pci *vp, unsigned bar, uint64_t off)
{
	return (volatile void *)(uintptr_t)(vp->func->bar[bar].base + off);
}

static uint64_t bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size)
{
	volatile void *p = bar_at(ctx, bar, off);
	switch (size) {
	case 1:
		return *(volatile uint8_t *)p;
	case 2:
		return *(volatile uint16_t *)p;
	case 4:
		return *(volatile uint32_t *)p;
	default:
		return *(volatile uint64_t *)p;
	}
}

static void bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	volatile void *p = bar_at(ctx, bar, off);
	switch (size) {
	case 1:
		*(volatile uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)p = v;
	}
}

/* The host command register: decoding as the guest has it (keel reaches the BARs only for the
 * guest), bus mastering as the guest has it, INTx always off (keel takes MSI and MSI-X only). */
static void set_command(void *ctx, bool memory, bool bus_master)
{
	struct vm_pci *vp = ctx;
	uint32_t cmd = pci_host_cfg_read32(vp->func, PCIH_COMMAND) & 0xFFFFu;

	cmd &= ~(PCIH_CMD_MEM | PCIH_CMD_BUS_MASTER | PCIH_CMD_IO);
	cmd |= PCIH_CMD_INTX_DISABLE | (memory ? PCIH_CMD_MEM : 0) |
	       (bus_master && !vp->func->dma_stopped ? PCIH_CMD_BUS_MASTER : 0);
	pci_host_cfg_write32(vp->func, PCIH_COMMAND, cmd);
}

/* The passthrough vector carrying message msg of vp, taken when it has none; -1 when all are
 * taken or vp holds VECTORS_PER_FUNC already. */
static int slot_for(struct vm_pci *vp, unsigned msg)
{
	int free = -1;
	unsigned held = 0;

	spin_lock(&slots_lock);
	for (unsigned i = 0; i < HOST_PASSTHRU_VECTORS; i++) {
		if (slots[i].vp == vp && slots[i].msg == msg) {
			spin_unlock(&slots_lock);
			return (int)i;
		}
		held += slots[i].vp == vp;
		if (!slots[i].vp && free < 0)
			free = (int)i;
	}
	if (held >= VECTORS_PER_FUNC)
		free = -1;
	if (free >= 0) {
		slots[free].vp = vp;
		slots[free].msg = msg;
	}
	spin_unlock(&slots_lock);
	return free;
}

static void slots_free(struct vm_pci *vp)
{
	spin_lock(&slots_lock);
	for (unsigned i = 0; i < HOST_PASSTHRU_VECTORS; i++)
		if (slots[i].vp == vp)
			slots[i].vp = NULL;
	spin_unlock(&slots_lock);
}

/* The host CPU (its index) that runs the vCPU the guest's message names (vCPUs stay on their
 * CPU, core/sched.c), or -1 when it names none (delivery drops it). */
static int target_cpu(const struct vm_pci *vp, uint64_t guest_addr, uint32_t guest_data)
{
	const struct vm *vm = vp->vm;
	int i = platform_msi_target(vm->platform, guest_addr, guest_data);
	if (i < 0 || (unsigned)i >= vm->nr_vcpus || !vm->vcpus[i])
		return -1;
	return (int)vm->vcpus[i]->pcpu;
}

/* The local APIC the host interrupt for a guest's message goes to: that of the CPU running the
 * vCPU the message names, so that it ends that vCPU's run, or its HLT, on the CPU where it is
 * injected, with no wake-up IPI between; this CPU's when it names none. A guest that later
 * moves its APIC IDs only costs that IPI: vm_pci_poll takes a passthrough interrupt on any CPU. */
static uint32_t host_target(const struct vm_pci *vp, uint64_t guest_addr, uint32_t guest_data)
{
	int cpu = target_cpu(vp, guest_addr, guest_data);
	const struct percpu *pc = cpu < 0 ? NULL : percpu_get((unsigned)cpu);
	return pc ? pc->apic_id : host_apic_id();
}

/* The guest's message msg as it programmed it (MSI-X vector msg, or MSI); false with neither on */
static bool guest_message(const struct vm_pci *vp, unsigned msg, uint64_t *addr, uint32_t *data)
{
	struct passthru_msix_vector v;
	struct passthru_msi m;
	if (passthru_msix_vector(&vp->model, msg, &v) && v.enabled) {
		*addr = v.addr;
		*data = v.data;
		return true;
	}
	if (msg == 0 && passthru_msi(&vp->model, &m) && m.enabled) {
		*addr = m.addr;
		*data = m.data;
		return true;
	}
	return false;
}

/* The message the host function must send for vp's message msg (the guest's guest_addr and
 * guest_data): keel's vector for it, to the CPU of the vCPU it names, through an
 * interrupt-remapping entry of the function's own. */
static bool host_message(struct vm_pci *vp, unsigned msg, uint64_t guest_addr, uint32_t guest_data,
			 uint64_t *addr, uint32_t *data)
{
	int slot = slot_for(vp, msg);

	if (slot < 0) {
		if (!vp->told_no_vector)
			klog("vm %s: pci %02x:%02x.%x: no host vector left for message %u (keel has "
			     "%u for all passed functions, %u for one): it stays masked, and so "
			     "does any other beyond",
			     vp->vm->name, vp->func->bus, vp->func->dev, vp->func->fn, msg,
			     HOST_PASSTHRU_VECTORS, VECTORS_PER_FUNC);
		vp->told_no_vector = true;
		return false;
	}
	return iommu_hw_msi(vp->func, msg, host_target(vp, guest_addr, guest_data),
			    (uint8_t)(HOST_PASSTHRU_VECTOR + slot), addr, data);
}

static void host_msi_off(struct vm_pci *vp)
{
	if (!vp->msi_cap)
		return;
	uint32_t dw = pci_host_cfg_read32(vp->func, vp->msi_cap);
	pci_host_cfg_write32(vp->func, vp->msi_cap, dw & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
}

/* The guest's MSI, on or off, as keel's own message on the host function */
static void program_msi(struct vm_pci *vp)
{
	struct passthru_msi m;
	uint64_t addr;
	uint32_t data;

	if (!vp->msi_cap || !passthru_msi(&vp->model, &m))
		return;
	if (!m.enabled || !host_message(vp, 0, m.addr, m.data, &addr, &data)) {
		host_msi_off(vp);
		return;
	}
	/* masked in the guest: the host still sends, pci_dev_notify holds it pending */
	uint16_t at = vp->msi_cap;
	uint32_t dw = pci_host_cfg_read32(vp->func, at);
	pci_host_cfg_write32(vp->func, at + 4, (uint32_t)addr);
	if (dw & MSI_CTRL_64BIT) {
		pci_host_cfg_write32(vp->func, at + 8, (uint32_t)(addr >> 32));
		pci_host_cfg_write32(vp->func, at + 12, data);
	} else {
		pci_host_cfg_write32(vp->func, at + 8, data);
	}
	pci_host_cfg_write32(vp->func, at, (dw & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
}

/* The guest's MSI-X vectors on the host function. Only a vector the guest unmasked takes one of
 * keel's passthrough vectors and gets keel's message in the host's entry; every other host entry
 * stays masked, so the function holds that message pending in the host's PBA and sends it once
 * the guest unmasks the vector (PCI Local Bus 3.0, 6.8.2.9), as a real function would. */
static void program_msix(struct vm_pci *vp)
{
	unsigned n = passthru_msix_vectors(&vp->model);
	struct passthru_msix_vector v;

	if (!vp->has_msix)
		return;
	if (!passthru_msix_vector(&vp->model, 0, &v) || !v.enabled) {
		if (vp->msix_on)
			pci_msix_disable(&vp->msix);
		vp->msix_on = false;
		return;
	}
	/* all masked first: a guest's table is never half in place on the host */
	if (!vp->msix_on) {
		if (pci_msix_enable(&vp->msix, NULL, 0) != PCI_MSIX_OK)
			return; /* memory decoding off: again at the guest's next MSI-X change */
		vp->msix_on = true;
	}
	for (unsigned i = 0; i < n && i < vp->msix.nr_entries; i++) {
		struct pci_msix_msg msg;
		if (!passthru_msix_vector(&vp->model, i, &v) || v.masked || v.function_masked ||
		    !host_message(vp, i, v.addr, v.data, &msg.addr, &msg.data))
			pci_msix_mask_entry(&vp->msix, i, true);
		else
			pci_msix_set_entry(&vp->msix, i, &msg);
	}
}

static void msi_changed(void *ctx)
{
	struct vm_pci *vp = ctx;
	program_msi(vp);
	program_msix(vp);
}

/* Drops BAR n's direct pages from stage 2; every vCPU flushes before it enters the guest again
 * (a stale translation would still reach only this VM's own function). */
static void direct_unmap(struct vm_pci *vp, unsigned n)
{
	if (!vp->direct[n].on)
		return;
	stage2_unmap_range(&vp->vm->stage2, vp->direct[n].gpa, vp->direct[n].size);
	vp->direct[n].on = false;
	vm_stage2_flush(vp->vm, NULL);
}

/* The guest decoded BAR n at gpa (on) or stopped (off): its pages that hold no trapped register
 * (passthru_page_direct: not the MSI-X table or PBA) are mapped straight onto the host BAR,
 * uncached, so the guest's loads and stores reach the device without an exit; the rest stay
 * forwarded by bar_read/bar_write. A page that cannot be mapped stays forwarded too. Under the
 * VM's lock (a config or BAR access). */
static void bar_decoded(void *ctx, unsigned n, bool on, uint64_t gpa, uint64_t size)
{
	struct vm_pci *vp = ctx;
	const struct pci_host_bar *hb = n < PCI_NR_BARS ? &vp->func->bar[n] : NULL;

	if (!hb)
		return;
	direct_unmap(vp, n);
	if (!on || !hb->mapped || !hb->base)
		return;
	uint64_t end = MIN(size, hb->size), direct = 0;
	for (uint64_t off = 0; off < end;) {
		if (!passthru_page_direct(&vp->model, n, off)) {
			off += PAGE_SIZE;
			continue;
		}
		uint64_t run = off;
		while (run < end && passthru_page_direct(&vp->model, n, run))
			run += PAGE_SIZE;
		if (stage2_map_device(&vp->vm->stage2, gpa + off, hb->base + off, run - off) == 0)
			direct += (run - off) / PAGE_SIZE;
		off = run;
	}
	vp->direct[n].gpa = gpa;
	vp->direct[n].size = end;
	vp->direct[n].on = true;
	/* once per BAR and life: a guest moving its BARs in a loop does not flood the log */
	if (!(vp->told_direct & 1u << n))
		klog("vm %s: pci %02x:%02x.%x: BAR %u at 0x%llx: %llu of its %llu pages mapped "
		     "straight, the rest forwarded",
		     vp->vm->name, vp->func->bus, vp->func->dev, vp->func->fn, n,
		     (unsigned long long)gpa, (unsigned long long)direct,
		     (unsigned long long)(size / PAGE_SIZE));
	vp->told_direct |= (uint8_t)(1u << n);
}

static void direct_unmap_all(struct vm_pci *vp)
{
	for (unsigned n = 0; n < PCI_NR_BARS; n++)
		direct_unmap(vp, n);
}

static const struct passthru_host_ops host_ops = {
	.cfg_read32 = cfg_read32,
	.cfg_write32 = cfg_write32,
	.bar_read = bar_read,
	.bar_write = bar_write,
	.set_command = set_command,
	.msi_changed = msi_changed,
	.bar_decoded = bar_decoded,
};

/* Function Level Reset when the function has it (PCIe Base 4.0, 6.6.2): its BARs and command
 * come back as they were, the rest of its state is gone. Without FLR the function is only made
 * quiet: bus mastering, decoding and interrupts off. */
static void host_reset(struct vm_pci *vp)
{
	const struct pci_msix_cfg cfg = { vp->func, func_cfg_read, func_cfg_write };
	uint16_t exp;
	uint32_t saved[6];

	set_command(vp, false, false);
	host_msi_off(vp);
	if (vp->msix_on)
		pci_msix_disable(&vp->msix);
	vp->msix_on = false;
	slots_free(vp);
	if (pci_cap_find(&cfg, PCI_CAP_ID_EXP, &exp) != PCI_MSIX_OK ||
	    !(pci_host_cfg_read32(vp->func, exp + PCIE_DEVCAP) & PCIE_DEVCAP_FLR))
		return;
	for (unsigned i = 0; i < 6; i++)
		saved[i] = pci_host_cfg_read32(vp->func, (uint16_t)(PCIH_BAR0 + 4 * i));
	uint32_t ctl = pci_host_cfg_read32(vp->func, exp + PCIE_DEVCTL);
	pci_host_cfg_write32(vp->func, exp + PCIE_DEVCTL, (ctl & 0xFFFFu) | PCIE_DEVCTL_FLR);
	uint64_t until = time_now_ns() + FLR_WAIT_NS;
	while (time_now_ns() < until)
		__builtin_ia32_pause();
	for (unsigned i = 0; i < 6; i++)
		pci_host_cfg_write32(vp->func, (uint16_t)(PCIH_BAR0 + 4 * i), saved[i]);
	set_command(vp, false, false);
}

int hv_vm_add_pci(struct vm *vm, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn, char *err,
		  size_t err_size)
{
	struct pci_host *ph = pci_host_table_mut();
	struct passthru_bar_info bars[PCI_NR_BARS];
	char why[200];

	if (vm->nr_pcis == VM_MAX_PCI)
		return kfail(err, err_size, "more than %d PCI functions", VM_MAX_PCI);
	if (!vm->id)
		vm->id = ++next_vm_id;
	int idx = pci_claim_check(ph, segment, bus, dev, fn, vm->id, iommu_hw_active(), why,
				  sizeof(why));
	if (idx < 0)
		return kfail(err, err_size, "%s", why);
	struct vm_pci *vp = kmem_alloc_pages(sizeof(*vp), PAGE_SIZE);
	if (!vp)
		return kfail(err, err_size, "out of memory for the passed function");
	vp->vm = vm;
	vp->func = &ph->funcs[idx];
	vp->host_index = (unsigned)idx;
	const struct pci_msix_cfg cfg = { vp->func, func_cfg_read, func_cfg_write };
	if (pci_cap_find(&cfg, PCI_CAP_ID_MSI, &vp->msi_cap) != PCI_MSIX_OK)
		vp->msi_cap = 0;
	vp->has_msix = pci_msix_host_open(&vp->msix, vp->func) == PCI_MSIX_OK;
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_host_bar *b = &vp->func->bar[i];
		bool mem = (b->kind == PCI_HBAR_MEM32 || b->kind == PCI_HBAR_MEM64) && b->mapped;
		bars[i] = (struct passthru_bar_info){
			.kind = !mem			    ? PCI_BAR_NONE
				: b->kind == PCI_HBAR_MEM64 ? PCI_BAR_MEM64
							    : PCI_BAR_MEM32,
			.prefetchable = b->prefetchable,
			.size = mem ? b->size : 0,
		};
		vp->model_bars[i] = bars[i];
	}
	/* quiet before its DMA is pointed anywhere: it was nobody's, but firmware may have left
	 * it busy */
	host_reset(vp);
	if (vm_dma_setup(vm, why, sizeof(why)) ||
	    passthru_init(&vp->model, &host_ops, vp, bars, why, sizeof(why))) {
		kmem_free_pages(vp, sizeof(*vp));
		return kfail(err, err_size, "%s", why);
	}
	if (iommu_domain_attach(vm->dma, vp->func)) {
		kmem_free_pages(vp, sizeof(*vp));
		return kfail(err, err_size, "no IOMMU unit translates it");
	}
	pci_claim_take(ph, (unsigned)idx, vm->id, vm->name);
	vm->pcis[vm->nr_pcis++] = vp;
	return 0;
}

struct pci_dev *vm_pci_dev(struct vm *vm, unsigned i)
{
	return i < vm->nr_pcis ? &vm->pcis[i]->model.dev : NULL;
}

void vm_pci_life_start(struct vm *vm)
{
	char why[120];

	for (unsigned i = 0; i < vm->nr_pcis; i++) {
		struct vm_pci *vp = vm->pcis[i];
		direct_unmap_all(vp);
		vp->told_direct = 0;
		host_reset(vp);
		/* the same function as when it was added: only the virtual side starts anew */
		if (passthru_init(&vp->model, &host_ops, vp, vp->model_bars, why, sizeof(why)))
			klog("vm %s: pci %02x:%02x.%x: %s", vm->name, vp->func->bus, vp->func->dev,
			     vp->func->fn, why);
	}
}

void vm_pci_poll(void)
{
	uint32_t taken = host_passthru_take();

	while (taken) {
		unsigned n = (unsigned)__builtin_ctz(taken);
		taken &= taken - 1;
		spin_lock(&slots_lock);
		struct vm_pci *vp = slots[n].vp;
		unsigned msg = slots[n].msg;
		spin_unlock(&slots_lock);
		unsigned cpu = host_passthru_cpu(n);
		if (!vp)
			continue; /* freed since: the function was reset */
		struct vm *vm = vp->vm;
		vm_lock(vm);
		if (__atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING) {
			/* as the guest programmed it, through pci_dev's masking and pending bits */
			uint64_t addr;
			uint32_t data;
			if (guest_message(vp, msg, &addr, &data) &&
			    target_cpu(vp, addr, data) == (int)cpu)
				vp->on_target++;
			pci_dev_notify(&vp->model.dev, msg);
			vp->interrupts++;
		}
		vm_unlock(vm);
	}
}

uint64_t vm_pci_interrupts(const struct vm *vm)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < vm->nr_pcis; i++)
		n += vm->pcis[i]->interrupts;
	return n;
}

uint64_t vm_pci_interrupts_on_target(const struct vm *vm)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < vm->nr_pcis; i++)
		n += vm->pcis[i]->on_target;
	return n;
}

uint64_t vm_pci_faults(const struct vm *vm)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < vm->nr_pcis; i++)
		n += __atomic_load_n(&vm->pcis[i]->func->iommu_faults, __ATOMIC_RELAXED);
	return n;
}

void vm_pci_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_pcis; i++) {
		struct vm_pci *vp = vm->pcis[i];
		klog("vm %s: pci %02x:%02x.%x: %llu interrupts sent on, %llu of them taken on the CPU "
		     "running their vCPU",
		     vm->name, vp->func->bus, vp->func->dev, vp->func->fn,
		     (unsigned long long)vp->interrupts, (unsigned long long)vp->on_target);
		direct_unmap_all(vp);
		host_reset(vp);
		iommu_domain_detach(vp->func);
		pci_claim_release(pci_host_table_mut(), vp->host_index);
		kmem_free_pages(vp, sizeof(*vp));
		vm->pcis[i] = NULL;
	}
	vm->nr_pcis = 0;
	vm_dma_destroy(vm);
}

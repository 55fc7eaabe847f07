/* The keel.cfg launcher: builds every VM of the configuration through the public C API
 * (core/hv_api.h), all of them before any runs, so a bad file or kernel starts nothing. */
#include "core/launch.h"

#include "arch/x86/percpu.h"
#include "core/host_disks_hw.h"
#include "core/hv_api.h"
#include "drivers/iommu_hw.h"
#include "drivers/nic_hw.h"
#include "drivers/nvme_hw.h"
#include "drivers/pci_claim.h"
#include "drivers/pci_host_hw.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "vdev/platform.h"

/* "1 MiB", "512 KiB": a disk's size in the log, terse but never "0 MiB" */
static void size_text(uint64_t bytes, char *buf, size_t n)
{
	if (bytes >= MiB)
		ksnprintf(buf, n, "%llu MiB", (unsigned long long)(bytes / MiB));
	else
		ksnprintf(buf, n, "%llu KiB", (unsigned long long)(bytes / KiB));
}

/* A disk on one of the host's disks (part:LABEL, nvme:N): claimed for this VM only. */
static int add_host_disk(const struct vm_config *c, struct vm *vm, const struct disk_config *d,
			 unsigned i)
{
	char err[200], size[24], what[48];
	struct blk_backend *b = host_disk_open(d, c->name, i, err, sizeof(err));

	if (d->kind == CFG_DISK_PART)
		ksnprintf(what, sizeof(what), "part:%s", d->path);
	else
		ksnprintf(what, sizeof(what), "nvme:%u", d->nsid);
	if (b && hv_vm_add_disk_backend(vm, b, err, sizeof(err))) {
		blk_release(b);
		b = NULL;
	}
	if (!b) {
		klog("keel.cfg:%u: [vm %s] disk = %s: %s", d->line, c->name, what, err);
		return -1;
	}
	size_text(b->sectors * BLK_SECTOR_SIZE, size, sizeof(size));
	klog("vm %s: disk vd%c: %s, %s%s", c->name, 'a' + i, what, size,
	     d->read_only ? ", read-only" : "");
	return 0;
}

/* The VM's disks, nets and console, as keel.cfg gives them; -1 after logging a keel.cfg:LINE:
 * message. Only images the boot stage loaded reach here (it checked their sizes). */
static int add_io(const struct boot_info *bi, const struct vm_config *c, struct vm *vm)
{
	char err[200], size[24];

	for (unsigned i = 0; i < c->nr_disks; i++) {
		const struct disk_config *d = &c->disks[i];
		if (d->kind != CFG_DISK_FILE) {
			if (add_host_disk(c, vm, d, i))
				return -1;
			continue;
		}
		const struct boot_module *m = boot_find_module(bi, d->path);
		if (!m || hv_vm_add_disk(vm, (void *)(uintptr_t)m->addr, m->size, d->read_only, err,
					 sizeof(err))) {
			klog("keel.cfg:%u: [vm %s] disk %s: %s", d->line, c->name, d->path,
			     m ? err : "not loaded");
			return -1;
		}
		size_text(m->size, size, sizeof(size));
		klog("vm %s: disk vd%c: %s, %s%s", c->name, 'a' + i, d->path, size,
		     d->read_only ? ", read-only" : "");
	}
	for (unsigned i = 0; i < c->nr_pcis; i++) {
		const struct pci_config *p = &c->pcis[i];
		if (hv_vm_add_pci(vm, p->segment, p->bus, p->dev, p->fn, err, sizeof(err))) {
			klog("keel.cfg:%u: [vm %s] pci = %02x:%02x.%x: %s", p->line, c->name,
			     p->bus, p->dev, p->fn, err);
			return -1;
		}
		klog("vm %s: pci %02x:%02x.%x: passed through, its DMA confined to the VM's RAM by "
		     "the %s",
		     c->name, p->bus, p->dev, p->fn, iommu_hw_vendor());
	}
	for (unsigned i = 0; i < c->nr_nets; i++) {
		const struct net_config *n = &c->nets[i];
		if (hv_vm_add_net(vm, n->sw, n->has_mac ? n->mac : NULL, err, sizeof(err))) {
			klog("keel.cfg:%u: [vm %s] net = %s: %s", n->line, c->name, n->sw, err);
			return -1;
		}
		const uint8_t *mac = vm->nets[i].mac;
		klog("vm %s: net %u: switch %s, mac %02x:%02x:%02x:%02x:%02x:%02x%s", c->name, i,
		     n->sw, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		     n->has_mac ? "" : " (keel's, from the VM's name)");
	}
	bool virtio = c->console == CFG_CONSOLE_VIRTIO;
	if (hv_vm_set_console(vm, virtio ? VM_CONSOLE_VIRTIO : VM_CONSOLE_UART, err, sizeof(err))) {
		klog("keel.cfg:%u: [vm %s] console = %s: %s", c->console_line, c->name,
		     virtio ? "virtio" : "uart", err);
		return -1;
	}
	if (virtio)
		klog("vm %s: console: virtio-console at 00:%02x.0 takes its input; the UART's output "
		     "still shows",
		     c->name, PLATFORM_SLOT_CONSOLE);
	return 0;
}

/* A subsystem attaches a shared namespace to every controller in it, its VFs' too (QEMU's
 * nvme-ns without detached=true): VF k is left with s->ns[k] alone, detached from keel's own
 * namespaces (the PF's) and the other VFs' */
static int detach_others(unsigned nv, const struct sriov_config *s, unsigned k, uint16_t scid,
			 char *why, size_t why_size)
{
	const struct nvme_ctrl *c = nvme_hw_ctrl(nv);

	for (unsigned j = 0; j < c->nr_ns; j++)
		if (c->ns[j].nsid != s->ns[k] &&
		    nvme_hw_attach_ns(nv, c->ns[j].nsid, scid, false, why, why_size))
			return -1;
	for (unsigned j = 0; j < s->nr_ns; j++)
		if (s->ns[j] != s->ns[k] &&
		    nvme_hw_attach_ns(nv, s->ns[j], scid, false, why, why_size))
			return -1;
	return 0;
}

/* One [host] sriov line: for an NVMe controller keel drives, its flexible resources given back
 * first (a reset, before any disk is in use); the VFs enabled and listed; then each VF's
 * secondary controller brought online and its namespace attached. -1 after the keel.cfg:LINE:
 * message. */
static int enable_sriov(const struct sriov_config *s)
{
	struct pci_host *ph = pci_host_table_mut();
	const struct pci_config *pf = &s->pf;
	uint16_t scid[CFG_MAX_VFS];
	char why[200];
	int idx = pci_claim_find(ph, pf->segment, pf->bus, pf->dev, pf->fn), nv = -1, n;

	if (idx < 0) {
		ksnprintf(
			why, sizeof(why),
			"no PCI function %02x:%02x.%x on this machine; expected one keel lists at "
			"boot (keel: pci ...)",
			pf->bus, pf->dev, pf->fn);
		goto fail;
	}
	const struct pci_func *f = &ph->funcs[idx];
	nv = nvme_hw_index_of(f);
	if (f->set_aside_for) {
		ksnprintf(why, sizeof(why),
			  "it is given to [vm %s]; expected a function keel keeps",
			  f->set_aside_for);
		goto fail;
	}
	/* an NVMe PF's secondary controllers come online only through a driver on the PF */
	if (nv < 0 && (f->class_code == PCI_CLASS_NVME || s->nr_ns)) {
		ksnprintf(
			why, sizeof(why),
			"keel does not drive it; expected an NVMe controller keel drives (its VFs "
			"are brought online through it)");
		goto fail;
	}
	if (nv >= 0 && nvme_hw_sriov_release((unsigned)nv, why, sizeof(why)))
		goto fail;
	n = pci_host_enable_vfs((unsigned)idx, s->nr_vfs, why, sizeof(why));
	if (n < 0)
		goto fail;
	if ((unsigned)n != s->nr_vfs) {
		ksnprintf(why, sizeof(why), "only %d of its %u VFs answer", n, s->nr_vfs);
		goto fail;
	}
	if (nv < 0)
		return 0;
	if (nvme_hw_sriov_online((unsigned)nv, s->nr_vfs, scid, why, sizeof(why)))
		goto fail;
	for (unsigned k = 0; k < s->nr_vfs; k++) {
		if (k < s->nr_ns &&
		    nvme_hw_attach_ns((unsigned)nv, s->ns[k], scid[k], true, why, sizeof(why)))
			goto fail;
		if (k < s->nr_ns && detach_others((unsigned)nv, s, k, scid[k], why, sizeof(why)))
			goto fail;
		if (k < s->nr_ns)
			klog("keel: nvme%d: VF %u online as controller %u, namespace %u attached to it",
			     nv, k + 1, scid[k], s->ns[k]);
		else
			klog("keel: nvme%d: VF %u online as controller %u", nv, k + 1, scid[k]);
	}
	return 0;
fail:
	klog("keel.cfg:%u: [host] sriov = %02x:%02x.%x %u: %s", s->line, pf->bus, pf->dev, pf->fn,
	     s->nr_vfs, why);
	return -1;
}

int launch_sriov(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->config->nr_sriovs; i++)
		if (enable_sriov(&bi->config->sriovs[i]))
			return -1;
	return 0;
}

void launch_set_aside_pci(const struct boot_info *bi)
{
	const struct keel_config *cfg = bi->config;

	for (unsigned i = 0; i < cfg->nr_vms; i++)
		for (unsigned n = 0; n < cfg->vms[i].nr_pcis; n++) {
			const struct pci_config *p = &cfg->vms[i].pcis[n];
			if (pci_claim_set_aside(pci_host_table_mut(), p->segment, p->bus, p->dev,
						p->fn, cfg->vms[i].name))
				klog("keel: pci %02x:%02x.%x set aside for vm %s (keel.cfg:%u): "
				     "keel's drivers leave it alone",
				     p->bus, p->dev, p->fn, cfg->vms[i].name, p->line);
		}
}

int launch_vms(const struct boot_info *bi, struct vm **vms)
{
	const struct keel_config *cfg = bi->config;
	char err[200];

	/* the switches keel.cfg has sections for, in file order; a VM's net creates the others */
	for (unsigned i = 0; i < cfg->nr_switches; i++) {
		const struct switch_config *s = &cfg->switches[i];
		if (hv_switch_create(s->name, err, sizeof(err))) {
			klog("keel.cfg:%u: [switch %s] %s", s->line, s->name, err);
			return -1;
		}
		if (s->has_uplink && hv_switch_set_uplink(s->name, s->uplink_nic,
							  s->uplink_by_mac ? s->uplink_mac : NULL,
							  err, sizeof(err))) {
			klog("keel.cfg:%u: [switch %s] uplink: %s", s->uplink_line, s->name, err);
			return -1;
		}
		if (s->has_uplink)
			klog("keel: switch %s: uplink nic%u", s->name,
			     s->uplink_by_mac ? (unsigned)nic_hw_find_mac(s->uplink_mac)
					      : s->uplink_nic);
	}

	for (unsigned i = 0; i < cfg->nr_vms; i++) {
		const struct vm_config *c = &cfg->vms[i];
		const struct boot_module *kernel = boot_find_module(bi, c->kernel);
		const struct boot_module *initrd =
			c->initrd[0] ? boot_find_module(bi, c->initrd) : NULL;
		unsigned line = c->line;
		struct vm *vm = hv_vm_create(c->name, err, sizeof(err));
		if (!vm)
			goto fail;
		vms[i] = vm;
		hv_vm_set_exit_port(vm, c->exit_port);
		hv_vm_set_crash_policy(vm, c->on_crash_restart, c->restart_limit);
		hv_vm_set_reboot_policy(vm, c->on_reboot_restart);
		struct wall_time t;
		if (bi->firmware_get_time && !bi->firmware_get_time(&t))
			hv_vm_set_wall_clock(vm, &t);
		for (unsigned n = 0; n < c->cpus; n++) {
			struct vcpu *v = hv_vcpu_create(vm, err, sizeof(err));
			if (!v) {
				line = c->cpus_line ? c->cpus_line : c->line;
				goto fail;
			}
			if (n < c->nr_pins && hv_vcpu_pin(v, c->pins[n], err, sizeof(err))) {
				klog("keel.cfg:%u: pin = %u: %s; expected a CPU number keel printed at "
				     "boot",
				     c->pin_line, c->pins[n], err);
				return -1;
			}
		}
		line = c->memory_line;
		if (hv_vm_setup_memory(vm, c->memory, err, sizeof(err)))
			goto fail;
		line = c->kernel_line;
		if (!kernel || hv_vm_load_kernel(vm, (const void *)(uintptr_t)kernel->addr,
						 kernel->size, c->cmdline, err, sizeof(err)))
			goto fail;
		line = c->initrd_line;
		if (initrd && hv_vm_load_initrd(vm, (const void *)(uintptr_t)initrd->addr,
						initrd->size, err, sizeof(err)))
			goto fail;
		klog("vm %s: %llu MiB, %u vCPU%s, kernel %s (%s)%s%s", c->name,
		     (unsigned long long)(c->memory >> 20), c->cpus, c->cpus > 1 ? "s" : "",
		     c->kernel, vm->kernel_format, initrd ? ", initrd " : "",
		     initrd ? c->initrd : "");
		if (add_io(bi, c, vm))
			return -1;
		continue;
fail:
		klog("keel.cfg:%u: [vm %s] %s", line, c->name, kernel ? err : "kernel not loaded");
		return -1;
	}
	return 0;
}

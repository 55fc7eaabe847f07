/* keel's C API: how a VM is built and run. The keel.cfg launcher (core/launch.c) uses exactly
 * these calls, in this order; anything that wants a VM (a test, a future shell command) does too.
 *
 *	char err[160];
 *	if (hv_init(err, sizeof(err)))                   // once: pick AMD-V or VT-x, enable it
 *		fail(err);
 *	struct vm *vm = hv_vm_create("demo", err, sizeof(err));
 *	struct vcpu *boot = hv_vcpu_create(vm, err, sizeof(err));   // vCPU 0 boots the kernel
 *	hv_vcpu_create(vm, err, sizeof(err));            // more vCPUs: APs waiting for a SIPI
 *	hv_vm_setup_memory(vm, 256 * MiB, err, sizeof(err));        // RAM + stage-2 tables
 *	hv_vm_load_kernel(vm, image, image_size, "console=ttyS0", err, sizeof(err));
 *	hv_vm_load_initrd(vm, initrd, initrd_size, err, sizeof(err)); // optional
 *	hv_vm_add_disk(vm, image, image_size, false, err, sizeof(err)); // optional: vda, vdb ...
 *	hv_vm_add_net(vm, "lan", NULL, err, sizeof(err)); // optional: virtio-net on switch lan
 *	hv_vm_run(vm);                                   // until the guest powers off or stops
 *	hv_vm_destroy(vm);
 *
 * Several VMs run side by side with hv_run(vms, n); hv_vcpu_pin before it fixes a vCPU's CPU.
 *
 * Every call but hv_vm_run returns 0 (or the object) on success and -1 (NULL) with a one-line
 * reason in err; a VM whose set-up failed must be destroyed, never run. Loading the kernel sets
 * the boot vCPU's entry state from the kernel's format (bzImage, PVH ELF or Multiboot ELF, found
 * from the content); loading an initrd afterwards loads the kernel again together with it,
 * because each boot protocol records the initrd's place in the kernel's boot structures. */
#ifndef KEEL_CORE_HV_API_H
#define KEEL_CORE_HV_API_H

#include "core/boot_info.h"
#include "core/vm.h"
#include "lib/types.h"

int hv_init(char *err, size_t err_size);
struct vm *hv_vm_create(const char *name, char *err, size_t err_size);
struct vcpu *hv_vcpu_create(struct vm *vm, char *err, size_t err_size);
int hv_vm_setup_memory(struct vm *vm, uint64_t bytes, char *err, size_t err_size);
int hv_vm_load_kernel(struct vm *vm, const void *image, size_t size, const char *cmdline, char *err,
		      size_t err_size);
int hv_vm_load_initrd(struct vm *vm, const void *image, size_t size, char *err, size_t err_size);
/* Options that are not part of the boot sequence */
void hv_vm_set_exit_port(struct vm *vm, bool enabled);
/* The time the guest's RTC shows when the VM starts (default: 2000-01-01 00:00:00). */
void hv_vm_set_wall_clock(struct vm *vm, const struct wall_time *t);
/* on_crash: after a crash, rebuild the VM from its images and start it again, at most limit
 * times (default: stop; keel.cfg's on_crash and restart_limit). */
void hv_vm_set_crash_policy(struct vm *vm, bool restart, unsigned limit);
/* on_reboot: after the guest resets its machine (0xCF9, the keyboard controller, port 0x92, the
 * ACPI reset register), rebuild and start it again, as often as it asks (default), or stop it. */
void hv_vm_set_reboot_policy(struct vm *vm, bool restart);
/* Guest I/O (the device models attach to what these record):
 * A virtio-blk disk over an image in keel's memory (not a VM's RAM), size a non-zero multiple of
 * 512 bytes; vda, vdb ... in the order of the calls, at most VM_MAX_DISKS. A writable disk's
 * writes land in image and stay there until keel stops, across restarts of the VM: image must
 * live that long and have no other writer. */
int hv_vm_add_disk(struct vm *vm, void *image, size_t size, bool read_only, char *err,
		   size_t err_size);
/* The same over a block backend the caller made (io/blk.h: a host NVMe namespace or partition):
 * the VM owns it from here and gives it back with blk_release when it is destroyed; on failure
 * (-1, why in err) it stays the caller's. */
/* Passes host PCI function segment:bus:dev.fn to the VM (keel.cfg `pci =`): it must be an endpoint
 * nobody else holds, behind an IOMMU; its DMA then reaches the VM's RAM only. -1 with why in err
 * ("00:04.0 is driven by keel ...": docs/config.md "Passthrough"). */
int hv_vm_add_pci(struct vm *vm, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn, char *err,
		  size_t err_size);
struct blk_backend;
int hv_vm_add_disk_backend(struct vm *vm, struct blk_backend *disk, char *err, size_t err_size);
/* A virtio-net device (PCI, after the disks) whose port joins keel's Ethernet switch switch_name
 * (a keel.cfg name: 1-31 letters, digits, '-', '_'; created on first mention) while the VM runs,
 * with mac (6 bytes, unicast, not zero) or NULL for keel's: net_mac_for(the VM's name, the net's
 * index), the same on every boot. At most VM_MAX_NETS per VM, NET_MAX_SWITCHES switches and
 * NET_SWITCH_MAX_PORTS nets on one switch (-1, with why in err). */
int hv_vm_add_net(struct vm *vm, const char *switch_name, const uint8_t *mac, char *err,
		  size_t err_size);
/* keel's Ethernet switch name (keel.cfg's [switch NAME]) exists: 0, or -1 with why in err (a bad
 * name, or NET_MAX_SWITCHES switches exist already). */
int hv_switch_create(const char *name, char *err, size_t err_size);
/* Bridges switch name (created if need be) to the wire through keel's host NIC nic, or the one
 * whose MAC is mac when mac is not NULL (drivers/nic_hw.h); the uplink takes one of the switch's
 * ports and stays while keel runs. -1 with why in err: no such NIC, the NIC uplinks another
 * switch, the switch is full. */
int hv_switch_set_uplink(const char *name, unsigned nic, const uint8_t *mac, char *err,
			 size_t err_size);
/* The guest's console (default VM_CONSOLE_UART). VM_CONSOLE_VIRTIO adds a virtio console at PCI
 * 00:1f.0 (vdev/virtio/console.h) that takes the VM's console input; the UART stays, and the
 * output of both reaches the VM's console. -1 (why in err) for another value. */
int hv_vm_set_console(struct vm *vm, enum vm_console mode, char *err, size_t err_size);
/* The VM's virtio-balloon (every VM has one, at PCI 00:1e.0) asks the guest to leave it `bytes`
 * of its memory: the guest inflates its balloon by the rest, and the pages it gives go back to
 * keel's free memory; a larger size lets it deflate. bytes: whole 4 KiB pages, from
 * VM_BALLOON_MIN_SIZE (64 MiB, or the VM's memory if less) to the VM's memory; -1 with why in err
 * otherwise, or before hv_vm_setup_memory. Kept across restarts; the guest follows when its
 * driver runs. */
int hv_vm_set_balloon_target(struct vm *vm, uint64_t bytes, char *err, size_t err_size);
/* Back to the state right after loading: RAM zeroed, kernel and initrd loaded again, vCPUs at
 * their entry state. hv_vm_run uses it for restarts. */
int hv_vm_rebuild(struct vm *vm, char *err, size_t err_size);
/* vCPU v runs on physical CPU cpu (keel's 0-based numbering), time-sliced with any other vCPU
 * there; -1 when cpu is not online. Default: the scheduler gives each vCPU a CPU of its own while
 * there are enough (core/sched.h). */
int hv_vcpu_pin(struct vcpu *v, unsigned cpu, char *err, size_t err_size);
/* Runs the VMs side by side until every one has stopped (restarting each as its crash policy
 * says, or as keel's shell asks). Once: the VMs keep the CPUs it placed them on. */
void hv_run(struct vm **vms, unsigned nr);
/* hv_run of one VM; returns why it stopped (VM_STOP_* of vdev/vdev.h). */
int hv_vm_run(struct vm *vm);
/* Gives back everything the VM took: its RAM, stage-2 tables, vCPUs (VMCB or VMCS, FPU area),
 * devices (their switch ports detached first), disk backends (not their images) and console
 * buffer, and the VM structure itself. For a VM that never ran, or once
 * hv_run (hv_vm_run) has returned; on the CPU the VM was built on. */
void hv_vm_destroy(struct vm *vm);

#endif

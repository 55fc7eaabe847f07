/* The guest I/O part of the C API (core/hv_api.h): disk backends, virtio-net devices with the
 * switches their ports join, and the console choice a VM's device models find on struct vm. The
 * platform (vdev/platform.c) plugs them in at each life's start. */
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/vm_io.h"
#include "drivers/nic_hw.h"
#include "io/blk_mem.h"
#include "io/net_switch.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/phys.h"
#include "vdev/virtio/net.h"

/* keel's Ethernet switches (io/net_switch.h): all zeros is an empty registry (net_registry_init),
 * and a switch lives as long as keel. */
static struct net_registry switches;
/* Nets the VMs have on each switch (by registry index): each may attach its port whenever its VM
 * runs, so their number, not the ports attached at one moment, must fit a switch. Changed only
 * while VMs are built and destroyed, on one CPU. */
static unsigned switch_nets[NET_MAX_SWITCHES];

_Static_assert(sizeof(((struct vm_net *)0)->mac) == NET_MAC_LEN, "a MAC is 6 bytes");

/* blk_mem structures come from keel's page allocator, one page each (kmem's unit) */
static void release_mem_disk(struct blk_backend *b)
{
	kmem_free_pages(b, sizeof(struct blk_mem)); /* b is the struct's first member */
}

int hv_vm_add_disk(struct vm *vm, void *image, size_t size, bool read_only, char *err,
		   size_t err_size)
{
	if (vm->nr_disks == VM_MAX_DISKS)
		return kfail(err, err_size, "more than %d disks", VM_MAX_DISKS);
	if (!image || size == 0 || size % BLK_SECTOR_SIZE)
		return kfail(err, err_size,
			     "disk image of %zu bytes; expected a non-zero multiple of %u bytes",
			     size, BLK_SECTOR_SIZE);
	struct blk_mem *m = kmem_alloc_pages(sizeof(*m), PAGE_SIZE);
	if (!m)
		return kfail(err, err_size, "out of memory for a disk backend");
	blk_mem_init(m, image, size, read_only);
	m->blk.release = release_mem_disk;
	vm->disks[vm->nr_disks++] = &m->blk;
	return 0;
}

int hv_vm_add_disk_backend(struct vm *vm, struct blk_backend *disk, char *err, size_t err_size)
{
	if (vm->nr_disks == VM_MAX_DISKS)
		return kfail(err, err_size, "more than %d disks", VM_MAX_DISKS);
	if (!disk || !disk->ops || !disk->sectors)
		return kfail(err, err_size, "an empty disk backend; expected one with sectors");
	vm->disks[vm->nr_disks++] = disk;
	return 0;
}

/* The switch called name, created on first mention; NULL after writing why into err. */
static struct net_switch *switch_named(const char *name, char *err, size_t err_size)
{
	if (!name || !config_name_ok(name, strlen(name))) {
		kfail(err, err_size,
		      "bad switch name; expected 1 to %d letters, digits, '-' or '_'",
		      CFG_NAME_MAX);
		return NULL;
	}
	struct net_switch *sw = net_switch_find_or_create(&switches, name);
	if (!sw)
		kfail(err, err_size,
		      "more than %d switches; expected at most %d different switch names",
		      NET_MAX_SWITCHES, NET_MAX_SWITCHES);
	return sw;
}

int hv_switch_create(const char *name, char *err, size_t err_size)
{
	return switch_named(name, err, err_size) ? 0 : -1;
}

int hv_switch_set_uplink(const char *name, unsigned nic, const uint8_t *mac, char *err,
			 size_t err_size)
{
	struct net_switch *sw = switch_named(name, err, err_size);
	if (!sw)
		return -1;
	unsigned s = (unsigned)(sw - switches.sw);
	if (mac) {
		int i = nic_hw_find_mac(mac);
		if (i < 0)
			return kfail(
				err, err_size,
				"no NIC of keel has mac %02x:%02x:%02x:%02x:%02x:%02x; expected "
				"one keel listed at boot",
				mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		nic = (unsigned)i;
	}
	if (switch_nets[s] == NET_SWITCH_MAX_PORTS)
		return kfail(err, err_size, "switch %s has %d ports already", sw->name,
			     NET_SWITCH_MAX_PORTS);
	if (nic_hw_attach(nic, sw, err, err_size))
		return -1;
	switch_nets[s]++; /* for good: the uplink stays as long as keel runs */
	return 0;
}

int hv_vm_add_net(struct vm *vm, const char *switch_name, const uint8_t *mac, char *err,
		  size_t err_size)
{
	if (vm->nr_nets == VM_MAX_NETS)
		return kfail(err, err_size, "more than %d nets", VM_MAX_NETS);
	if (mac && !config_mac_ok(mac))
		return kfail(err, err_size, "mac is multicast or zero; expected a unicast address");
	struct net_switch *sw = switch_named(switch_name, err, err_size);
	if (!sw)
		return -1;
	unsigned s = (unsigned)(sw - switches.sw);
	if (switch_nets[s] == NET_SWITCH_MAX_PORTS)
		return kfail(
			err, err_size,
			"switch %s has %d nets already; expected at most %d nets on one switch",
			sw->name, NET_SWITCH_MAX_PORTS, NET_SWITCH_MAX_PORTS);
	/* the device with its port's 64 KiB ring: the VM's own pages, back in hv_vm_destroy */
	struct virtio_net *dev = kmem_alloc_pages(sizeof(*dev), PAGE_SIZE);
	if (!dev)
		return kfail(err, err_size, "out of memory for a virtio-net device");
	switch_nets[s]++;
	struct vm_net *n = &vm->nets[vm->nr_nets];
	kstrlcpy(n->switch_name, sw->name, sizeof(n->switch_name));
	n->sw = sw;
	n->dev = dev;
	n->has_mac = mac != NULL;
	if (mac)
		memcpy(n->mac, mac, sizeof(n->mac));
	else
		net_mac_for(vm->name, vm->nr_nets, n->mac);
	vm->nr_nets++;
	return 0;
}

int hv_vm_set_console(struct vm *vm, enum vm_console mode, char *err, size_t err_size)
{
	if (mode != VM_CONSOLE_UART && mode != VM_CONSOLE_VIRTIO)
		return kfail(err, err_size, "bad console mode; expected uart or virtio");
	vm->console = mode;
	return 0;
}

void vm_io_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_disks; i++) {
		blk_release(vm->disks[i]);
		vm->disks[i] = NULL;
	}
	vm->nr_disks = 0;
	/* the platform detached the ports (platform_fini) before this */
	for (unsigned i = 0; i < vm->nr_nets; i++) {
		struct vm_net *n = &vm->nets[i];
		kmem_free_pages(n->dev, sizeof(*n->dev));
		switch_nets[n->sw - switches.sw]--;
		n->dev = NULL;
		n->sw = NULL;
	}
	vm->nr_nets = 0;
}

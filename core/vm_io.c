/* The guest I/O part of the C API (core/hv_api.h): disk backends, network ports and the console
 * choice a VM's device models find on struct vm. No device exists here; this is what they plug
 * into. */
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/vm_io.h"
#include "io/blk_mem.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/phys.h"

static int fail(char *err, size_t n, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* blk_mem structures come from keel's page allocator, one page each (kmem's unit) */
static void release_mem_disk(struct blk_backend *b)
{
	kmem_free_pages(b, sizeof(struct blk_mem)); /* b is the struct's first member */
}

int hv_vm_add_disk(struct vm *vm, void *image, size_t size, bool read_only, char *err,
		   size_t err_size)
{
	if (vm->nr_disks == VM_MAX_DISKS)
		return fail(err, err_size, "more than %d disks", VM_MAX_DISKS);
	if (!image || size == 0 || size % BLK_SECTOR_SIZE)
		return fail(err, err_size,
			    "disk image of %zu bytes; expected a non-zero multiple of %u bytes",
			    size, BLK_SECTOR_SIZE);
	struct blk_mem *m = kmem_alloc_pages(sizeof(*m), PAGE_SIZE);
	if (!m)
		return fail(err, err_size, "out of memory for a disk backend");
	blk_mem_init(m, image, size, read_only);
	m->blk.release = release_mem_disk;
	vm->disks[vm->nr_disks++] = &m->blk;
	return 0;
}

int hv_vm_add_net(struct vm *vm, const char *switch_name, const uint8_t *mac, char *err,
		  size_t err_size)
{
	if (vm->nr_nets == VM_MAX_NETS)
		return fail(err, err_size, "more than %d nets", VM_MAX_NETS);
	if (!switch_name || !config_name_ok(switch_name, strlen(switch_name)))
		return fail(err, err_size,
			    "bad switch name; expected 1 to %d letters, digits, '-' or '_'",
			    CFG_NAME_MAX);
	if (mac && !config_mac_ok(mac))
		return fail(err, err_size, "mac is multicast or zero; expected a unicast address");
	/* the switch exists (io/net_switch.c), the device that would attach to it does not: a VM
	 * started without the network it was promised would be half configured */
	if (!VM_HAS_VIRTIO_NET)
		return fail(err, err_size,
			    "keel has no virtio-net device yet; expected no net key (the VM's only "
			    "link is its serial console for now)");
	struct vm_net *n = &vm->nets[vm->nr_nets++];
	kstrlcpy(n->sw, switch_name, sizeof(n->sw));
	n->has_mac = mac != NULL;
	if (mac)
		memcpy(n->mac, mac, sizeof(n->mac));
	return 0;
}

int hv_vm_set_console(struct vm *vm, enum vm_console mode, char *err, size_t err_size)
{
	if (mode == VM_CONSOLE_VIRTIO)
		return fail(err, err_size,
			    "keel has no virtio-console device yet; expected console = uart");
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
	vm->nr_nets = 0;
}

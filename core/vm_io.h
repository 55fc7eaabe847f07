/* Inside core: the guest I/O a VM holds (core/vm_io.c; its public calls are in core/hv_api.h). */
#ifndef KEEL_CORE_VM_IO_H
#define KEEL_CORE_VM_IO_H

struct vm;

/* Gives back the VM's disk backends (their images stay: they are the boot stage's) and its
 * virtio-net devices, whose ports the platform must have detached (platform_fini). */
void vm_io_destroy(struct vm *vm);

#endif

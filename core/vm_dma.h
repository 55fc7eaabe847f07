/* A VM's IOMMU domain (drivers/iommu_hw.h): what the PCI functions passed to the VM may DMA into,
 * its RAM at guest-physical addresses and nothing else. Built from stage 2 when the VM gets its
 * first function, then kept in step with it: a page the balloon takes leaves the domain before
 * its frame can be keel's again (the balloon's flush drops the units' cached translations along
 * with the vCPUs'), a page the balloon gives back joins it. */
#ifndef KEEL_CORE_VM_DMA_H
#define KEEL_CORE_VM_DMA_H

#include "lib/types.h"

struct vm;

/* vm->dma mapping every leaf of vm->stage2 (its RAM); 0 when it is there already, -1 with err. */
int vm_dma_setup(struct vm *vm, char *err, size_t err_size);
/* The balloon's hooks (core/balloon_mem.h): no-ops while the VM has no domain. */
int vm_dma_page_unmapped(struct vm *vm, uint64_t gpa);
int vm_dma_page_mapped(struct vm *vm, uint64_t gpa, uint64_t hpa);
/* Drops the units' translations of pages unmapped since the last call (the balloon's flush). */
void vm_dma_flush(struct vm *vm);
/* Gives the domain back: no function may be attached to it any more. */
void vm_dma_destroy(struct vm *vm);

#endif

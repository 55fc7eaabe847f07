/* A VM's IOMMU domain, in step with its stage 2 (core/vm_dma.h). */
#include "core/vm_dma.h"

#include "core/vm.h"
#include "drivers/iommu_hw.h"
#include "lib/fmt.h"
#include "mm/phys.h"

static int map_leaf(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct vm *vm = ctx;
	return iommu_domain_map(vm->dma, gpa, hpa, size);
}

int vm_dma_setup(struct vm *vm, char *err, size_t err_size)
{
	if (vm->dma)
		return 0;
	vm->dma = iommu_domain_new();
	if (!vm->dma)
		return kfail(err, err_size, "%s",
			     iommu_hw_active() ? "no IOMMU domain left (out of IDs or memory)"
					       : "no IOMMU translates DMA on this machine");
	/* under the VM's lock: the balloon changes stage 2 only under it */
	vm_lock(vm);
	int rc = stage2_for_each_leaf(&vm->stage2, map_leaf, vm);
	vm_unlock(vm);
	if (rc) {
		vm_dma_destroy(vm);
		return kfail(err, err_size, "out of memory for its IOMMU tables");
	}
	return 0;
}

int vm_dma_page_unmapped(struct vm *vm, uint64_t gpa)
{
	if (!vm->dma)
		return 0;
	vm->dma_stale = true;
	/* a split that found no table page: the page stays the guest's (balloon_mem maps it back) */
	return iommu_domain_unmap(vm->dma, gpa, PAGE_SIZE, false);
}

int vm_dma_page_mapped(struct vm *vm, uint64_t gpa, uint64_t hpa)
{
	return vm->dma ? iommu_domain_map(vm->dma, gpa, hpa, PAGE_SIZE) : 0;
}

void vm_dma_flush(struct vm *vm)
{
	if (vm->dma && vm->dma_stale) {
		iommu_domain_flush(vm->dma);
		vm->dma_stale = false;
	}
}

void vm_dma_destroy(struct vm *vm)
{
	if (!vm->dma)
		return;
	iommu_domain_free(vm->dma);
	vm->dma = NULL;
}

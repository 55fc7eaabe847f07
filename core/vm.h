/* VMs and vCPUs, and the public C API keel's own config launcher uses (core/hv_api.h). */
#ifndef KEEL_CORE_VM_H
#define KEEL_CORE_VM_H

#include "core/config.h"
#include "core/gmem.h"
#include "core/vcpu_state.h"
#include "core/vm_exit.h"
#include "mm/stage2.h"

#define VM_MAX_VCPUS 1

enum vm_state {
	VM_CREATED,
	VM_RUNNING,
	VM_STOPPED,
};

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	struct vcpu_regs regs;
	void *arch; /* the backend's per-vCPU state (VMCB, VMCS ...) */
	uint64_t exits[NR_EXIT_REASONS];
	bool halted;
};

struct vm {
	char name[CFG_NAME_MAX + 1];
	enum vm_state state;
	uint64_t memory;
	uint64_t ram_hpa[GMEM_MAX_REGIONS]; /* host RAM behind each guest_mem region */
	struct guest_mem mem;
	struct stage2 stage2;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned nr_vcpus;
	bool exit_port;
	struct platform *platform;
	/* why the VM stopped, for the log */
	int exit_code;
	bool has_exit_code;
};

#endif

/* The keel.cfg launcher: builds every VM of the configuration through the public C API
 * (core/hv_api.h), all of them before any runs, so a bad file or kernel starts nothing. */
#include "core/launch.h"

#include "arch/x86/percpu.h"
#include "core/hv_api.h"
#include "lib/log.h"

int launch_vms(const struct boot_info *bi, struct vm **vms)
{
	const struct keel_config *cfg = bi->config;
	char err[200];

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
		continue;
fail:
		klog("keel.cfg:%u: [vm %s] %s", line, c->name, kernel ? err : "kernel not loaded");
		return -1;
	}
	return 0;
}

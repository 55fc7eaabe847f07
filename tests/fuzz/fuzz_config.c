/* keel.cfg parser: any bytes must give a config or an error with a line inside the file, never a
 * crash, an overrun or an unterminated string. */
#include "core/config.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has_dotdot(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i + 1 < n; i++)
		if (path[i] == '.' && path[i + 1] == '.' && (i == 0 || path[i - 1] == '/') &&
		    (i + 2 == n || path[i + 2] == '/'))
			return 1;
	return path[0] == '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keel_config cfg;
	struct config_error err;
	struct config_limits limits = { .max_cpus = 8 };
	/* exact-size copy so ASan catches any read past the end */
	char *text = malloc(size ? size : 1);
	memcpy(text, data, size);

	if (config_parse(text, size, &limits, &cfg, &err) == 0) {
		if (cfg.nr_vms == 0 || cfg.nr_vms > CFG_MAX_VMS)
			abort();
		for (unsigned i = 0; i < cfg.nr_vms; i++) {
			const struct vm_config *vm = &cfg.vms[i];
			if (!vm->name[0] || !vm->kernel[0] || vm->memory < CFG_MEMORY_MIN ||
			    vm->cpus < 1 || vm->cpus > limits.max_cpus ||
			    strlen(vm->cmdline) > CFG_CMDLINE_MAX || has_dotdot(vm->kernel) ||
			    has_dotdot(vm->initrd))
				abort();
			/* the I/O keys: within their limits, only files, only good addresses */
			if (vm->nr_disks > CFG_MAX_DISKS || vm->nr_nets > CFG_MAX_NETS ||
			    vm->nr_macs > vm->nr_nets)
				abort();
			for (unsigned j = 0; j < vm->nr_disks; j++)
				if (vm->disks[j].kind != CFG_DISK_FILE || !vm->disks[j].path[0] ||
				    has_dotdot(vm->disks[j].path))
					abort();
			for (unsigned j = 0; j < vm->nr_nets; j++)
				if (!config_name_ok(vm->nets[j].sw, strlen(vm->nets[j].sw)) ||
				    vm->nets[j].has_mac != (j < vm->nr_macs) ||
				    (vm->nets[j].has_mac && !config_mac_ok(vm->nets[j].mac)))
					abort();
		}
		/* no switch reaches here with an uplink: keel has no NIC driver to back it */
		for (unsigned j = 0; j < cfg.nr_switches; j++)
			if (cfg.switches[j].has_uplink)
				abort();
		config_check_memory(&cfg, 1ull << 32, &err);
	} else {
		unsigned lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		if (err.line < 1 || err.line > lines || !err.msg[0] ||
		    strlen(err.msg) >= sizeof(err.msg))
			abort();
	}
	free(text);
	return 0;
}

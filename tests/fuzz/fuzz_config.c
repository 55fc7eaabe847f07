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

/* A disk as the parser may give it: a sane file path, a printable label, a namespace from 1 */
static int bad_disk(const struct disk_config *d)
{
	size_t n = strlen(d->path);

	switch (d->kind) {
	case CFG_DISK_FILE:
		return !d->path[0] || has_dotdot(d->path);
	case CFG_DISK_PART:
		if (n == 0 || n > CFG_LABEL_MAX)
			return 1;
		for (size_t i = 0; i < n; i++)
			if (d->path[i] < 0x20 || d->path[i] > 0x7e)
				return 1;
		return 0;
	case CFG_DISK_NVME:
		return d->nsid == 0;
	}
	return 1;
}

/* a host partition or namespace named by two disks of the file */
static int host_disk_twice(const struct keel_config *cfg, const struct disk_config *d)
{
	for (unsigned i = 0; i < cfg->nr_vms; i++)
		for (unsigned j = 0; j < cfg->vms[i].nr_disks; j++) {
			const struct disk_config *e = &cfg->vms[i].disks[j];

			if (e == d || e->kind != d->kind)
				continue;
			if ((d->kind == CFG_DISK_PART && !strcmp(e->path, d->path)) ||
			    (d->kind == CFG_DISK_NVME && e->nsid == d->nsid))
				return 1;
		}
	return 0;
}

/* a pci function out of range, or named twice in the file (in one VM or two) */
static int bad_pci(const struct keel_config *cfg, const struct pci_config *c)
{
	if (c->segment != 0 || c->dev > 0x1f || c->fn > 7 || c->line == 0)
		return 1;
	for (unsigned i = 0; i < cfg->nr_vms; i++)
		for (unsigned j = 0; j < cfg->vms[i].nr_pcis; j++) {
			const struct pci_config *e = &cfg->vms[i].pcis[j];

			if (e != c && e->segment == c->segment && e->bus == c->bus &&
			    e->dev == c->dev && e->fn == c->fn)
				return 1;
		}
	return 0;
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
			/* the I/O keys: within their limits, good disks, each host disk and PCI
			 * function once, only good addresses */
			if (vm->nr_disks > CFG_MAX_DISKS || vm->nr_nets > CFG_MAX_NETS ||
			    vm->nr_macs > vm->nr_nets || vm->nr_pcis > CFG_MAX_PCI)
				abort();
			for (unsigned j = 0; j < vm->nr_pcis; j++)
				if (bad_pci(&cfg, &vm->pcis[j]))
					abort();
			for (unsigned j = 0; j < vm->nr_disks; j++)
				if (bad_disk(&vm->disks[j]) ||
				    (vm->disks[j].kind != CFG_DISK_FILE &&
				     host_disk_twice(&cfg, &vm->disks[j])))
					abort();
			for (unsigned j = 0; j < vm->nr_nets; j++)
				if (!config_name_ok(vm->nets[j].sw, strlen(vm->nets[j].sw)) ||
				    vm->nets[j].has_mac != (j < vm->nr_macs) ||
				    (vm->nets[j].has_mac && !config_mac_ok(vm->nets[j].mac)))
					abort();
		}
		/* uplinks: a NIC number in range or a unicast MAC, each NIC in one switch */
		for (unsigned j = 0; j < cfg.nr_switches; j++) {
			const struct switch_config *a = &cfg.switches[j];

			if (!a->has_uplink)
				continue;
			if (a->uplink_by_mac ? !config_mac_ok(a->uplink_mac)
					     : a->uplink_nic > CFG_MAX_NIC_NUMBER)
				abort();
			for (unsigned k = 0; k < j; k++) {
				const struct switch_config *b = &cfg.switches[k];

				if (b->has_uplink && b->uplink_by_mac == a->uplink_by_mac &&
				    (a->uplink_by_mac ? !memcmp(a->uplink_mac, b->uplink_mac, 6)
						      : a->uplink_nic == b->uplink_nic))
					abort();
			}
		}
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

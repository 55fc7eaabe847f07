/* keel.cfg: the INI-style file that names the VMs keel starts (syntax: CONVENTIONS.md, keys:
 * docs/config.md). The parser is pure logic: it builds the config or reports the first error with
 * its line, and never starts anything half-configured. */
#ifndef KEEL_CORE_CONFIG_H
#define KEEL_CORE_CONFIG_H

#include "lib/types.h"

#define CFG_MAX_VMS 16
/* vCPUs per VM: the virtual platform has 8 local APICs (vdev/platform.h PLATFORM_MAX_CPUS) */
#define CFG_MAX_VCPUS 8
#define CFG_NAME_MAX 31
#define CFG_PATH_MAX 127
#define CFG_CMDLINE_MAX 2047
#define CFG_MEMORY_MIN (16 * MiB)
#define CFG_MEMORY_MAX (1024 * GiB)
#define CFG_MEMORY_ALIGN (2 * MiB) /* keeps every VM mappable with 2 MiB stage-2 pages */
#define CFG_ERROR_MAX 200
#define CFG_RESTART_LIMIT_DEFAULT 3
#define CFG_RESTART_LIMIT_MAX 1000
#define CFG_MAX_PINS 64
#define CFG_MAX_CPU_NUMBER 255

struct vm_config {
	char name[CFG_NAME_MAX + 1];
	unsigned line; /* the [vm NAME] header */
	uint64_t memory;
	unsigned memory_line;
	unsigned cpus;
	unsigned cpus_line;
	char kernel[CFG_PATH_MAX + 1];
	unsigned kernel_line;
	char initrd[CFG_PATH_MAX + 1]; /* "" when the VM has none */
	unsigned initrd_line;
	char cmdline[CFG_CMDLINE_MAX + 1];
	bool exit_port;
	bool on_crash_restart;	/* on_crash = restart (default stop) */
	bool on_reboot_restart; /* on_reboot = restart (the default) or stop */
	unsigned restart_limit; /* restarts allowed after crashes and resets */
	unsigned nr_pins;	/* 0: keel picks the CPUs */
	unsigned pins[CFG_MAX_PINS];
	unsigned pin_line;
};

struct keel_config {
	unsigned nr_vms;
	struct vm_config vms[CFG_MAX_VMS];
};

/* What the running keel can offer; values above these are config errors. */
struct config_limits {
	unsigned max_cpus; /* vCPUs one VM may have */
};

struct config_error {
	unsigned line;
	char msg[CFG_ERROR_MAX]; /* "what is wrong; what was expected", without the "keel.cfg:LINE: " */
};

/* Parses len bytes of text (no terminator needed). Returns 0, or -1 with *err filled. */
int config_parse(const char *text, size_t len, const struct config_limits *limits,
		 struct keel_config *out, struct config_error *err);

/* Checks that the VMs' memory fits in host_free_bytes together; -1 with *err at the memory line of
 * the first VM that does not fit. */
int config_check_memory(const struct keel_config *cfg, uint64_t host_free_bytes,
			struct config_error *err);

/* Parses a size with a mandatory binary suffix (K, M, G, T), e.g. "512M". 0 on success. */
int config_parse_size(const char *s, uint64_t *out);

#endif

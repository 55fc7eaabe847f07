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
#define CFG_ERROR_MAX 256
#define CFG_RESTART_LIMIT_DEFAULT 3
#define CFG_RESTART_LIMIT_MAX 1000
#define CFG_MAX_PINS 64
#define CFG_MAX_CPU_NUMBER 255
/* Guest I/O (the `disk`, `net`, `mac`, `console` keys and [switch NAME] sections) */
#define CFG_MAX_DISKS 8	      /* vda .. vdh */
#define CFG_MAX_NETS 4	      /* virtio-net ports per VM */
#define CFG_MAX_SWITCHES 16   /* [switch NAME] sections */
#define CFG_LABEL_MAX 36      /* a GPT partition name: 36 UTF-16 code units (UEFI spec 5.3.3) */
#define CFG_MAX_NIC_NUMBER 63 /* uplink = nicN */
#define CFG_MAX_PCI 8	      /* pci = BB:DD.F functions passed through to one VM */
#define CFG_MAX_SRIOV 4	      /* [host] sriov = lines */
#define CFG_MAX_VFS 16	      /* virtual functions of one sriov line (drivers/sriov.h's limit) */
#define CFG_VALUE_MAX 160     /* a [host] value */
/* A disk image lives in keel's RAM for as long as keel runs (io/blk_mem.c): the test machines
 * have 1-4 GiB, and a Multiboot2 module must end below 4 GiB anyway. */
#define CFG_DISK_IMAGE_MAX (2 * GiB)
#define CFG_SECTOR_SIZE 512

enum cfg_disk_kind {
	CFG_DISK_FILE, /* a raw image file beside keel.cfg */
	CFG_DISK_PART, /* part:LABEL, a host GPT partition (refused until keel has the drivers) */
	CFG_DISK_NVME, /* nvme:N, a whole host NVMe namespace (refused likewise) */
};

struct disk_config {
	enum cfg_disk_kind kind;
	char path[CFG_PATH_MAX + 1]; /* FILE: the path; PART: the label */
	uint32_t nsid;		     /* NVME: the namespace */
	bool read_only;
	unsigned line;
};

struct net_config {
	char sw[CFG_NAME_MAX + 1]; /* the switch's name */
	bool has_mac;		   /* false: the device model picks one */
	uint8_t mac[6];
	unsigned line;
};

/* pci = [SSSS:]BB:DD.F: a host PCI function given to the VM (docs/config.md "Passthrough") */
struct pci_config {
	uint16_t segment; /* always 0 so far: keel reaches only segment 0 */
	uint8_t bus, dev, fn;
	unsigned line;
};

/* [host] sriov = BB:DD.F N [namespaces=NSID,...]: N virtual functions of a physical function
 * (docs/config.md "SR-IOV"); for an NVMe PF keel drives, ns[k] is attached to VF k + 1 */
struct sriov_config {
	struct pci_config pf;
	unsigned nr_vfs;
	unsigned nr_ns; /* 0 or nr_vfs */
	uint32_t ns[CFG_MAX_VFS];
	unsigned line;
};

enum cfg_console {
	CFG_CONSOLE_UART, /* the emulated 16550 at COM1 (the default) */
	CFG_CONSOLE_VIRTIO,
};

struct switch_config {
	char name[CFG_NAME_MAX + 1];
	unsigned line;
	bool has_uplink;
	bool uplink_by_mac;  /* uplink = XX:XX:XX:XX:XX:XX, the NIC's MAC */
	unsigned uplink_nic; /* uplink = nicN */
	uint8_t uplink_mac[6];
	unsigned uplink_line;
};

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
	unsigned nr_disks;
	struct disk_config disks[CFG_MAX_DISKS];
	unsigned nr_nets;
	struct net_config nets[CFG_MAX_NETS];
	unsigned nr_macs; /* the Nth mac line belongs to the Nth net */
	enum cfg_console console;
	unsigned console_line; /* 0 without a console key */
	unsigned nr_pcis;      /* each function in at most one pcis[] of the whole file */
	struct pci_config pcis[CFG_MAX_PCI];
};

struct keel_config {
	unsigned nr_vms;
	struct vm_config vms[CFG_MAX_VMS];
	unsigned nr_switches;
	struct switch_config switches[CFG_MAX_SWITCHES];
	unsigned nr_sriovs; /* [host] sriov = lines, in file order */
	struct sriov_config sriovs[CFG_MAX_SRIOV];
	unsigned host_line; /* the [host] header, 0 without */
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

/* Checks a loaded disk image's size against what keel takes (whole 512-byte sectors, not empty, at
 * most CFG_DISK_IMAGE_MAX); -1 with *err at the disk's line. The boot stages call it as they load
 * each file. */
int config_check_disk_size(const struct disk_config *d, uint64_t bytes, struct config_error *err);

/* 1-31 letters, digits, '-' or '_': a VM's or a switch's name. */
bool config_name_ok(const char *s, size_t n);
/* A MAC a NIC may have: unicast (bit 0 of the first byte clear) and not all zero. */
bool config_mac_ok(const uint8_t mac[6]);

/* Parses a size with a mandatory binary suffix (K, M, G, T), e.g. "512M". 0 on success. */
int config_parse_size(const char *s, uint64_t *out);

#endif

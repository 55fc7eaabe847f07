/* SR-IOV for keel's host PCI functions (PCIe Base Spec 4.0, 9.3.3): finds a physical function's
 * SR-IOV Extended Capability, reads and sizes its VF BARs, plans where N virtual functions will
 * answer (routing IDs and BAR ranges), enables and disables them, and turns each into a struct
 * pci_func for the host table so `pci = BB:DD.F` can pass it to a VM.
 *
 * Config space comes through struct pci_cfg_ops (drivers/pci_host.h), so this runs in keel and
 * under the host tests (tests/unit/test_sriov.c, tests/fuzz/fuzz_sriov.c) alike. Nothing here
 * waits: after sriov_enable the caller lets 100 ms pass before touching a VF (9.3.3.3.1).
 *
 * What the PF reports is untrusted: the capability walk is bounded, VF counts, offsets and strides
 * that would put a VF outside the bus range, past 16 bits or onto a function already known are
 * refused, as are VF BARs that are I/O, do not fit below their limit or are not page-aligned.
 *
 * The order the spec asks for (9.3.3.9-9.3.3.11: First VF Offset and VF Stride hold for the
 * NumVFs currently written; 9.3.3.13: VF BAR sizes follow System Page Size):
 *   sriov_find, sriov_read, sriov_set_num_vfs (page size + NumVFs, then re-read),
 *   sriov_set_vf_bar for each unassigned VF BAR, sriov_plan, sriov_enable, wait 100 ms,
 *   sriov_add_vfs. sriov_disable undoes sriov_enable and sriov_set_num_vfs. */
#ifndef KEEL_DRIVERS_SRIOV_H
#define KEEL_DRIVERS_SRIOV_H

#include "drivers/pci_host.h"
#include "lib/types.h"

#define PCI_EXT_CAP_ID_SRIOV 0x0010 /* PCI Code and ID Assignment 1.11, 3 */
#define SRIOV_MAX_VFS 16	    /* keel's limit per PF */

/* Register offsets within the capability (PCIe 4.0, 9.3.3, figure 9-9) */
#define SRIOV_CAPS 0x04
#define SRIOV_CTRL 0x08		 /* Control 15:0, Status 31:16 (VF Migration Status, RW1C) */
#define SRIOV_VFS 0x0C		 /* InitialVFs 15:0, TotalVFs 31:16 */
#define SRIOV_NUM_VFS 0x10	 /* NumVFs 15:0, Function Dependency Link 23:16 (RO) */
#define SRIOV_OFFSET_STRIDE 0x14 /* First VF Offset 15:0, VF Stride 31:16 */
#define SRIOV_VF_DEVICE 0x18	 /* VF Device ID 31:16 */
#define SRIOV_PAGE_SIZES 0x1C	 /* Supported Page Sizes */
#define SRIOV_PAGE_SIZE 0x20	 /* System Page Size: bit n = 2^(n+12) bytes */
#define SRIOV_VF_BAR0 0x24	 /* VF BAR0..5 at 0x24..0x38 */
#define SRIOV_CAP_LEN 0x40	 /* through the VF Migration State Array Offset */

/* SR-IOV Control bits (9.3.3.3) */
#define SRIOV_CTRL_VF_ENABLE (1u << 0)
#define SRIOV_CTRL_VF_MSE (1u << 3)

enum sriov_err {
	SRIOV_OK = 0,
	SRIOV_E_NO_CAP = -1,	     /* no SR-IOV capability in the extended list */
	SRIOV_E_BAD_CAP = -2,	     /* past config space, version 0, a bad System Page Size */
	SRIOV_E_ENABLED = -3,	     /* VF Enable or VF MSE is on where it must be off */
	SRIOV_E_BAD_COUNT = -4,	     /* TotalVFs 0, N outside 1..limit, NumVFs did not stick */
	SRIOV_E_BAD_RID = -5,	     /* offset 0, stride 0, past 16 bits, outside the buses */
	SRIOV_E_RID_TAKEN = -6,	     /* a VF would be the PF or a function already in the table */
	SRIOV_E_BAD_BAR = -7,	     /* an I/O or reserved-type VF BAR, or a size below a page */
	SRIOV_E_BAR_UNASSIGNED = -8, /* a VF BAR with base 0: sriov_set_vf_bar first */
	SRIOV_E_BAR_RANGE = -9,	     /* N VFs' BAR does not fit, or a base that is misaligned */
	SRIOV_E_TABLE_FULL = -10,    /* no room in struct pci_host for the VFs */
	SRIOV_E_INVAL = -11,	     /* an argument out of range */
};

/* What an enum sriov_err says, for a message ("its VF BARs were not placed by the firmware") */
const char *sriov_strerror(int err);

/* A PF's SR-IOV capability as sriov_read found it. bar[n] describes VF BAR n: base is VF 0's
 * (0 while unassigned), size is one VF's; kind NONE for an unimplemented one or a 64-bit BAR's
 * upper half, BAD for I/O (9.3.3.14 allows memory only) or a reserved type. */
struct sriov {
	uint16_t cap; /* config offset of the capability */
	uint8_t version;
	uint32_t caps;
	uint16_t control, status;
	uint16_t initial_vfs, total_vfs, num_vfs;
	uint16_t first_vf_offset, vf_stride; /* valid for num_vfs */
	uint16_t vf_device;
	uint32_t page_sizes; /* Supported Page Sizes */
	uint32_t page_size;  /* System Page Size register (one bit set) */
	struct pci_host_bar bar[PCI_HOST_MAX_BARS];
};

/* Where N VFs answer: VF i has routing ID rid[i] (bus 15:8, device 7:3, function 2:0; with ARI
 * 7:0 is one function number, which config addressing splits the same way) and BAR n at
 * bar[n].base + i * bar[n].size (9.3.3.14). */
struct sriov_plan {
	uint16_t nr_vfs;
	uint16_t rid[SRIOV_MAX_VFS];
	struct pci_host_bar bar[PCI_HOST_MAX_BARS];
};

/* The config offset (0x100..0xFC0, dword aligned) of bus:dev.fn's SR-IOV capability in *cap.
 * The walk of the extended list from 0x100 ends at a pointer below 0x100, an unaligned one, or
 * after as many steps as the list has dwords. SRIOV_OK or SRIOV_E_NO_CAP/E_BAD_CAP. */
int sriov_find(const struct pci_cfg_ops *o, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t *cap);

/* Reads pf's capability at cap into *s and sizes the VF BARs; every register holds what it held
 * before. With VF Enable or VF MSE on (firmware enabled the VFs) the BARs are not sized and it
 * returns SRIOV_E_ENABLED, *s holding the other registers: enough for sriov_disable. */
int sriov_read(const struct pci_cfg_ops *o, const struct pci_func *pf, uint16_t cap,
	       struct sriov *s);

/* With the VFs off: System Page Size to 4 KiB when the PF supports it (otherwise left as it is),
 * NumVFs to n (1..MIN(TotalVFs, SRIOV_MAX_VFS)), then *s read again, since offset, stride and
 * VF BAR sizes follow those two. SRIOV_E_BAD_COUNT if NumVFs does not read back n. */
int sriov_set_num_vfs(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s,
		      uint16_t n);

/* With VF MSE off: VF BAR n's base (VF 0's BAR) to base, aligned to one VF's size and with
 * s->num_vfs VFs' worth fitting (below 4 GiB for a 32-bit BAR); s->bar[n].base reads it back. */
int sriov_set_vf_bar(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s,
		     unsigned n, uint64_t base);

/* Plans s->num_vfs VFs of pf (written with sriov_set_num_vfs): each routing ID inside
 * [bus_start, bus_end], not pf's nor any function's of ph in pf's segment; each VF BAR assigned,
 * a power of two of at least the system page, naturally aligned, all VFs' ranges without
 * overflow and a 32-bit one below 4 GiB. Touches no register. */
int sriov_plan(const struct sriov *s, const struct pci_func *pf, const struct pci_host *ph,
	       uint8_t bus_start, uint8_t bus_end, struct sriov_plan *p);

/* Sets VF Enable and VF MSE once NumVFs still reads p->nr_vfs (SRIOV_E_BAD_COUNT otherwise;
 * SRIOV_E_ENABLED if VF Enable does not read back set). The caller waits 100 ms before the VFs'
 * config space is touched (9.3.3.3.1). */
int sriov_enable(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s,
		 const struct sriov_plan *p);

/* Clears VF Enable and VF MSE, then NumVFs to 0. The caller removes the VFs from its table, and
 * lets 1 s pass before it reads or enables the capability again (9.3.3.3.1). */
void sriov_disable(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s);

/* Appends p's VFs to ph once enabled (and waited for): vendor from the PF, device from VF Device
 * ID (a VF's own ID registers read 0xFFFF, 9.3.4.1.1-2), class, revision and header type from the
 * VF, BARs from p (mapped false). A VF whose class dword reads all ones, or whose header is not
 * type 0, is not added and counted in *nr_absent; sets ph->funcs[pf_index].sriov_cap. Returns
 * the number added, or SRIOV_E_TABLE_FULL/E_INVAL (nothing added). */
int sriov_add_vfs(struct pci_host *ph, const struct pci_cfg_ops *o, unsigned pf_index,
		  const struct sriov *s, const struct sriov_plan *p, unsigned *nr_absent);

#endif

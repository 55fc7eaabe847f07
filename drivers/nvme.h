/* keel's NVMe host driver: the core that brings a controller up and runs polled I/O on it
 * (NVM Express Base Specification 1.4; drivers/nvme_regs.h has the layouts).
 *
 * The core reaches the controller only through struct nvme_ops (32- and 64-bit MMIO of BAR 0)
 * and memory keel owns: NVME_DMA_PAGES pages of 4 KiB with their physical addresses, handed over
 * at nvme_init. So the same code runs in keel and on the host, where tests/unit/test_nvme.c drives
 * it against a fake controller and tests/fuzz/fuzz_nvme.c lets the fuzzer play the controller.
 *
 * Everything the controller hands back is hostile: CAP, the Identify pages and every completion
 * entry are checked before use, and no device value is ever used as an index unchecked. A device
 * that breaks the rules gets its values ignored (and counted), its namespace refused, or itself
 * reset or declared failed; the driver never panics for it. No function here waits: bring-up,
 * completions and timeouts advance in nvme_poll, called with the current time.
 *
 * There so far: bring-up (CC.EN=0, admin queues, CC.EN=1, Identify Controller, Number of Queues,
 * one I/O CQ/SQ pair, active namespaces and each namespace's Identify), Read/Write with PRP1, PRP2
 * or a one-page PRP list built from a scatter list, Flush, Dataset Management deallocate (when
 * ONCS has it), per-command timeouts that fail the command and reset the controller, CSTS.CFS
 * handling, and a bounded number of resets before the controller is declared failed.
 *
 * Interrupts: the I/O CQ is created with interrupts off unless the glue sets nvme_ctrl.io_irq;
 * then it signals MSI-X vector 0, as the admin CQ always does once MSI-X is on (the glue points it
 * at HOST_DEVICE_VECTOR, arch/x86/apic.h). Either way completions are found by nvme_poll: an
 * interrupt only wakes a CPU that sleeps in HLT, or makes a running guest exit, so it polls sooner.
 *
 * Admin requests (SR-IOV virtualization, drivers/nvme_virt.c): once READY, one keel-issued admin
 * command at a time besides bring-up (nvme_admin_submit), from an allow-list of opcodes that
 * cannot break the core's own queues; it uses the Identify page (free once READY) for its data,
 * completes from nvme_poll, and a timeout resets the controller as an I/O timeout does. On it:
 * nvme_sriov_release_primary, nvme_sriov_bring_online and nvme_attach_ns. For a VF to come up
 * with a namespace: release the primary's flexible resources (then the reset), enable the VFs in
 * the PF's SR-IOV capability (the glue), bring the secondaries online, attach the namespace.
 *
 * Not there yet: more than one I/O queue pair, the Abort command (a timeout resets the
 * controller), SGLs, metadata and protection information (such namespaces are refused), shutdown
 * notification (CC.SHN), and the glue in keel that finds the function (drivers/pci_host.h),
 * maps BAR 0, enables bus mastering, allocates the DMA pages and calls nvme_poll; the e2e under
 * QEMU's `-device nvme` comes with that glue. */
#ifndef KEEL_DRIVERS_NVME_H
#define KEEL_DRIVERS_NVME_H

#include "drivers/nvme_regs.h"
#include "lib/types.h"

/* Access to BAR 0 (offsets within it, naturally aligned). */
struct nvme_ops {
	void *ctx;
	uint32_t (*read32)(void *ctx, uint32_t off);
	uint64_t (*read64)(void *ctx, uint32_t off);
	void (*write32)(void *ctx, uint32_t off, uint32_t v);
	void (*write64)(void *ctx, uint32_t off, uint64_t v);
	/* monotonic nanoseconds: stamps a command's start (its timeout counts from there) */
	uint64_t (*now_ns)(void *ctx);
};

/* One page of memory keel owns, for the controller to DMA to and from. */
struct nvme_dma_page {
	void *va;    /* keel's mapping, 4 KiB aligned, write-back cacheable (coherent DMA) */
	uint64_t pa; /* the address the controller uses, 4 KiB aligned */
};

/* Sizes the driver chooses. */
#define NVME_ADMIN_DEPTH 8 /* admin SQ and CQ entries */
#define NVME_IO_DEPTH 32   /* I/O SQ and CQ entries at most (CAP.MQES may lower it) */
#define NVME_IO_SLOTS (NVME_IO_DEPTH - 1)     /* commands outstanding at most */
#define NVME_MAX_NS 16			      /* namespaces kept */
#define NVME_MAX_XFER (512u * NVME_PAGE_SIZE) /* one PRP list page: 2 MiB (MDTS may lower it) */
#define NVME_MAX_SG 64			      /* segments in one request */
#define NVME_MAX_RESETS 3 /* resets in a row without reaching READY before giving up */
#define NVME_ADMIN_TIMEOUT_NS (5ull * 1000000000ull)
#define NVME_IO_TIMEOUT_NS (30ull * 1000000000ull) /* default of nvme_ctrl.io_timeout_ns */
#define NVME_CSTS_PERIOD_NS 1000000ull /* CSTS (fatal status, ready) read at most once a ms */

/* The DMA pages: admin SQ, admin CQ, I/O SQ, I/O CQ, the Identify buffer, then one page per I/O
 * slot for its PRP list (or its DSM range). */
enum {
	NVME_PG_ASQ,
	NVME_PG_ACQ,
	NVME_PG_IOSQ,
	NVME_PG_IOCQ,
	NVME_PG_IDENT,
	NVME_PG_SLOT0,
	NVME_DMA_PAGES = NVME_PG_SLOT0 + NVME_IO_SLOTS,
};

/* Return values of the calls below, and negative statuses of a completion. A completion's
 * status is otherwise 0 (success) or the device's SCT << 8 | SC (positive). */
enum nvme_err {
	NVME_OK = 0,
	NVME_E_BUSY = -1,      /* the I/O queue is full: try again after a completion */
	NVME_E_INVAL = -2,     /* a bad scatter list (PRP rules), no blocks, a bad opcode */
	NVME_E_RANGE = -3,     /* LBA + count past the namespace's end, or overflowing */
	NVME_E_TOO_BIG = -4,   /* more than max_xfer bytes */
	NVME_E_NOT_READY = -5, /* the controller is not up (bring-up or reset under way, failed) */
	NVME_E_UNSUPP = -6,    /* the controller lacks the command (ONCS) */
	NVME_E_NO_NS = -7,     /* no usable namespace of that NSID */
	NVME_E_TIMEOUT = -8,   /* completion status: the command took longer than io_timeout_ns */
	NVME_E_RESET = -9,     /* completion status: the controller was reset under the command */
	NVME_E_NO_CTRL = -10,  /* SR-IOV: no (acceptable) secondary controller for that VF */
	NVME_E_SHORT = -11,    /* SR-IOV: the controller allocated other than the resources asked */
	NVME_E_BAD_DATA = -12, /* the controller's data was refused (nvme_parse_*) */
};

enum nvme_state {
	NVME_S_OFF,	  /* after nvme_init: the next poll starts bring-up */
	NVME_S_DISABLING, /* CC.EN cleared, waiting for CSTS.RDY = 0 */
	NVME_S_ENABLING,  /* admin queues set, CC.EN set, waiting for CSTS.RDY = 1 */
	NVME_S_ADMIN,	  /* a bring-up admin command is outstanding (nvme_ctrl.step) */
	NVME_S_READY,	  /* I/O may be submitted */
	NVME_S_FAILED,	  /* given up: refused values, or too many resets (nvme_ctrl.why) */
};

enum nvme_step {
	NVME_STEP_ID_CTRL,
	NVME_STEP_NUM_QUEUES,
	NVME_STEP_CREATE_CQ,
	NVME_STEP_CREATE_SQ,
	NVME_STEP_NS_LIST,
	NVME_STEP_ID_NS,
};

enum nvme_op {
	NVME_OP_READ,
	NVME_OP_WRITE,
	NVME_OP_FLUSH,	    /* lba, nblocks and sg ignored */
	NVME_OP_DEALLOCATE, /* DSM with the deallocate attribute; sg ignored */
};

/* A piece of a transfer in host-physical memory. PRP rules (4.3): only the first may start
 * inside a page (at a dword boundary); every other starts at a page boundary and every one but
 * the last ends at one. */
struct nvme_sg {
	uint64_t pa;
	uint32_t len;
};

typedef void (*nvme_done_fn)(void *arg, int status);

/* An admin request's end: status as nvme_done_fn's; dw0 the completion's DW0 (0 unless status
 * is 0); data the request's 4 KiB page as the controller left it (NULL unless status is 0 and the
 * request has_data): hostile, valid only during the call, read it with nvme_parse_*. */
typedef void (*nvme_admin_done_fn)(void *arg, int status, uint32_t dw0, const void *data);

/* One admin command keel issues once the controller is READY (nvme_cmd_* build them). */
struct nvme_admin_req {
	struct nvme_sqe cmd; /* opcode, NSID, CDW10-15; the driver sets CID, flags, MPTR and PRPs */
	bool has_data;	     /* done gets the page back (PRP1 is the driver's page in any case) */
	uint8_t out[64];     /* copied to the page's start before submission, the rest zeroed */
	unsigned out_len;    /* bytes of out used, <= sizeof(out) */
	nvme_admin_done_fn done;
	void *arg;
};

/* The admin request in flight (one at most). */
struct nvme_areq {
	bool busy;	 /* submitted; done not yet called */
	int fail_status; /* set when it is failed before it completes (timeout, reset) */
	uint64_t deadline;
	nvme_admin_done_fn done;
	void *arg;
};

/* Primary Controller Capabilities (Identify CNS 14h), checked by nvme_parse_primary_caps. */
struct nvme_primary_caps {
	uint16_t cntlid, portid;
	uint8_t crt; /* NVME_CRT_VQ | NVME_CRT_VI */
	uint32_t vqfrt, vqrfa;
	uint16_t vqrfap, vqprt, vqfrsm, vqgran;
	uint32_t vifrt, virfa;
	uint16_t virfap, viprt, vifrsm, vigran;
};

/* One Secondary Controller Entry (Identify CNS 15h), checked. */
struct nvme_sec_ctrl {
	uint16_t scid, pcid, vfn, nvq, nvi;
	bool online; /* SCS bit 0 */
};

struct nvme_sec_list {
	unsigned nr;
	struct nvme_sec_ctrl e[NVME_SCL_MAX];
	unsigned
		nr_dropped; /* entries refused: SCID 0 or reserved, another PCID, VFN out of range */
	bool more;	    /* the page was full: entries above the last SCID may follow */
};

/* The SR-IOV bring-up (nvme_sriov_bring_online): per VF, the secondary controller found and how
 * its sequence ended. */
#define NVME_MAX_VFS 16

struct nvme_vf_result {
	uint16_t scid;	    /* 0: none found */
	bool online;	    /* the whole sequence succeeded */
	int status;	    /* 0, a device status (SCT << 8 | SC) or a negative enum nvme_err */
	uint8_t failed_act; /* the Virtualization Management action that failed, or 0 */
};

enum nvme_sriov_step {
	NVME_SRIOV_IDLE,
	NVME_SRIOV_PRI_VQ, /* nvme_sriov_release_primary: primary flexible allocation, VQ 0 */
	NVME_SRIOV_PRI_VI, /* then VI 0, then the controller is reset */
	NVME_SRIOV_LIST,   /* Identify Secondary Controller List */
	NVME_SRIOV_OFFLINE,
	NVME_SRIOV_ASSIGN_VQ,
	NVME_SRIOV_ASSIGN_VI,
	NVME_SRIOV_ONLINE,
	NVME_SRIOV_DONE, /* results in vf[] */
};

struct nvme_sriov {
	enum nvme_sriov_step step;
	unsigned nr_vfs, cur; /* cur: index into vf[] of the VF being worked on */
	uint16_t vq, vi;
	int list_status;    /* of the Identify (or NVME_E_BAD_DATA for a refused list) */
	int primary_status; /* of nvme_sriov_release_primary's commands */
	struct nvme_vf_result vf[NVME_MAX_VFS];
};

struct nvme_ns {
	uint32_t nsid;
	bool usable;	   /* false: refused (why says so) */
	uint8_t lba_shift; /* log2 of the block size: 9..12 */
	uint64_t nsze;	   /* size in blocks */
	const char *why;   /* why it was refused, or NULL */
};

struct nvme_queue {
	unsigned depth;	  /* entries, SQ and CQ alike */
	uint16_t sq_tail; /* next SQ entry keel writes */
	uint16_t sq_head; /* last head the controller reported */
	uint16_t cq_head; /* next CQ entry keel reads */
	uint16_t phase;	  /* the phase tag a new entry has */
	uint16_t qid;
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	uint64_t sq_pa, cq_pa;
};

struct nvme_slot {
	bool busy;
	uint16_t cid;	 /* generation << 5 | slot index, so a stale CID never matches */
	int fail_status; /* set when the command is failed before it completes */
	uint64_t deadline;
	nvme_done_fn done;
	void *arg;
};

struct nvme_ctrl {
	const struct nvme_ops *ops;
	uint64_t bar_size;
	struct nvme_dma_page dma[NVME_DMA_PAGES];
	enum nvme_state state;
	enum nvme_step step;
	uint64_t deadline; /* of the RDY wait or the bring-up admin command */
	const char *why;   /* why it failed or was last reset */

	/* from CAP and Identify, checked */
	uint16_t cntlid; /* Identify CNTLID: this (primary) controller's id */
	uint64_t cap;
	uint32_t vs;
	uint32_t dstrd;
	uint64_t ready_timeout_ns; /* CAP.TO */
	unsigned io_depth;
	uint32_t max_xfer; /* bytes, a multiple of 4 KiB */
	uint32_t nn;	   /* Identify NN */
	uint16_t oncs;
	uint8_t vwc;
	char serial[NVME_IDC_SN_LEN + 1]; /* printable ASCII, trailing blanks cut */
	char model[NVME_IDC_MN_LEN + 1];
	char firmware[NVME_IDC_FR_LEN + 1];

	/* set by the glue after nvme_init, before the first nvme_poll (kept across resets): create
	 * the I/O CQ with interrupts on, MSI-X vector 0 (the glue has enabled MSI-X) */
	bool io_irq;

	struct nvme_queue admin, io;
	uint16_t admin_cid; /* of the outstanding bring-up command */
	bool admin_busy;
	uint32_t admin_dw0;

	uint32_t nsids[NVME_MAX_NS]; /* active NSIDs still to identify / identified */
	unsigned nr_nsids, ns_next;
	struct nvme_ns ns[NVME_MAX_NS];
	unsigned nr_ns;

	struct nvme_areq areq;
	bool areq_data; /* the request in flight has a data page */
	struct nvme_sriov sriov;
	struct nvme_sec_list sec; /* the last secondary list nvme_sriov_bring_online read */

	struct nvme_slot slot[NVME_IO_SLOTS];
	unsigned nr_busy;
	uint16_t gen;
	uint64_t io_timeout_ns;
	uint64_t csts_next; /* when nvme_poll reads CSTS next */
	unsigned resets_in_row;

	/* counters */
	unsigned nr_resets;
	unsigned nr_timeouts;
	unsigned nr_bad_cqe; /* completion entries ignored: bad SQ id, SQ head or CID */
	unsigned nr_bad_nsid;
	unsigned nr_fatal; /* CSTS.CFS seen */
};

/* Field [off, off + len) (len <= 4, little-endian) of a page the controller may write at any
 * time: read once, through a volatile pointer, so the value read is the one checked and used. */
uint32_t nvme_dma_rd(const void *page, unsigned off, unsigned len);

/* Takes the ops, BAR 0's size and the DMA pages (copied; the pages stay the driver's until the
 * controller is failed), with io_irq off. Touches no register: the first nvme_poll starts
 * bring-up. Returns
 * NVME_E_INVAL if a page is NULL or not 4 KiB aligned. */
int nvme_init(struct nvme_ctrl *c, const struct nvme_ops *ops, uint64_t bar_size,
	      const struct nvme_dma_page pages[NVME_DMA_PAGES]);

/* Advances bring-up or a reset by as much as the controller allows now; returns the state. */
enum nvme_state nvme_poll_init(struct nvme_ctrl *c, uint64_t now);

/* Everything: bring-up, I/O completions (their callbacks run from here), CSTS.CFS and timeouts.
 * Returns the state. */
enum nvme_state nvme_poll(struct nvme_ctrl *c, uint64_t now);

/* Queues one command on the I/O queue and rings its doorbell; done(arg, status) runs once, from
 * a later nvme_poll, whatever happens to the command. The caller's pages must stay until then.
 * A command that times out, or is outstanding when the controller is reset, fails once the
 * controller reports itself disabled (CSTS.RDY = 0), so it no longer touches the pages; only a
 * controller that does not disable within CAP.TO gets its commands failed without that (it is
 * declared failed, and the glue should turn off its bus mastering). done may call nvme_submit,
 * not nvme_poll. Returns NVME_OK or a negative enum nvme_err (then done never runs). */
int nvme_submit(struct nvme_ctrl *c, uint32_t nsid, enum nvme_op op, uint64_t lba, uint32_t nblocks,
		const struct nvme_sg *sg, unsigned nr_sg, nvme_done_fn done, void *arg);

/* Issues r (copied) on the admin queue; r->done(r->arg, ...) runs once from a later nvme_poll,
 * whatever happens: the controller's status, or NVME_E_TIMEOUT (it took longer than
 * NVME_ADMIN_TIMEOUT_NS: the controller is reset) or NVME_E_RESET, both only once the controller
 * is disabled. done may call nvme_admin_submit. Returns NVME_OK, NVME_E_NOT_READY (not READY),
 * NVME_E_BUSY (a request is in flight) or NVME_E_INVAL (an opcode off the allow-list: Identify,
 * Get Features, Namespace Attachment, Virtualization Management; out_len too large; no done). */
int nvme_admin_submit(struct nvme_ctrl *c, const struct nvme_admin_req *r);

/* Builders: each zeroes r and fills its command (done and arg are the caller's to set). */
void nvme_cmd_identify_primary(struct nvme_admin_req *r);
void nvme_cmd_identify_secondary_list(struct nvme_admin_req *r, uint16_t first_cntid);
void nvme_cmd_virt_mgmt(struct nvme_admin_req *r, uint8_t act, uint8_t rt, uint16_t cntlid,
			uint16_t nr);
/* Namespace Attachment of nsid to (sel NVME_NSA_ATTACH) or from (NVME_NSA_DETACH) one controller */
void nvme_cmd_ns_attach(struct nvme_admin_req *r, uint8_t sel, uint32_t nsid, uint16_t cntlid);

/* Parsers of the controller's pages. Return NVME_OK or NVME_E_BAD_DATA (then out is not to be
 * used). Primary caps: CRT's reserved bits, resources assigned or allocated beyond the total,
 * a per-secondary maximum above the total, a CNTLID other than expect_cntlid are refused.
 * Secondary list: at most NVME_SCL_MAX entries whatever NUMID says; an entry with SCID 0 or
 * reserved (above NVME_CNTLID_MAX) or equal to pcid, another PCID, or VFN 0 or above max_vfn is
 * dropped (counted); a SCID or VFN listed twice refuses the whole list. */
int nvme_parse_primary_caps(const void *page, uint16_t expect_cntlid,
			    struct nvme_primary_caps *out);
int nvme_parse_secondary_list(const void *page, uint16_t pcid, uint16_t max_vfn,
			      struct nvme_sec_list *out);

/* Gives the primary's flexible resources back to the pool the secondaries draw from: Virtualization
 * Management primary flexible allocation of 0 VQ, then 0 VI (5.22; 8.5.1, 8.5.2), then a reset of
 * the controller, since such an allocation takes effect at the next reset (I/O in flight fails as
 * reset; bring-up runs again). QEMU 7.2 starts with every flexible resource allocated to the
 * primary (VQRFAP = VQFRT, VIRFAP = VIFRT), so no secondary can be assigned any until this has
 * run. Advanced by nvme_poll; sriov.step reaches NVME_SRIOV_DONE with sriov.primary_status (the
 * reset follows only a success). Returns as nvme_admin_submit does. */
int nvme_sriov_release_primary(struct nvme_ctrl *c);

/* Resets a READY controller now (CC.EN = 0): what is outstanding fails as NVME_E_RESET once it is
 * disabled, and bring-up runs again from the next nvme_poll. Returns NVME_E_NOT_READY otherwise. */
int nvme_reset(struct nvme_ctrl *c, const char *why);

/* Brings the secondary controllers of VFs 1..nr_vfs online, each with vq queue resources (>= 2:
 * its admin queue and one I/O queue pair) and vi interrupt resources (>= 1), as a sequence of
 * admin requests advanced by nvme_poll: Identify Secondary Controller List, then per VF
 * Virtualization Management offline, assign VQ, assign VI, online. A VF whose step fails keeps
 * its status in sriov.vf[] and the sequence goes on with the next; a timeout or reset ends it
 * (the VFs not done get that status). The VFs must be enabled in the PF's SR-IOV capability
 * first (the glue's job): a controller may refuse to bring the secondary of an absent VF online.
 * Returns NVME_OK (then sriov.step reaches NVME_SRIOV_DONE), NVME_E_NOT_READY, NVME_E_BUSY or
 * NVME_E_INVAL (nr_vfs 0 or above NVME_MAX_VFS, vq < 2, vi < 1). */
int nvme_sriov_bring_online(struct nvme_ctrl *c, unsigned nr_vfs, uint16_t vq, uint16_t vi);

/* Attaches namespace nsid to controller cntlid (a secondary once online, say); done as for
 * nvme_admin_submit, returns as it does. */
int nvme_attach_ns(struct nvme_ctrl *c, uint32_t nsid, uint16_t cntlid, nvme_admin_done_fn done,
		   void *arg);

/* The usable namespace of that NSID, or NULL. */
const struct nvme_ns *nvme_ns_get(const struct nvme_ctrl *c, uint32_t nsid);

const char *nvme_state_name(enum nvme_state s);

#endif

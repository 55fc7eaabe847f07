/* Intel VT-x backend: VMX with EPT, VPID and unrestricted guest (Intel SDM vol 3C, chapters
 * 23-30), behind the same ops table as the AMD-V backend. */
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/debugreg.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/guest_state.h"
#include "arch/x86/vmx/vmcs.h"
#include "core/cr_policy.h"
#include "core/kmem.h"
#include "core/virt.h"
#include "core/vm.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "mm/stage2.h"

int vmx_enter(struct vcpu_regs *regs, int launched);
void vmx_exit_entry(void);

struct vmx_vcpu {
	void *vmcs;
	uint64_t vmcs_pa;
	bool launched;
	bool flush_tlb;
	uint16_t vpid;
	uint64_t cr0_shadow, cr4_shadow; /* what the guest believes it wrote */
	uint8_t cr8;			 /* the guest's CR8: every MOV CR8 exits */
	int host_cpu;	   /* the CPU whose state the VMCS's host area holds; -1: none */
	int active_cpu;	   /* the CPU the VMCS is active on (VMPTRLD until VMCLEAR); -1: none */
	uint64_t exit_rip; /* the guest's RIP at its last exit */
	/* guest state the CPU itself holds (not in the VMCS: the SYSCALL MSRs pass through, CR2
	 * is the CPU's), kept here while another vCPU has the CPU */
	uint64_t cr2, kernel_gs_base, star, lstar, cstar, sfmask;
	struct guest_dregs dregs; /* DR0-DR3 and DR6 (DR7 is in the VMCS) */
};

/* One per physical CPU (struct percpu's virt). */
struct vmx_cpu {
	void *vmxon_region;
	void *current; /* the VMCS loaded on this CPU */
};

/* Shared by every CPU, set up by the first cpu_enable. */
static struct {
	bool ready;
	uint32_t revision;
	bool true_ctls;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid_cap;
	bool vpid;
	uint16_t next_vpid;
	uint32_t pin, proc, proc2, exit, entry;
	bool pause_exit; /* the CPU lets keel turn PAUSE exiting on */
	void *vmxon_region;
	uint8_t *io_bitmaps; /* A and B, 8 KiB */
	uint8_t *msr_bitmap;
	struct stage2_format ept;
} vmx;

/* ---- instruction wrappers: each reports VMfail through the flags (SDM 30.2) ---------------- */

static bool vmwrite(uint64_t field, uint64_t v)
{
	bool fail;
	__asm__ volatile("vmwrite %2, %1; setbe %0" : "=qm"(fail) : "r"(field), "rm"(v) : "cc");
	return !fail;
}

static uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;
	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static bool vmptrld(uint64_t pa)
{
	bool fail;
	__asm__ volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static bool vmclear(uint64_t pa)
{
	bool fail;
	__asm__ volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

struct inv_desc {
	uint64_t a, b;
};

static void invept(uint64_t type, uint64_t eptp)
{
	struct inv_desc d = { eptp, 0 };
	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

static void invvpid(uint64_t type, uint16_t vpid)
{
	struct inv_desc d = { vpid, 0 };
	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

/* ---- capabilities --------------------------------------------------------------------------- */

/* A control word the CPU accepts: bits the capability MSR's low half forces on, minus bits its
 * high half does not allow (SDM appendix A.3). *missing gets the wanted bits that are not
 * allowed. */
static uint32_t adjust(uint32_t msr, uint32_t want, uint32_t *missing)
{
	uint64_t cap = rdmsr(msr);
	uint32_t allowed1 = (uint32_t)(cap >> 32), fixed1 = (uint32_t)cap;
	*missing = want & ~allowed1;
	return (want | fixed1) & allowed1;
}

static const char *vmx_insn_error(uint64_t e)
{
	/* SDM 30.4 "VM Instruction Error Numbers" */
	switch (e) {
	case 7:
		return "invalid control field(s)";
	case 8:
		return "invalid host-state field(s)";
	case 9:
		return "VMPTRLD with invalid address";
	case 12:
		return "VMREAD/VMWRITE of an unsupported field";
	case 13:
		return "VMWRITE of a read-only field";
	case 26:
		return "VM entry with events blocked by MOV SS";
	default:
		return "see Intel SDM vol 3C, 30.4";
	}
}

/* The state every CPU shares: controls, bitmaps and the EPT format (the first cpu_enable). */
static int vmx_setup_shared(char *err, size_t err_size)
{
	uint64_t basic = rdmsr(MSR_VMX_BASIC);
	vmx.revision = (uint32_t)basic & 0x7fffffff;
	vmx.true_ctls = (basic & VMX_BASIC_TRUE_CTLS) != 0;
	vmx.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	vmx.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	vmx.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	vmx.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);

	uint32_t miss_pin, miss_proc, miss_proc2, miss_exit, miss_entry;
	/* virtual NMIs: the CPU keeps the guest's NMI blocking from an injected NMI to its
	 * handler's IRET, and NMI-window exiting (set when needed) says when it ended (SDM vol 3C
	 * 25.2 and 26.7.6 "NMI-Window Exiting") */
	vmx.pin = adjust(vmx.true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED,
			 PIN_EXT_INTR_EXIT | PIN_NMI_EXIT | PIN_VIRTUAL_NMI, &miss_pin);
	vmx.proc = adjust(vmx.true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED,
			  PROC_TSC_OFFSET | PROC_HLT_EXIT | PROC_MWAIT_EXIT | PROC_RDPMC_EXIT |
				  PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_MONITOR_EXIT |
				  PROC_SECONDARY | PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT,
			  &miss_proc);
	uint32_t miss_pause, miss_nmi_window;
	adjust(vmx.true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED, PROC_PAUSE_EXIT,
	       &miss_pause);
	vmx.pause_exit = !miss_pause;
	adjust(vmx.true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED, PROC_NMI_WINDOW,
	       &miss_nmi_window);
	miss_pin |= miss_nmi_window ? PIN_VIRTUAL_NMI : 0; /* one is no use without the other */
	/* CR3 accesses need no exits with EPT (the non-true controls may force them on) */
	vmx.proc2 = adjust(MSR_VMX_PROCBASED2,
			   PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID | PROC2_RDTSCP |
				   PROC2_WBINVD_EXIT,
			   &miss_proc2);
	/* "save debug controls" and "load debug controls" (SDM vol 3C, 25.7.1 "VM-Exit Controls",
	 * 25.8.1 "VM-Entry Controls") keep the guest's DR7 and IA32_DEBUGCTL in the VMCS: every VM
	 * exit sets DR7 to 0x400 (SDM 28.5.1), and without them the guest's breakpoints would be
	 * disabled from its first exit on. The TRUE capability MSRs let these be 0. */
	vmx.exit = adjust(vmx.true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT,
			  EXIT_HOST_64 | EXIT_SAVE_DEBUG | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
				  EXIT_SAVE_EFER | EXIT_LOAD_EFER,
			  &miss_exit);
	vmx.entry = adjust(vmx.true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY,
			   ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER, &miss_entry);
	if (miss_pin || (miss_proc & ~PROC_RDPMC_EXIT) || miss_exit || miss_entry ||
	    (miss_proc2 & (PROC2_EPT | PROC2_UNRESTRICTED))) {
		ksnprintf(
			err, err_size,
			"VT-x lacks controls keel needs (pin %x proc %x proc2 %x exit %x entry %x)",
			miss_pin, miss_proc, miss_proc2 & (PROC2_EPT | PROC2_UNRESTRICTED),
			miss_exit, miss_entry);
		return -1;
	}
	vmx.ept_vpid_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	if (!(vmx.ept_vpid_cap & EPT_CAP_WALK4) || !(vmx.ept_vpid_cap & EPT_CAP_WB)) {
		ksnprintf(err, err_size, "EPT without 4-level walks or write-back tables");
		return -1;
	}
	vmx.vpid = (vmx.proc2 & PROC2_VPID) && (vmx.ept_vpid_cap & VPID_CAP_INVVPID);
	if (!vmx.vpid)
		vmx.proc2 &= ~PROC2_VPID;

	vmx.io_bitmaps = kmem_alloc_pages(2 * PAGE_SIZE, PAGE_SIZE);
	vmx.msr_bitmap = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!vmx.io_bitmaps || !vmx.msr_bitmap) {
		ksnprintf(err, err_size, "out of memory for VMX structures");
		return -1;
	}
	memset(vmx.io_bitmaps, 0xff, 2 * PAGE_SIZE);
	memset(vmx.msr_bitmap, 0xff, PAGE_SIZE);
	/* MSRs whose guest values live in the VMCS, or which keel itself never uses while one
	 * vCPU owns this CPU (SDM 25.6.9 bitmap layout: read low, read high, write low, write
	 * high, 1 KiB each) */
	static const uint32_t passthrough[] = {
		MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR,		MSR_LSTAR,
		MSR_CSTAR,   MSR_SFMASK,  MSR_SYSENTER_CS,    MSR_SYSENTER_ESP, MSR_SYSENTER_EIP
	};
	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++) {
		uint32_t m = passthrough[i];
		unsigned base = m >= 0xc0000000 ? 1024 : 0;
		unsigned bit = m & 0x1fff;
		vmx.msr_bitmap[base + bit / 8] &= (uint8_t) ~(1u << (bit % 8));
		vmx.msr_bitmap[2048 + base + bit / 8] &= (uint8_t) ~(1u << (bit % 8));
	}

	/* EPT entries: R/W/X and a write-back memory type in leaves (SDM 29.3.2) */
	vmx.ept = (struct stage2_format){
		.table_bits = EPT_R | EPT_W | EPT_X,
		.leaf_rwx = EPT_R | EPT_W | EPT_X | EPT_MT_WB,
		/* uncached, and IPAT clear: the guest's PAT may only make it stricter (29.3.7.2) */
		.leaf_device = EPT_R | EPT_W | EPT_MT_UC,
		.large_bit = EPT_LARGE,
		.present_mask = EPT_R | EPT_W | EPT_X,
		.gib_leaves = (vmx.ept_vpid_cap & EPT_CAP_1G) != 0,
		.mib_leaves = (vmx.ept_vpid_cap & EPT_CAP_2M) != 0,
	};
	vmx.next_vpid = 1;
	vmx.ready = true;
	klog("keel: VT-x enabled: VMCS revision %u, EPT%s%s, %s, unrestricted guest%s",
	     vmx.revision, vmx.ept.mib_leaves ? " 2M" : "", vmx.ept.gib_leaves ? " 1G" : "",
	     vmx.vpid ? "VPID" : "no VPID", vmx.true_ctls ? ", TRUE controls" : "");
	return 0;
}

/* On each CPU, the boot CPU first. */
static int vmx_cpu_enable(char *err, size_t err_size)
{
	if (!(cpuid(1, 0).ecx & (1u << 5))) {
		ksnprintf(err, err_size, "this CPU has no VT-x (CPUID.1:ECX.VMX = 0)");
		return -1;
	}
	/* SDM 24.7: lock IA32_FEATURE_CONTROL with VMXON allowed if the firmware left it open */
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON);
	} else if (!(fc & FEATURE_CONTROL_VMXON)) {
		ksnprintf(err, err_size,
			  "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked without "
			  "VMXON): enable it in the firmware setup");
		return -1;
	}
	if (vmx.ready && (uint32_t)(rdmsr(MSR_VMX_BASIC) & 0x7fffffff) != vmx.revision) {
		ksnprintf(err, err_size, "VMCS revision differs from the boot CPU's");
		return -1;
	}
	if (!vmx.ready && vmx_setup_shared(err, err_size))
		return -1;
	struct vmx_cpu *c = kmem_alloc_pages(sizeof(*c), PAGE_SIZE);
	void *region = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!c || !region) {
		ksnprintf(err, err_size, "out of memory for VMX structures");
		return -1;
	}
	c->vmxon_region = region;
	write_cr0((read_cr0() | vmx.cr0_fixed0) & vmx.cr0_fixed1);
	write_cr4((read_cr4() | vmx.cr4_fixed0 | (1ull << 13)) & vmx.cr4_fixed1);
	*(uint32_t *)c->vmxon_region = vmx.revision;
	uint64_t pa = (uint64_t)(uintptr_t)c->vmxon_region;
	bool fail;
	__asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	if (fail) {
		ksnprintf(err, err_size, "VMXON failed");
		return -1;
	}

	this_cpu()->virt = c;
	return 0;
}

static const struct stage2_format *vmx_stage2_format(void)
{
	return &vmx.ept;
}

static struct vmx_vcpu *vx(struct vcpu *v)
{
	return v->arch;
}

/* Makes v's VMCS the current one on this CPU. */
static void load_vmcs(struct vcpu *v)
{
	struct vmx_cpu *c = this_cpu()->virt;
	if (c->current == vx(v)->vmcs)
		return;
	if (!vmptrld(vx(v)->vmcs_pa))
		klog("vm %s: VMPTRLD failed", v->vm->name);
	c->current = vx(v)->vmcs;
	vx(v)->active_cpu = (int)this_cpu()->index;
}

static uint64_t eptp_of(struct vcpu *v)
{
	/* write-back, 4-level walk (SDM 25.6.11) */
	return v->vm->stage2.root | 6 | (3 << 3);
}

struct table_ptr_raw {
	uint16_t limit;
	uint64_t base;
} PACKED;

static void write_host_state(void)
{
	struct table_ptr_raw gdtr, idtr;
	uint16_t tr;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("str %0" : "=r"(tr));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, KEEL_CS);
	vmwrite(VMCS_HOST_SS_SEL, KEEL_DS);
	vmwrite(VMCS_HOST_DS_SEL, KEEL_DS);
	vmwrite(VMCS_HOST_ES_SEL, KEEL_DS);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, tr); /* must be non-zero (EMULATION.md, Bochs) */
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	/* the TSS base from its 16-byte descriptor (SDM 7.2.3) */
	const uint8_t *d = (const uint8_t *)(uintptr_t)(gdtr.base + tr);
	uint64_t tr_base = (uint64_t)d[2] | ((uint64_t)d[3] << 8) | ((uint64_t)d[4] << 16) |
			   ((uint64_t)d[7] << 24) | ((uint64_t)d[8] << 32) |
			   ((uint64_t)d[9] << 40) | ((uint64_t)d[10] << 48) |
			   ((uint64_t)d[11] << 56);
	vmwrite(VMCS_HOST_TR_BASE, tr_base);
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_PAT));
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

static int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_vcpu *s = kmem_alloc_pages(sizeof(*s), PAGE_SIZE);
	if (!s)
		return -1;
	s->host_cpu = s->active_cpu = -1;
	v->arch = s; /* from here on, vmx_vcpu_destroy frees what there is */
	void *vmcs = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!vmcs)
		return -1;
	*(uint32_t *)vmcs = vmx.revision;
	s->vmcs = vmcs;
	s->vmcs_pa = (uint64_t)(uintptr_t)vmcs;
	s->flush_tlb = true;
	s->dregs.has_dr6 = true;
	/* one VPID per vCPU while they last (16 bits); past that, 0 means "flush on every entry" */
	if (vmx.vpid && vmx.next_vpid)
		s->vpid = vmx.next_vpid++;
	if (!vmclear(s->vmcs_pa))
		return -1;
	((struct vmx_cpu *)this_cpu()->virt)->current = NULL;
	load_vmcs(v);

	vmwrite(VMCS_PIN_CONTROLS, vmx.pin);
	vmwrite(VMCS_PROC_CONTROLS, vmx.proc);
	vmwrite(VMCS_PROC_CONTROLS2, vmx.proc2 & (s->vpid ? ~0u : ~PROC2_VPID));
	vmwrite(VMCS_EXIT_CONTROLS, vmx.exit);
	vmwrite(VMCS_ENTRY_CONTROLS, vmx.entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_PF_ERROR_MASK, 0);
	vmwrite(VMCS_PF_ERROR_MATCH, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_IO_BITMAP_A, (uint64_t)(uintptr_t)vmx.io_bitmaps);
	vmwrite(VMCS_IO_BITMAP_B, (uint64_t)(uintptr_t)vmx.io_bitmaps + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)vmx.msr_bitmap);
	vmwrite(VMCS_EPT_POINTER, eptp_of(v));
	if (s->vpid)
		vmwrite(VMCS_VPID, s->vpid);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_TSC_OFFSET, 0);
	/* CR0/CR4 bits VMX forces (NE, VMXE; PE and PG are free with unrestricted guest) are
	 * owned by keel: the guest reads its own values from the shadows (SDM 25.6.6). So are CD
	 * and NW, which VM entry does not load (SDM 27.3.2.1): the guest reads what it wrote (after
	 * INIT: both set) rather than the host's. So is every CR4 bit the guest's CPUID does not
	 * offer (VMXE, SMXE, PCIDE, LA57, PKE, MCE ...): the CPU would take a write of one it has
	 * without an exit, so setting it must exit, for keel's #GP (core/cr_policy.h). */
	struct cr_features f;
	guest_cr_features(v, &f);
	uint64_t cr0_owned =
		((vmx.cr0_fixed0 | ~vmx.cr0_fixed1) & ~(CR0_PE | CR0_PG)) | CR0_CD | CR0_NW;
	uint64_t cr4_owned = vmx.cr4_fixed0 | ~vmx.cr4_fixed1 | ~cr4_valid_bits(&f);
	vmwrite(VMCS_CR0_MASK, cr0_owned & 0xffffffffull);
	vmwrite(VMCS_CR4_MASK, cr4_owned & 0xffffffffull);
	write_host_state();
	s->host_cpu = (int)this_cpu()->index;
	return 0;
}

static uint32_t ar_from_attr(const struct segment *sg)
{
	/* VMCB attrib (core's format) to VMCS access rights: bits 8-11 move to 12-15 */
	if (!(sg->attr & SEG_ATTR_P))
		return VMX_AR_UNUSABLE;
	return (sg->attr & 0xffu) | ((uint32_t)(sg->attr & 0xf00u) << 4);
}

static uint16_t attr_from_ar(uint32_t ar)
{
	if (ar & VMX_AR_UNUSABLE)
		return 0;
	return (uint16_t)((ar & 0xff) | ((ar >> 4) & 0xf00));
}

static void put_seg(unsigned n, const struct segment *sg)
{
	vmwrite(VMCS_GUEST_ES_SEL + 2 * n, sg->selector);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * n, sg->limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * n, ar_from_attr(sg));
	vmwrite(VMCS_GUEST_ES_BASE + 2 * n, sg->base);
}

static void get_seg(unsigned n, struct segment *sg)
{
	sg->selector = (uint16_t)vmread(VMCS_GUEST_ES_SEL + 2 * n);
	sg->limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * n);
	sg->attr = attr_from_ar((uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * n));
	sg->base = vmread(VMCS_GUEST_ES_BASE + 2 * n);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* The CR0 the CPU runs the guest with: the guest's value plus the bits VMX forces, except PE and
 * PG, which unrestricted guest leaves to the guest (SDM 24.8). */
static uint64_t real_cr0(uint64_t guest)
{
	return (guest | (vmx.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx.cr0_fixed1;
}

static uint64_t real_cr4(uint64_t guest)
{
	return (guest | vmx.cr4_fixed0) & vmx.cr4_fixed1;
}

static void set_ia32e(struct vcpu *v, uint64_t efer)
{
	(void)v;
	uint64_t entry = vmread(VMCS_ENTRY_CONTROLS);
	if (efer & EFER_LMA)
		entry |= ENTRY_IA32E_GUEST;
	else
		entry &= ~(uint64_t)ENTRY_IA32E_GUEST;
	vmwrite(VMCS_ENTRY_CONTROLS, entry);
}

/* In PAE paging outside long mode the CPU takes the four PDPTEs from the VMCS at entry (SDM
 * 27.3.2.4); keel loads them whenever it changes CR0, CR3 or CR4 itself. */
static void load_pdptes(struct vcpu *v, uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3)
{
	uint64_t pdpte[4] = { 0, 0, 0, 0 };
	if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA))
		gmem_read(&v->vm->mem, cr3 & 0xffffffe0ull, pdpte, sizeof(pdpte));
	for (unsigned i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

static void vmx_vcpu_load_state(struct vcpu *v, const struct vcpu_sregs *s)
{
	struct vmx_vcpu *x = vx(v);
	load_vmcs(v);
	x->cr8 = 0;
	put_seg(SEG_ES, &s->es);
	put_seg(SEG_CS, &s->cs);
	put_seg(SEG_SS, &s->ss);
	put_seg(SEG_DS, &s->ds);
	put_seg(SEG_FS, &s->fs);
	put_seg(SEG_GS, &s->gs);
	put_seg(SEG_LDTR, &s->ldtr);
	struct segment tr = s->tr;
	if (!(tr.attr & SEG_ATTR_P)) /* VM entry needs a usable, busy TSS (SDM 26.3.1.2) */
		tr = (struct segment){ 0, SEG_ATTR_P | 0xb, 0xffff, 0 };
	put_seg(SEG_TR, &tr);
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdtr.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdtr.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, s->idtr.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, s->idtr.limit);
	x->cr0_shadow = s->cr0;
	x->cr4_shadow = s->cr4;
	vmwrite(VMCS_CR0_SHADOW, s->cr0);
	vmwrite(VMCS_CR4_SHADOW, s->cr4);
	vmwrite(VMCS_GUEST_CR0, real_cr0(s->cr0));
	vmwrite(VMCS_GUEST_CR3, s->cr3);
	vmwrite(VMCS_GUEST_CR4, real_cr4(s->cr4));
	vmwrite(VMCS_GUEST_EFER, s->efer);
	set_ia32e(v, s->efer);
	load_pdptes(v, s->cr0, s->cr4, s->efer, s->cr3);
	vmwrite(VMCS_GUEST_PAT, s->pat ? s->pat : 0x0007040600070406ull);
	vmwrite(VMCS_GUEST_DR7, DR7_RESET);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	guest_dregs_reset(&x->dregs);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0); /* no NMI blocking either */
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_NMI_WINDOW);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	x->flush_tlb = true;
}

/* The guest's whole CR0 or CR4: the bits keel owns from the read shadow, the rest from the
 * register (the guest changes those without an exit, so the shadow alone is stale). */
static uint64_t guest_cr0(const struct vmx_vcpu *x)
{
	uint64_t m = vmread(VMCS_CR0_MASK);
	return (vmread(VMCS_GUEST_CR0) & ~m) | (x->cr0_shadow & m);
}

static uint64_t guest_cr4(const struct vmx_vcpu *x)
{
	uint64_t m = vmread(VMCS_CR4_MASK);
	return (vmread(VMCS_GUEST_CR4) & ~m) | (x->cr4_shadow & m);
}

static void vmx_vcpu_get_sregs(struct vcpu *v, struct vcpu_sregs *s)
{
	load_vmcs(v);
	get_seg(SEG_ES, &s->es);
	get_seg(SEG_CS, &s->cs);
	get_seg(SEG_SS, &s->ss);
	get_seg(SEG_DS, &s->ds);
	get_seg(SEG_FS, &s->fs);
	get_seg(SEG_GS, &s->gs);
	get_seg(SEG_LDTR, &s->ldtr);
	get_seg(SEG_TR, &s->tr);
	s->gdtr.base = vmread(VMCS_GUEST_GDTR_BASE);
	s->gdtr.limit = (uint16_t)vmread(VMCS_GUEST_GDTR_LIMIT);
	s->idtr.base = vmread(VMCS_GUEST_IDTR_BASE);
	s->idtr.limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT);
	s->cr0 = guest_cr0(vx(v)); /* the bits keel owns read as the guest wrote them */
	s->cr4 = guest_cr4(vx(v));
	s->cr3 = vmread(VMCS_GUEST_CR3);
	__asm__ volatile("mov %%cr2, %0" : "=r"(s->cr2)); /* CR2 is not in the VMCS */
	s->efer = vmread(VMCS_GUEST_EFER);
	s->pat = vmread(VMCS_GUEST_PAT);
}

/* MOV to CR0/CR4, CLTS, LMSW that touched a bit keel owns (SDM 27.1.3, table 28-3 exit
 * qualification): the guest's value goes to the shadow, the real register keeps the forced bits.
 * A value the CPU would refuse gets the CPU's #GP (SDM vol 2, MOV to control registers): the
 * exit happens before the CPU's own checks. */
static bool handle_cr_write(struct vcpu *v, uint64_t qual)
{
	unsigned cr = qual & 15, type = (qual >> 4) & 3, reg = (qual >> 8) & 15;
	struct vmx_vcpu *x = vx(v);
	uint64_t cur0 = guest_cr0(x), cur4 = guest_cr4(x), efer = vmread(VMCS_GUEST_EFER);
	bool long64 = (efer & EFER_LMA) && (vmread(VMCS_GUEST_CS_AR) & (1u << 13));
	uint64_t val;

	if (type == 0) {
		val = reg == GPR_RSP ? vmread(VMCS_GUEST_RSP) : v->regs.gpr[reg];
		if (!long64)
			val = (uint32_t)val; /* outside 64-bit mode the source is 32 bits */
	} else if (type == 2 && cr == 0) {   /* CLTS */
		val = cur0 & ~CR0_TS;
	} else if (type == 3 && cr == 0) { /* LMSW: only PE, MP, EM, TS; PE cannot be cleared */
		val = (cur0 & ~0xeull) | ((qual >> 16) & 0xf) | (cur0 & 1);
	} else {
		return false;
	}
	if (cr != 0 && cr != 4)
		return false;
	/* the architectural checks against the guest's CPUID view (core/cr_policy.h); a CR4 bit
	 * the guest may set that this CPU lacks is not in fixed1 and #GPs too */
	struct cr_features f;
	struct cr_state st = { .cr0 = cur0,
			       .cr3 = vmread(VMCS_GUEST_CR3),
			       .cr4 = cur4,
			       .efer = efer,
			       .cs_l = (vmread(VMCS_GUEST_CS_AR) & (1u << 13)) != 0 };
	uint64_t load = 0;
	guest_cr_features(v, &f);
	const char *why = cr == 0 ? cr0_write_check(&f, &st, val, &load)
				  : cr4_write_check(&f, &st, val, &load);
	if (why || (cr == 4 && (load & ~vmx.cr4_fixed1))) {
		vmwrite(VMCS_ENTRY_EXC_ERROR, 0);
		vmwrite(VMCS_ENTRY_INTR_INFO,
			INTR_INFO_VALID | INTR_TYPE_HW_EXC | INTR_INFO_ERROR_VALID | 13);
		return true;
	}
	val = load;
	if (cr == 0) {
		x->cr0_shadow = val;
		vmwrite(VMCS_CR0_SHADOW, val);
		vmwrite(VMCS_GUEST_CR0, real_cr0(val));
		/* CR0.PG with EFER.LME switches long mode on or off (SDM 10.8.5) */
		efer = efer_after_cr0(efer, val);
		vmwrite(VMCS_GUEST_EFER, efer);
		set_ia32e(v, efer);
		load_pdptes(v, val, cur4, efer, vmread(VMCS_GUEST_CR3));
	} else {
		x->cr4_shadow = val;
		vmwrite(VMCS_CR4_SHADOW, val);
		vmwrite(VMCS_GUEST_CR4, real_cr4(val));
		load_pdptes(v, cur0, val, efer, vmread(VMCS_GUEST_CR3));
	}
	x->flush_tlb = true;
	v->regs.rip += vmread(VMCS_EXIT_INSN_LEN);
	return true;
}

/* MOV from CR8 (64-bit mode only; exit qualification as for CR0): the guest's CR8, which core
 * keeps equal to its virtual local APIC's TPR[7:4]. Without CR8-load/store exiting the guest would
 * read and write the physical TPR, and could mask every host interrupt on its CPU (keel's slice
 * timer and kicks). A MOV to CR8 goes to core (EXIT_CR8_WRITE). true: handled here. */
static bool handle_cr8_read(struct vcpu *v, uint64_t qual)
{
	if (((qual >> 4) & 3) != 1)
		return false;
	v->regs.gpr[(qual >> 8) & 15] = vx(v)->cr8;
	v->regs.rip += vmread(VMCS_EXIT_INSN_LEN);
	return true;
}

static void decode_exit(struct vcpu *v, uint32_t reason, struct vm_exit *e)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	uint32_t basic = reason & 0xffff;

	memset(e, 0, sizeof(*e));
	e->hw_code = reason;
	e->hw_info1 = qual;
	e->insn_len = (uint8_t)vmread(VMCS_EXIT_INSN_LEN);
	if (reason & VMX_EXIT_ENTRY_FAILED) {
		e->reason = EXIT_ENTRY_FAILED;
		return;
	}
	switch (basic) {
	case VMX_EXIT_IO:
		/* qualification (SDM table 28-5): size-1 in 2:0, IN 3, string 4, REP 5, port 31:16 */
		e->reason = EXIT_IO;
		e->io.size = (uint8_t)((qual & 7) + 1);
		e->io.in = (qual >> 3) & 1;
		e->io.string = (qual >> 4) & 1;
		e->io.rep = (qual >> 5) & 1;
		e->io.port = (uint16_t)(qual >> 16);
		break;
	case VMX_EXIT_EPT_VIOLATION:
		/* qualification (table 28-7): read 0, write 1, fetch 2, entry permissions 5:3 */
		e->reason = EXIT_NPF;
		e->npf.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
		e->npf.write = (qual >> 1) & 1;
		e->npf.fetch = (qual >> 2) & 1;
		e->npf.present = (qual & 0x38) != 0;
		e->hw_info2 = e->npf.gpa;
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->reason = basic == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
		e->msr.index = (uint32_t)v->regs.gpr[GPR_RCX];
		break;
	case VMX_EXIT_EXCEPTION_NMI: {
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
		if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
			e->reason = EXIT_NMI;
		} else {
			e->reason = EXIT_EXCEPTION;
			e->exc.vector = (uint8_t)info;
			e->exc.has_error = (info & INTR_INFO_ERROR_VALID) != 0;
			e->exc.error_code = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
		}
		break;
	}
	case VMX_EXIT_EXT_INTR:
		e->reason = EXIT_EXT_INTR;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = EXIT_SHUTDOWN;
		break;
	case VMX_EXIT_INTR_WINDOW:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case VMX_EXIT_NMI_WINDOW:
		e->reason = EXIT_NMI_WINDOW;
		break;
	case VMX_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case VMX_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case VMX_EXIT_VMCALL:
		e->reason = EXIT_VMCALL;
		break;
	case VMX_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case VMX_EXIT_INVD:
	case VMX_EXIT_WBINVD:
		e->reason = EXIT_WBINVD;
		break;
	case VMX_EXIT_MONITOR:
		e->reason = EXIT_MONITOR;
		break;
	case VMX_EXIT_MWAIT:
		e->reason = EXIT_MWAIT;
		break;
	case VMX_EXIT_PAUSE:
		e->reason = EXIT_PAUSE;
		break;
	case VMX_EXIT_RDTSC:
		e->reason = EXIT_RDTSC;
		break;
	case VMX_EXIT_RDTSCP:
		e->reason = EXIT_RDTSCP;
		break;
	case VMX_EXIT_CR_ACCESS:
		/* only a MOV to CR8 gets here (handle_cr8_read takes the reads) */
		e->reason =
			(qual & 15) == 8 && ((qual >> 4) & 3) == 0 ? EXIT_CR8_WRITE : EXIT_UNKNOWN;
		e->cr8.gpr = (int8_t)((qual >> 8) & 15);
		break;
	case VMX_EXIT_INVLPG:
		e->reason = EXIT_INVLPG;
		break;
	case VMX_EXIT_RDPMC:
		e->reason = EXIT_RDPMC;
		break;
	case VMX_EXIT_INVPCID:
		e->reason = EXIT_INVPCID;
		break;
	case VMX_EXIT_GETSEC:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC:
		e->reason = EXIT_VIRT_INSN;
		break;
	case VMX_EXIT_INVALID_STATE:
	case VMX_EXIT_MSR_LOADING:
	case VMX_EXIT_MACHINE_CHECK:
		e->reason = EXIT_ENTRY_FAILED;
		break;
	default:
		if (basic >= VMX_EXIT_VMCLEAR && basic <= VMX_EXIT_VMXON)
			e->reason = EXIT_VIRT_INSN;
		else
			e->reason = EXIT_UNKNOWN;
	}
}

/* After a VM entry refused for its guest state: keel's own checks name the field. */
static void explain_invalid_guest_state(struct vcpu *v)
{
	struct vmx_guest_state g = {
		.cr0 = vmread(VMCS_GUEST_CR0),
		.cr3 = vmread(VMCS_GUEST_CR3),
		.cr4 = vmread(VMCS_GUEST_CR4),
		.efer = vmread(VMCS_GUEST_EFER),
		.rflags = vmread(VMCS_GUEST_RFLAGS),
		.dr7 = vmread(VMCS_GUEST_DR7),
		.rip = vmread(VMCS_GUEST_RIP),
		.cr0_fixed0 = vmx.cr0_fixed0,
		.cr0_fixed1 = vmx.cr0_fixed1,
		.cr4_fixed0 = vmx.cr4_fixed0,
		.cr4_fixed1 = vmx.cr4_fixed1,
		.unrestricted = (vmread(VMCS_PROC_CONTROLS2) & PROC2_UNRESTRICTED) != 0,
		.ia32e = (vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST) != 0,
		.load_efer = (vmread(VMCS_ENTRY_CONTROLS) & ENTRY_LOAD_EFER) != 0,
		.gdtr_base = vmread(VMCS_GUEST_GDTR_BASE),
		.idtr_base = vmread(VMCS_GUEST_IDTR_BASE),
		.gdtr_limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT),
		.idtr_limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT),
		.activity = (uint32_t)vmread(VMCS_GUEST_ACTIVITY),
		.interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY),
		.link_pointer = vmread(VMCS_LINK_POINTER),
	};
	for (unsigned n = 0; n < VGS_NR_SEGS; n++) {
		g.seg[n].sel = (uint16_t)vmread(VMCS_GUEST_ES_SEL + 2 * n);
		g.seg[n].ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * n);
		g.seg[n].limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * n);
		g.seg[n].base = vmread(VMCS_GUEST_ES_BASE + 2 * n);
	}
	char why[160];
	const char *r = vmx_check_guest_state(&g, why, sizeof(why));
	klog("vm %s: VM entry refused: invalid guest state: %s", v->vm->name,
	     r ? r : "no rule keel checks is broken (see Intel SDM vol 3C, 27.3.1)");
}

/* The vCPU moves to another CPU: a VMCS may be active on one CPU only, so it is cleared here
 * (SDM 25.11.1, VMCLEAR) and launched afresh there, with that CPU's host state. */
static void vmx_vcpu_release(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	struct vmx_cpu *c = this_cpu()->virt;

	vmclear(x->vmcs_pa);
	if (c->current == x->vmcs)
		c->current = NULL;
	x->launched = false;
	x->host_cpu = -1;
	x->active_cpu = -1;
}

/* An active VMCS may have parts of its state only in the CPU it is active on, which writes them
 * back into its page at VMCLEAR, not before (SDM vol 3C, 25.11.1 "Software Use of Virtual-Machine
 * Control Structures", and 25.1): its page is freed only once it is clear, and VMCLEAR works only
 * on that CPU. The VPID is not handed out again: a new vCPU takes the next one. */
static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);

	if (!x)
		return;
	if (x->vmcs && x->active_cpu == (int)this_cpu()->index)
		vmx_vcpu_release(v);
	if (x->vmcs && x->active_cpu >= 0)
		/* active elsewhere, against vcpu_destroy's contract: that CPU could still write
		 * into the page, so it is lost rather than handed to anyone else */
		klog("vm %s: vcpu %u's VMCS is active on cpu %d; its page stays allocated",
		     v->vm->name, v->id, x->active_cpu);
	else if (x->vmcs)
		kmem_free_pages(x->vmcs, PAGE_SIZE);
	kmem_free_pages(x, sizeof(*x));
	v->arch = NULL;
}

/* An exiting instruction that core completed (RIP moved past it) ends the STI or MOV SS shadow
 * it sat in: a HLT right after STI exits with blocking by STI set (SDM 27.3.4), which would
 * otherwise keep every interrupt out and, with IF set, refuse the interrupt injection at entry
 * (SDM 26.3.1.5). KVM clears the shadow likewise when it skips an instruction. */
static void end_skipped_shadow(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	if (v->regs.rip == x->exit_rip)
		return;
	x->exit_rip = v->regs.rip;
	uint64_t s = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (s & 3)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, s & ~3ull);
}

/* Virtual-NMI blocking across an exit (SDM vol 3C 28.2.3 "Information About NMI Unblocking Due
 * to IRET"): an exit from an IRET that faulted (an exception, an EPT violation) leaves the NMI
 * blocking that IRET began to lift cleared, although the IRET will run again: keel sets it
 * again. An NMI whose delivery the exit interrupted is injected again, and entry refuses an
 * NMI injection with blocking by NMI set (SDM vol 3C 27.3.1.5), so it is cleared then (the
 * delivery sets it). Also the NMI window's exit, once taken, is withdrawn. */
static void nmi_after_exit(uint32_t reason, uint32_t idt)
{
	uint32_t basic = reason & 0xffff;
	bool unblocked = false;

	if (reason & VMX_EXIT_ENTRY_FAILED)
		return;
	if (basic == VMX_EXIT_NMI_WINDOW)
		vmwrite(VMCS_PROC_CONTROLS,
			vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_NMI_WINDOW);
	if (!(idt & INTR_INFO_VALID)) {
		if (basic == VMX_EXIT_EPT_VIOLATION) {
			unblocked = vmread(VMCS_EXIT_QUALIFICATION) & (1u << 12);
		} else if (basic == VMX_EXIT_EXCEPTION_NMI) {
			uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
			/* undefined for a double fault (SDM vol 3C 28.2.2) */
			unblocked = (info & INTR_INFO_VALID) && (info & (1u << 12)) &&
				    (info & 0xff) != 8;
		}
	}
	uint64_t st = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (unblocked)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, st | INTERRUPTIBILITY_NMI);
	else if ((idt & INTR_INFO_VALID) && (idt & INTR_TYPE_MASK) == INTR_TYPE_NMI)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, st & ~(uint64_t)INTERRUPTIBILITY_NMI);
}

static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmx_vcpu *x = vx(v);

	load_vmcs(v);
	if (x->host_cpu != (int)this_cpu()->index) {
		write_host_state(); /* GS, TR, GDT and IDT bases and the stack differ per CPU */
		x->host_cpu = (int)this_cpu()->index;
	}
	guest_dregs_sync(&x->dregs);
	for (;;) {
		if (x->flush_tlb) {
			/* single-context where the CPU has it, else everything (SDM 30.3) */
			if (vmx.ept_vpid_cap & EPT_CAP_INVEPT)
				invept(vmx.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE ? 1 : 2,
				       eptp_of(v));
			if (x->vpid)
				invvpid(vmx.ept_vpid_cap & VPID_CAP_SINGLE ? 1 : 2, x->vpid);
			x->flush_tlb = false;
		}
		end_skipped_shadow(v);
		vmwrite(VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
		vmwrite(VMCS_GUEST_RIP, v->regs.rip);
		vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
		if (vmx_enter(&v->regs, x->launched)) {
			uint64_t err = vmread(VMCS_INSN_ERROR);
			klog("vm %s: VM entry refused: VM-instruction error %llu (%s)", v->vm->name,
			     (unsigned long long)err, vmx_insn_error(err));
			memset(exit, 0, sizeof(*exit));
			exit->reason = EXIT_ENTRY_FAILED;
			exit->hw_code = err;
			return;
		}
		x->launched = true;
		v->regs.gpr[GPR_RSP] = vmread(VMCS_GUEST_RSP);
		v->regs.rip = vmread(VMCS_GUEST_RIP);
		x->exit_rip = v->regs.rip;
		v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
		uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);

		/* an event the exit interrupted is delivered again (SDM 28.2.4) */
		uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
		if (idt & INTR_INFO_VALID) {
			vmwrite(VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));
			if (idt & INTR_INFO_ERROR_VALID)
				vmwrite(VMCS_ENTRY_EXC_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
			vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
		} else {
			vmwrite(VMCS_ENTRY_INTR_INFO, 0);
		}
		nmi_after_exit(reason, idt);
		if ((reason & 0xffff) == VMX_EXIT_CR_ACCESS && !(reason & VMX_EXIT_ENTRY_FAILED)) {
			uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
			if ((qual & 15) == 8 ? handle_cr8_read(v, qual) : handle_cr_write(v, qual))
				continue; /* handled here: core sees only a CR8 write */
		}
		decode_exit(v, reason, exit);
		if ((reason & VMX_EXIT_ENTRY_FAILED) && (reason & 0xffff) == VMX_EXIT_INVALID_STATE)
			explain_invalid_guest_state(v);
		return;
	}
}

static void vmx_inject_event(struct vcpu *v, enum event_type type, uint8_t vector, bool has_error,
			     uint32_t error_code)
{
	uint32_t info = INTR_INFO_VALID | vector;
	load_vmcs(v);
	switch (type) {
	case EVENT_EXTINT:
		info |= INTR_TYPE_EXT;
		break;
	case EVENT_NMI:
		info |= INTR_TYPE_NMI;
		break;
	case EVENT_EXCEPTION:
		info |= INTR_TYPE_HW_EXC;
		break;
	case EVENT_SOFT_INT:
		info |= INTR_TYPE_SW_INT;
		break;
	}
	if (has_error) {
		info |= INTR_INFO_ERROR_VALID;
		vmwrite(VMCS_ENTRY_EXC_ERROR, error_code);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static uint8_t vmx_get_cr8(struct vcpu *v)
{
	return vx(v)->cr8;
}

static void vmx_set_cr8(struct vcpu *v, uint8_t cr8)
{
	vx(v)->cr8 = cr8 & 0xf;
}

/* Every MOV to CR8 exits (EXIT_CR8_WRITE), so core sees each lowering of the TPR itself. */
static void vmx_set_tpr_threshold(struct vcpu *v, int cls)
{
	(void)v;
	(void)cls;
}

static bool vmx_interrupt_allowed(struct vcpu *v)
{
	load_vmcs(v);
	end_skipped_shadow(v);
	/* interruptibility bits 0 (STI) and 1 (MOV SS) block interrupts (SDM 25.4.2) */
	return (v->regs.rflags & RFLAGS_IF) && !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3) &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

/* Blocking by STI (bit 0), MOV SS (bit 1) and NMI (bit 3) hold an NMI back (SDM vol 3C 25.4.2);
 * VM entry refuses an NMI injected under MOV SS, and on some CPUs under STI (27.3.1.5). */
static bool vmx_nmi_allowed(struct vcpu *v)
{
	load_vmcs(v);
	end_skipped_shadow(v);
	return !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (3 | INTERRUPTIBILITY_NMI)) &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

/* The NMI window exit comes once neither virtual-NMI blocking nor a shadow holds an NMI back;
 * nmi_after_exit withdraws it. */
static void vmx_request_nmi_window(struct vcpu *v)
{
	load_vmcs(v);
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_NMI_WINDOW);
}

static void vmx_request_irq_window(struct vcpu *v, bool on)
{
	load_vmcs(v);
	uint64_t proc = vmread(VMCS_PROC_CONTROLS);
	vmwrite(VMCS_PROC_CONTROLS,
		on ? proc | PROC_INTR_WINDOW : proc & ~(uint64_t)PROC_INTR_WINDOW);
}

/* A vCPU sharing its CPU: every PAUSE exits (SDM 25.1.3), so a spin-wait gives the CPU to the
 * vCPU it waits for. */
static void vmx_set_pause_exit(struct vcpu *v, bool on)
{
	if (!vmx.pause_exit)
		return;
	load_vmcs(v);
	uint64_t proc = vmread(VMCS_PROC_CONTROLS);
	vmwrite(VMCS_PROC_CONTROLS,
		on ? proc | PROC_PAUSE_EXIT : proc & ~(uint64_t)PROC_PAUSE_EXIT);
}

static void vmx_flush_guest_tlb(struct vcpu *v)
{
	vx(v)->flush_tlb = true;
}

static uint64_t vmx_get_efer(struct vcpu *v)
{
	load_vmcs(v);
	return vmread(VMCS_GUEST_EFER);
}

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
	load_vmcs(v);
	vmwrite(VMCS_GUEST_EFER, efer);
	set_ia32e(v, efer);
}

static uint64_t vmx_get_pat(struct vcpu *v)
{
	load_vmcs(v);
	return vmread(VMCS_GUEST_PAT);
}

static void vmx_set_pat(struct vcpu *v, uint64_t pat)
{
	load_vmcs(v);
	vmwrite(VMCS_GUEST_PAT, pat);
}

/* One register, not the whole state: CPUID exits ask for CR4 each time. */
static uint64_t vmx_get_cr(struct vcpu *v, unsigned cr)
{
	load_vmcs(v);
	switch (cr) {
	case 0:
		return guest_cr0(vx(v));
	case 2:
		return read_cr2(); /* CR2 is not in the VMCS */
	case 3:
		return vmread(VMCS_GUEST_CR3);
	case 4:
		return guest_cr4(vx(v));
	default:
		return 0;
	}
}

/* CR2 is not part of the VMCS: the guest's value is the CPU's own while keel runs (keel takes
 * no page faults), so it is written directly. */
static void vmx_set_cr2(struct vcpu *v, uint64_t cr2)
{
	(void)v;
	write_cr2(cr2);
}

static void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	load_vmcs(v);
	vmwrite(VMCS_TSC_OFFSET, offset);
}

static void vmx_dump(struct vcpu *v)
{
	load_vmcs(v);
	klog("  vmx: exit reason %llx qual %llx insn error %llu intr info %llx idt vectoring %llx",
	     (unsigned long long)vmread(VMCS_EXIT_REASON),
	     (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION),
	     (unsigned long long)vmread(VMCS_INSN_ERROR),
	     (unsigned long long)vmread(VMCS_ENTRY_INTR_INFO),
	     (unsigned long long)vmread(VMCS_IDT_VECTORING_INFO));
	klog("  vmx: controls pin %llx proc %llx proc2 %llx entry %llx exit %llx vpid %u",
	     (unsigned long long)vmread(VMCS_PIN_CONTROLS),
	     (unsigned long long)vmread(VMCS_PROC_CONTROLS),
	     (unsigned long long)vmread(VMCS_PROC_CONTROLS2),
	     (unsigned long long)vmread(VMCS_ENTRY_CONTROLS),
	     (unsigned long long)vmread(VMCS_EXIT_CONTROLS), vx(v)->vpid);
	klog("  vmx: guest cr0 %llx cr4 %llx efer %llx interruptibility %llx activity %llx",
	     (unsigned long long)vmread(VMCS_GUEST_CR0), (unsigned long long)vmread(VMCS_GUEST_CR4),
	     (unsigned long long)vmread(VMCS_GUEST_EFER),
	     (unsigned long long)vmread(VMCS_GUEST_INTERRUPTIBILITY),
	     (unsigned long long)vmread(VMCS_GUEST_ACTIVITY));
	static const char *const names[8] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };
	for (unsigned n = 0; n < 8; n++)
		klog("  vmx: %-4s sel %04llx base %llx limit %llx ar %llx", names[n],
		     (unsigned long long)vmread(VMCS_GUEST_ES_SEL + 2 * n),
		     (unsigned long long)vmread(VMCS_GUEST_ES_BASE + 2 * n),
		     (unsigned long long)vmread(VMCS_GUEST_ES_LIMIT + 2 * n),
		     (unsigned long long)vmread(VMCS_GUEST_ES_AR + 2 * n));
}

static void vmx_vcpu_save_cpu(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	x->cr2 = read_cr2();
	x->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	x->star = rdmsr(MSR_STAR);
	x->lstar = rdmsr(MSR_LSTAR);
	x->cstar = rdmsr(MSR_CSTAR);
	x->sfmask = rdmsr(MSR_SFMASK);
	guest_dregs_save(&x->dregs);
}

static void vmx_vcpu_load_cpu(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	write_cr2(x->cr2);
	wrmsr(MSR_KERNEL_GS_BASE, x->kernel_gs_base);
	wrmsr(MSR_STAR, x->star);
	wrmsr(MSR_LSTAR, x->lstar);
	wrmsr(MSR_CSTAR, x->cstar);
	wrmsr(MSR_SFMASK, x->sfmask);
	guest_dregs_load(&x->dregs);
}

const struct virt_ops vmx_ops = {
	.name = "VT-x",
	.cpu_enable = vmx_cpu_enable,
	.stage2_format = vmx_stage2_format,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_load_state = vmx_vcpu_load_state,
	.vcpu_get_sregs = vmx_vcpu_get_sregs,
	.vcpu_run = vmx_vcpu_run,
	.vcpu_release = vmx_vcpu_release,
	.vcpu_save_cpu = vmx_vcpu_save_cpu,
	.vcpu_load_cpu = vmx_vcpu_load_cpu,
	.inject_event = vmx_inject_event,
	.interrupt_allowed = vmx_interrupt_allowed,
	.get_cr8 = vmx_get_cr8,
	.set_cr8 = vmx_set_cr8,
	.set_tpr_threshold = vmx_set_tpr_threshold,
	.request_irq_window = vmx_request_irq_window,
	.nmi_allowed = vmx_nmi_allowed,
	.request_nmi_window = vmx_request_nmi_window,
	.set_pause_exit = vmx_set_pause_exit,
	.flush_guest_tlb = vmx_flush_guest_tlb,
	.get_efer = vmx_get_efer,
	.set_efer = vmx_set_efer,
	.get_pat = vmx_get_pat,
	.set_pat = vmx_set_pat,
	.get_cr = vmx_get_cr,
	.set_cr2 = vmx_set_cr2,
	.set_tsc_offset = vmx_set_tsc_offset,
	.dump = vmx_dump,
};

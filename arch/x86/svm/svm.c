/* AMD-V backend: SVM with nested paging (AMD APM vol 2, chapter 15). */
#include "arch/x86/cpu.h"
#include "arch/x86/debugreg.h"
#include "arch/x86/paging.h"
#include "arch/x86/apic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/svm/asid.h"
#include "arch/x86/svm/tcg_dr7.h"
#include "arch/x86/svm/vmcb.h"
#include "arch/x86/svm/vmcb_check.h"
#include "core/cr_policy.h"
#include "core/kmem.h"
#include "core/virt.h"
#include "core/vm.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "mm/stage2.h"

void svm_vmrun(uint64_t vmcb_pa, struct vcpu_regs *regs, uint64_t host_vmcb_pa, uint64_t tcg_dr7);
void svm_vmsave(uint64_t pa);

/* CPUID Fn8000_000A EDX feature bits */
#define SVM_FEAT_NP (1u << 0)
#define SVM_FEAT_NRIPS (1u << 3)
#define SVM_FEAT_FLUSH_BY_ASID (1u << 6)
#define SVM_FEAT_DECODE_ASSISTS (1u << 7)
#define SVM_FEAT_PAUSE_FILTER (1u << 10)
/* PAUSEs in a row before an intercepted one exits, where the CPU can count them (AMD APM vol 2,
 * 15.14.4 "Pause Intercept Filtering"): a spin-wait's worth, not a single pause */
#define PAUSE_FILTER_COUNT 3000

/* the debug exception, intercepted while keel single-steps the guest; DR6.BS, its single-step
 * status (Intel SDM vol 3B 18.2.3, AMD APM vol 2 13.1.1.3) */
#define EXC_DB 1
#define DR6_BS (1ull << 14)

#define IOPM_SIZE (12 * KiB)
#define MSRPM_SIZE (8 * KiB)

/* VMCB state-save area (AMD APM vol 2, appendix B, table B-2): offsets 0x400-0x6FF */
#define VMCB_SAVE_AREA 0x400
#define VMCB_SAVE_AREA_SIZE 0x300

/* The instruction after each VMRUN in svm_run.S, and where svm_vmrun's code ends. */
extern const char svm_vmrun_host_rip[], svm_vmrun_tcg_dr7_host_rip[], svm_vmrun_end[];

struct svm_vcpu {
	void *vmcb;
	uint64_t vmcb_pa;
	uint64_t exit_rip; /* the guest's RIP at its last exit */
	bool flush_tlb;	   /* its own ASID's entries, on the next VMRUN */
	struct asid_vcpu asid;
	/* DR0-DR3 while another vCPU has the CPU (DR6 and DR7 are in the VMCB) */
	struct guest_dregs dregs;
	/* CR8 writes exit while an interrupt waits for a window or behind the guest's TPR */
	bool irq_window, tpr_blocked;
	/* NMI blocking, which SVM leaves to keel without vNMI (QEMU 7.2 has none): an injected NMI
	 * blocks NMIs until the guest's next IRET (AMD APM vol 2, 8.2.3 "NMI"). keel intercepts
	 * that IRET; the blocking ends once the IRET has run, i.e. RIP has left it. */
	bool nmi_blocked;
	bool iret_seen; /* the IRET is intercepted and about to run at iret_rip */
	uint64_t iret_rip;
	/* Single-stepping one guest instruction (RFLAGS.TF, #DB intercepted) so that keel looks
	 * at a pending NMI right after it: the IRET that ends the blocking, or the instruction in
	 * an interrupt shadow. TF, DR6 and the #DB intercept go back as they were after it. */
	bool nmi_step;
	bool step_guest_tf;	  /* TF was the guest's own */
	bool step_db_intercepted; /* #DB was intercepted anyway */
	uint64_t step_dr6;
	bool tcg_dr7_dropped_logged; /* tcg_dr7_for said so once */
};

/* V_INTR_CONTROL fields (AMD APM vol 2, appendix B, VMCB offset 0x60) */
#define V_TPR_MASK 0xfull
#define V_IRQ (1ull << 8)
#define V_INTR_PRIO_MASK (0xfull << 16)
#define V_IGN_TPR (1ull << 20)
/* CR intercept word: reads in bits 0-15, writes in 16-31 (appendix B) */
#define INTERCEPT_CR0_WRITE (1u << (16 + 0))
#define INTERCEPT_CR4_WRITE (1u << (16 + 4))
#define INTERCEPT_CR8_WRITE (1u << (16 + 8))
/* DR intercept word: the same layout (appendix B) */
#define INTERCEPT_DR7_WRITE (1u << (16 + 7))

/* An intercepted instruction core completed (RIP moved past it) ends the interrupt shadow it sat
 * in: a HLT right after STI exits with the shadow set (AMD APM vol 2, 15.21.5), which would
 * otherwise keep out the interrupt that should end the HLT. */
static void end_skipped_shadow(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;
	if (v->regs.rip == s->exit_rip)
		return;
	s->exit_rip = v->regs.rip;
	*vmcb64(s->vmcb, VMCB_INT_STATE) &= ~1ull;
}

/* One per physical CPU (struct percpu's virt): VMRUN's host save area and the VMCB that VMSAVE
 * keeps keel's own FS, GS, TR ... in. */
struct svm_cpu {
	void *hsave;
	void *host_vmcb;
	struct asid_cpu asids; /* this CPU's ASID pool and generation */
};

/* Shared by every CPU, set up by the first cpu_enable. */
static struct {
	bool ready;
	uint32_t features;
	uint32_t nr_asids;
	uint8_t *iopm;
	uint8_t *msrpm;
	struct stage2_format npt;
	/* this CPU's CR4 and EFER bits and address width, for naming a refused VMRUN's rule */
	uint64_t cr4_valid, efer_valid;
	unsigned maxphyaddr;
	bool exit_after_intr; /* QEMU's TCG: an exit right after each injected interrupt */
	bool tcg_dr7;	      /* QEMU's TCG: keel arms guest breakpoints (tcg_dr7.h) */
} svm;

/* MSRs a guest reads and writes directly: their guest values live in the VMCB and are switched
 * by VMRUN, VMLOAD and VMSAVE, so passing them through leaks nothing of keel's. */
static const uint32_t passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR,		MSR_LSTAR,
	MSR_CSTAR,   MSR_SFMASK,  MSR_SYSENTER_CS,    MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
};

/* MSR permission map: two bits per MSR (read, write) in three 2 KiB blocks (AMD APM vol 2,
 * 15.11 "MSR Intercepts"). */
static void msrpm_allow(uint32_t msr)
{
	uint32_t block;
	if (msr <= 0x1fff)
		block = 0;
	else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		block = 0x800;
	else if (msr >= 0xc0010000 && msr <= 0xc0011fff)
		block = 0x1000;
	else
		return;
	uint32_t bit = (msr & 0x1fff) * 2;
	svm.msrpm[block + bit / 8] &= (uint8_t) ~(3u << (bit % 8));
}

/* The state every CPU shares: permission maps and the NPT format (the first cpu_enable). */
static int svm_setup_shared(char *err, size_t err_size)
{
	struct cpuid_regs f = cpuid(0x8000000a, 0);
	svm.features = f.edx;
	svm.nr_asids = f.ebx;
	if (!(f.edx & SVM_FEAT_NP)) {
		ksnprintf(err, err_size, "AMD-V without nested paging is not supported");
		return -1;
	}
	svm.iopm = kmem_alloc_pages(IOPM_SIZE, PAGE_SIZE);
	svm.msrpm = kmem_alloc_pages(MSRPM_SIZE, PAGE_SIZE);
	if (!svm.iopm || !svm.msrpm) {
		ksnprintf(err, err_size, "out of memory for SVM structures");
		return -1;
	}
	/* every port and MSR traps unless listed */
	memset(svm.iopm, 0xff, IOPM_SIZE);
	memset(svm.msrpm, 0xff, MSRPM_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msrpm_allow(passthrough_msrs[i]);

	/* NPT entries are ordinary long-mode entries with U/S set (AMD APM vol 2, 15.25.5). */
	svm.npt = (struct stage2_format){
		.table_bits = PTE_P | PTE_W | PTE_U,
		.leaf_rwx = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D,
		/* PCD | PWT: PAT entry 3, uncached in the reset PAT keel keeps; the combined type with
		 * the guest's is then UC (APM vol 2, 15.25.8) */
		.leaf_device = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D | PTE_PCD | PTE_PWT,
		.large_bit = PTE_PS,
		.present_mask = PTE_P,
		.gib_leaves = (cpuid(0x80000001, 0).edx & (1u << 26)) != 0,
		.mib_leaves = true,
	};
	struct cr_features host = {
		.l1_ecx = cpuid(1, 0).ecx,
		.l1_edx = cpuid(1, 0).edx,
		.l7_ebx = cpuid(7, 0).ebx,
		.l7_ecx = cpuid(7, 0).ecx,
		.l7_edx = cpuid(7, 0).edx,
		.x1_ecx = cpuid(0x80000001, 0).ecx,
		.x1_edx = cpuid(0x80000001, 0).edx,
	};
	svm.cr4_valid = cr4_valid_bits(&host);
	svm.efer_valid = efer_valid_bits(&host);
	svm.maxphyaddr = cpuid(0x80000008, 0).eax & 0xff;
	svm.ready = true;
	/* every AMD CPU with SVM since 2010 has NRIPS; QEMU's TCG has not (EMULATION.md) */
	svm.exit_after_intr = !(f.edx & SVM_FEAT_NRIPS);
	svm.tcg_dr7 = !(f.edx & SVM_FEAT_NRIPS);
	klog("keel: AMD-V enabled: %u ASIDs, nested paging%s%s%s%s%s", svm.nr_asids,
	     f.edx & SVM_FEAT_NRIPS ? ", NRIPS" : "",
	     f.edx & SVM_FEAT_DECODE_ASSISTS ? ", decode assists" : "",
	     f.edx & SVM_FEAT_FLUSH_BY_ASID ? ", flush by ASID" : "",
	     svm.npt.gib_leaves ? ", 1 GiB NPT pages" : "",
	     svm.exit_after_intr ? "; no NRIPS, as under QEMU's TCG: an exit follows each "
				   "injected interrupt, keel arms guest breakpoints"
				 : "");
	return 0;
}

/* On each CPU, the boot CPU first; this CPU's GS base and TR must be final (VMSAVE keeps them). */
static int svm_cpu_enable(char *err, size_t err_size)
{
	struct cpuid_regs ext = cpuid(0x80000001, 0);
	if (!(ext.ecx & (1u << 2))) {
		ksnprintf(err, err_size, "this CPU has no AMD-V (CPUID 8000_0001 ECX.SVM = 0)");
		return -1;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		ksnprintf(err, err_size, "AMD-V is disabled by the firmware (VM_CR.SVMDIS)");
		return -1;
	}
	if (svm.ready && (cpuid(0x8000000a, 0).edx & svm.features) != svm.features) {
		ksnprintf(err, err_size, "AMD-V features differ from the boot CPU's");
		return -1;
	}
	if (!svm.ready && svm_setup_shared(err, err_size))
		return -1;
	struct svm_cpu *c = kmem_alloc_pages(sizeof(*c), PAGE_SIZE);
	void *hsave = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	void *host_vmcb = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!c || !hsave || !host_vmcb) {
		ksnprintf(err, err_size, "out of memory for SVM structures");
		return -1;
	}
	c->hsave = hsave;
	c->host_vmcb = host_vmcb;
	/* each CPU's own count: CPUs of one machine may differ (AMD APM vol 2, 15.16) */
	uint32_t nr_asids = cpuid(0x8000000a, 0).ebx;
#ifdef KEEL_SVM_ASIDS
	/* build flavour `make SVM_ASIDS=N`: a small pool, as a nested hypervisor may offer */
	nr_asids = MIN(nr_asids, (uint32_t)KEEL_SVM_ASIDS);
#endif
	if (asid_cpu_init(&c->asids, nr_asids)) {
		ksnprintf(err, err_size, "AMD-V offers %u ASIDs; keel needs at least 2", nr_asids);
		return -1;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)(uintptr_t)c->hsave);
	svm_vmsave((uint64_t)(uintptr_t)c->host_vmcb);
	this_cpu()->virt = c;
	return 0;
}

static const struct stage2_format *svm_stage2_format(void)
{
	return &svm.npt;
}

static int svm_vcpu_create(struct vcpu *v)
{
	struct svm_vcpu *s = kmem_alloc_pages(sizeof(*s), PAGE_SIZE);
	if (!s)
		return -1;
	v->arch = s; /* from here on, svm_vcpu_destroy frees what there is */
	void *vmcb = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!vmcb)
		return -1;
	s->vmcb = vmcb;
	s->vmcb_pa = (uint64_t)(uintptr_t)vmcb;
	s->flush_tlb = true;

	/* RDPMC, RDPRU and INVPCID would show the host's counters and TLB to a guest whose CPUID
	 * hides them (the CPU runs them whatever CPUID says): core answers them */
	*vmcb32(vmcb, VMCB_INTERCEPT_MISC1) = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI |
					      INTERCEPT_RDPMC | INTERCEPT_CPUID | INTERCEPT_INVD |
					      INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO |
					      INTERCEPT_MSR | INTERCEPT_SHUTDOWN;
	*vmcb32(vmcb, VMCB_INTERCEPT_MISC2) =
		INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
		INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT | INTERCEPT_WBINVD |
		INTERCEPT_MONITOR | INTERCEPT_MWAIT | INTERCEPT_XSETBV | INTERCEPT_RDPRU;
	*vmcb32(vmcb, VMCB_INTERCEPT_MISC3) = INTERCEPT_INVPCID;
	/* Every CR0 write (MOV, CLTS, LMSW: AMD APM vol 2, 15.9.1) and CR4 write exits: core checks
	 * it against the guest's CPUID (core/exit_cr.c). A CPU takes a CR4 bit of a feature it has
	 * and the guest's CPUID hides, and QEMU's SVM takes NW without CD or PG without PE, and
	 * answers a reserved CR4 bit with VMEXIT_INVALID instead of #GP. */
	*vmcb32(vmcb, VMCB_INTERCEPT_CR) = INTERCEPT_CR0_WRITE | INTERCEPT_CR4_WRITE;
	if (svm.tcg_dr7)
		*vmcb32(vmcb, VMCB_INTERCEPT_DR) = INTERCEPT_DR7_WRITE;
	*vmcb64(vmcb, VMCB_IOPM_BASE) = (uint64_t)(uintptr_t)svm.iopm;
	*vmcb64(vmcb, VMCB_MSRPM_BASE) = (uint64_t)(uintptr_t)svm.msrpm;
	/* its ASID comes from the CPU it runs on, just before each VMRUN (asid.h) */
	asid_vcpu_reset(&s->asid);
	/* V_INTR_MASKING: the guest's IF masks only virtual interrupts (AMD APM vol 2, 15.21.1) */
	*vmcb64(vmcb, VMCB_V_INTR) = 1ull << 24;
	*vmcb64(vmcb, VMCB_NP_ENABLE) = 1;
	*vmcb64(vmcb, VMCB_NCR3) = v->vm->stage2.root;
	*vmcb64(vmcb, VMCB_G_PAT) = 0x0007040600070406ull; /* the reset value of IA32_PAT */
	return 0;
}

/* Nothing of a VMCB stays in the CPU once its VMRUN has exited: #VMEXIT writes the guest state
 * back (AMD APM vol 2, 15.6), and keel sets no clean bits that would let the next VMRUN trust a
 * cached copy (15.15). So its page is freed like any other. Its ASID is not handed out again on that CPU
 * before every ASID there has been flushed (asid.h). */
static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;

	if (!s)
		return;
	if (s->vmcb)
		kmem_free_pages(s->vmcb, PAGE_SIZE);
	kmem_free_pages(s, sizeof(*s));
	v->arch = NULL;
}

static void put_seg(void *vmcb, unsigned off, const struct segment *sg)
{
	*vmcb16(vmcb, off + VMCB_SEG_SEL) = sg->selector;
	*vmcb16(vmcb, off + VMCB_SEG_ATTR) = sg->attr;
	*vmcb32(vmcb, off + VMCB_SEG_LIMIT) = sg->limit;
	*vmcb64(vmcb, off + VMCB_SEG_BASE) = sg->base;
}

static void get_seg(void *vmcb, unsigned off, struct segment *sg)
{
	sg->selector = *vmcb16(vmcb, off + VMCB_SEG_SEL);
	sg->attr = *vmcb16(vmcb, off + VMCB_SEG_ATTR);
	sg->limit = *vmcb32(vmcb, off + VMCB_SEG_LIMIT);
	sg->base = *vmcb64(vmcb, off + VMCB_SEG_BASE);
}

static void svm_vcpu_load_state(struct vcpu *v, const struct vcpu_sregs *s)
{
	void *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;

	*vmcb64(vmcb, VMCB_V_INTR) &= ~V_TPR_MASK; /* CR8 = 0 after reset and INIT */
	put_seg(vmcb, VMCB_CS, &s->cs);
	put_seg(vmcb, VMCB_DS, &s->ds);
	put_seg(vmcb, VMCB_ES, &s->es);
	put_seg(vmcb, VMCB_FS, &s->fs);
	put_seg(vmcb, VMCB_GS, &s->gs);
	put_seg(vmcb, VMCB_SS, &s->ss);
	put_seg(vmcb, VMCB_TR, &s->tr);
	put_seg(vmcb, VMCB_LDTR, &s->ldtr);
	*vmcb32(vmcb, VMCB_GDTR + VMCB_SEG_LIMIT) = s->gdtr.limit;
	*vmcb64(vmcb, VMCB_GDTR + VMCB_SEG_BASE) = s->gdtr.base;
	*vmcb32(vmcb, VMCB_IDTR + VMCB_SEG_LIMIT) = s->idtr.limit;
	*vmcb64(vmcb, VMCB_IDTR + VMCB_SEG_BASE) = s->idtr.base;
	*vmcb8(vmcb, VMCB_CPL) = (uint8_t)((s->ss.attr >> 5) & 3);
	*vmcb64(vmcb, VMCB_CR0) = s->cr0;
	*vmcb64(vmcb, VMCB_CR2) = s->cr2;
	*vmcb64(vmcb, VMCB_CR3) = s->cr3;
	*vmcb64(vmcb, VMCB_CR4) = s->cr4;
	/* EFER.SVME must be set in the guest's EFER image or VMRUN fails (AMD APM vol 2, 15.5.1);
	 * the guest never sees it: RDMSR of EFER is intercepted. */
	*vmcb64(vmcb, VMCB_EFER) = s->efer | EFER_SVME;
	*vmcb64(vmcb, VMCB_G_PAT) = s->pat ? s->pat : 0x0007040600070406ull;
	*vmcb64(vmcb, VMCB_DR7) = DR7_RESET;
	*vmcb64(vmcb, VMCB_DR6) = DR6_RESET;
	guest_dregs_reset(&((struct svm_vcpu *)v->arch)->dregs);
	*vmcb64(vmcb, VMCB_EVENTINJ) = 0;
	/* no NMI handler runs in a fresh state; v->regs (TF) are loaded anew too */
	struct svm_vcpu *sv = v->arch;
	if (sv->nmi_step && !sv->step_db_intercepted)
		*vmcb32(vmcb, VMCB_INTERCEPT_EXC) &= ~(1u << EXC_DB);
	sv->nmi_step = false;
	sv->nmi_blocked = false;
	sv->iret_seen = false;
	*vmcb32(vmcb, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_IRET;
	sv->flush_tlb = true;
}

static void svm_vcpu_get_sregs(struct vcpu *v, struct vcpu_sregs *s)
{
	void *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;

	get_seg(vmcb, VMCB_CS, &s->cs);
	get_seg(vmcb, VMCB_DS, &s->ds);
	get_seg(vmcb, VMCB_ES, &s->es);
	get_seg(vmcb, VMCB_FS, &s->fs);
	get_seg(vmcb, VMCB_GS, &s->gs);
	get_seg(vmcb, VMCB_SS, &s->ss);
	get_seg(vmcb, VMCB_TR, &s->tr);
	get_seg(vmcb, VMCB_LDTR, &s->ldtr);
	s->gdtr.limit = (uint16_t)*vmcb32(vmcb, VMCB_GDTR + VMCB_SEG_LIMIT);
	s->gdtr.base = *vmcb64(vmcb, VMCB_GDTR + VMCB_SEG_BASE);
	s->idtr.limit = (uint16_t)*vmcb32(vmcb, VMCB_IDTR + VMCB_SEG_LIMIT);
	s->idtr.base = *vmcb64(vmcb, VMCB_IDTR + VMCB_SEG_BASE);
	s->cr0 = *vmcb64(vmcb, VMCB_CR0);
	s->cr2 = *vmcb64(vmcb, VMCB_CR2);
	s->cr3 = *vmcb64(vmcb, VMCB_CR3);
	s->cr4 = *vmcb64(vmcb, VMCB_CR4);
	s->efer = *vmcb64(vmcb, VMCB_EFER) & ~EFER_SVME;
	s->pat = *vmcb64(vmcb, VMCB_G_PAT);
}

/* Fixed lengths of the intercepted instructions, for CPUs without NRIPS (QEMU TCG): Linux
 * issues them without redundant prefixes. */
static uint8_t fixed_insn_len(uint32_t code)
{
	switch (code) {
	case SVM_EXIT_HLT:
		return 1;
	case SVM_EXIT_CPUID:
	case SVM_EXIT_MSR:
	case SVM_EXIT_RDTSC:
	case SVM_EXIT_RDPMC:
	case SVM_EXIT_WBINVD:
	case SVM_EXIT_INVD:
	case SVM_EXIT_PAUSE:
		return 2;
	case SVM_EXIT_RDTSCP:
	case SVM_EXIT_RDPRU:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_XSETBV:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
		return 3;
	default:
		return 0;
	}
}

static void decode_exit(struct svm_vcpu *s, struct vcpu *v, struct vm_exit *e)
{
	void *vmcb = s->vmcb;
	uint64_t code = *vmcb64(vmcb, VMCB_EXITCODE);
	uint64_t info1 = *vmcb64(vmcb, VMCB_EXITINFO1);
	uint64_t info2 = *vmcb64(vmcb, VMCB_EXITINFO2);
	uint32_t c = (uint32_t)code;

	memset(e, 0, sizeof(*e));
	e->hw_code = code;
	e->hw_info1 = info1;
	e->hw_info2 = info2;
	if (svm.features & SVM_FEAT_NRIPS) {
		uint64_t nrip = *vmcb64(vmcb, VMCB_NRIP);
		if (nrip > v->regs.rip && nrip - v->regs.rip <= 15)
			e->insn_len = (uint8_t)(nrip - v->regs.rip);
	}
	if (!e->insn_len)
		e->insn_len = fixed_insn_len(c);

	switch (c) {
	case SVM_EXIT_IOIO:
		/* EXITINFO1 (AMD APM vol 2, 15.10.2): bit 0 IN, 2 string, 3 REP, 4-6 size, 16-31
		 * port; EXITINFO2 is the next RIP even without NRIPS. */
		e->reason = EXIT_IO;
		e->io.in = info1 & 1;
		e->io.string = (info1 >> 2) & 1;
		e->io.rep = (info1 >> 3) & 1;
		e->io.size = (info1 & (1u << 6)) ? 4 : (info1 & (1u << 5)) ? 2 : 1;
		e->io.port = (uint16_t)(info1 >> 16);
		if (info2 > v->regs.rip && info2 - v->regs.rip <= 15)
			e->insn_len = (uint8_t)(info2 - v->regs.rip);
		break;
	case SVM_EXIT_NPF:
		/* EXITINFO1 is a page-fault error code, EXITINFO2 the guest-physical address */
		e->reason = EXIT_NPF;
		e->npf.gpa = info2;
		e->npf.present = info1 & 1;
		e->npf.write = (info1 >> 1) & 1;
		e->npf.fetch = (info1 >> 4) & 1;
		/* DecodeAssists: the CPU fetched up to 15 bytes at CS:RIP (AMD APM vol 2, 15.33.4) */
		if (svm.features & SVM_FEAT_DECODE_ASSISTS) {
			uint8_t n = *vmcb8(vmcb, VMCB_INSN_LEN) & 0xf;
			e->nr_insn_bytes = MIN(n, (uint8_t)sizeof(e->insn_bytes));
			memcpy(e->insn_bytes, vmcb8(vmcb, VMCB_INSN_BYTES), e->nr_insn_bytes);
		}
		break;
	case SVM_EXIT_MSR:
		e->reason = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->msr.index = (uint32_t)v->regs.gpr[GPR_RCX];
		break;
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case SVM_EXIT_INTR:
		e->reason = EXIT_EXT_INTR;
		break;
	case SVM_EXIT_NMI:
		e->reason = EXIT_NMI;
		break;
	case SVM_EXIT_SMI:
		e->reason = EXIT_EXT_INTR;
		break;
	case SVM_EXIT_VINTR:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case SVM_EXIT_CR8_WRITE:
		/* EXITINFO1 bit 63: the MOV's register is in bits 3:0 (DecodeAssists, 15.33.1) */
		e->reason = EXIT_CR8_WRITE;
		e->cr8.gpr = -1;
		if ((svm.features & SVM_FEAT_DECODE_ASSISTS) && (info1 >> 63))
			e->cr8.gpr = (int8_t)(uint8_t)(info1 & 15);
		else
			e->insn_len = 0; /* core decodes the instruction and its length */
		break;
	case SVM_EXIT_DR7_WRITE:
		/* DecodeAssists: EXITINFO1 bit 63 and the register in bits 3:0, as for CR8 */
		e->reason = EXIT_DR7_WRITE;
		e->dr7.gpr = -1;
		if ((svm.features & SVM_FEAT_DECODE_ASSISTS) && (info1 >> 63))
			e->dr7.gpr = (int8_t)(uint8_t)(info1 & 15);
		else
			e->insn_len = 0;
		break;
	case SVM_EXIT_CR0_WRITE:
	case SVM_EXIT_CR4_WRITE:
		/* DecodeAssists: EXITINFO1 bit 63 marks a MOV, its register in bits 3:0 (15.33.1);
		 * without it, and for CLTS and LMSW, core decodes the instruction */
		e->reason = EXIT_CR_WRITE;
		e->cr_write.cr = (uint8_t)(c - SVM_EXIT_CR0_WRITE);
		e->cr_write.gpr = -1;
		if ((svm.features & SVM_FEAT_DECODE_ASSISTS) && (info1 >> 63))
			e->cr_write.gpr = (int8_t)(uint8_t)(info1 & 15);
		else
			e->insn_len = 0;
		break;
	case SVM_EXIT_IRET:
		e->reason = EXIT_NMI_WINDOW; /* soon: nmi_after_exit */
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_VMCALL;
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		e->reason = EXIT_VIRT_INSN;
		break;
	case SVM_EXIT_RDTSC:
		e->reason = EXIT_RDTSC;
		break;
	case SVM_EXIT_RDTSCP:
		e->reason = EXIT_RDTSCP;
		break;
	case SVM_EXIT_RDPMC:
		e->reason = EXIT_RDPMC;
		break;
	case SVM_EXIT_RDPRU:
		e->reason = EXIT_RDPRU;
		break;
	case SVM_EXIT_INVPCID:
		e->reason = EXIT_INVPCID;
		break;
	case SVM_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case SVM_EXIT_WBINVD:
	case SVM_EXIT_INVD:
		e->reason = EXIT_WBINVD;
		break;
	case SVM_EXIT_PAUSE:
		e->reason = EXIT_PAUSE;
		break;
	case SVM_EXIT_MONITOR:
		e->reason = EXIT_MONITOR;
		break;
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
		e->reason = EXIT_MWAIT;
		break;
	case SVM_EXIT_INVALID:
		e->reason = EXIT_ENTRY_FAILED;
		break;
	default:
		if (c >= SVM_EXIT_EXCP_BASE && c < SVM_EXIT_EXCP_BASE + 32) {
			e->reason = EXIT_EXCEPTION;
			e->exc.vector = (uint8_t)(c - SVM_EXIT_EXCP_BASE);
			e->exc.error_code = (uint32_t)info1;
		} else {
			e->reason = EXIT_UNKNOWN;
		}
	}
}

/* The fields VMRUN checks, as keel is about to run them: QEMU 7.2 writes keel's own state into
 * the VMCB when a VMRUN fails its checks, so they are kept before each VMRUN (a dozen copies). */
static void vmcb_state_of(void *vmcb, struct svm_vmcb_state *g)
{
	*g = (struct svm_vmcb_state){
		.cr0 = *vmcb64(vmcb, VMCB_CR0),
		.cr3 = *vmcb64(vmcb, VMCB_CR3),
		.cr4 = *vmcb64(vmcb, VMCB_CR4),
		.efer = *vmcb64(vmcb, VMCB_EFER),
		.dr6 = *vmcb64(vmcb, VMCB_DR6),
		.dr7 = *vmcb64(vmcb, VMCB_DR7),
		.cs_attr = *vmcb16(vmcb, VMCB_CS + VMCB_SEG_ATTR),
		.intercept_misc2 = *vmcb32(vmcb, VMCB_INTERCEPT_MISC2),
		.asid = *vmcb32(vmcb, VMCB_ASID),
		.eventinj = *vmcb64(vmcb, VMCB_EVENTINJ),
		.cr4_valid = svm.cr4_valid,
		.efer_valid = svm.efer_valid,
		.maxphyaddr = svm.maxphyaddr,
	};
}

/* After VMEXIT_INVALID: keel's own copy of the VMRUN checks names the rule the state breaks. */
static void explain_invalid_vmcb(struct vcpu *v, const struct svm_vmcb_state *g)
{
	char why[160];
	const char *r = svm_check_vmcb(g, why, sizeof(why));
	klog("vm %s: VMRUN refused: %s", v->vm->name,
	     r ? r : "no rule keel checks is broken (see AMD APM vol 2, 15.5.1)");
}

/* Ends the single step: TF as the guest had it, the #DB intercept as it was. */
static void end_nmi_step(struct vcpu *v, struct svm_vcpu *s)
{
	if (!s->nmi_step)
		return;
	s->nmi_step = false;
	if (!s->step_guest_tf)
		v->regs.rflags &= ~RFLAGS_TF;
	if (!s->step_db_intercepted)
		*vmcb32(s->vmcb, VMCB_INTERCEPT_EXC) &= ~(1u << EXC_DB);
}

/* NMI blocking and the single step after an exit (the exit's RIP is in v->regs). */
static void nmi_after_exit(struct vcpu *v, struct svm_vcpu *s, struct vm_exit *e)
{
	void *vmcb = s->vmcb;
	uint32_t code = (uint32_t)e->hw_code;

	if (code == SVM_EXIT_IRET) {
		/* the intercept comes before the IRET runs (AMD APM vol 2, 15.9 "Instruction
		 * Intercepts"); it runs when the guest resumes */
		*vmcb32(vmcb, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_IRET;
		s->iret_seen = true;
		s->iret_rip = v->regs.rip;
		return;
	}
	if (s->iret_seen && v->regs.rip != s->iret_rip) {
		s->iret_seen = false;
		s->nmi_blocked = false;
	}
	if (code == SVM_EXIT_EXCP_BASE + EXC_DB && s->nmi_step) {
		/* the single-step trap after the stepped instruction (a trap: RIP is past it). It
		 * is the guest's own too when the guest had TF set, or when a breakpoint of its
		 * hit at the same time (a new B0-B3 bit in DR6, SDM vol 3B 18.2.3): then the guest
		 * takes the #DB, with DR6.BS only if its TF was set. */
		bool guest_tf = s->step_guest_tf;
		uint64_t dr6 = *vmcb64(vmcb, VMCB_DR6);
		bool guest_bp = (dr6 & ~s->step_dr6) & 0xf;
		end_nmi_step(v, s);
		e->reason = EXIT_NMI_WINDOW;
		if (guest_tf || guest_bp) {
			*vmcb64(vmcb, VMCB_DR6) = guest_tf ? dr6 : dr6 & ~DR6_BS;
			*vmcb64(vmcb, VMCB_EVENTINJ) = SVM_EVT_VALID | SVM_EVT_TYPE_EXC | EXC_DB;
		} else {
			*vmcb64(vmcb, VMCB_DR6) = s->step_dr6;
		}
	}
}

/* The DR7 svm_run.S loads into the host around VMRUN under QEMU's TCG (tcg_dr7.h), 0 for none.
 * DR0-DR3 hold the guest's values by now (guest_dregs_sync). */
static uint64_t tcg_dr7_for(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;
	uint64_t dr7 = *vmcb64(s->vmcb, VMCB_DR7);
	if (!svm.tcg_dr7 || !(dr7 & DR7_ENABLES))
		return 0;
	uint64_t dr[4];
	guest_dregs_read(dr);
	struct tcg_dr7_range code = { (uintptr_t)svm_vmrun, (uintptr_t)svm_vmrun_end };
	struct tcg_dr7_range data = { (uintptr_t)&v->regs, (uintptr_t)(&v->regs + 1) };
	unsigned dropped;
	uint64_t arm = tcg_dr7_to_arm(dr7, dr, code, data, &dropped);
	if (dropped && !s->tcg_dr7_dropped_logged) {
		s->tcg_dr7_dropped_logged = true;
		klog("vm %s: vcpu %u: breakpoints %#x are on keel's own code or data; under QEMU's "
		     "TCG they stay unarmed (arch/x86/svm/tcg_dr7.h)",
		     v->vm->name, v->id, dropped);
	}
	return arm;
}

static void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *s = v->arch;
	void *vmcb = s->vmcb;

	guest_dregs_sync(&s->dregs);
	*vmcb64(vmcb, VMCB_RAX) = v->regs.gpr[GPR_RAX];
	*vmcb64(vmcb, VMCB_RSP) = v->regs.gpr[GPR_RSP];
	end_skipped_shadow(v);
	*vmcb64(vmcb, VMCB_RIP) = v->regs.rip;
	*vmcb64(vmcb, VMCB_RFLAGS) = v->regs.rflags;
	/* TLB_CONTROL (AMD APM vol 2, 15.16.1 and appendix B): 1 flushes every ASID (a new
	 * generation of this CPU's ASIDs began); 3 flushes this ASID's entries where the CPU can,
	 * else 1 does that too (QEMU TCG has no flush-by-ASID: EMULATION.md) */
	struct svm_cpu *cpu = this_cpu()->virt;
	uint8_t tlb = 0;
	if (asid_assign(&cpu->asids, this_cpu()->index, &s->asid))
		tlb = 1;
	else if (s->flush_tlb)
		tlb = (svm.features & SVM_FEAT_FLUSH_BY_ASID) ? 3 : 1;
	*vmcb32(vmcb, VMCB_ASID) = s->asid.asid;
	*vmcb8(vmcb, VMCB_TLB_CONTROL) = tlb;
	*vmcb32(vmcb, VMCB_CLEAN) = 0;
	s->flush_tlb = false;

	struct svm_vmcb_state checked;
	vmcb_state_of(vmcb, &checked);
	/* QEMU 7.2's TCG delivers an interrupt injected at VMRUN inside VMRUN itself and leaves
	 * its vector behind as a pending exception (helper_vmrun: cs->exception_index), which it
	 * delivers again the next time the vCPU thread stops for a kick, ignoring IF, at the
	 * handler's first instruction, and after which VMCBs were seen holding keel's own state
	 * (docs/testing.md "The SMP guest"). A host interrupt waiting at VMRUN makes the exit
	 * come first, which clears it: a wake IPI to this CPU, taken at the INTR exit. */
	if (svm.exit_after_intr && (checked.eventinj & (SVM_EVT_VALID | SVM_EVT_TYPE_MASK)) ==
					   (SVM_EVT_VALID | SVM_EVT_TYPE_INTR))
		(void)host_apic_send_wake(this_cpu()->apic_id);
	svm_vmrun(s->vmcb_pa, &v->regs, (uint64_t)(uintptr_t)cpu->host_vmcb, tcg_dr7_for(v));

	/* keel's own state, what VMRUN put in the host save area, saved as the guest's (RIP the
	 * instruction after VMRUN, CR3 keel's): the guest's state is lost. Seen under QEMU 7.2's
	 * TCG before the IPI above; the VM stops (decode_exit says so) rather than run on with
	 * state that is not its own. */
	uint64_t rip = *vmcb64(vmcb, VMCB_RIP);
	bool host_state = (rip == (uint64_t)(uintptr_t)svm_vmrun_host_rip ||
			   rip == (uint64_t)(uintptr_t)svm_vmrun_tcg_dr7_host_rip) &&
			  *vmcb64(vmcb, VMCB_CR3) == read_cr3();

	v->regs.gpr[GPR_RAX] = *vmcb64(vmcb, VMCB_RAX);
	v->regs.gpr[GPR_RSP] = *vmcb64(vmcb, VMCB_RSP);
	v->regs.rip = *vmcb64(vmcb, VMCB_RIP);
	s->exit_rip = v->regs.rip;
	v->regs.rflags = *vmcb64(vmcb, VMCB_RFLAGS);
	decode_exit(s, v, exit);
	if (host_state) {
		klog("vm %s: vcpu %u: the VMCB holds keel's own state, not the guest's (exit %llx)",
		     v->vm->name, v->id, (unsigned long long)exit->hw_code);
		exit->reason = EXIT_ENTRY_FAILED;
		return;
	}
	if (exit->reason == EXIT_ENTRY_FAILED)
		explain_invalid_vmcb(v, &checked);

	/* An event that was being delivered when the exit happened must be delivered again
	 * (AMD APM vol 2, 15.7.2 EXITINTINFO). */
	uint64_t intinfo = *vmcb64(vmcb, VMCB_EXITINTINFO);
	if (intinfo & SVM_EVT_VALID)
		*vmcb64(vmcb, VMCB_EVENTINJ) = intinfo;
	else
		*vmcb64(vmcb, VMCB_EVENTINJ) = 0;
	nmi_after_exit(v, s, exit);
}

/* DR0-DR3 are the CPU's, not the VMCB's: they follow the vCPU (arch/x86/debugreg.h). */
static void svm_vcpu_save_cpu(struct vcpu *v)
{
	guest_dregs_save(&((struct svm_vcpu *)v->arch)->dregs);
}

static void svm_vcpu_load_cpu(struct vcpu *v)
{
	guest_dregs_load(&((struct svm_vcpu *)v->arch)->dregs);
}

/* A VMCB may run on any CPU; there it takes a fresh ASID of that CPU (asid_assign would see
 * the other CPU anyway; this says so where the move is decided). */
static void svm_vcpu_release(struct vcpu *v)
{
	asid_vcpu_reset(&((struct svm_vcpu *)v->arch)->asid);
}

static void svm_inject_event(struct vcpu *v, enum event_type type, uint8_t vector, bool has_error,
			     uint32_t error_code)
{
	struct svm_vcpu *s = v->arch;
	void *vmcb = s->vmcb;
	uint64_t ev = SVM_EVT_VALID | vector;

	/* the event must not push keel's TF with the guest's flags */
	end_nmi_step(v, s);
	switch (type) {
	case EVENT_EXTINT:
		ev |= SVM_EVT_TYPE_INTR;
		break;
	case EVENT_NMI:
		ev |= SVM_EVT_TYPE_NMI;
		/* blocked from its delivery to the handler's IRET, which exits */
		s->nmi_blocked = true;
		s->iret_seen = false;
		*vmcb32(vmcb, VMCB_INTERCEPT_MISC1) |= INTERCEPT_IRET;
		break;
	case EVENT_EXCEPTION:
		ev |= SVM_EVT_TYPE_EXC;
		break;
	case EVENT_SOFT_INT:
		ev |= SVM_EVT_TYPE_SOFT;
		break;
	}
	if (has_error)
		ev |= SVM_EVT_ERR_VALID | ((uint64_t)error_code << 32);
	*vmcb64(vmcb, VMCB_EVENTINJ) = ev;
}

/* While keel single-steps the guest, an interrupt waits for the step's end (one instruction):
 * delivered now, it would push keel's TF. */
static bool svm_interrupt_allowed(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;
	void *vmcb = s->vmcb;
	end_skipped_shadow(v);
	return (v->regs.rflags & RFLAGS_IF) && !(*vmcb64(vmcb, VMCB_INT_STATE) & 1) &&
	       !(*vmcb64(vmcb, VMCB_EVENTINJ) & SVM_EVT_VALID) && !s->nmi_step;
}

/* An NMI also waits out an interrupt shadow: after MOV SS every CPU holds it back, after STI
 * some do (Intel SDM vol 3C 25.4.2, "Blocking by STI"), and keel treats both alike on both
 * backends (VM entry may refuse an NMI injected in an STI shadow). */
static bool svm_nmi_allowed(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;
	void *vmcb = s->vmcb;
	end_skipped_shadow(v);
	return !s->nmi_blocked && !(*vmcb64(vmcb, VMCB_INT_STATE) & 1) &&
	       !(*vmcb64(vmcb, VMCB_EVENTINJ) & SVM_EVT_VALID);
}

/* SVM has no NMI window exit without vNMI. While the NMI handler runs, the intercepted IRET is
 * the exit; once it is about to run, or for an interrupt shadow, keel single-steps the one
 * instruction, as KVM does. With an event pending in EVENTINJ no step starts (the event would
 * push TF): the NMI waits for the next exit, at the latest the end of the vCPU's time slice. */
static void svm_request_nmi_window(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;
	void *vmcb = s->vmcb;

	if (s->nmi_step || (s->nmi_blocked && !s->iret_seen) ||
	    (*vmcb64(vmcb, VMCB_EVENTINJ) & SVM_EVT_VALID))
		return;
	s->nmi_step = true;
	s->step_guest_tf = v->regs.rflags & RFLAGS_TF;
	s->step_dr6 = *vmcb64(vmcb, VMCB_DR6);
	s->step_db_intercepted = *vmcb32(vmcb, VMCB_INTERCEPT_EXC) & (1u << EXC_DB);
	*vmcb32(vmcb, VMCB_INTERCEPT_EXC) |= 1u << EXC_DB;
	v->regs.rflags |= RFLAGS_TF;
}

/* A vCPU sharing its CPU: a guest spinning on PAUSE (waiting for a lock or another vCPU's
 * answer) exits, so keel can give the CPU to the vCPU it waits for. Only with the pause filter:
 * without it every single PAUSE would exit, and QEMU 7.2 TCG (which has no filter) was seen to
 * write the host's state into a guest's VMCB about once in 30 time-sliced runs of the SMP test
 * guest with PAUSE intercepted, never without (docs/testing.md). */
static void svm_set_pause_exit(struct vcpu *v, bool on)
{
	void *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	uint32_t *misc1 = vmcb32(vmcb, VMCB_INTERCEPT_MISC1);

	if (!(svm.features & SVM_FEAT_PAUSE_FILTER))
		return;
	*misc1 = on ? *misc1 | INTERCEPT_PAUSE : *misc1 & ~INTERCEPT_PAUSE;
	*vmcb16(vmcb, VMCB_PAUSE_FILTER_COUNT) = on ? PAUSE_FILTER_COUNT : 0;
}

/* While an interrupt waits, a CR8 write must exit: one that lowers the TPR below a waiting
 * interrupt has to let it in at once (V_TPR alone would not), and QEMU 7.2 TCG aborts on a CR8
 * write that meets a pending virtual interrupt (its helper raises it without the I/O lock). */
static void svm_update_cr8_intercept(struct svm_vcpu *s)
{
	uint32_t *cr = vmcb32(s->vmcb, VMCB_INTERCEPT_CR);
	*cr = s->irq_window || s->tpr_blocked ? *cr | INTERCEPT_CR8_WRITE
					      : *cr & ~INTERCEPT_CR8_WRITE;
}

/* A virtual interrupt with V_IGN_TPR makes the CPU exit (VINTR) the moment the guest could take
 * it, which is exactly the interrupt window (AMD APM vol 2, 15.21.4). */
static void svm_request_irq_window(struct vcpu *v, bool on)
{
	struct svm_vcpu *s = v->arch;
	uint64_t vintr = *vmcb64(s->vmcb, VMCB_V_INTR);

	if (on) {
		*vmcb64(s->vmcb, VMCB_V_INTR) = vintr | V_IRQ | V_IGN_TPR | V_INTR_PRIO_MASK;
		*vmcb32(s->vmcb, VMCB_INTERCEPT_MISC1) |= INTERCEPT_VINTR;
	} else {
		*vmcb64(s->vmcb, VMCB_V_INTR) = vintr & ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO_MASK);
		*vmcb32(s->vmcb, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_VINTR;
	}
	s->irq_window = on;
	svm_update_cr8_intercept(s);
}

static void svm_set_tpr_threshold(struct vcpu *v, int cls)
{
	struct svm_vcpu *s = v->arch;
	s->tpr_blocked = cls >= 0;
	svm_update_cr8_intercept(s);
}

/* V_TPR holds the guest's CR8 (V_INTR_MASKING: the physical TPR is never the guest's). */
static uint8_t svm_get_cr8(struct vcpu *v)
{
	return (uint8_t)(*vmcb64(((struct svm_vcpu *)v->arch)->vmcb, VMCB_V_INTR) & V_TPR_MASK);
}

static void svm_set_cr8(struct vcpu *v, uint8_t cr8)
{
	uint64_t *vintr = vmcb64(((struct svm_vcpu *)v->arch)->vmcb, VMCB_V_INTR);
	*vintr = (*vintr & ~V_TPR_MASK) | (cr8 & V_TPR_MASK);
}

static void svm_flush_guest_tlb(struct vcpu *v)
{
	((struct svm_vcpu *)v->arch)->flush_tlb = true;
}

static void *vmcb_of(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->arch)->vmcb;
}

static uint64_t svm_get_efer(struct vcpu *v)
{
	return *vmcb64(vmcb_of(v), VMCB_EFER) & ~EFER_SVME;
}

static void svm_set_efer(struct vcpu *v, uint64_t efer)
{
	*vmcb64(vmcb_of(v), VMCB_EFER) = efer | EFER_SVME;
}

static uint64_t svm_get_pat(struct vcpu *v)
{
	return *vmcb64(vmcb_of(v), VMCB_G_PAT);
}

static void svm_set_pat(struct vcpu *v, uint64_t pat)
{
	*vmcb64(vmcb_of(v), VMCB_G_PAT) = pat;
}

static uint64_t svm_get_cr(struct vcpu *v, unsigned cr)
{
	switch (cr) {
	case 0:
		return *vmcb64(vmcb_of(v), VMCB_CR0);
	case 2:
		return *vmcb64(vmcb_of(v), VMCB_CR2);
	case 3:
		return *vmcb64(vmcb_of(v), VMCB_CR3);
	case 4:
		return *vmcb64(vmcb_of(v), VMCB_CR4);
	default:
		return 0;
	}
}

/* A MOV to CR0 or CR4 core checked (core/exit_cr.c), with its side effects: long mode on or off
 * with CR0.PG (AMD APM vol 2, 14.6.1) and the TLB flush a paging change needs (keel flushes the
 * vCPU's ASID on any change: CR writes are rare). */
static void svm_set_dr7(struct vcpu *v, uint64_t dr7)
{
	*vmcb64(((struct svm_vcpu *)v->arch)->vmcb, VMCB_DR7) = dr7;
}

static void svm_set_cr(struct vcpu *v, unsigned cr, uint64_t val)
{
	struct svm_vcpu *s = v->arch;
	void *vmcb = s->vmcb;
	if (cr == 0) {
		*vmcb64(vmcb, VMCB_CR0) = val;
		*vmcb64(vmcb, VMCB_EFER) = efer_after_cr0(*vmcb64(vmcb, VMCB_EFER), val);
	} else if (cr == 4) {
		*vmcb64(vmcb, VMCB_CR4) = val;
	}
	s->flush_tlb = true;
}

static void svm_set_cr2(struct vcpu *v, uint64_t cr2)
{
	*vmcb64(vmcb_of(v), VMCB_CR2) = cr2;
}

static void svm_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	*vmcb64(vmcb_of(v), VMCB_TSC_OFFSET) = offset;
}

static void svm_dump(struct vcpu *v)
{
	void *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	klog("  svm: exitcode %llx info1 %llx info2 %llx intinfo %llx eventinj %llx",
	     (unsigned long long)*vmcb64(vmcb, VMCB_EXITCODE),
	     (unsigned long long)*vmcb64(vmcb, VMCB_EXITINFO1),
	     (unsigned long long)*vmcb64(vmcb, VMCB_EXITINFO2),
	     (unsigned long long)*vmcb64(vmcb, VMCB_EXITINTINFO),
	     (unsigned long long)*vmcb64(vmcb, VMCB_EVENTINJ));
	klog("  svm: asid %u cpl %u int_state %llx v_intr %llx ncr3 %llx", *vmcb32(vmcb, VMCB_ASID),
	     *vmcb8(vmcb, VMCB_CPL), (unsigned long long)*vmcb64(vmcb, VMCB_INT_STATE),
	     (unsigned long long)*vmcb64(vmcb, VMCB_V_INTR),
	     (unsigned long long)*vmcb64(vmcb, VMCB_NCR3));
}

const struct virt_ops svm_ops = {
	.name = "AMD-V",
	.cpu_enable = svm_cpu_enable,
	.stage2_format = svm_stage2_format,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_load_state = svm_vcpu_load_state,
	.vcpu_get_sregs = svm_vcpu_get_sregs,
	.vcpu_run = svm_vcpu_run,
	.vcpu_release = svm_vcpu_release,
	.vcpu_save_cpu = svm_vcpu_save_cpu,
	.vcpu_load_cpu = svm_vcpu_load_cpu,
	.inject_event = svm_inject_event,
	.interrupt_allowed = svm_interrupt_allowed,
	.request_irq_window = svm_request_irq_window,
	.get_cr8 = svm_get_cr8,
	.set_cr8 = svm_set_cr8,
	.set_tpr_threshold = svm_set_tpr_threshold,
	.nmi_allowed = svm_nmi_allowed,
	.request_nmi_window = svm_request_nmi_window,
	.set_pause_exit = svm_set_pause_exit,
	.flush_guest_tlb = svm_flush_guest_tlb,
	.get_efer = svm_get_efer,
	.set_efer = svm_set_efer,
	.get_pat = svm_get_pat,
	.set_pat = svm_set_pat,
	.get_cr = svm_get_cr,
	.set_cr = svm_set_cr,
	.set_dr7 = svm_set_dr7,
	.set_cr2 = svm_set_cr2,
	.set_tsc_offset = svm_set_tsc_offset,
	.dump = svm_dump,
};

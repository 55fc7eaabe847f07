/* The one interface between core and a virtualization backend (arch/x86/svm, arch/x86/vmx),
 * bound once at boot (DESIGN.md "Vendor split bound once"). core never includes a backend header. */
#ifndef KEEL_CORE_VIRT_H
#define KEEL_CORE_VIRT_H

#include "core/vcpu_state.h"
#include "core/vm_exit.h"
#include "lib/types.h"

struct vcpu;
struct vm;
struct stage2_format;

enum event_type {
	EVENT_EXTINT, /* external interrupt (vector from the PIC or APIC) */
	EVENT_NMI,
	EVENT_EXCEPTION, /* a fault or trap, with or without an error code */
	EVENT_SOFT_INT,
};

struct virt_ops {
	const char *name;
	/* Enables virtualization on this CPU: on every CPU keel runs on, the boot CPU first
	 * (which also sets up what all share). The per-CPU state goes to this CPU's struct percpu
	 * (arch/x86/percpu.h), whose GS base and TR must be final. -1 with a message in err when
	 * it cannot. */
	int (*cpu_enable)(char *err, size_t err_size);
	/* Stage-2 entry format of this CPU (NPT or EPT) */
	const struct stage2_format *(*stage2_format)(void);
	int (*vcpu_create)(struct vcpu *v);
	/* Frees what vcpu_create allocated (also after it failed half way; v->arch NULL: nothing).
	 * The vCPU runs nowhere and its state is active on no other CPU: vcpu_release was called
	 * on the CPU it last ran on, or that is this CPU. */
	void (*vcpu_destroy)(struct vcpu *v);
	/* Loads the whole architectural state (boot, reset, INIT/SIPI) */
	void (*vcpu_load_state)(struct vcpu *v, const struct vcpu_sregs *s);
	void (*vcpu_get_sregs)(struct vcpu *v, struct vcpu_sregs *s);
	/* The vCPU will next run on another CPU (call on the CPU it was built or last ran on). */
	void (*vcpu_release)(struct vcpu *v);
	/* Guest state the CPU itself holds outside the VMCB/VMCS (both: DR0-DR3; VT-x also DR6,
	 * CR2 and the SYSCALL MSRs, which AMD-V's VMCB holds): saved when another vCPU gets this
	 * CPU, loaded when v gets it back. NULL: there is none. */
	void (*vcpu_save_cpu)(struct vcpu *v);
	void (*vcpu_load_cpu)(struct vcpu *v);
	/* Enters the guest with v->regs and returns the next exit, with v->regs updated. */
	void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
	void (*inject_event)(struct vcpu *v, enum event_type type, uint8_t vector, bool has_error,
			     uint32_t error_code);
	/* True when an external interrupt can be delivered now (IF set, no shadow, none pending). */
	bool (*interrupt_allowed)(struct vcpu *v);
	/* Asks for an EXIT_IRQ_WINDOW as soon as the guest can take an interrupt. */
	void (*request_irq_window)(struct vcpu *v, bool on);
	/* The guest's CR8, which is the virtual local APIC's TPR[7:4] (SDM vol 3A, 11.8.6.1): core
	 * sets it before every entry and reads it back after every exit. It never reaches the
	 * physical TPR (VT-x: CR8-load/store exiting; AMD-V: V_TPR, V_INTR_MASKING being set). */
	uint8_t (*get_cr8)(struct vcpu *v);
	void (*set_cr8)(struct vcpu *v, uint8_t cr8);
	/* An interrupt of priority class `cls` waits behind the guest's TPR alone (-1: none): a CR8
	 * write must then exit (EXIT_CR8_WRITE), so one that lowers the TPR lets it in at once. */
	void (*set_tpr_threshold)(struct vcpu *v, int cls);
	/* True when an NMI can be delivered now: no NMI handler runs (an NMI blocks NMIs until the
	 * next IRET, SDM vol 3A "NMI Interrupt Handling"), no MOV SS or STI shadow, no event
	 * pending. IF does not matter. */
	bool (*nmi_allowed)(struct vcpu *v);
	/* Asks for an EXIT_NMI_WINDOW once an NMI can be delivered (or earlier: core looks again
	 * at every exit). The backend withdraws the request itself when the window opens, and on
	 * vcpu_load_state. */
	void (*request_nmi_window)(struct vcpu *v);
	/* PAUSE exits (EXIT_PAUSE) on or off: on for a vCPU that shares its CPU, so a guest spinning
	 * for another vCPU gives the CPU away. Called on the vCPU's CPU. */
	void (*set_pause_exit)(struct vcpu *v, bool on);
	/* The stage-2 root changed or lost mappings: make this vCPU's TLB forget them. */
	void (*flush_guest_tlb)(struct vcpu *v);
	/* Guest control state that exits change (MSR and CR emulation) */
	uint64_t (*get_efer)(struct vcpu *v);
	void (*set_efer)(struct vcpu *v, uint64_t efer);
	uint64_t (*get_pat)(struct vcpu *v);
	void (*set_pat)(struct vcpu *v, uint64_t pat);
	uint64_t (*get_cr)(struct vcpu *v, unsigned cr);
	/* Loads CR0 or CR4 (cr) with a value core/cr_policy.c accepted, as the guest's MOV would:
	 * EFER.LMA follows CR0.PG and EFER.LME (efer_after_cr0), the vCPU's TLB is flushed. For
	 * backends that report EXIT_CR_WRITE (AMD-V); NULL on VT-x, which checks and loads CR
	 * writes in its own exit (core/cr_policy.h all the same). */
	void (*set_cr)(struct vcpu *v, unsigned cr, uint64_t val);
	/* Loads the guest's DR7 with a value core checked (arch/x86/debugreg.h dr7_from_write). For
	 * backends that report EXIT_DR7_WRITE (AMD-V under QEMU's TCG: arch/x86/svm/tcg_dr7.h);
	 * NULL on VT-x, whose guests write DR7 without an exit. */
	void (*set_dr7)(struct vcpu *v, uint64_t dr7);
	/* The faulting address a #PF keel injects reports (before inject_event) */
	void (*set_cr2)(struct vcpu *v, uint64_t cr2);
	/* Guest TSC = host TSC + offset */
	void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
	/* Logs the backend's view of the vCPU (control fields, exit info) for a fatal exit. */
	void (*dump)(struct vcpu *v);
};

/* The backend hv_main picked for this CPU's vendor (arch/x86/virt_select.c); NULL when keel has
 * no backend for it. */
const struct virt_ops *virt_select(void);
extern const struct virt_ops *virt;

#endif

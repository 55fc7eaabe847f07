/* smp: a VM's own processors, as an OS brings them up and talks to them (docs/testing.md
 * "The SMP guest"). Run with keel.cfg `cpus = 2..8`; the guest finds its CPUs in the ACPI MADT
 * (RSDP in 0xE0000-0xFFFFF, RSDT, "APIC"). CPU 0 here is the boot processor (BSP), the others
 * are numbered in MADT order. All waits are bounded by the ACPI PM timer (port 0x608): 60
 * seconds for anything to arrive (a failure, not a hang).
 *
 * 1. The BSP loads its own GDT and a 256-entry IDT (handlers for NMI, the local APIC timer, the
 *    fixed IPI vectors and the spurious vector; anything else is fatal), checks IA32_APIC_BASE,
 *    enables its xAPIC (SVR) and a 1 ms periodic timer that wakes its HLTs (every CPU waits in
 *    STI; HLT; CLI, which is how the guest found that VT-x kept a skipped HLT's STI shadow).
 *    A handler knows its CPU from its stack (16 KiB per CPU).
 * 2. It copies a real-mode trampoline to 0x70000 and starts each AP with INIT, 10 ms, SIPI
 *    (vector 0x70), 200 us, SIPI, 200 us (Intel SDM vol 3, 9.4.4.1), one at a time. The AP
 *    records the CS and CR0 it started with, enters 32-bit protected mode on its own stack,
 *    enables its local APIC and timer, records its APIC ID from the LAPIC ID register and from
 *    CPUID leaf 1 EBX[31:24] and IA32_APIC_BASE, and increments `online` with LOCK. The BSP
 *    checks every AP came up once, at 7000:0000 in real mode, with both IDs equal to the MADT's.
 * 3. IPIs (SDM vol 3, 11.6), each counted per CPU by its handler (EOI for fixed ones); the BSP
 *    waits until the counts reach what it expects, 20 ms more, then wants them exact: a fixed
 *    IPI in physical destination mode to each AP; one in logical flat mode (each CPU's LDR a bit
 *    of its own, DFR 0xFFFFFFFF) to the APs with odd numbers; one "all excluding self"; an NMI to
 *    the last AP; and a fixed IPI from each AP back to the BSP (physical destination), AP N with
 *    vector 0x60 + N: IPIs of one vector that arrive together may merge into one IRR bit
 *    (11.8.4), so one vector for all could lose a count on a correct APIC.
 * 4. Every CPU (BSP too, at once) loads a pattern of its own into XMM0-7, MXCSR and IA32_LSTAR
 *    (when CPUID says long mode), then 16 times spins 3 ms on the PM timer and HLTs once, and
 *    after each round checks that its registers still hold its own values: with more vCPUs than
 *    physical CPUs, keel time-slices them, and another vCPU of this VM has run on the same
 *    physical CPU in between.
 *    Each handler's first block exits to keel and checks its return address: QEMU TCG's SVM
 *    sometimes delivers an injected interrupt twice, the second time at the handler's first
 *    instruction with IF clear; that is counted apart and reported (HANDLER below).
 * 5. The BSP checks the IPI counts once more (nothing arrived late), ESR and the spurious count,
 *    prints a line per CPU and exits 0 when everything held; 1 when a check failed (each failure
 *    prints "smp: FAIL ..."), 3 on an unexpected exception or interrupt.
 * 6. With `clock=SECONDS` on the command line, after step 2 and instead of 3-5: every CPU reads
 *    kvm-clock and the TSC for SECONDS and no read may come out below one another CPU published
 *    before it (smp-clock.inc).
 * 7. With `drift=SECONDS`, after step 2 and instead of 3-5: the BSP measures the TSC, the local
 *    APIC timer, the PM timer, the PIT and the RTC against kvm-clock (smp-drift.inc). */
	.set LAPIC, 0xfee00000
	.set LAPIC_ID, LAPIC + 0x20
	.set LAPIC_TPR, LAPIC + 0x80
	.set LAPIC_EOI, LAPIC + 0xb0
	.set LAPIC_LDR, LAPIC + 0xd0
	.set LAPIC_DFR, LAPIC + 0xe0
	.set LAPIC_SVR, LAPIC + 0xf0
	.set LAPIC_ESR, LAPIC + 0x280
	.set LAPIC_ICR_LO, LAPIC + 0x300
	.set LAPIC_ICR_HI, LAPIC + 0x310
	.set LAPIC_LVT_TIMER, LAPIC + 0x320
	.set LAPIC_TIMER_INIT, LAPIC + 0x380
	.set LAPIC_TIMER_DIV, LAPIC + 0x3e0
	/* ICR (SDM vol 3, 11.6.1, figure 11-12) */
	.set ICR_FIXED, 0x0000
	.set ICR_NMI, 0x0400
	.set ICR_INIT, 0x0500
	.set ICR_SIPI, 0x0600
	.set ICR_LOGICAL, 0x0800
	.set ICR_PENDING, 0x1000
	.set ICR_ASSERT, 0x4000
	.set ICR_ALL_BUT_SELF, 0x000c0000
	.set MSR_APIC_BASE, 0x1b
	.set MSR_LSTAR, 0xc0000082

	.set VEC_TIMER, 0x40
	.set VEC_FIXED, 0x50		/* step 0: physical, to each AP */
	.set VEC_LOGICAL, 0x51		/* step 1: logical flat, to the odd APs */
	.set VEC_BCAST, 0x52		/* step 2: all excluding self */
					/* step 3: NMI (vector 2) */
	.set VEC_BACK, 0x60		/* step 4: AP N to the BSP with vector 0x60 + N */
	.set VEC_SPURIOUS, 0xff
	.set NR_STEPS, 5

	.set MAX_CPUS, 8
	.set PERCPU_SHIFT, 14		/* a 16 KiB stack per CPU */
	.set TRAMP, 0x70000		/* below 1 MiB, above keel's boot structures */
	.set TRAMP_SEG, 0x7000
	.set SIPI_VECTOR, 0x70

	.set PM_TMR, 0x608		/* vdev/acpi_tables.h: 24 bits at 3.579545 MHz */
	.set MS, 3580			/* PM timer ticks per millisecond */
	.set US200, 716
	.set SECOND, 3579545
	.set TIMEOUT, 60 * SECOND	/* a failure bound, generous for a busy host */
	.set ROUNDS, 16
	.set SPIN_TICKS, 3 * MS
	.set GAP_TICKS, MS		/* a spin that saw the timer jump by 1 ms was off its CPU */

	/* the phases the APs follow (phase), each acknowledged in ap_phase[cpu] */
	.set PH_LDR, 1
	.set PH_BACK, 2
	.set PH_REGS, 3
	.set PH_CLOCK, 4

#define TOFF(x) ((x) - tramp_start)

/* SAY "text": prints text on COM1, every register kept */
	.macro SAY text
	push %esi
	.pushsection .rodata
.Lsay\@:
	.asciz "\text"
	.popsection
	mov $.Lsay\@, %esi
	call puts
	pop %esi
	.endm

	.text
	.code32
	.globl guest_main
guest_main:
	cli
	mov $percpu_stacks + (1 << PERCPU_SHIFT), %esp	/* CPU 0's stack */
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	call idt_build
	lidt idt_desc
	SAY "smp: guest SMP on keel\n"
	call features
	call madt_read
	xor %ebp, %ebp
	call cpu_setup
	call start_aps
	mov $word_clock, %esi
	call cmdline_number
	jc 3f
	mov %eax, clock_seconds		/* step 6 alone */
	call clock_all
	jmp 4f
3:	mov $word_drift, %esi
	call cmdline_number
	jc 3f
	mov %eax, clock_seconds		/* step 7 alone */
	call drift_all
	jmp 4f
3:	call ipi_tests
	call regs_all
	call final_checks
4:	mov failures, %eax
	test %eax, %eax
	jnz 2f
	SAY "smp: "
	mov nr_cpus, %eax
	call putdec
	SAY " CPUs, every check held; exit code 0\n"
	xor %eax, %eax
	jmp exit
2:	SAY "smp: "
	call putdec
	SAY " checks failed; exit code 1\n"
	mov $1, %eax
	jmp exit

/* fatal: prints "smp: FAIL " and the text at esi, then exits with 1 */
fatal:
	push %esi
	SAY "smp: FAIL "
	pop %esi
	call puts
	mov $1, %eax
	jmp exit

/* fail: prints "smp: FAIL " and counts a failure; the caller prints the rest */
fail:
	incl failures
	SAY "smp: FAIL "
	ret

/* say: prints the string at esi, every register kept (puts advances esi) */
say:
	push %esi
	call puts
	pop %esi
	ret

/* ---- what the CPU offers ------------------------------------------------------------------ */

/* features: has_lm (CPUID 0x80000001 EDX bit 29: IA32_LSTAR exists), apic_khz (keel's timing
 * leaf 0x40000010 EBX, else 1 GHz, keel's virtual APIC timer rate) */
features:
	pusha
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb 1f
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc 1f
	movl $1, has_lm
1:	mov $0x40000000, %eax
	cpuid
	cmp $0x40000010, %eax
	jb 2f
	mov $0x40000010, %eax
	cpuid
	test %ebx, %ebx
	jz 2f
	mov %ebx, apic_khz
2:	popa
	ret

/* ---- ACPI: the CPUs of the MADT ------------------------------------------------------------ */

/* madt_read: nr_cpus and cpu_apic[] (the BSP first, then the other enabled local APICs of the
 * MADT in its order; ACPI 6.4, 5.2.5 RSDP, 5.2.7 RSDT, 5.2.12 MADT) */
madt_read:
	pusha
	mov $0xe0000, %ebx
1:	cmpl $0x20445352, (%ebx)		/* "RSD " */
	jne 2f
	cmpl $0x20525450, 4(%ebx)		/* "PTR " */
	jne 2f
	mov $20, %ecx
	mov %ebx, %esi
	call checksum
	jz 3f
2:	add $16, %ebx
	cmp $0x100000, %ebx
	jb 1b
	mov $msg_no_rsdp, %esi
	jmp fatal
3:	mov 16(%ebx), %ebx			/* RSDT */
	cmpl $0x54445352, (%ebx)		/* "RSDT" */
	je 4f
	mov $msg_no_rsdt, %esi
	jmp fatal
4:	mov 4(%ebx), %edx
	add %ebx, %edx				/* end of the RSDT */
	lea 36(%ebx), %edi
5:	cmp %edx, %edi
	jb 6f
	mov $msg_no_madt, %esi
	jmp fatal
6:	mov (%edi), %esi
	cmpl $0x43495041, (%esi)		/* "APIC" */
	je 7f
	add $4, %edi
	jmp 5b
7:	mov 4(%esi), %ecx
	call checksum
	jz 8f
	mov $msg_madt_sum, %esi
	jmp fatal
8:	lea (%esi,%ecx), %edx			/* end of the MADT */
	lea 44(%esi), %edi
	/* the BSP's APIC ID first */
	mov LAPIC_ID, %eax
	shr $24, %eax
	mov %eax, cpu_apic
	movl $1, nr_cpus
	xor %ebx, %ebx				/* the BSP seen in the MADT */
9:	cmp %edx, %edi
	jae 14f
	movzbl 1(%edi), %ecx			/* length */
	cmp $2, %ecx
	jb 15f
	movzbl (%edi), %eax
	cmp $0, %al				/* processor local APIC */
	jne 10f
	testl $1, 4(%edi)			/* enabled */
	jz 13f
	movzbl 3(%edi), %eax
	jmp 11f
10:	cmp $9, %al				/* processor local x2APIC */
	jne 13f
	testl $1, 8(%edi)
	jz 13f
	mov 4(%edi), %eax
	cmp $0xff, %eax
	jb 11f
	mov $msg_x2apic_id, %esi
	jmp fatal
11:	cmp cpu_apic, %eax
	jne 12f
	inc %ebx				/* the BSP */
	jmp 13f
12:	mov nr_cpus, %esi
	cmp $MAX_CPUS, %esi
	jb 16f
	mov $msg_too_many, %esi
	jmp fatal
16:	mov %eax, cpu_apic(,%esi,4)
	incl nr_cpus
13:	add %ecx, %edi
	jmp 9b
15:	mov $msg_madt_entry, %esi
	jmp fatal
14:	cmp $1, %ebx
	je 17f
	mov $msg_bsp_madt, %esi
	jmp fatal
17:	SAY "smp: the MADT lists "
	mov nr_cpus, %eax
	call putdec
	SAY " CPUs, APIC IDs"
	xor %ecx, %ecx
18:	SAY " "
	mov cpu_apic(,%ecx,4), %eax
	call putdec
	inc %ecx
	cmp nr_cpus, %ecx
	jb 18b
	SAY " (the BSP first)\n"
	cmpl $2, nr_cpus
	jae 19f
	mov $msg_one_cpu, %esi
	jmp fatal
19:	popa
	ret

/* checksum: ZF set when the ecx bytes at esi add up to 0 */
checksum:
	push %eax
	push %ecx
	push %esi
	xor %eax, %eax
1:	add (%esi), %al
	inc %esi
	loop 1b
	test %al, %al
	pop %esi
	pop %ecx
	pop %eax
	ret

/* ---- per CPU ------------------------------------------------------------------------------- */

/* cpu_setup: CPU ebp (on its own stack, IDT loaded) records IA32_APIC_BASE, enables its local
 * APIC (SVR: enabled, spurious vector 0xFF; TPR 0), records its APIC ID from the LAPIC ID
 * register and from CPUID leaf 1, and starts its 1 ms periodic timer. */
cpu_setup:
	pusha
	mov $MSR_APIC_BASE, %ecx
	rdmsr
	mov %eax, apic_base(,%ebp,4)
	movl $0x100 | VEC_SPURIOUS, LAPIC_SVR
	movl $0, LAPIC_TPR
	mov LAPIC_ID, %eax
	shr $24, %eax
	mov %eax, id_lapic(,%ebp,4)
	mov $1, %eax
	cpuid
	shr $24, %ebx
	mov %ebx, id_cpuid(,%ebp,4)
	movl $0xb, LAPIC_TIMER_DIV		/* divide by 1 (11.5.4) */
	movl $0x20000 | VEC_TIMER, LAPIC_LVT_TIMER	/* periodic */
	mov apic_khz, %eax
	mov %eax, LAPIC_TIMER_INIT
	popa
	ret

/* this_cpu: eax = the running CPU's number, from its stack */
	.macro THIS_CPU
	mov %esp, %eax
	sub $percpu_stacks, %eax
	shr $PERCPU_SHIFT, %eax
	cmp $MAX_CPUS, %eax
	jae bad_stack
	.endm

/* ---- starting the APs ---------------------------------------------------------------------- */

start_aps:
	pusha
	mov $tramp_start, %esi
	mov $TRAMP, %edi
	mov $tramp_end - tramp_start, %ecx
	cld
	rep movsb
	mov $1, %ebx
1:	cmp nr_cpus, %ebx
	jae 5f
	mov %ebx, ap_boot_index
	movl $0xffffffff, TRAMP + TOFF(tramp_cs)
	movl $0xffffffff, TRAMP + TOFF(tramp_cr0)
	mov cpu_apic(,%ebx,4), %edx
	mov $ICR_INIT | ICR_ASSERT, %eax
	call send_ipi
	mov $10 * MS, %ecx
	call wait_ticks
	mov $ICR_SIPI | ICR_ASSERT | SIPI_VECTOR, %eax
	call send_ipi
	mov $US200, %ecx
	call wait_ticks
	call send_ipi
	mov $US200, %ecx
	call wait_ticks
	mov %ebx, want_online
	mov $cond_online, %esi
	mov $TIMEOUT, %ecx
	call wait_until
	jnc 2f
	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY " (APIC ID "
	mov %edx, %eax
	call putdec
	SAY ") did not come online within 60 seconds\n"
	mov $1, %eax
	jmp exit
2:	inc %ebx
	jmp 1b
	/* every AP once: no second start from the second SIPI */
5:	mov $20 * MS, %ecx
	call wait_ticks
	mov online, %eax
	inc %eax
	cmp nr_cpus, %eax
	je 6f
	call fail
	SAY "online counts "
	dec %eax
	call putdec
	SAY " APs started, not "
	mov nr_cpus, %eax
	dec %eax
	call putdec
	SAY "\n"
	/* what each CPU recorded */
6:	xor %ebx, %ebx
7:	mov cpu_apic(,%ebx,4), %edx
	cmp id_lapic(,%ebx,4), %edx
	jne 8f
	cmp id_cpuid(,%ebx,4), %edx
	je 9f
8:	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY ": MADT APIC ID "
	mov %edx, %eax
	call putdec
	SAY ", LAPIC ID register "
	mov id_lapic(,%ebx,4), %eax
	call putdec
	SAY ", CPUID leaf 1 "
	mov id_cpuid(,%ebx,4), %eax
	call putdec
	SAY "\n"
	/* IA32_APIC_BASE: 0xFEE00000, enabled (bit 11), BSP flag (bit 8) on CPU 0 only */
9:	mov apic_base(,%ebx,4), %eax
	and $0xfffff900, %eax
	mov $0xfee00800, %ecx
	test %ebx, %ebx
	jnz 10f
	or $0x100, %ecx
10:	cmp %ecx, %eax
	je 11f
	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY ": IA32_APIC_BASE 0x"
	mov apic_base(,%ebx,4), %eax
	call puthex
	SAY "\n"
11:	test %ebx, %ebx
	jz 13f
	/* an AP: real mode at the SIPI vector's page, CR0.PE and PG clear */
	cmpl $TRAMP_SEG, start_cs(,%ebx,4)
	jne 12f
	testl $0x80000001, start_cr0(,%ebx,4)
	jz 14f
12:	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY ": started with CS 0x"
	mov start_cs(,%ebx,4), %eax
	call puthex
	SAY " CR0 0x"
	mov start_cr0(,%ebx,4), %eax
	call puthex
	SAY ", expected CS 0x7000 in real mode\n"
	jmp 13f
14:	SAY "smp: cpu "
	mov %ebx, %eax
	call putdec
	SAY ": APIC ID "
	mov %edx, %eax
	call putdec
	SAY " online, the LAPIC ID register and CPUID leaf 1 agree; started in real mode at 7000:0000, CR0 0x"
	mov start_cr0(,%ebx,4), %eax
	call puthex
	SAY "\n"
13:	inc %ebx
	cmp nr_cpus, %ebx
	jb 7b
	popa
	ret

/* cond_online: CF clear once `online` has reached want_online */
cond_online:
	push %eax
	mov online, %eax
	cmp want_online, %eax
	pop %eax
	ret

/* The AP's first instructions, copied to TRAMP: real mode at CS = TRAMP_SEG, IP = 0. */
	.code16
tramp_start:
	cli
	mov %cs, %ax
	mov %ax, %ds
	movzwl %ax, %eax
	mov %eax, TOFF(tramp_cs)
	mov %cr0, %eax
	mov %eax, TOFF(tramp_cr0)
	lgdtl TOFF(tramp_gdtr)
	and $0x9fffffff, %eax		/* caches on: CD and NW off */
	or $1, %eax			/* PE */
	mov %eax, %cr0
	ljmpl $0x08, $ap_pm32
	.align 4
tramp_gdtr:
	.word gdt_end - gdt - 1
	.long gdt
tramp_cs:	.long 0
tramp_cr0:	.long 0
tramp_end:
	.code32

/* The AP in 32-bit protected mode: ap_boot_index says which CPU it is (the BSP starts one at a
 * time and waits for it). */
ap_pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov ap_boot_index, %ebp
	lea 1(%ebp), %esp
	shl $PERCPU_SHIFT, %esp
	add $percpu_stacks, %esp
	lidt idt_desc
	mov TRAMP + TOFF(tramp_cs), %eax
	mov %eax, start_cs(,%ebp,4)
	mov TRAMP + TOFF(tramp_cr0), %eax
	mov %eax, start_cr0(,%ebp,4)
	call cpu_setup
	lock incl online
	/* wait for the BSP's phases; the timer (or an IPI) ends each HLT */
ap_loop:
	cli
	mov phase, %eax
	cmp ap_phase(,%ebp,4), %eax
	je 4f
	cmp $PH_LDR, %eax
	jne 1f
	call ap_ldr
	jmp 3f
1:	cmp $PH_BACK, %eax
	jne 2f
	mov cpu_apic, %edx
	mov %eax, %ebx
	lea ICR_FIXED | ICR_ASSERT | VEC_BACK(%ebp), %eax
	call send_ipi
	mov %ebx, %eax
	jmp 3f
2:	cmp $PH_REGS, %eax
	jne 5f
	call regs_test
	jmp 3f
5:	cmp $PH_CLOCK, %eax
	jne 3f
	call clock_run
3:	mov %eax, ap_phase(,%ebp,4)
4:	sti
	hlt
	jmp ap_loop

/* ap_ldr: the flat model (DFR 0xFFFFFFFF) and LDR = bit ebp of the logical ID (11.6.2.2) */
ap_ldr:
	push %eax
	push %ecx
	movl $0xffffffff, LAPIC_DFR
	mov %ebp, %ecx
	mov $0x01000000, %eax
	shl %cl, %eax
	mov %eax, LAPIC_LDR
	mov LAPIC_LDR, %eax
	mov %eax, ldr_read(,%ebp,4)
	pop %ecx
	pop %eax
	ret

/* send_ipi: ICR = eax to the APIC ID in edx (physical) or the logical set in edx, once the last
 * one left (delivery status idle) */
send_ipi:
	push %ecx
	push %edx
	mov $100000, %ecx
1:	testl $ICR_PENDING, LAPIC_ICR_LO
	jz 2f
	pause
	loop 1b
	mov $msg_icr_busy, %esi
	jmp fatal
2:	shl $24, %edx
	mov %edx, LAPIC_ICR_HI
	mov %eax, LAPIC_ICR_LO
	pop %edx
	pop %ecx
	ret

/* ---- IPIs ------------------------------------------------------------------------------------ */

ipi_tests:
	pusha
	/* step 0: a fixed IPI in physical destination mode to each AP */
	mov $1, %ebx
1:	mov cpu_apic(,%ebx,4), %edx
	mov $ICR_FIXED | ICR_ASSERT | VEC_FIXED, %eax
	call send_ipi
	movl $1, exp_ipi + 0 * 4 * MAX_CPUS(,%ebx,4)
	inc %ebx
	cmp nr_cpus, %ebx
	jb 1b
	mov $0, %ebx
	mov $name_fixed, %esi
	call ipi_step

	/* step 1: logical flat mode. Each CPU's LDR is bit N of the logical ID; the set is the APs
	 * with odd numbers, so (with 3 CPUs or more) an AP outside it must take nothing. */
	movl $0xffffffff, LAPIC_DFR
	movl $0x01000000, LAPIC_LDR
	mov LAPIC_LDR, %eax
	mov %eax, ldr_read
	movl $PH_LDR, phase
	call wait_phase
	xor %ebx, %ebx
2:	mov %ebx, %ecx
	mov $0x01000000, %eax
	shl %cl, %eax
	cmp ldr_read(,%ebx,4), %eax
	je 3f
	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY ": LDR reads 0x"
	mov ldr_read(,%ebx,4), %eax
	call puthex
	SAY "\n"
3:	inc %ebx
	cmp nr_cpus, %ebx
	jb 2b
	mov nr_cpus, %ecx
	mov $1, %edx
	shl %cl, %edx
	dec %edx
	and $0xaa, %edx			/* the odd CPUs */
	mov %edx, logical_set
	xor %ebx, %ebx
4:	bt %ebx, %edx
	jnc 5f
	movl $1, exp_ipi + 1 * 4 * MAX_CPUS(,%ebx,4)
5:	inc %ebx
	cmp nr_cpus, %ebx
	jb 4b
	mov $ICR_FIXED | ICR_LOGICAL | ICR_ASSERT | VEC_LOGICAL, %eax
	call send_ipi
	mov $1, %ebx
	mov $name_logical, %esi
	call ipi_step

	/* step 2: all excluding self */
	mov $1, %ebx
6:	movl $1, exp_ipi + 2 * 4 * MAX_CPUS(,%ebx,4)
	inc %ebx
	cmp nr_cpus, %ebx
	jb 6b
	mov $ICR_FIXED | ICR_ALL_BUT_SELF | ICR_ASSERT | VEC_BCAST, %eax
	xor %edx, %edx
	call send_ipi
	mov $2, %ebx
	mov $name_bcast, %esi
	call ipi_step

	/* step 3: an NMI to the last AP */
	mov nr_cpus, %ebx
	dec %ebx
	movl $1, exp_ipi + 3 * 4 * MAX_CPUS(,%ebx,4)
	mov cpu_apic(,%ebx,4), %edx
	mov $ICR_NMI | ICR_ASSERT, %eax
	call send_ipi
	mov $3, %ebx
	mov $name_nmi, %esi
	call ipi_step

	/* step 4: each AP sends one to the BSP (physical destination, the BSP's APIC ID) */
	mov nr_cpus, %eax
	dec %eax
	mov %eax, exp_ipi + 4 * 4 * MAX_CPUS
	movl $PH_BACK, phase
	call wait_phase
	mov $4, %ebx
	mov $name_back, %esi
	call ipi_step
	call back_sources
	popa
	ret

/* back_sources: each AP's own vector reached the BSP exactly once */
back_sources:
	pusha
	xor %ebx, %ebx
1:	xor %ecx, %ecx
	test %ebx, %ebx
	setnz %cl			/* expected: 1 from each AP, none from CPU 0 */
	cmp cnt_back_from(,%ebx,4), %ecx
	je 2f
	call fail
	SAY "vector 0x"
	lea VEC_BACK(%ebx), %eax
	call puthex
	SAY " (from cpu "
	mov %ebx, %eax
	call putdec
	SAY ") reached the BSP "
	mov cnt_back_from(,%ebx,4), %eax
	call putdec
	SAY " times, expected "
	mov %ecx, %eax
	call putdec
	SAY "\n"
2:	inc %ebx
	cmp nr_cpus, %ebx
	jb 1b
	popa
	ret

/* wait_phase: until every AP has acknowledged `phase` (5 seconds at most) */
wait_phase:
	pusha
	mov $cond_phase, %esi
	mov $TIMEOUT, %ecx
	call wait_until
	jnc 1f
	call fail
	SAY "the APs did not all acknowledge phase "
	mov phase, %eax
	call putdec
	SAY " within 60 seconds\n"
1:	popa
	ret

/* cond_phase: CF clear when every AP's ap_phase equals phase */
cond_phase:
	push %eax
	push %ecx
	mov $1, %ecx
1:	cmp nr_cpus, %ecx
	jae 2f
	mov ap_phase(,%ecx,4), %eax
	cmp phase, %eax
	jne 3f
	inc %ecx
	jmp 1b
2:	pop %ecx
	pop %eax
	clc
	ret
3:	pop %ecx
	pop %eax
	stc
	ret

/* ipi_step: step ebx (named by esi) was sent: waits (5 seconds at most) until every CPU's count
 * of it reached the expected one, 20 ms more for anything extra, then wants them exact */
ipi_step:
	pusha
	mov %ebx, wait_step
	push %esi
	mov $cond_step, %esi
	mov $TIMEOUT, %ecx
	call wait_until
	pop %esi
	jnc 1f
	call fail
	call say
	SAY ": not every count reached its expected value within 60 seconds\n"
1:	mov $20 * MS, %ecx
	call wait_ticks
	call step_exact
	jnc 2f
	popa
	ret
2:	SAY "smp: "
	call say
	SAY ": counts per CPU"
	call step_counts
	SAY ", as expected\n"
	popa
	ret

/* cond_step: CF clear when every CPU's count of wait_step has reached the expected count */
cond_step:
	push %eax
	push %ecx
	push %edx
	mov wait_step, %edx
	shl $5, %edx			/* 4 * MAX_CPUS bytes per step */
	xor %ecx, %ecx
1:	cmp nr_cpus, %ecx
	jae 2f
	lea (%edx,%ecx,4), %eax
	mov cnt_ipi(%eax), %eax
	cmp exp_ipi(%edx,%ecx,4), %eax
	jb 3f
	inc %ecx
	jmp 1b
2:	clc
3:	pop %edx
	pop %ecx
	pop %eax
	ret

/* step_exact: step ebx (named by esi): CF set, and a FAIL line per CPU, when a count is not the
 * expected one */
step_exact:
	pusha
	mov %ebx, %edx
	shl $5, %edx
	xor %ecx, %ecx
	xor %edi, %edi			/* mismatches */
1:	mov cnt_ipi(%edx,%ecx,4), %eax
	cmp exp_ipi(%edx,%ecx,4), %eax
	je 2f
	inc %edi
	call fail
	call say
	SAY ": cpu "
	mov %ecx, %eax
	call putdec
	SAY " took "
	mov cnt_ipi(%edx,%ecx,4), %eax
	call putdec
	SAY ", expected "
	mov exp_ipi(%edx,%ecx,4), %eax
	call putdec
	SAY "\n"
2:	inc %ecx
	cmp nr_cpus, %ecx
	jb 1b
	cmp $1, %edi			/* CF when edi == 0 */
	cmc
	popa
	ret

/* step_counts: prints " N N N ..." (step ebx's counts, CPU 0 first) */
step_counts:
	pusha
	mov %ebx, %edx
	shl $5, %edx
	xor %ecx, %ecx
1:	SAY " "
	mov cnt_ipi(%edx,%ecx,4), %eax
	call putdec
	inc %ecx
	cmp nr_cpus, %ecx
	jb 1b
	popa
	ret

/* ---- register isolation ---------------------------------------------------------------------- */

regs_all:
	pusha
	cmpl $0, has_lm
	jne 1f
	SAY "smp: no long mode in CPUID: IA32_LSTAR left out\n"
1:	movl $PH_REGS, phase
	xor %ebp, %ebp
	call regs_test
	mov $cond_phase, %esi
	mov $120 * SECOND, %ecx
	call wait_until
	xor %ebx, %ebx
2:	test %ebx, %ebx
	jz 3f
	mov ap_phase(,%ebx,4), %eax
	cmp $PH_REGS, %eax
	je 3f
	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY ": the register test did not end within 120 seconds\n"
	jmp 9f
3:	mov regs_what(,%ebx,4), %eax
	test %eax, %eax
	jnz 4f
	SAY "smp: cpu "
	mov %ebx, %eax
	call putdec
	SAY ": XMM0-7, MXCSR"
	cmpl $0, has_lm
	je 31f
	SAY " and IA32_LSTAR"
31:	SAY " kept its own values over "
	mov regs_rounds(,%ebx,4), %eax
	call putdec
	SAY " rounds of spin and HLT ("
	mov regs_gaps(,%ebx,4), %eax
	call putdec
	SAY " spin gaps over 1 ms)\n"
	jmp 9f
4:	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY " round "
	mov regs_rounds(,%ebx,4), %eax
	call putdec
	SAY ": "
	mov regs_what(,%ebx,4), %eax
	cmp $1, %eax
	jne 5f
	SAY "xmm"
	mov regs_idx(,%ebx,4), %eax
	shr $2, %eax
	call putdec
	SAY " dword "
	mov regs_idx(,%ebx,4), %eax
	and $3, %eax
	call putdec
	jmp 7f
5:	cmp $2, %eax
	jne 6f
	SAY "mxcsr"
	jmp 7f
6:	SAY "IA32_LSTAR"
7:	SAY " is 0x"
	cmpl $3, regs_what(,%ebx,4)
	jne 71f
	mov regs_got_hi(,%ebx,4), %eax
	call puthex
	SAY "_"
71:	mov regs_got(,%ebx,4), %eax
	call puthex
	SAY ", its own value 0x"
	cmpl $3, regs_what(,%ebx,4)
	jne 72f
	mov regs_want_hi(,%ebx,4), %eax
	call puthex
	SAY "_"
72:	mov regs_want(,%ebx,4), %eax
	call puthex
	SAY "\n"
9:	inc %ebx
	cmp nr_cpus, %ebx
	jb 2b
	popa
	ret

/* regs_test: CPU ebp loads its pattern (XMMr dword k = 0xC0DE0000 | cpu << 12 | r << 4 | k,
 * MXCSR 0x1F80 | cpu << 13, IA32_LSTAR 0x00004B0c_15A70c5A with c = cpu), then ROUNDS times
 * spins and halts and checks them; regs_rounds, regs_what (0: all kept) and what differed. */
regs_test:
	pusha
	/* SSE (SDM vol 3, 13.1.3): CR0.MP on, EM and TS off; CR4.OSFXSR and OSXMMEXCPT */
	mov %cr0, %eax
	and $~0xc, %eax
	or $2, %eax
	mov %eax, %cr0
	mov %cr4, %eax
	or $0x600, %eax
	mov %eax, %cr4
	mov %ebp, %edi
	shl $7, %edi
	add $xmm_want, %edi
	xor %ecx, %ecx
1:	mov %ecx, %eax
	and $~3, %eax
	shl $2, %eax			/* r << 4 */
	mov %ecx, %edx
	and $3, %edx
	or %edx, %eax
	mov %ebp, %edx
	shl $12, %edx
	or %edx, %eax
	or $0xc0de0000, %eax
	mov %eax, (%edi,%ecx,4)
	inc %ecx
	cmp $32, %ecx
	jb 1b
	movdqu 0x00(%edi), %xmm0
	movdqu 0x10(%edi), %xmm1
	movdqu 0x20(%edi), %xmm2
	movdqu 0x30(%edi), %xmm3
	movdqu 0x40(%edi), %xmm4
	movdqu 0x50(%edi), %xmm5
	movdqu 0x60(%edi), %xmm6
	movdqu 0x70(%edi), %xmm7
	mov %ebp, %eax
	shl $13, %eax
	or $0x1f80, %eax
	mov %eax, mxcsr_want(,%ebp,4)
	ldmxcsr mxcsr_want(,%ebp,4)
	cmpl $0, has_lm
	je 2f
	mov %ebp, %eax
	shl $8, %eax
	or $0x15a7005a, %eax
	mov %ebp, %edx
	or $0x00004b00, %edx
	mov %eax, lstar_want(,%ebp,4)
	mov %edx, lstar_want_hi(,%ebp,4)
	mov $MSR_LSTAR, %ecx
	wrmsr
2:	xor %esi, %esi
3:	mov $SPIN_TICKS, %ecx
	call spin
	sti
	hlt
	cli
	inc %esi
	call regs_check
	jc 4f
	cmp $ROUNDS, %esi
	jb 3b
4:	mov %esi, regs_rounds(,%ebp,4)
	popa
	ret

/* regs_check: CPU ebp after round esi: CF set (and regs_what ...) when a register lost its
 * value */
regs_check:
	pusha
	mov %ebp, %edi
	shl $7, %edi
	add $xmm_got, %edi
	movdqu %xmm0, 0x00(%edi)
	movdqu %xmm1, 0x10(%edi)
	movdqu %xmm2, 0x20(%edi)
	movdqu %xmm3, 0x30(%edi)
	movdqu %xmm4, 0x40(%edi)
	movdqu %xmm5, 0x50(%edi)
	movdqu %xmm6, 0x60(%edi)
	movdqu %xmm7, 0x70(%edi)
	mov %ebp, %ebx
	shl $7, %ebx
	add $xmm_want, %ebx
	xor %ecx, %ecx
1:	mov (%edi,%ecx,4), %eax
	mov (%ebx,%ecx,4), %edx
	cmp %edx, %eax
	jne 5f
	inc %ecx
	cmp $32, %ecx
	jb 1b
	stmxcsr mxcsr_got(,%ebp,4)
	mov mxcsr_got(,%ebp,4), %eax
	mov mxcsr_want(,%ebp,4), %edx
	mov $2, %ebx
	cmp %edx, %eax
	jne 6f
	cmpl $0, has_lm
	je 2f
	mov $MSR_LSTAR, %ecx
	rdmsr
	mov $3, %ebx
	mov %edx, regs_got_hi(,%ebp,4)
	mov lstar_want_hi(,%ebp,4), %ecx
	mov %ecx, regs_want_hi(,%ebp,4)
	cmp %ecx, %edx
	mov lstar_want(,%ebp,4), %edx
	jne 6f
	cmp %edx, %eax
	jne 6f
2:	popa
	clc
	ret
5:	mov %ecx, regs_idx(,%ebp,4)
	mov $1, %ebx
6:	mov %ebx, regs_what(,%ebp,4)
	mov %eax, regs_got(,%ebp,4)
	mov %edx, regs_want(,%ebp,4)
	popa
	stc
	ret

/* spin: ecx PM timer ticks with interrupts as they are; counts in regs_gaps[ebp] the reads that
 * found the timer more than GAP_TICKS past the previous one (the vCPU was not running) */
spin:
	pusha
	call pm_read
	mov %eax, %ebx			/* start */
	mov %eax, %edi			/* last read */
1:	pause
	call pm_read
	mov %eax, %edx
	sub %edi, %edx
	and $0xffffff, %edx
	cmp $GAP_TICKS, %edx
	jb 2f
	incl regs_gaps(,%ebp,4)
2:	mov %eax, %edi
	sub %ebx, %eax
	and $0xffffff, %eax
	cmp %ecx, %eax
	jb 1b
	popa
	ret

/* ---- the end --------------------------------------------------------------------------------- */

final_checks:
	pusha
	/* nothing arrived late */
	xor %ebx, %ebx
1:	mov step_names(,%ebx,4), %esi
	call step_exact
	inc %ebx
	cmp $NR_STEPS, %ebx
	jb 1b
	call back_sources
	/* no error latched: a write to ESR loads it (11.5.3) */
	movl $0, LAPIC_ESR
	mov LAPIC_ESR, %eax
	test %eax, %eax
	jz 2f
	call fail
	SAY "the BSP's ESR reads 0x"
	call puthex
	SAY "\n"
2:	xor %ebx, %ebx
3:	cmpl $0, cnt_spurious(,%ebx,4)
	jne 4f
	cmpl $0, cnt_timer(,%ebx,4)
	jne 5f
4:	call fail
	SAY "cpu "
	mov %ebx, %eax
	call putdec
	SAY ": "
	mov cnt_timer(,%ebx,4), %eax
	call putdec
	SAY " timer interrupts, "
	mov cnt_spurious(,%ebx,4), %eax
	call putdec
	SAY " spurious (expected some and none)\n"
5:	inc %ebx
	cmp nr_cpus, %ebx
	jb 3b
	/* deliveries repeated by the emulator (HANDLER): reported, not counted */
	xor %ebx, %ebx
	xor %eax, %eax
6:	add cnt_replayed(,%ebx,4), %eax
	inc %ebx
	cmp nr_cpus, %ebx
	jb 6b
	test %eax, %eax
	jz 7f
	SAY "smp: note: "
	call putdec
	SAY " interrupt deliveries repeated at the handler's first instruction with IF clear (QEMU TCG's SVM repeats an injected event; no CPU does), not counted\n"
7:	popa
	ret

/* ---- interrupts ------------------------------------------------------------------------------ */

/* idt_build: every vector to a stub that reports it (fatal), then the real handlers; 32-bit
 * interrupt gates on selector 0x08 (SDM vol 3, 6.11) */
idt_build:
	pusha
	xor %ecx, %ecx
1:	lea (%ecx,%ecx,4), %eax
	lea unexpected_stubs(,%eax,2), %eax	/* 10 bytes each */
	call set_gate
	inc %ecx
	cmp $256, %ecx
	jb 1b
	mov $2, %ecx
	mov $int_nmi, %eax
	call set_gate
	mov $VEC_TIMER, %ecx
	mov $int_timer, %eax
	call set_gate
	mov $VEC_FIXED, %ecx
	mov $int_fixed, %eax
	call set_gate
	mov $VEC_LOGICAL, %ecx
	mov $int_logical, %eax
	call set_gate
	mov $VEC_BCAST, %ecx
	mov $int_bcast, %eax
	call set_gate
	mov $VEC_BACK, %ecx
2:	lea -VEC_BACK(%ecx), %eax
	mov int_back(,%eax,4), %eax
	call set_gate
	inc %ecx
	cmp $VEC_BACK + MAX_CPUS, %ecx
	jb 2b
	mov $VEC_SPURIOUS, %ecx
	mov $int_spurious, %eax
	call set_gate
	popa
	ret

/* set_gate: IDT entry ecx -> handler eax */
set_gate:
	push %eax
	mov %ax, idt(,%ecx,8)
	movw $0x08, idt+2(,%ecx,8)
	movw $0x8e00, idt+4(,%ecx,8)	/* present, DPL 0, 32-bit interrupt gate */
	shr $16, %eax
	mov %ax, idt+6(,%ecx,8)
	pop %eax
	ret

/* HANDLER name: the entry of each counting handler. QEMU 7.2 TCG's SVM leaves an event it
 * injected at VMRUN in cs->exception_index after delivering it (target/i386/tcg/sysemu/
 * svm_helper.c helper_vmrun), and a vCPU thread kicked before the guest's next exit delivers it
 * again, ignoring IF, at the handler's first instruction; no CPU does that (an interrupt gate
 * clears IF). Such a second delivery is counted apart (cnt_replayed) and takes no EOI, so the
 * counts stay exact. The handler's first block ends in an exit (a PM timer read), which clears
 * QEMU's stale state: a repeat can only land at the entry, where the return address shows it. */
	.macro HANDLER name
\name:
	push %eax
	push %edx
	mov $PM_TMR, %dx
	in %dx, %eax
	pop %edx
	cmpl $\name, 4(%esp)
	je int_replayed
	.endm

/* COUNT name, counter, eoi: a handler that counts in counter[this CPU], with an EOI or not */
	.macro COUNT name, counter, eoi
	HANDLER \name
	THIS_CPU
	lock incl \counter(,%eax,4)
	.if \eoi
	movl $0, LAPIC_EOI
	.endif
	pop %eax
	iret
	.endm

	COUNT int_timer, cnt_timer, 1
	COUNT int_fixed, cnt_ipi+0*4*MAX_CPUS, 1
	COUNT int_logical, cnt_ipi+1*4*MAX_CPUS, 1
	COUNT int_bcast, cnt_ipi+2*4*MAX_CPUS, 1
	COUNT int_nmi, cnt_ipi+3*4*MAX_CPUS, 0

/* int_back_N: the IPI from AP N to the BSP, counted for the CPU that took it and for N */
	.macro BACK n
	HANDLER int_back_\n
	lock incl cnt_back_from + 4 * \n
	jmp int_back_tail
	.endm
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7
	BACK \n
	.endr
int_back_tail:
	THIS_CPU
	lock incl cnt_ipi + 4 * 4 * MAX_CPUS(,%eax,4)
	movl $0, LAPIC_EOI
	pop %eax
	iret

	COUNT int_spurious, cnt_spurious, 0		/* no EOI for the spurious vector (11.9) */

int_replayed:
	THIS_CPU
	lock incl cnt_replayed(,%eax,4)
	pop %eax
	iret

/* unexpected_stubs: PUSH imm32 (the vector), JMP rel32; 10 bytes per vector */
unexpected_stubs:
	.set vec, 0
	.rept 256
	.byte 0x68
	.long vec
	.byte 0xe9
	.long unexpected - . - 4
	.set vec, vec + 1
	.endr

/* stack: vector, then the error code or EIP */
unexpected:
	call print_lock
	SAY "smp: FAIL unexpected vector 0x"
	mov (%esp), %eax
	call puthex
	SAY " on cpu "
	mov %esp, %eax
	sub $percpu_stacks, %eax
	shr $PERCPU_SHIFT, %eax
	call putdec
	SAY " (the stack holds 0x"
	mov 4(%esp), %eax
	call puthex
	SAY " 0x"
	mov 8(%esp), %eax
	call puthex
	SAY " 0x"
	mov 12(%esp), %eax
	call puthex
	SAY ")\n"
	mov $3, %eax
	jmp exit

bad_stack:
	call print_lock
	mov $msg_bad_stack, %esi
	call puts
	mov $3, %eax
	jmp exit

/* print_lock: the console for this CPU's last words */
print_lock:
	push %eax
1:	mov $1, %eax
	xchg %eax, print_busy
	test %eax, %eax
	jz 2f
	pause
	jmp 1b
2:	pop %eax
	ret

/* ---- time ---------------------------------------------------------------------------------- */

/* pm_start, pm_elapsed: ebx = ticks since pm_start, edx = the last read. The 24-bit timer wraps
 * every 4.7 s: elapsed time adds up the steps between reads (a HLT lasts 1 ms, the timer's
 * period). */
pm_start:
	push %eax
	call pm_read
	mov %eax, %edx
	xor %ebx, %ebx
	pop %eax
	ret

pm_elapsed:
	push %eax
	call pm_read
	xchg %eax, %edx
	neg %eax
	add %edx, %eax
	and $0xffffff, %eax
	add %eax, %ebx
	pop %eax
	ret

/* wait_ticks: at least ecx PM timer ticks, halting between timer interrupts (IF clear outside
 * the HLTs) */
wait_ticks:
	push %ebx
	push %edx
	call pm_start
1:	sti
	hlt
	cli
	call pm_elapsed
	cmp %ecx, %ebx
	jb 1b
	pop %edx
	pop %ebx
	ret

/* wait_until: calls esi (CF clear: done) until it is done or ecx PM timer ticks have passed
 * (then CF set), halting in between */
wait_until:
	push %ebx
	push %edx
	call pm_start
1:	call *%esi
	jnc 2f
	call pm_elapsed
	cmp %ecx, %ebx
	jae 3f
	sti
	hlt
	cli
	jmp 1b
2:	pop %edx
	pop %ebx
	clc
	ret
3:	pop %edx
	pop %ebx
	stc
	ret

#include "smp-clock.inc"
#include "smp-drift.inc"

/* putdec: eax in decimal */
putdec:
	pusha
	mov $10, %ecx
	xor %ebx, %ebx
1:	xor %edx, %edx
	div %ecx
	push %edx
	inc %ebx
	test %eax, %eax
	jnz 1b
	mov $0x3f8, %dx
2:	pop %eax
	add $'0', %al
	outb %al, %dx
	dec %ebx
	jnz 2b
	popa
	ret

	.section .rodata
	.align 8
/* null, 0x08 flat 32-bit code, 0x10 flat data (SDM vol 3, 3.4.5) */
gdt:	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
gdt_end:
gdt_desc:	.word gdt_end - gdt - 1
		.long gdt
idt_desc:	.word 256 * 8 - 1
		.long idt
	.align 4
step_names:	.long name_fixed, name_logical, name_bcast, name_nmi, name_back
int_back:	.long int_back_0, int_back_1, int_back_2, int_back_3
		.long int_back_4, int_back_5, int_back_6, int_back_7
name_fixed:	.asciz "fixed IPI to each AP (physical destination)"
name_logical:	.asciz "fixed IPI to the odd APs (logical flat destination)"
name_bcast:	.asciz "fixed IPI to all excluding self"
name_nmi:	.asciz "NMI IPI to the last AP"
name_back:	.asciz "fixed IPI from each AP to the BSP (vector 0x60 + its number)"
msg_no_rsdp:	.asciz "no ACPI RSDP in 0xE0000-0xFFFFF\n"
msg_no_rsdt:	.asciz "the RSDP's RSDT is not one\n"
msg_no_madt:	.asciz "no MADT in the RSDT\n"
msg_madt_sum:	.asciz "the MADT's checksum is wrong\n"
msg_madt_entry:	.asciz "a MADT entry shorter than 2 bytes\n"
msg_x2apic_id:	.asciz "a CPU with an x2APIC ID above 254 (this guest speaks xAPIC)\n"
msg_too_many:	.asciz "more than 8 CPUs in the MADT\n"
msg_bsp_madt:	.asciz "the BSP's APIC ID is not in the MADT exactly once\n"
msg_one_cpu:	.asciz "one CPU only: run this guest with cpus = 2 or more\n"
msg_icr_busy:	.asciz "the ICR's delivery status stayed pending\n"
msg_bad_stack:	.asciz "smp: FAIL an interrupt outside the per-CPU stacks\n"
msg_no_kvmclock: .asciz "no kvm-clock in CPUID 0x40000001\n"
msg_kvmclock:	.asciz "kvm-clock"
msg_tsc:	.asciz "the TSC"
msg_set:	.asciz "set"
msg_clear:	.asciz "clear"
word_clock:	.asciz "clock="
word_drift:	.asciz "drift="
msg_rtc:	.asciz "RTC"
msg_tsc_rate:	.asciz "TSC"
msg_apic:	.asciz "local APIC timer"
msg_pm:		.asciz "PM timer"
msg_pit:	.asciz "PIT"
	.align 8
c_1e9:		.double 1000000000.0
c_1000:		.double 1000.0
c_128:		.double 128.0
c_pm_hz:	.double 3579545.0
c_pit_hz:	.double 1193182.0

	.data
	.align 4
apic_khz:	.long 1000000		/* vdev/lapic.h VLAPIC_TIMER_KHZ */

	.bss
	.align 64
has_lm:		.long 0
nr_cpus:	.long 0
failures:	.long 0
online:		.long 0
want_online:	.long 0
ap_boot_index:	.long 0
phase:		.long 0
clock_seconds:	.long 0
clock_features:	.long 0		/* CPUID 0x40000001 EAX */
clock_end:	.quad 0		/* kvm-clock ns at which step 6 ends */
total_warps:	.long 0
	.align 8
pub_kvm:	.quad 0		/* the latest kvm-clock and TSC reads any CPU published */
pub_tsc:	.quad 0
clock_now:	.space 8 * MAX_CPUS	/* each CPU's latest kvm-clock read */
clock_reads:	.space 4 * MAX_CPUS
kvm_warps:	.space 8 * MAX_CPUS	/* steps back per CPU, then the largest step per CPU */
tsc_warps:	.space 8 * MAX_CPUS
	.align 32
pvti:		.space 32 * MAX_CPUS	/* each CPU's kvm-clock structure */
	.align 8			/* step 7's */
samples0:	.space 64		/* TSC, APIC, PM, PIT: value, kvm-clock ns */
samples1:	.space 64
drift_t:	.quad 0
drift_end:	.quad 0
drift_k:	.quad 0
drift_d:	.quad 0
drift_tmp:	.quad 0
drift_tmp_d:	.quad 0
drift_pred:	.quad 0
drift_rate:	.quad 0
drift_clock_ns:	.quad 0
rate_tsc:	.quad 0
rate_apic:	.quad 0
br_k1:		.quad 0
br_raw:		.quad 0
rtc_k0:		.quad 0
rtc_s0:		.long 0
rtc_s1:		.long 0
drift_obs:	.long 0
drift_fails:	.long 0
wide_brackets:	.long 0
rtc_regb:	.byte 0
wait_step:	.long 0
logical_set:	.long 0
print_busy:	.long 0
	.align 64
cpu_apic:	.space 4 * MAX_CPUS
apic_base:	.space 4 * MAX_CPUS
id_lapic:	.space 4 * MAX_CPUS
id_cpuid:	.space 4 * MAX_CPUS
start_cs:	.space 4 * MAX_CPUS
start_cr0:	.space 4 * MAX_CPUS
ldr_read:	.space 4 * MAX_CPUS
ap_phase:	.space 4 * MAX_CPUS
cnt_timer:	.space 4 * MAX_CPUS
cnt_spurious:	.space 4 * MAX_CPUS
cnt_replayed:	.space 4 * MAX_CPUS
cnt_back_from:	.space 4 * MAX_CPUS
cnt_ipi:	.space 4 * MAX_CPUS * NR_STEPS
exp_ipi:	.space 4 * MAX_CPUS * NR_STEPS
regs_rounds:	.space 4 * MAX_CPUS
regs_gaps:	.space 4 * MAX_CPUS
regs_what:	.space 4 * MAX_CPUS
regs_idx:	.space 4 * MAX_CPUS
regs_got:	.space 4 * MAX_CPUS
regs_got_hi:	.space 4 * MAX_CPUS
regs_want:	.space 4 * MAX_CPUS
regs_want_hi:	.space 4 * MAX_CPUS
mxcsr_want:	.space 4 * MAX_CPUS
mxcsr_got:	.space 4 * MAX_CPUS
lstar_want:	.space 4 * MAX_CPUS
lstar_want_hi:	.space 4 * MAX_CPUS
	.align 16
xmm_want:	.space 128 * MAX_CPUS
xmm_got:	.space 128 * MAX_CPUS
	.align 8
idt:		.space 256 * 8
	.align 4096
percpu_stacks:	.space MAX_CPUS << PERCPU_SHIFT
	.section .note.GNU-stack,"",@progbits

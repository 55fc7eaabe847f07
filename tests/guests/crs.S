/* crs: control-register and EFER writes, read back and put to use. keel checks every write that
 * reaches it against the guest's CPUID (core/cr_policy.c): on VT-x it owns the CR0/CR4 bits VMX
 * forces (CR0.NE, CR4.VMXE) and every CR4 bit of a feature CPUID hides, the guest reading its own
 * value from the read shadow (arch/x86/vmx/vmx.c handle_cr_write); on AMD-V every CR0 and CR4
 * write exits (core/exit_cr.c). EFER writes are MSR exits on both.
 *   1. CR0: TS set by MOV and cleared by CLTS, MP/EM/TS set by LMSW, LMSW cannot clear PE, NE
 *      cleared and set again, CD set and cleared, WP; MOV with NW but not CD, and with PG but not
 *      PE, #GP and leave CR0 as it was; each value reads back as written (Intel SDM vol 3, 2.5);
 *      the same bad values with NE flipped too (on VT-x they exit to keel);
 *   2. CR4: PSE, PGE, OSFXSR, OSXMMEXCPT set and cleared one by one, read back; OSFXSR decides
 *      whether an SSE instruction runs or raises #UD; VMXE, reserved bit 31 and the bits of every
 *      feature keel's CPUID hides (MCE, LA57, SMXE, PCIDE, KL, PKE, CET, PKS) #GP and leave CR4 as
 *      it was, on both vendors;
 *   3. paging, 8 rounds: 32-bit paging on and off with two page directories (4 KiB and 4 MiB
 *      pages), CR3 switched while paging is on; then PAE on and off with three PDPTs (CR3 32-byte
 *      aligned, not page aligned), one of them enabled by a MOV to CR0 that also clears NE (on
 *      VT-x keel loads the PDPTEs itself), a PDPTE rewritten in memory and reloaded by MOV CR3,
 *      CR0.NE flipped under PAE; linear 0x40000000 must show the frame each structure maps;
 *      CR0.WP: a supervisor write to a read-only page succeeds with WP=0 and faults with WP=1
 *      (#PF, error code 3);
 *   4. EFER: reserved bits 1, 9, 16, 63 and the hidden SVME, LMSLE, TCE #GP; CR4 = 0x20, EFER =
 *      0x500 (reads 0x100: LMA is the CPU's), paging on into compatibility mode (EFER reads
 *      0x500), EFER = 0xd00 there, paging off (0x900); LME set while 32-bit paging is on #GPs;
 *      paging with LME from a code segment with L (and D) set #GPs (QEMU's SVM let it through
 *      and the next VMRUN failed: a crashed VM).
 * Exit code 0 when every check held, 1 otherwise (3: an unexpected exception). */
#include "check.h"
	.set CR0_PE, 1
	.set CR0_MP, 2
	.set CR0_EM, 4
	.set CR0_TS, 8
	.set CR0_NE, 0x20
	.set CR0_WP, 0x10000
	.set CR0_NW, 0x20000000
	.set CR0_CD, 0x40000000
	.set CR0_PG, 0x80000000
	.set CR4_PSE, 0x10
	.set CR4_PAE, 0x20
	.set CR4_PGE, 0x80
	.set CR4_OSFXSR, 0x200
	.set CR4_OSXMMEXCPT, 0x400
	.set CR4_VMXE, 0x2000
	.set CR4_RSVD, 0x80000000	/* bit 31: reserved on every CPU so far */
	.set LIN, 0x40000000		/* the linear address the page tables move around */
	.set FRAME_X, 0x800000
	.set FRAME_Y, 0xc00000
	.set FRAME_RO, 0x801000
	.set MARK_X, 0x11111111
	.set MARK_Y, 0x22222222
	.set UD, 6
	.set GP, 13
	.set PF, 14

/* expect_exc VEC, insn...: the instruction must raise VEC; the guest goes on after it */
	.macro EXPECT_EXC vec, text, insn:vararg
	movl $\vec, exc_expect
	movl $.Lexc_ok\@, exc_resume
	\insn
	push %esi
	.pushsection .rodata
.Lexc_msg\@:
	.asciz "\text"
	.popsection
	mov $.Lexc_msg\@, %esi
	call fail
	pop %esi
.Lexc_ok\@:
	movl $-1, exc_expect
	movl $0, exc_resume
	.endm

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	mov $msg_start, %esi
	call puts
	mov %cr0, %eax
	call puthex
	mov $msg_cr4, %esi
	call puts
	mov %cr4, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	mov %cr0, %ebx
	mov %ebx, cr0_start

	/* 1. CR0 */
	mov %ebx, %eax
	or $CR0_TS, %eax
	mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %eax, "mov cr0 TS: cr0"
	jmp 1f
1:	clts
	mov %cr0, %eax
	CHECK %eax, %ebx, "clts: cr0"
	mov $CR0_PE | CR0_MP | CR0_EM | CR0_TS, %ax
	lmsw %ax
	mov %cr0, %eax
	mov %ebx, %ecx
	or $CR0_MP | CR0_EM | CR0_TS, %ecx
	CHECK %eax, %ecx, "lmsw MP EM TS: cr0"
	xor %eax, %eax
	lmsw %ax		/* PE stays set */
	mov %cr0, %eax
	mov %ebx, %ecx
	and $~(CR0_MP | CR0_EM | CR0_TS), %ecx
	CHECK %eax, %ecx, "lmsw 0: cr0 (PE must stay)"
	mov %ebx, %cr0
	mov %ebx, %eax
	and $~CR0_NE, %eax
	mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %eax, "NE cleared: cr0"
	or $CR0_NE, %eax
	mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %eax, "NE set: cr0"
	mov %ebx, %eax
	or $CR0_CD, %eax
	mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %eax, "CD set: cr0"
	mov %ebx, %cr0
	mov %ebx, %eax
	or $CR0_WP, %eax
	mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %eax, "WP set: cr0"
	mov %ebx, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %ebx, "back to the start: cr0"
	/* bad combinations: #GP, CR0 unchanged; then the same with NE flipped as well */
	mov %ebx, %eax
	or $CR0_NW, %eax
	and $~CR0_CD, %eax
	EXPECT_EXC GP, "mov cr0 with NW but not CD: no #GP", mov %eax, %cr0
	mov %ebx, %eax
	and $~CR0_PE, %eax
	or $CR0_PG, %eax
	EXPECT_EXC GP, "mov cr0 with PG but not PE: no #GP", mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %ebx, "after the refused writes: cr0"
	mov %ebx, %eax
	xor $CR0_NE, %eax
	or $CR0_NW, %eax
	and $~CR0_CD, %eax
	EXPECT_EXC GP, "mov cr0 with NW but not CD, NE flipped: no #GP", mov %eax, %cr0
	mov %ebx, %eax
	xor $CR0_NE, %eax
	and $~CR0_PE, %eax
	or $CR0_PG, %eax
	EXPECT_EXC GP, "mov cr0 with PG but not PE, NE flipped: no #GP", mov %eax, %cr0
	mov %cr0, %ecx
	CHECK %ecx, %ebx, "after the refused writes with NE flipped: cr0"
	mov %ebx, %cr0

	/* 2. CR4 */
	mov %cr4, %ebx
	mov %ebx, cr4_start
	mov $cr4_bits, %esi
2:	lodsl
	test %eax, %eax
	jz 3f
	mov %ebx, %edx
	or %eax, %edx
	mov %edx, %cr4
	mov %cr4, %ecx
	CHECK %ecx, %edx, "a CR4 bit set (wanted start|bit): cr4"
	mov %ebx, %cr4
	mov %cr4, %ecx
	CHECK %ecx, %ebx, "a CR4 bit cleared: cr4"
	jmp 2b
	/* OSFXSR: SSE runs only with it */
3:	mov %ebx, %eax
	and $~(CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov %cr0, %eax
	and $~(CR0_EM | CR0_TS), %eax
	or $CR0_MP, %eax
	mov %eax, %cr0
	EXPECT_EXC UD, "xorps with CR4.OSFXSR clear: no #UD", xorps %xmm0, %xmm0
	mov %ebx, %eax
	or $CR4_OSFXSR | CR4_OSXMMEXCPT, %eax
	mov %eax, %cr4
	xorps %xmm0, %xmm0	/* an unexpected #UD here ends the guest with exit code 3 */
	mov %ebx, %cr4
	mov cr0_start, %eax
	mov %eax, %cr0
	/* VMXE: VMX is hidden in CPUID, so the bit is reserved; and bit 31 */
	mov %ebx, %eax
	or $CR4_VMXE, %eax
	EXPECT_EXC GP, "mov cr4 with VMXE (CPUID hides VMX): no #GP", mov %eax, %cr4
	mov %cr4, %ecx
	CHECK %ecx, %ebx, "after mov cr4 with VMXE: cr4"
	mov %ebx, %cr4
	mov %ebx, %eax
	or $CR4_RSVD, %eax
	EXPECT_EXC GP, "mov cr4 with reserved bit 31: no #GP", mov %eax, %cr4
	mov %cr4, %ecx
	CHECK %ecx, %ebx, "after mov cr4 with bit 31: cr4"
	mov %ebx, %cr4
	/* CR4 bits of features the guest's CPUID hides: the CPU may have them, the guest must get
	 * #GP all the same (keel checks on both backends, core/cr_policy.c) */
	mov $cr4_hidden, %esi
36:	lodsl
	test %eax, %eax
	jz 37f
	or %ebx, %eax
	EXPECT_EXC GP, "mov cr4 with a bit CPUID hides: no #GP", mov %eax, %cr4
	mov %cr4, %ecx
	CHECK %ecx, %ebx, "after mov cr4 with a hidden bit: cr4"
	jmp 36b
37:	mov $msg_bits_done, %esi
	call puts

	/* 3. paging: the frames get their marks with paging off */
	movl $MARK_X, FRAME_X
	movl $MARK_Y, FRAME_Y
	movl $0, FRAME_RO
	call build_tables
	xor %edi, %edi		/* the round */
4:	/* 32-bit paging: PD_A maps LIN to X by a 4 KiB page, PD_B to Y by a 4 MiB page */
	mov cr4_start, %eax
	or $CR4_PSE, %eax
	mov %eax, %cr4
	mov $pd32_a, %eax
	mov %eax, %cr3
	mov cr0_start, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	jmp 5f
5:	CHECK LIN, $MARK_X, "32-bit paging, PD A: the mark at LIN"
	mov $pd32_b, %eax
	mov %eax, %cr3
	CHECK LIN, $MARK_Y, "32-bit paging, PD B after mov cr3: the mark at LIN"
	mov cr0_start, %eax
	mov %eax, %cr0
	jmp 6f
6:	mov %cr0, %eax
	CHECK %eax, cr0_start, "32-bit paging off: cr0"
	/* enabled again straight onto PD B */
	mov cr0_start, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	CHECK LIN, $MARK_Y, "32-bit paging again, PD B: the mark at LIN"
	mov cr0_start, %eax
	mov %eax, %cr0

	/* PAE: PDPT 1 (CR3 = pdpts) maps LIN to X, PDPT 2 (pdpts + 0x20) to Y; PDPT 3 (a page
	 * further, + 0x40) to X and is enabled by a CR0 write that also clears NE */
	mov cr4_start, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $pdpts, %eax
	mov %eax, %cr3
	mov cr0_start, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	jmp 7f
7:	CHECK LIN, $MARK_X, "PAE, PDPT 1: the mark at LIN"
	mov $pdpts + 0x20, %eax
	mov %eax, %cr3
	CHECK LIN, $MARK_Y, "PAE, PDPT 2 after mov cr3: the mark at LIN"
	/* a PDPTE rewritten in memory takes effect with the next MOV CR3 */
	movl $pae_pd_x + 1, pdpts + 0x20 + 8
	mov %cr3, %eax
	mov %eax, %cr3
	CHECK LIN, $MARK_X, "PAE, PDPT 2 rewritten, mov cr3 again: the mark at LIN"
	movl $pae_pd_y + 1, pdpts + 0x20 + 8
	mov %cr3, %eax
	mov %eax, %cr3
	CHECK LIN, $MARK_Y, "PAE, PDPT 2 put back: the mark at LIN"
	/* NE flipped under PAE: the translation stays */
	mov %cr0, %eax
	xor $CR0_NE, %eax
	mov %eax, %cr0
	CHECK LIN, $MARK_Y, "PAE, NE flipped: the mark at LIN"
	mov %cr0, %ecx
	CHECK %ecx, %eax, "PAE, NE flipped: cr0"
	xor $CR0_NE, %eax
	mov %eax, %cr0
	CHECK LIN, $MARK_Y, "PAE, NE flipped back: the mark at LIN"
	mov cr0_start, %eax
	mov %eax, %cr0
	jmp 8f
8:	mov $pdpt3, %eax
	mov %eax, %cr3
	mov cr0_start, %eax
	and $~CR0_NE, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	jmp 9f
9:	CHECK LIN, $MARK_X, "PAE, PDPT 3 enabled with NE cleared: the mark at LIN"
	mov %cr0, %ecx
	CHECK %ecx, %eax, "PAE, PDPT 3 enabled with NE cleared: cr0"
	mov cr0_start, %eax
	mov %eax, %cr0
	jmp 10f
10:	mov cr4_start, %eax
	mov %eax, %cr4
	inc %edi
	cmp $8, %edi
	jb 4b

	/* CR0.WP with 32-bit paging: LIN + 0x1000 is read-only */
	mov cr4_start, %eax
	or $CR4_PSE, %eax
	mov %eax, %cr4
	mov $pd32_a, %eax
	mov %eax, %cr3
	mov cr0_start, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	jmp 11f
11:	movl $0x12345678, LIN + 0x1000	/* WP=0: a supervisor write goes through */
	CHECK FRAME_RO, $0x12345678, "WP clear: a write to a read-only page"
	or $CR0_WP, %eax
	mov %eax, %cr0
	EXPECT_EXC PF, "WP set: no #PF writing a read-only page", movl $0x9abcdef0, LIN + 0x1000
	CHECK exc_err, $3, "WP set: #PF error code"
	CHECK exc_cr2, $LIN + 0x1000, "WP set: cr2"
	CHECK FRAME_RO, $0x12345678, "WP set: the read-only page"
	mov cr0_start, %eax
	mov %eax, %cr0
	jmp 12f
12:	mov cr4_start, %eax
	mov %eax, %cr4
	mov $msg_paging_done, %esi
	call puts

	call efer_checks

	cmpl $0, failures
	jne 13f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
13:	mov $msg_failed, %esi
	call puts
	mov $1, %eax
	ret

/* 4. EFER (WRMSR; AMD APM vol 2, 3.1.7; Intel SDM vol 3, 4.1.2 and 10.8.5): reserved and hidden
 * bits #GP; LMA written is ignored; LME cannot change while paging is on; long mode activated
 * from 32-bit code in the order two programs of an outside test suite use (CR4 = 0x20, EFER =
 * 0x500, paging on, EFER = 0xd00 in compatibility mode: all legal, no crashed VM), and refused
 * (#GP) while CS.L is set. Only the legal steps run in long mode: the IDT is a 32-bit one. */
	.set EFER, 0xc0000080
efer_checks:
	mov $EFER, %ecx
	rdmsr
	mov %eax, efer_start
	mov $efer_bad, %esi
1:	lodsl
	mov %eax, %edi
	lodsl
	mov %eax, %edx
	or %edi, %eax
	jz 2f
	mov %edi, %eax
	or efer_start, %eax
	mov $EFER, %ecx
	EXPECT_EXC GP, "wrmsr efer with a reserved or hidden bit: no #GP", wrmsr
	mov $EFER, %ecx
	rdmsr
	CHECK %eax, efer_start, "after a refused efer write: efer"
	jmp 1b
	/* the suite's order: PAE, then EFER = 0x500 (LMA as written is ignored), then paging */
2:	mov cr4_start, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $EFER, %ecx
	mov $0x500, %eax
	xor %edx, %edx
	wrmsr
	rdmsr
	CHECK %eax, $0x100, "efer = 0x500 before paging (LMA is the CPU's): efer"
	call build_lm_tables
	mov $lm_pml4, %eax
	mov %eax, %cr3
	mov cr0_start, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0		/* long mode, compatibility mode: no exception may happen now */
	jmp 3f
3:	mov $EFER, %ecx
	rdmsr
	mov %eax, %edi
	mov $0xd00, %eax
	xor %edx, %edx
	wrmsr
	rdmsr
	mov %eax, %esi
	mov cr0_start, %eax
	mov %eax, %cr0		/* compatibility mode may leave long mode */
	jmp 4f
4:	CHECK %edi, $0x500, "long mode on: efer"
	CHECK %esi, $0xd00, "efer = 0xd00 in long mode: efer"
	mov $EFER, %ecx
	rdmsr
	CHECK %eax, $0x900, "long mode off: efer"
	/* LME changed while paging is on: #GP (32-bit paging here) */
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	mov cr4_start, %eax
	or $CR4_PSE, %eax
	mov %eax, %cr4
	mov $pd32_a, %eax
	mov %eax, %cr3
	mov cr0_start, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	jmp 5f
5:	mov $EFER, %ecx
	mov $0x100, %eax
	xor %edx, %edx
	EXPECT_EXC GP, "efer.LME set while paging: no #GP", wrmsr
	mov cr0_start, %eax
	mov %eax, %cr0
	jmp 6f
6:	mov $EFER, %ecx
	rdmsr
	CHECK %eax, $0, "after efer.LME refused: efer"
	/* long mode activated from a code segment with L set (and D): #GP (SDM vol 2, MOV CR) */
	mov cr4_start, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $lm_pml4, %eax
	mov %eax, %cr3
	mov $EFER, %ecx
	mov $0x100, %eax
	xor %edx, %edx
	wrmsr
	call lcode_gdt
	mov %cs, %eax
	mov %eax, cs_start
	pushl lcode_sel
	pushl $7f
	lret
7:	mov cr0_start, %eax
	or $CR0_PG, %eax
	EXPECT_EXC GP, "cr0.PG with efer.LME while CS.L is set: no #GP", mov %eax, %cr0
	pushl cs_start
	pushl $8f
	lret
8:	mov %cr0, %eax
	CHECK %eax, cr0_start, "after paging refused with CS.L: cr0"
	mov $EFER, %ecx
	rdmsr
	CHECK %eax, $0x100, "after paging refused with CS.L: efer"
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	mov cr4_start, %eax
	mov %eax, %cr4
	lgdt gdtr_start
	mov $msg_efer_done, %esi
	call puts
	ret

/* lcode_gdt: a copy of the loader's GDT with one more descriptor, a 32-bit code segment with L
 * set as well (base 0, 4 GiB, G D L, present, execute/read); lcode_sel is its selector */
lcode_gdt:
	sgdt gdtr_start
	movzwl gdtr_start, %ecx
	inc %ecx
	mov gdtr_start + 2, %esi
	mov $lcode_table, %edi
	mov %ecx, lcode_sel
	rep movsb
	movl $0x0000ffff, (%edi)
	movl $0x00ef9a00, 4(%edi)
	mov lcode_sel, %eax
	add $7, %eax
	mov %ax, lcode_gdtr
	movl $lcode_table, lcode_gdtr + 2
	lgdt lcode_gdtr
	ret

/* build_lm_tables: a 4-level hierarchy identity mapping 0-8 MiB with the PAE directory's 2 MiB
 * pages (their format is the same in IA-32e paging) */
build_lm_tables:
	movl $lm_pdpt + 3, lm_pml4
	movl $pae_pd_id + 3, lm_pdpt
	ret

/* build_tables: the 32-bit and PAE structures; 0-8 MiB identity mapped in each (PD A: 0-12 MiB,
 * for the WP check to read its frame) */
build_tables:
	movl $0x000083, pd32_a		/* 4 MiB pages: P RW PS */
	movl $0x400083, pd32_a + 4
	movl $0x800083, pd32_a + 8
	movl $pt32 + 3, pd32_a + (LIN >> 22) * 4
	movl $FRAME_X + 3, pt32
	movl $FRAME_RO + 1, pt32 + 4	/* present, read-only */
	movl $0x000083, pd32_b
	movl $0x400083, pd32_b + 4
	movl $FRAME_Y + 0x83, pd32_b + (LIN >> 22) * 4
	xor %ecx, %ecx			/* PAE: 2 MiB pages */
1:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, pae_pd_id(,%ecx,8)
	inc %ecx
	cmp $4, %ecx
	jb 1b
	movl $FRAME_X + 0x83, pae_pd_x
	movl $FRAME_Y + 0x83, pae_pd_y
	movl $pae_pd_id + 1, pdpts	/* PDPTEs: P only (bits 1, 2 are reserved) */
	movl $pae_pd_x + 1, pdpts + 8
	movl $pae_pd_id + 1, pdpts + 0x20
	movl $pae_pd_y + 1, pdpts + 0x20 + 8
	movl $pae_pd_id + 1, pdpt3
	movl $pae_pd_x + 1, pdpt3 + 8
	ret

/* fail: prints "crs: FAIL <esi> 0x<eax>" and counts it */
fail:
	incl failures
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	push %esi
	mov $msg_got, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	pop %esi
	ret

	.section .rodata
	.align 4
cr4_bits:	.long CR4_PSE, CR4_PGE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PSE | CR4_PGE, 0
msg_start:	.asciz "crs: cr0 at entry 0x"
msg_cr4:	.asciz " cr4 0x"
msg_bits_done:	.asciz "crs: CR0 and CR4 bits done\n"
msg_efer_done:	.asciz "crs: EFER and long mode done\n"
/* CR4 bits hidden in every guest's CPUID: MCE, LA57, VMXE, SMXE, PCIDE, KL, PKE, CET, PKS, bit 31 */
cr4_hidden:	.long 0x40, 0x1000, 0x2000, 0x4000, 0x20000, 0x80000, 0x400000, 0x800000
		.long 0x1000000, 0x80000000, 0
/* EFER bits (low dword, high dword) no guest may set: reserved 1 and 9, SVME (SVM hidden),
 * LMSLE, TCE (hidden), bit 16, bit 63 */
efer_bad:	.long 2, 0, 0x200, 0, 0x1000, 0, 0x2000, 0, 0x8000, 0, 0x10000, 0, 0, 0x80000000
		.long 0, 0
msg_paging_done: .asciz "crs: 8 rounds of 32-bit and PAE paging done\n"
msg_fail:	.asciz "crs: FAIL "
msg_got:	.asciz " 0x"
msg_done:	.asciz "crs: done, exit code 0\n"
msg_failed:	.asciz "crs: some checks failed, exit code 1\n"
msg_nl:		.asciz "\n"

	.data
	.align 4
failures:	.long 0
cr0_start:	.long 0
cr4_start:	.long 0
efer_start:	.long 0
cs_start:	.long 0
lcode_sel:	.long 0
gdtr_start:	.word 0
		.long 0
lcode_gdtr:	.word 0
		.long 0

	.bss
	.align 4096
pd32_a:		.space 4096
pd32_b:		.space 4096
pt32:		.space 4096
pae_pd_id:	.space 4096
pae_pd_x:	.space 4096
pae_pd_y:	.space 4096
pdpts:		.space 4096
pdpt3_page:	.space 0x40
pdpt3:		.space 32
	.space 4096 - 0x60
lm_pml4:	.space 4096
lm_pdpt:	.space 4096
lcode_table:	.space 512
	.section .note.GNU-stack,"",@progbits

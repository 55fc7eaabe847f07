/* The start-up code of an application processor (Intel SDM vol 3, 9.4.4 "MP Initialization
 * Example"; AMD APM vol 2, chapters 14 and 16). smp.c copies the bytes from smp_tramp_start to
 * smp_tramp_end to a free page B below 1 MiB and sends a start-up IPI with vector B >> 12: the AP
 * begins in real mode at CS:IP = (B >> 4):0. The page after B holds the parameters (struct
 * tramp_params in smp.c, the offsets below), the page after that a copy of keel's PML4.
 *
 * 16-bit: load a small GDT, set CR0.PE, far jump to 32-bit code. 32-bit: PAE, CR3 = the PML4
 * copy (a 32-bit MOV to CR3 only reaches 4 GiB, and keel's own PML4 may lie higher), EFER.LME and
 * NXE (keel's tables use NX), CR0.PG: long mode, by a far jump to a 64-bit code segment. 64-bit:
 * keel's own CR3, its stack, then smp_ap_main(percpu) in keel's .text. The copy maps everything
 * keel's tables map, and B is executable in both (paging_map_code), so each switch continues
 * fetching from B. EBX holds B throughout; no absolute address is assembled in. */
#define P_GDTR 0x1000	/* limit and base of the GDT below (base: B + 0x1000 + P_GDT) */
#define P_JMP32 0x1010	/* far pointer: offset B + (smp_tramp32 - start), selector 0x08 */
#define P_JMP64 0x1018	/* far pointer: offset B + (smp_tramp64 - start), selector 0x18 */
#define P_CR3_LOW 0x1020	/* the PML4 copy, below 1 MiB */
#define P_CR3 0x1028	/* keel's own CR3 */
#define P_STACK 0x1030	/* the AP's stack top */
#define P_ARG 0x1038	/* its struct percpu */
#define P_ENTRY 0x1040	/* smp_ap_main */
#define P_GDT 0x1080	/* null, code32 (0x08), data32 (0x10), code64 (0x18) */

#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_ET 0x10
#define CR0_NE 0x20
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME_NXE 0x900

	.section .rodata, "a"
	.balign 16
	.globl smp_tramp_start, smp_tramp_end, smp_tramp32, smp_tramp64
	.code16
smp_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %ebx
	shll $4, %ebx		/* B */
	lgdtl P_GDTR
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl *P_JMP32

	.code32
smp_tramp32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl P_CR3_LOW(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME_NXE, %eax
	wrmsr
	/* CR0 whole: INIT leaves CD and NW set (SDM table 9-1), i.e. caches off */
	movl $(CR0_PG | CR0_NE | CR0_ET | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	ljmpl *P_JMP64(%ebx)

	.code64
smp_tramp64:
	movq P_CR3(%rbx), %rax
	movq %rax, %cr3
	movq P_STACK(%rbx), %rsp
	movq P_ARG(%rbx), %rdi
	movq P_ENTRY(%rbx), %rax
	xorl %ebp, %ebp		/* ends a backtrace here */
	pushq $0		/* a fake return address: the ABI's stack alignment */
	jmp *%rax
smp_tramp_end:

	.section .note.GNU-stack, "", @progbits

/* stringio: string I/O (INS/OUTS with and without REP), which keel emulates element by element
 * through the guest's page tables (core/vm_run.c io_string). Each check compares memory, ECX and
 * ESI/EDI with what the CPU leaves (Intel SDM vol 2, INS/OUTS and REP; vol 3, 6.15 #PF):
 *   1. paging off: REP OUTSB of a line to COM1, forwards and with DF=1 (the e2e test finds both
 *      lines in the log); REP OUTSW/OUTSL to an unclaimed port; REP INSB/INSW/INSL from it fill
 *      the buffer with all ones and touch nothing beside it, forwards and with DF=1; 0x2345 bytes
 *      across two page boundaries (more than one exit's worth); INSL whose elements straddle a
 *      page boundary; a zero count;
 *   2. PAE paging, linear 0xC0000000 mapped by a 4 KiB page table (PT[0] page A, PT[1] page B or
 *      not present): REP INSB running into the hole takes #PF with CR2 at the first byte of the
 *      hole, error code 2 (write, not present), ECX and EDI at the faulting element and the
 *      elements before it written; once PT[1] is present the same instruction finishes; the same
 *      with DF=1 running down into a hole, and REP OUTSB reading into one (error code 0); an
 *      INSL element straddling into the hole faults without writing anything (A's last bytes
 *      and the page after A stay as they were); a zero count with rSI/rDI in the hole does not
 *      fault.
 * Exit code 0 when every check held, 1 otherwise (3: an unexpected exception). */
#include "check.h"
	.set COM1, 0x3f8
	.set NOPORT, 0x7000	/* no device claims it: reads give all ones */
	.set WIN, 0xc0000000
	.set PF, 14

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	cld
	mov $msg_start, %esi
	call puts

	/* 1. REP OUTSB to COM1, forwards and backwards */
	mov $msg_outsb, %esi
	mov $msg_outsb_len, %ecx
	mov $COM1, %dx
	rep outsb
	CHECK %ecx, $0, "outsb: ecx"
	CHECK %esi, $msg_outsb+msg_outsb_len, "outsb: esi"
	mov $msg_std_rev + msg_std_len - 1, %esi
	mov $msg_std_len, %ecx
	std
	rep outsb
	cld
	CHECK %ecx, $0, "std outsb: ecx"
	CHECK %esi, $msg_std_rev-1, "std outsb: esi"

	/* REP OUTSW / OUTSL to an unclaimed port */
	mov $NOPORT, %dx
	mov $buf, %esi
	mov $7, %ecx
	rep outsw
	CHECK %ecx, $0, "outsw: ecx"
	CHECK %esi, $buf+14, "outsw: esi"
	mov $buf, %esi
	mov $7, %ecx
	rep outsl
	CHECK %ecx, $0, "outsl: ecx"
	CHECK %esi, $buf+28, "outsl: esi"
	mov $buf + 64, %esi
	mov $5, %ecx
	std
	rep outsl
	cld
	CHECK %ecx, $0, "std outsl: ecx"
	CHECK %esi, $buf+44, "std outsl: esi"

	/* REP INSB / INSW / INSL: all ones, nothing beside the elements touched */
	mov $buf + 16, %edi
	mov $37, %ecx
	rep insb
	CHECK %ecx, $0, "insb: ecx"
	CHECK %edi, $buf+16+37, "insb: edi"
	mov $16, %eax
	mov $37, %ecx
	call expect_filled
	mov $buf + 16, %edi
	mov $19, %ecx
	rep insw
	CHECK %edi, $buf+16+38, "insw: edi"
	mov $16, %eax
	mov $38, %ecx
	call expect_filled
	mov $buf + 16, %edi
	mov $11, %ecx
	rep insl
	CHECK %ecx, $0, "insl: ecx"
	CHECK %edi, $buf+16+44, "insl: edi"
	mov $16, %eax
	mov $44, %ecx
	call expect_filled
	/* DF=1: the last element first, rDI ends one element below the first */
	mov $buf + 16 + 36, %edi
	mov $37, %ecx
	std
	rep insb
	cld
	CHECK %ecx, $0, "std insb: ecx"
	CHECK %edi, $buf+15, "std insb: edi"
	mov $16, %eax
	mov $37, %ecx
	call expect_filled
	mov $buf + 16 + 36, %edi
	mov $19, %ecx
	std
	rep insw
	cld
	CHECK %edi, $buf+14, "std insw: edi"
	mov $16, %eax
	mov $38, %ecx
	call expect_filled
	mov $buf + 16 + 40, %edi
	mov $11, %ecx
	std
	rep insl
	cld
	CHECK %edi, $buf+12, "std insl: edi"
	mov $16, %eax
	mov $44, %ecx
	call expect_filled
	/* one INSW without REP: ECX is not used */
	mov $buf + 16, %edi
	mov $0x1234, %ecx
	insw
	CHECK %ecx, $0x1234, "insw without rep: ecx"
	CHECK %edi, $buf+18, "insw without rep: edi"
	mov $16, %eax
	mov $2, %ecx
	call expect_filled

	/* across two page boundaries, more elements than keel handles in one exit */
	mov $big + 0xf80, %edi
	mov $0x2345, %ecx
	rep insb
	CHECK %ecx, $0, "insb across pages: ecx"
	CHECK %edi, $big+0xf80+0x2345, "insb across pages: edi"
	mov $big, %esi
	mov $0xf80, %eax
	mov $0x2345, %ecx
	call expect_filled_at
	/* INSL whose second element straddles a page boundary */
	mov $big + 0x4ffa, %edi
	mov $3, %ecx
	rep insl
	CHECK %edi, $big+0x5006, "insl straddling: edi"
	mov $big, %esi
	mov $0x4ffa, %eax
	mov $12, %ecx
	call expect_filled_at

	/* a zero count: nothing moves */
	mov $buf + 16, %edi
	xor %ecx, %ecx
	rep insl
	CHECK %edi, $buf+16, "zero count insl: edi"
	mov $16, %eax
	xor %ecx, %ecx
	call expect_filled
	mov $msg_fail_zero, %esi
	xor %ecx, %ecx
	mov $COM1, %dx
	rep outsb		/* would print a FAIL line */
	CHECK %esi, $msg_fail_zero, "zero count outsb: esi"
	mov $msg_phase1, %esi
	call puts

	/* 2. PAE paging; WIN+0 is page A, WIN+0x1000 page B or the hole */
	call pae_enable
	movl $pt + 3, pae_pd3
	movl $page_a + 3, pt
	movl $0, pt + 8
	mov %cr3, %eax
	mov %eax, %cr3
	movl $PF, exc_expect

	/* REP INSB into the hole */
	call clear_pages
	movl $pf1, exc_resume
	mov $WIN + 0xff0, %edi
	mov $0x40, %ecx
	mov $NOPORT, %dx
	rep insb
	mov $msg_no_pf, %esi
	call fail
pf1:	CHECK exc_cr2, $WIN + 0x1000, "insb into the hole: cr2"
	CHECK exc_err, $2, "insb into the hole: error code"
	CHECK %ecx, $0x30, "insb into the hole: ecx"
	CHECK %edi, $WIN+0x1000, "insb into the hole: edi"
	mov $page_a, %esi
	mov $0xff0, %eax
	mov $16, %ecx
	call expect_filled_at
	/* the page comes in, the same instruction finishes */
	movl $page_b + 3, pt + 8
	invlpg WIN + 0x1000
	movl $-1, exc_expect
	mov $0x30, %ecx
	mov $WIN + 0x1000, %edi
	rep insb
	movl $PF, exc_expect
	CHECK %ecx, $0, "insb after the page came in: ecx"
	CHECK %edi, $WIN+0x1030, "insb after the page came in: edi"
	mov $page_a, %esi
	mov $0xff0, %eax
	mov $0x40, %ecx
	call expect_filled_at

	/* DF=1, running down into a hole below */
	call clear_pages
	movl $0, pt
	invlpg WIN
	movl $pf2, exc_resume
	mov $WIN + 0x1007, %edi
	mov $0x20, %ecx
	std
	rep insb
	cld
	mov $msg_no_pf, %esi
	call fail
pf2:	cld
	CHECK exc_cr2, $WIN+0xfff, "std insb into the hole: cr2"
	CHECK exc_err, $2, "std insb into the hole: error code"
	CHECK %ecx, $0x18, "std insb into the hole: ecx"
	CHECK %edi, $WIN+0xfff, "std insb into the hole: edi"
	mov $page_a, %esi
	mov $0x1000, %eax
	mov $8, %ecx
	call expect_filled_at

	/* REP OUTSB reading into the hole */
	movl $page_a + 3, pt
	movl $0, pt + 8
	invlpg WIN
	invlpg WIN + 0x1000
	movl $pf3, exc_resume
	mov $WIN + 0xff8, %esi
	mov $0x10, %ecx
	rep outsb
	mov $msg_no_pf, %esi
	call fail
pf3:	CHECK exc_cr2, $WIN + 0x1000, "outsb from the hole: cr2"
	CHECK exc_err, $0, "outsb from the hole: error code"
	CHECK %ecx, $8, "outsb from the hole: ecx"
	CHECK %esi, $WIN+0x1000, "outsb from the hole: esi"

	/* INSL whose element straddles into the hole: nothing written, no byte of page B */
	call clear_pages
	movl $0x5a5a5a5a, page_b
	movl $pf4, exc_resume
	mov $WIN + 0xffe, %edi
	mov $1, %ecx
	rep insl
	mov $msg_no_pf, %esi
	call fail
pf4:	CHECK exc_cr2, $WIN + 0x1000, "insl straddling into the hole: cr2"
	CHECK exc_err, $2, "insl straddling into the hole: error code"
	CHECK %ecx, $1, "insl straddling into the hole: ecx"
	CHECK %edi, $WIN+0xffe, "insl straddling into the hole: edi"
	CHECK page_a+0xffc, $0, "insl straddling into the hole: the bytes before the hole"
	CHECK page_b, $0x5a5a5a5a, "insl straddling into the hole: the page after A"

	/* a zero count in the hole: no fault */
	movl $-1, exc_expect
	movl $0, exc_resume
	mov $WIN + 0x1000, %edi
	mov $WIN + 0x1000, %esi
	xor %ecx, %ecx
	rep insb
	rep outsb
	CHECK %edi, $WIN+0x1000, "zero count in the hole: edi"
	CHECK %esi, $WIN+0x1000, "zero count in the hole: esi"
	CHECK exc_count, $4, "page faults taken"

	cmpl $0, failures
	jne 9f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
9:	mov $msg_failed, %esi
	call puts
	mov $1, %eax
	ret

/* expect_filled: buf[eax .. eax+ecx) is all ones, the bytes around it (buf[eax-4 .. eax) and
 * buf[eax+ecx .. +4)) zero; then clears buf. expect_filled_at: the same in the area at esi (buf,
 * big, or page A, which clear_pages clears with B). */
expect_filled:
	push %esi
	mov $buf, %esi
	call expect_filled_at
	pop %esi
	ret
expect_filled_at:
	pusha
	lea (%esi,%eax), %edi
	mov %edi, %ebx
	mov $0xff, %al
	test %ecx, %ecx
	jz 1f
	repe scasb
	je 1f
	lea -1(%edi), %eax
	mov $msg_not_ones, %esi
	call fail
1:	mov %ebx, %edi
	add 24(%esp), %edi	/* the saved ecx */
	cmpl $0, (%edi)
	je 2f
	mov %edi, %eax
	mov $msg_after, %esi
	call fail
2:	cmpl $0, -4(%ebx)
	je 3f
	mov %ebx, %eax
	mov $msg_before, %esi
	call fail
3:	mov 4(%esp), %edi	/* the saved esi: the area; page A and B are cleared by clear_pages */
	mov $128, %ecx
	cmp $buf, %edi
	je 4f
	mov $0x6000, %ecx
	cmp $big, %edi
	jne 5f
4:	xor %eax, %eax
	rep stosb
5:	popa
	ret

clear_pages:
	pusha
	mov $page_a, %edi
	mov $0x2000, %ecx
	xor %eax, %eax
	rep stosb
	popa
	ret

/* fail: prints "stringio: FAIL <esi> 0x<eax>" and counts it */
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
msg_start:	.asciz "stringio: INS/OUTS, paging off then PAE with a hole\n"
msg_outsb:	.ascii "stringio: rep outsb to COM1\n"
	.set msg_outsb_len, . - msg_outsb
	/* "stringio: std rep outsb to COM1\n" backwards: DF=1 prints it the right way round */
msg_std_rev:	.ascii "\n1MOC ot bstuo per dts :oignirts"
	.set msg_std_len, . - msg_std_rev
msg_fail_zero:	.asciz "stringio: FAIL a zero-count rep outsb printed\n"
msg_phase1:	.asciz "stringio: paging off done\n"
msg_no_pf:	.asciz "no #PF from string I/O into a hole"
msg_not_ones:	.asciz "not all ones at"
msg_after:	.asciz "a byte after the elements was written at"
msg_before:	.asciz "a byte before the elements was written below"
msg_fail:	.asciz "stringio: FAIL "
msg_got:	.asciz " 0x"
msg_done:	.asciz "stringio: done, exit code 0\n"
msg_failed:	.asciz "stringio: some checks failed, exit code 1\n"
msg_nl:		.asciz "\n"

	.data
	.align 4
failures:	.long 0

	.bss
	.align 4096
page_a:	.space 4096
page_b:	.space 4096
pt:	.space 4096
big:	.space 0x6000
buf:	.space 128
	.section .note.GNU-stack,"",@progbits

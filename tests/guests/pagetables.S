/* pagetables: a hostile guest whose page tables point everywhere, so keel's page walker
 * (arch/x86/emul/pagewalk.c), which translates the instruction and its operand after each MMIO
 * exit, has to walk them (docs/testing.md "Hostile guests"). PAE paging (common.S pae_enable);
 * PD3[0] points at a 4 KiB page table PT whose entries map, from linear 0xC0000000 on:
 *   PT[0] the local APIC page, PT[1] the IOAPIC page, PT[2] 1 GiB (outside RAM), PT[3] a page
 *   above 4 GiB, PT[4] PT itself, PT[6] PD3, PT[7] the PDPT, PT[9] the APIC page with PWT, PCD
 *   and PAT set; PT[5] is written through the self-map PT[4] (to the APIC page) and then used;
 * PD3[1] points at PD3 itself (a recursive entry), so PD3's entries act as PTEs: PD3[2], a 2 MiB
 * page at the APIC, maps the APIC as a 4 KiB page at 0xC0202000 as well as at 0xC0400000;
 * PD3[3] maps the guest's own image again at 0xC0600000, and an MMIO access runs from that alias.
 * Devices must answer as through the identity map, outside RAM all ones and writes dropped.
 * Exit code 0 when every check held, 1 otherwise.
 *
 * With "mode=pt-in-hole" or "mode=pt-in-apic" on the command line, PD3[0] instead points at a
 * page table outside RAM (at 1 GiB, or the APIC page itself) and the guest reads through it: the
 * CPU's own walk faults to keel on the page table; keel must stop that VM cleanly (it cannot
 * give the guest page-table entries from a device) and nothing else. */
	.set WINDOW, 0xc0000000
	.set LAPIC, 0xfee00000
	.set IOAPIC, 0xfec00000
	.set ALIAS, 0xc0600000
	.set IMAGE, 0x200000

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	/* the device version registers through the identity map, paging off */
	mov LAPIC + 0x30, %eax
	mov %eax, lapic_ver
	movl $1, IOAPIC
	mov IOAPIC + 0x10, %eax
	mov %eax, ioapic_ver
	call pae_enable

	mov $mode_hole, %esi
	call cmdline_has
	jz pt_in_hole
	mov $mode_apic, %esi
	call cmdline_has
	jz pt_in_apic

	mov $msg_start, %esi
	call puts
	/* PT and its entries */
	movl $LAPIC | 3, pt
	movl $IOAPIC | 3, pt + 1 * 8
	movl $0x40000000 | 3, pt + 2 * 8
	movl $0x23456000 | 3, pt + 3 * 8
	movl $1, pt + 3 * 8 + 4			/* 0x1_2345_6000 */
	movl $pt + 3, pt + 4 * 8
	movl $pae_pd3 + 3, pt + 6 * 8
	mov $pae_pdpt, %eax
	and $~0xfff, %eax
	or $3, %eax
	mov %eax, pt + 7 * 8
	movl $LAPIC | 0x9b, pt + 9 * 8		/* P RW PWT PCD, PAT (bit 7 in a PTE) */
	movl $pt + 3, pae_pd3			/* PD3[0] -> PT */
	movl $pae_pd3 + 3, pae_pd3 + 1 * 8	/* PD3[1] -> PD3: recursive */
	movl $LAPIC | 0x83, pae_pd3 + 2 * 8	/* PD3[2]: 2 MiB at the APIC */
	movl $IMAGE | 0x83, pae_pd3 + 3 * 8	/* PD3[3]: the image again */
	mov %cr3, %eax
	mov %eax, %cr3

	/* PT[0], PT[9]: the APIC */
	mov WINDOW + 0x30, %eax
	mov $1, %ecx
	call expect_lapic
	mov WINDOW + 9 * 0x1000 + 0x30, %eax
	mov $9, %ecx
	call expect_lapic
	/* PT[1]: the IOAPIC */
	movl $1, WINDOW + 1 * 0x1000
	mov WINDOW + 1 * 0x1000 + 0x10, %eax
	mov $2, %ecx
	cmp ioapic_ver, %eax
	je 1f
	call fail
	/* PT[2], PT[3]: outside RAM */
1:	mov $WINDOW + 2 * 0x1000, %edi
	mov $3, %ecx
	call expect_hole
	mov $WINDOW + 3 * 0x1000 + 0xffc, %edi
	mov $4, %ecx
	call expect_hole
	/* PT[4]: PT itself; through it, PT[5] := the APIC page, then the APIC through PT[5] */
	mov WINDOW + 4 * 0x1000, %eax
	mov $5, %ecx
	cmp pt, %eax
	je 2f
	call fail
2:	movl $LAPIC | 3, WINDOW + 4 * 0x1000 + 5 * 8
	invlpg WINDOW + 5 * 0x1000
	mov WINDOW + 5 * 0x1000 + 0x30, %eax
	mov $6, %ecx
	call expect_lapic
	/* PT[6]: PD3, whose first entry points at PT; PT[7]: the PDPT */
	mov WINDOW + 6 * 0x1000, %eax
	and $~0x60, %eax		/* the CPU may have set accessed and dirty */
	mov $7, %ecx
	cmp $pt + 3, %eax
	je 3f
	call fail
3:	mov $pae_pdpt, %eax
	and $0xfff, %eax
	mov WINDOW + 7 * 0x1000(%eax), %eax
	and $~0xfe0, %eax		/* the CPU may have set accessed bits */
	mov $8, %ecx
	cmp $pae_pd0 + 1, %eax
	je 4f
	call fail
	/* the recursive entry: PD3[2] as a PTE (0xC0202000) and as a 2 MiB page (0xC0400000) */
4:	mov WINDOW + 0x200000 + 2 * 0x1000 + 0x30, %eax
	mov $9, %ecx
	call expect_lapic
	mov WINDOW + 0x400000 + 0x30, %eax
	mov $10, %ecx
	call expect_lapic
	/* through the recursive entry, PT is at 0xC0200000: make PT[10] the IOAPIC page there */
	movl $IOAPIC | 3, WINDOW + 0x200000 + 10 * 8
	invlpg WINDOW + 10 * 0x1000
	movl $1, WINDOW + 10 * 0x1000
	mov WINDOW + 10 * 0x1000 + 0x10, %eax
	mov $11, %ecx
	cmp ioapic_ver, %eax
	je 5f
	call fail
	/* an MMIO read by an instruction fetched through the alias of the image */
5:	mov $WINDOW + 9 * 0x1000 + 0x30, %ebx
	xor %eax, %eax
	mov $ALIAS + (alias_read - IMAGE), %edx
	call *%edx
	mov $12, %ecx
	call expect_lapic
	mov $WINDOW + 0x200000 + 2 * 0x1000 + 0x30, %ebx
	xor %eax, %eax
	mov $ALIAS + (alias_read - IMAGE), %edx
	call *%edx
	mov $13, %ecx
	call expect_lapic

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

/* runs from the alias at 0xC0600000: one MMIO read (ebx), and back */
alias_read:
	mov (%ebx), %eax
	ret

/* expect_lapic: eax must be the APIC version read through the identity map; ecx names the check */
expect_lapic:
	cmp lapic_ver, %eax
	je 1f
	call fail
1:	ret

/* expect_hole: the dword at edi reads all ones, before and after a write */
expect_hole:
	mov (%edi), %eax
	cmp $0xffffffff, %eax
	jne 1f
	movl $0x12345678, (%edi)
	mov (%edi), %eax
	cmp $0xffffffff, %eax
	je 2f
1:	call fail
2:	ret

/* fail: prints "pagetables: FAIL check <ecx>: read 0x<eax>" and counts it */
fail:
	push %esi
	push %eax
	mov $msg_fail, %esi
	call puts
	mov %ecx, %eax
	call puthex
	mov $msg_read, %esi
	call puts
	pop %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	incl failures
	pop %esi
	ret

pt_in_hole:
	mov $msg_hole, %esi
	call puts
	movl $0x40000000 | 3, pae_pd3		/* PD3[0] -> a page table at 1 GiB, outside RAM */
	jmp 1f
pt_in_apic:
	mov $msg_apic, %esi
	call puts
	movl $LAPIC | 3, pae_pd3		/* PD3[0] -> the APIC page as a page table */
1:	mov %cr3, %eax
	mov %eax, %cr3
	mov WINDOW + 0x5000, %eax
	mov $msg_still, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	mov $4, %eax
	ret

	.section .rodata
mode_hole:	.asciz "mode=pt-in-hole"
mode_apic:	.asciz "mode=pt-in-apic"
msg_start:	.asciz "pagetables: PTEs at the APIC, IOAPIC, outside RAM, at themselves, recursive, aliased code\n"
msg_fail:	.asciz "pagetables: FAIL check 0x"
msg_read:	.asciz ": read 0x"
msg_done:	.asciz "pagetables: done, exit code 0\n"
msg_failed:	.asciz "pagetables: some checks failed, exit code 1\n"
msg_hole:	.asciz "pagetables: reading through a page table at 1 GiB (outside RAM)\n"
msg_apic:	.asciz "pagetables: reading through a page table in the APIC page\n"
msg_still:	.asciz "pagetables: FAIL the read through it returned, exit code 4: 0x"
msg_nl:		.asciz "\n"

	.data
	.align 4
lapic_ver:	.long 0
ioapic_ver:	.long 0
failures:	.long 0

	.bss
	.align 4096
pt:		.space 4096
	.section .note.GNU-stack,"",@progbits

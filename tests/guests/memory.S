/* memory: a hostile guest that reads and writes the whole guest-physical space (docs/testing.md
 * "Hostile guests"; the map is core/guest_layout.h).
 *   1. paging off: every region edge (0x9F000, 0xE0000, 0x100000, the end of RAM, 0xC0000000, the
 *      IOAPIC page 0xFEC00000, the local APIC page 0xFEE00000, the last dword below 4 GiB) and one
 *      pseudo-random dword in each MiB below 4 GiB;
 *   2. PAE paging with a 2 MiB window at linear 0xC0000000: the 4 GiB edge, 512 pseudo-random
 *      addresses between 4 GiB and MAXPHYADDR (CPUID 0x80000008), the last dword below
 *      MAXPHYADDR, and a page-directory entry with an address bit at MAXPHYADDR (#PF, RSVD).
 * Each address is judged by what it is: in RAM a written pattern reads back (and the old value is
 * put back; the guest's own image at 2-4 MiB is left alone); outside RAM and devices a dword, word
 * and byte read give all ones and a write is dropped (CONVENTIONS.md "Unclaimed guest I/O"); in
 * the IOAPIC and APIC pages, the PCI memory window and ECAM (0xC0000000-0xE00FFFFF, where the
 * VM's PCI functions are) only reads, and the version registers must answer the same through
 * every mapping. Exit code 0 when every check held, 1 otherwise. */
	.set IOAPIC, 0xfec00000
	.set LAPIC, 0xfee00000
	.set PCI_LO, 0xc0000000		/* PCI memory window, then ECAM (core/guest_layout.h) */
	.set PCI_HI, 0xe0100000
	.set WINDOW, 0xc0000000
	.set IMAGE_LO, 0x200000
	.set IMAGE_HI, 0x400000
	.set PF, 14

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	mov mb_info, %ebx
	mov 8(%ebx), %eax	/* mem_upper: KiB from 1 MiB to the end of low RAM */
	shl $10, %eax
	add $0x100000, %eax
	mov %eax, ram_end
	mov $msg_start, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	mov $mode_straddle, %esi
	call cmdline_has
	jz straddle

	/* the device pages answer: IOAPIC version (IOREGSEL = 1, IOWIN), local APIC version */
	movl $1, IOAPIC
	mov IOAPIC + 0x10, %eax
	mov %eax, ioapic_ver
	mov LAPIC + 0x30, %eax
	mov %eax, lapic_ver
	mov $msg_vers, %esi
	call puts
	mov ioapic_ver, %eax
	call puthex
	mov $msg_sp, %esi
	call puts
	mov lapic_ver, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	cmpl $0xffffffff, ioapic_ver
	je 1f
	cmpl $0, ioapic_ver
	je 1f
	cmpl $0xffffffff, lapic_ver
	je 1f
	cmpl $0, lapic_ver
	jne 2f
1:	mov $msg_bad_ver, %esi
	xor %eax, %eax
	call fail

	/* 1. paging off: the edges, then each MiB */
2:	mov $edges, %ebx
3:	cmp $edges_end, %ebx
	je 4f
	mov (%ebx), %eax
	xor %edx, %edx
	mov %eax, %edi
	call probe
	add $4, %ebx
	jmp 3b
4:	mov ram_end, %eax
	sub $4, %eax
	mov $4, %ecx
5:	xor %edx, %edx
	mov %eax, %edi
	call probe
	add $0x4, %eax		/* ram_end - 4, ram_end, ram_end + 4, ram_end + 8 */
	loop 5b
	mov ram_end, %eax
	add $0xffc, %eax
	xor %edx, %edx
	mov %eax, %edi
	call probe

	xor %ebx, %ebx		/* the MiB */
6:	call rand
	and $0xffffc, %eax
	mov %ebx, %ecx
	shl $20, %ecx
	or %ecx, %eax
	xor %edx, %edx
	mov %eax, %edi
	call probe
	inc %ebx
	cmp $4096, %ebx
	jb 6b
	mov $msg_phase1, %esi
	call puts
	mov probes, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

	/* 2. PAE paging */
	call pae_enable
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000008, %eax
	jb 61f
	mov $0x80000008, %eax
	cpuid
	and $0xff, %eax
	mov %eax, maxphy
61:	mov $msg_pae, %esi
	call puts
	mov maxphy, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

	/* the window works: our own image through it, the APIC and IOAPIC through it */
	mov $IMAGE_LO, %eax
	xor %edx, %edx
	call pae_window
	mov WINDOW, %eax
	cmp IMAGE_LO, %eax
	je 62f
	mov $msg_bad_window, %esi
	call fail
62:	mov $LAPIC, %eax
	xor %edx, %edx
	call pae_window
	mov WINDOW + 0x30, %eax
	cmp lapic_ver, %eax
	je 63f
	mov $msg_bad_lapic, %esi
	call fail
63:	mov $IOAPIC, %eax
	xor %edx, %edx
	call pae_window
	movl $1, WINDOW
	mov WINDOW + 0x10, %eax
	cmp ioapic_ver, %eax
	je 64f
	mov $msg_bad_ioapic, %esi
	call fail

	/* the 4 GiB edge: the last dword below, the first ones above */
64:	mov $0xffe00000, %eax
	xor %edx, %edx
	call pae_window
	mov $0xfffffffc, %eax
	mov $WINDOW + 0x1ffffc, %edi
	call probe
	xor %eax, %eax
	mov $1, %edx
	call pae_window
	mov $WINDOW, %edi
	call probe
	mov $4, %eax
	mov $WINDOW + 4, %edi
	call probe

	/* 512 pseudo-random addresses from 4 GiB up to MAXPHYADDR */
	mov maxphy, %ecx
	sub $32, %ecx
	mov $1, %eax
	shl %cl, %eax
	dec %eax
	mov %eax, hi_mask
	xor %ebx, %ebx
7:	call rand
	and hi_mask, %eax
	jnz 71f
	inc %eax
71:	mov %eax, %edx
	call rand
	and $0xffe00000, %eax
	call pae_window
	push %eax
	call rand
	and $0x1ffffc, %eax
	lea WINDOW(%eax), %edi
	add (%esp), %eax
	add $4, %esp
	call probe
	inc %ebx
	cmp $512, %ebx
	jb 7b

	/* the last dword below MAXPHYADDR */
	mov hi_mask, %edx
	mov $0xffe00000, %eax
	call pae_window
	mov $0xfffffffc, %eax
	mov $WINDOW + 0x1ffffc, %edi
	call probe

	/* an address bit at MAXPHYADDR in a PDE: the CPU's #PF with RSVD, no exit to keel */
	mov maxphy, %ecx
	sub $32, %ecx
	mov $1, %edx
	shl %cl, %edx
	xor %eax, %eax
	call pae_window
	movl $PF, exc_expect
	movl $8f, exc_resume
	mov exc_count, %ebx
	mov WINDOW, %eax
	mov $msg_no_rsvd, %esi
	call fail
8:	movl $-1, exc_expect
	movl $0, exc_resume
	testl $8, exc_err	/* error code bit 3: RSVD */
	jnz 81f
	mov $msg_no_rsvd, %esi
	mov exc_err, %eax
	call fail

81:	mov $msg_probes, %esi
	call puts
	mov probes, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
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

/* mode=straddle: dword accesses across the end of RAM, two bytes in RAM and two outside: a read
 * gives the RAM bytes and all ones for the rest; a write lands in RAM and is dropped outside */
straddle:
	mov $msg_straddle, %esi
	call puts
	mov ram_end, %edi
	movw $0x1234, -2(%edi)
	mov -2(%edi), %eax
	mov $msg_straddle_read, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	cmp $0xffff1234, %eax
	jne 1f
	movl $0xaabbccdd, -2(%edi)
	movzwl -2(%edi), %eax	/* RAM alone: no exit */
	mov $msg_straddle_wrote, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	cmp $0xccdd, %eax
	jne 1f
	mov -2(%edi), %eax
	cmp $0xffffccdd, %eax
	jne 1f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret

/* probe: checks the dword at guest-physical edx:eax, reached at linear edi (see the top) */
probe:
	pusha
	incl probes
	test %edx, %edx
	jnz 3f			/* above 4 GiB: no RAM in a 32 MiB VM */
	mov %eax, %ecx
	add $4, %ecx
	jc 2f
	cmp ram_end, %ecx
	ja 2f
	/* RAM, apart from the guest's own image */
	cmp $IMAGE_LO, %eax
	jb 1f
	cmp $IMAGE_HI, %eax
	jb 9f
1:	mov (%edi), %ebx
	mov %ebx, %ecx
	not %ecx
	xor %eax, %ecx		/* a pattern unlike the old value */
	mov %ecx, (%edi)
	cmp (%edi), %ecx
	mov %ebx, (%edi)
	je 9f
	mov $msg_ram, %esi
	call fail
	jmp 9f
2:	mov %eax, %ecx
	/* the PCI memory window and ECAM hold the VM's PCI functions wherever the BARs were put */
	cmp $PCI_LO, %ecx
	jb 22f
	cmp $PCI_HI, %ecx
	jb 21f
22:	and $0xfffff000, %ecx
	cmp $IOAPIC, %ecx
	je 21f
	cmp $LAPIC, %ecx
	jne 3f
21:	mov (%edi), %ecx	/* a device page: read only */
	jmp 9f
	/* outside RAM: all ones, writes dropped */
3:	mov (%edi), %ecx
	cmp $0xffffffff, %ecx
	jne 4f
	movl $0x5a5aa5a5, (%edi)
	mov (%edi), %ecx
	cmp $0xffffffff, %ecx
	jne 4f
	movzwl (%edi), %ecx
	cmp $0xffff, %ecx
	jne 4f
	movzbl 1(%edi), %ecx
	cmp $0xff, %ecx
	je 9f
4:	mov $msg_hole, %esi
	call fail
9:	popa
	ret

/* fail: prints "memory: FAIL <esi> 0x<eax>" (the first 16 failures) and counts it */
fail:
	incl failures
	cmpl $16, failures
	ja 1f
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
1:	ret

	.section .rodata
	.align 4
edges:
	.long 0, 0x9effc, 0x9f000, 0x9fffc, 0xa0000, 0xdfffc, 0xe0000, 0xffffc, 0x100000
	.long 0x1ffffc, 0xbffffffc, 0xc0000000, 0xe0100000, 0xfebffffc, 0xfec00000, 0xfec00010, 0xfec00ffc
	.long 0xfec01000, 0xfedffffc, 0xfee00000, 0xfee00030, 0xfee00ffc, 0xfee01000
	.long 0xfffff000, 0xfffffffc
edges_end:
msg_start:	.asciz "memory: RAM ends at 0x"
mode_straddle:	.asciz "mode=straddle"
msg_straddle:	.asciz "memory: dword accesses across the end of RAM\n"
msg_straddle_wrote: .asciz "memory: RAM word after a straddling dword write 0x"
msg_straddle_read: .asciz "memory: read 0x"
msg_vers:	.asciz "memory: IOAPIC version 0x"
msg_sp:		.asciz " APIC version 0x"
msg_phase1:	.asciz "memory: paging off done, probes 0x"
msg_pae:	.asciz "memory: PAE paging on, MAXPHYADDR 0x"
msg_probes:	.asciz "memory: probes 0x"
msg_fail:	.asciz "memory: FAIL "
msg_bad_ver:	.asciz "a device version register reads 0 or all ones "
msg_bad_window:	.asciz "the PAE window does not show the guest image: 0x"
msg_bad_lapic:	.asciz "the APIC version differs through the PAE window: 0x"
msg_bad_ioapic:	.asciz "the IOAPIC version differs through the PAE window: 0x"
msg_ram:	.asciz "RAM did not keep a write at 0x"
msg_hole:	.asciz "outside RAM not all ones or a write not dropped at 0x"
msg_no_rsvd:	.asciz "no #PF with RSVD for an address bit at MAXPHYADDR: 0x"
msg_done:	.asciz "memory: done, exit code 0\n"
msg_failed:	.asciz "memory: some checks failed, exit code 1\n"
msg_nl:		.asciz "\n"

	.data
	.align 4
ram_end:	.long 0
maxphy:		.long 36
hi_mask:	.long 0
ioapic_ver:	.long 0
lapic_ver:	.long 0
probes:		.long 0
failures:	.long 0
	.section .note.GNU-stack,"",@progbits

/* edu: a driver for QEMU's edu device (1234:11e8, QEMU's docs/specs/edu.rst) given to the VM with
 * `pci =` (docs/config.md "Passthrough"), and an attacker: the device is a DMA engine the guest
 * programs with any address it likes, so only the IOMMU stands between it and memory that is not
 * the VM's. It finds the function by scanning bus 0 through configuration mechanism #1 and:
 *   a. reads the identification register (0x010000ed) and the liveness register (it inverts
 *      what was written) through BAR 0: keel forwards the BAR;
 *   b. copies 1 KiB of a pattern from its RAM into the device's buffer and back to another place
 *      of its RAM, and compares: DMA reaches the VM's own RAM (guest-physical addresses);
 *   e. (after b) enables the MSI capability keel shows it with address 0xFEE00000 and data
 *      0x41, has the device raise its interrupt (register 0x60) and polls its local APIC's IRR
 *      for vector 0x41 (interrupts stay off: the vector stays requested): the device's message
 *      went through keel's interrupt-remapping entry to keel's vector and into this VM;
 *   f. (after e) tries to escape through what it may program: its MSI aimed at its own RAM
 *      (0x7C0000) with vector 0x42 must write nothing there and raise nothing (keel drops a
 *      message that is not the local APICs'); BAR 0 moved to 0xD0000000 must answer there and
 *      not at its old place, and moved onto the VT-d unit's host registers (0xFED90000) must
 *      reach nothing (all ones), then answer again where it was;
 *   c. aims DMA writes from the device's buffer at addresses that are not its RAM: the first page
 *      past its RAM (edu.ram=MIB on the command line, 32 by default), 128 MiB, and the last page
 *      the device can reach (its DMA mask is 28 bits). keel's IOMMU must block each; the e2e case
 *      finds keel's fault lines and keel's and the other VMs' memory unchanged;
 *   g. with edu.victim on the command line, reads a host-physical address typed at its console
 *      (the e2e case types one inside another VM's RAM) and aims a DMA write there: the IOMMU
 *      must block it, and that VM finds its RAM unchanged;
 *   h. (edu.victim) reads a second host address typed (keel's code, as keel logs it), has the
 *      device read 1 KiB from there and write its buffer to the page after, and prints the first
 *      dword the read gave: the e2e case checks that it is not keel's, and under VT-d finds
 *      both faults logged;
 *   i. (edu.victim and edu.forge) once Enter is typed, forges interrupt messages: DMA writes of
 *      one dword each to 0xFEE00018, the remappable format with a subhandle (VT-d 5.1.2.2:
 *      entry = the data), with data 0-63 and 0xD0-0xDF. Remapped, they name entries 0-63 and
 *      0xD0-0xDF (AMD-Vi: of the requester's own table); passed as they are, they would be
 *      vectors, 0xD0-0xDF keel's passthrough vectors. A VM beside it (edu.watch) must receive
 *      none of them;
 *   d. with edu.sweep on the command line, 72 more such writes to distinct pages: keel turns the
 *      device's bus mastering off after 64 faults, so a last copy within its RAM (as in b, to a
 *      third place) no longer arrives: "edu: after the sweep, DMA to its RAM arrives" or
 *      "... does not arrive" (the e2e case judges which it expects).
 * With edu.watch instead, after a. it only enables its MSI (vector 0x41, as in e), waits for
 * Enter (typed once the attacker of step i is done), checks that vector 0x41 is not requested,
 * then raises its own interrupt and checks that this one arrives: the watch can see a message.
 * Each DMA is polled to its end (the command register's bit 0 clears), bounded by a count of
 * polls. Exit code 0 when every check held, 1 otherwise. */
#include "check.h"
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc
	.set BUS0, 0x80000000		/* CONFIG_ADDRESS of bus 0, device 0, function 0 */
	.set EDU_ID, 0x11e81234
	/* registers of BAR 0 */
	.set R_ID, 0x00
	.set R_LIVE, 0x04
	.set R_INT_STATUS, 0x24
	.set R_INT_RAISE, 0x60
	.set R_INT_ACK, 0x64
	.set R_DMA_SRC, 0x80
	.set R_DMA_DST, 0x88
	.set R_DMA_CNT, 0x90
	.set R_DMA_CMD, 0x98
	.set CMD_START, 1
	.set CMD_TO_RAM, 2		/* from the device's buffer to RAM */
	.set EDU_BUF, 0x40000		/* the device's 4 KiB buffer, in its DMA address space */
	.set LEN, 1024
	.set SRC, 0x600000		/* in the guest's RAM (the image is at 1-2 MiB) */
	.set DST, 0x700000
	.set DST2, 0x780000
	.set POLLS, 400000000		/* reads of the command register before a DMA counts as lost */
	.set MSI_POLLS, 100000		/* reads of the IRR before the MSI counts as lost: each exits */
	.set MSI_VECTOR, 0x41
	.set LAPIC, 0xfee00000
	.set LAPIC_SVR, 0xf0
	.set LAPIC_IRR, 0x200		/* 8 registers of 32 vectors, 16 bytes apart */
	.set PCI_CAP_MSI, 0x05
	.set MSI_SPY, 0x7c0000		/* where the hostile MSI is aimed: its own RAM */
	.set BAR_MOVED, 0xd0000000	/* free in keel's PCI window (core/guest_layout.h) */
	.set BAR_ESCAPE, 0xfed90000	/* the host's VT-d registers under QEMU */
	.set SWEEP, 72
	.set SWEEP_BASE, 0x3000000	/* 48 MiB: past the RAM of a 32 MiB VM */
	.set FORGE, 64			/* forged messages with data 0..FORGE-1 */
	.set FORGE_HIGH, 16		/* and with data 0xD0..0xD0+FORGE_HIGH-1 */
	.set FORGE_ADDR, 0xfee00018	/* 0xFEE, handle 0, remappable format, subhandle valid */
	.set FORGE_BUF, EDU_BUF + 0x800	/* the messages' data in the device's buffer */

	.text
	.code32
	.globl guest_main
guest_main:
	call find_edu
	test %eax, %eax
	jnz 9f
	mov dev, %eax
	or $0x10, %eax
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar
	test %eax, %eax
	jnz 1f
	mov $msg_no_bar, %esi
	call fail
	jmp 9f
1:
	mov $6, %eax			/* memory decoding and bus mastering on */
	call set_command
	mov bar, %ebx

	/* a. the registers, through keel's forwarding of the BAR */
	mov R_ID(%ebx), %eax
	CHECK %eax, $0x010000ed, identification
	movl $0x12345678, R_LIVE(%ebx)
	mov R_LIVE(%ebx), %eax
	CHECK %eax, $0xedcba987, liveness
	mov $msg_regs, %esi
	call puts
	mov $msg_watch_word, %esi
	call cmdline_has
	jnz 1f
	call watch
	jmp 9f
1:
	/* b. its own RAM, there and back */
	mov $SRC, %edi
	mov $LEN / 4, %ecx
	mov $0x5eed1234, %eax
1:	stosl
	add $0x01030507, %eax
	loop 1b
	mov $SRC, %eax
	mov $EDU_BUF, %edx
	mov $CMD_START, %ecx
	call dma
	mov $EDU_BUF, %eax
	mov $DST, %edx
	mov $CMD_START | CMD_TO_RAM, %ecx
	call dma
	mov $DST, %edi
	call same_as_src
	CHECK %eax, $0, dma_to_own_RAM_differs_at_dword
	test %eax, %eax
	jnz 2f
	mov $msg_own, %esi
	call puts
2:
	call msi
	call escape
	/* c. memory that is not the VM's */
	mov $msg_ram_mib, %esi
	call cmdline_number
	jnc 3f
	mov $32, %eax
3:	shl $20, %eax
	call attack
	mov $0x8000000, %eax
	call attack
	mov $0xffff000, %eax
	call attack

	/* g. another VM's RAM, at the host address typed */
	mov $msg_victim_word, %esi
	call cmdline_has
	jnz 6f
	mov $msg_victim_wait, %esi
	call puts
	call gethex
	mov $msg_victim_dma, %esi
	call attack_said
	mov $msg_victim_done, %esi
	call puts
	call keel_memory
	mov $msg_forge_word, %esi
	call cmdline_has
	jnz 6f
	call forge
6:
	/* d. the sweep */
	mov $msg_sweep_word, %esi
	call cmdline_has
	jnz 9f
	mov $msg_sweep, %esi
	call puts
	mov $SWEEP_BASE, %eax
	mov $SWEEP, %ecx
4:	push %eax
	push %ecx
	mov %eax, %edx
	mov $EDU_BUF, %eax
	mov $CMD_START | CMD_TO_RAM, %ecx
	call dma
	pop %ecx
	pop %eax
	add $0x1000, %eax
	loop 4b
	mov $DST2, %edi			/* a copy within its RAM, as in b */
	mov $LEN / 4, %ecx
	xor %eax, %eax
	rep stosl
	mov $EDU_BUF, %eax
	mov $DST2, %edx
	mov $CMD_START | CMD_TO_RAM, %ecx
	call dma
	mov $DST2, %edi
	call same_as_src
	mov $msg_after_ok, %esi
	test %eax, %eax
	jz 5f
	mov $msg_after_blocked, %esi
5:	call puts

9:	mov $msg_done, %esi
	call puts
	mov failures, %eax
	test %eax, %eax
	jz 1f
	mov $1, %eax
1:	ret

/* msi: step e */
msi:
	push %esi
	call msi_on
	test %eax, %eax
	jz 9f
	mov bar, %ebx
	movl $0x5a, R_INT_RAISE(%ebx)
	call irr_poll
	test %eax, %eax
	jnz 3f
	mov $msg_msi_lost, %esi
	mov R_INT_STATUS(%ebx), %eax
	call fail
	jmp 9f
3:	mov R_INT_STATUS(%ebx), %eax
	CHECK %eax, $0x5a, interrupt_status
	movl $0x5a, R_INT_ACK(%ebx)
	mov $msg_msi, %esi
	call puts
9:	pop %esi
	ret

/* msi_on: the MSI capability keel shows programmed with address 0xFEE00000 (local APIC 0,
 * fixed, physical) and data MSI_VECTOR, then enabled; eax = 0 (after a failure) without one */
msi_on:
	push %esi
	mov $PCI_CAP_MSI, %eax
	call find_cap
	test %eax, %eax
	jnz 1f
	mov $msg_no_msi, %esi
	call fail
	xor %eax, %eax
	jmp 9f
1:	mov %eax, %esi			/* CONFIG_ADDRESS of the capability */
	lea 4(%esi), %eax
	mov $LAPIC, %edx
	call cfg_write
	lea 8(%esi), %eax
	xor %edx, %edx
	call cfg_write
	lea 12(%esi), %eax		/* keel's MSI capability is the 64-bit one */
	mov $MSI_VECTOR, %edx
	call cfg_write
	mov %esi, %eax
	call cfg_read
	mov %eax, %edx
	or $1 << 16, %edx		/* Message Control: MSI Enable */
	mov %esi, %eax
	call cfg_write
	orl $0x100, LAPIC + LAPIC_SVR	/* software-enabled: it accepts the message */
	mov $1, %eax
9:	pop %esi
	ret

/* irr_poll: eax = 1 once MSI_VECTOR is requested in the local APIC's IRR, 0 if it is not within
 * MSI_POLLS reads (interrupts stay off: a vector that arrived stays requested) */
irr_poll:
	push %ecx
	mov $MSI_POLLS, %ecx
1:	mov LAPIC + LAPIC_IRR + (MSI_VECTOR / 32) * 16, %eax
	test $1 << (MSI_VECTOR % 32), %eax
	jnz 2f
	pause
	loop 1b
	xor %eax, %eax
	jmp 3f
2:	mov $1, %eax
3:	pop %ecx
	ret

/* watch: edu.watch, the VM beside the forger of step i */
watch:
	push %esi
	call msi_on
	test %eax, %eax
	jz 9f
	mov $msg_watching, %esi
	call puts
	call getc
	call irr_poll
	test %eax, %eax
	jz 1f
	mov $msg_forged_arrived, %esi
	mov LAPIC + LAPIC_IRR + (MSI_VECTOR / 32) * 16, %eax
	call fail
	jmp 9f
1:	mov $msg_none_arrived, %esi
	call puts
	mov bar, %ebx
	movl $0x33, R_INT_RAISE(%ebx)
	call irr_poll
	test %eax, %eax
	jnz 2f
	mov $msg_own_lost, %esi
	mov R_INT_STATUS(%ebx), %eax
	call fail
	jmp 9f
2:	movl $0x33, R_INT_ACK(%ebx)
	mov $msg_own_arrives, %esi
	call puts
9:	pop %esi
	ret

/* keel_memory: step h */
keel_memory:
	push %esi
	mov $msg_keel_wait, %esi
	call puts
	call gethex
	mov %eax, keel_addr
	mov $msg_keel_read, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	mov keel_addr, %eax
	mov $EDU_BUF, %edx
	mov $CMD_START, %ecx
	call dma
	mov keel_addr, %eax
	add $0x1000, %eax
	mov $msg_keel_write, %esi
	call attack_said
	movl $0, DST2
	mov $EDU_BUF, %eax		/* what the read left in the buffer */
	mov $DST2, %edx
	mov $CMD_START | CMD_TO_RAM, %ecx
	call dma
	mov $msg_keel_gave, %esi
	call puts
	mov DST2, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	pop %esi
	ret

/* forge: step i */
forge:
	push %esi
	mov $msg_forge_wait, %esi
	call puts
	call getc
	mov $SRC, %edi			/* the messages' data */
	xor %eax, %eax
	mov $FORGE, %ecx
1:	stosl
	inc %eax
	loop 1b
	mov $0xd0, %eax
	mov $FORGE_HIGH, %ecx
2:	stosl
	inc %eax
	loop 2b
	mov $SRC, %eax
	mov $FORGE_BUF, %edx
	mov $CMD_START, %ecx
	mov $(FORGE + FORGE_HIGH) * 4, %edi
	call dma_n
	xor %esi, %esi
3:	lea FORGE_BUF(,%esi,4), %eax
	mov $FORGE_ADDR, %edx
	mov $CMD_START | CMD_TO_RAM, %ecx
	mov $4, %edi
	call dma_n
	inc %esi
	cmp $FORGE + FORGE_HIGH, %esi
	jb 3b
	mov $msg_forged, %esi
	call puts
	pop %esi
	ret

/* escape: step f */
escape:
	push %esi
	movl $0, MSI_SPY
	mov $PCI_CAP_MSI, %eax
	call find_cap
	test %eax, %eax
	jz 5f				/* step e failed already */
	mov %eax, %esi
	lea 4(%esi), %eax
	mov $MSI_SPY, %edx
	call cfg_write
	lea 12(%esi), %eax
	mov $MSI_VECTOR + 1, %edx
	call cfg_write
	mov bar, %ebx
	movl $0x77, R_INT_RAISE(%ebx)
	mov $MSI_POLLS, %ecx		/* a count, not a time: a late message would only pass */
1:	mov LAPIC + LAPIC_IRR + ((MSI_VECTOR + 1) / 32) * 16, %eax
	test $1 << ((MSI_VECTOR + 1) % 32), %eax
	jnz 2f
	pause
	loop 1b
	mov MSI_SPY, %eax
	CHECK %eax, $0, MSI_wrote_its_RAM
	test %eax, %eax
	jnz 3f
	mov $msg_msi_spy, %esi
	call puts
	jmp 3f
2:	mov $msg_msi_spy_arrived, %esi
	call fail
3:	movl $0x77, R_INT_ACK(%ebx)
	mov $PCI_CAP_MSI, %eax		/* MSI off again */
	call find_cap
	mov %eax, %esi
	call cfg_read
	mov %eax, %edx
	and $~(1 << 16), %edx
	mov %esi, %eax
	call cfg_write

5:	/* BAR 0 where the guest likes, then onto the IOMMU's registers */
	mov dev, %eax
	or $0x10, %eax
	mov $BAR_MOVED, %edx
	call cfg_write
	mov BAR_MOVED + R_ID, %eax
	CHECK %eax, $0x010000ed, identification_at_the_moved_BAR
	mov bar, %ebx
	mov R_ID(%ebx), %eax
	CHECK %eax, $0xffffffff, old_place_of_the_moved_BAR
	mov dev, %eax
	or $0x10, %eax
	mov $BAR_ESCAPE, %edx
	call cfg_write
	mov BAR_ESCAPE, %eax
	CHECK %eax, $0xffffffff, BAR_moved_onto_the_IOMMU_registers
	movl $0, BAR_ESCAPE + 0x18	/* VT-d's global command, were it reachable */
	mov dev, %eax
	or $0x10, %eax
	mov bar, %edx
	call cfg_write
	mov R_ID(%ebx), %eax
	CHECK %eax, $0x010000ed, identification_after_the_BAR_is_back
	cmp $0x010000ed, %eax
	jne 9f
	mov $msg_bar_moved, %esi
	call puts
9:	pop %esi
	ret

/* find_cap: eax = CONFIG_ADDRESS of the capability with ID al in dev's list, 0 without */
find_cap:
	push %ecx
	push %edx
	mov %eax, %edx
	mov dev, %eax
	or $0x34, %eax
	call cfg_read
	and $0xfc, %eax
	mov $48, %ecx			/* a list longer than this loops */
1:	test %eax, %eax
	jz 3f
	or dev, %eax
	push %eax
	call cfg_read
	cmp %dl, %al
	pop %eax
	je 3f
	push %eax
	call cfg_read
	shr $8, %eax
	and $0xfc, %eax
	add $4, %esp
	loop 1b
	xor %eax, %eax
3:	pop %edx
	pop %ecx
	ret

/* attack: a DMA write of the device's buffer to address eax, which is not the VM's RAM */
attack:
	push %esi
	mov $msg_attack, %esi
	call attack_said
	pop %esi
	ret

/* attack_said: the same, said first as the string at esi and eax in hex */
attack_said:
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	mov %eax, %edx
	mov $EDU_BUF, %eax
	mov $CMD_START | CMD_TO_RAM, %ecx
	jmp dma

/* dma: LEN bytes from eax to edx with command ecx, polled to its end */
dma:
	push %edi
	mov $LEN, %edi
	call dma_n
	pop %edi
	ret

/* dma_n: edi bytes from eax to edx with command ecx, polled to its end */
dma_n:
	push %esi
	mov bar, %ebx
	mov %eax, R_DMA_SRC(%ebx)
	movl $0, R_DMA_SRC+4(%ebx)
	mov %edx, R_DMA_DST(%ebx)
	movl $0, R_DMA_DST+4(%ebx)
	mov %edi, R_DMA_CNT(%ebx)
	movl $0, R_DMA_CNT+4(%ebx)
	mov %ecx, R_DMA_CMD(%ebx)
	mov $POLLS, %ecx
1:	testl $CMD_START, R_DMA_CMD(%ebx)
	jz 2f
	pause
	loop 1b
	mov $msg_lost, %esi
	mov %edx, %eax
	call fail
2:	pop %esi
	ret

/* same_as_src: eax = 0 when LEN bytes at edi equal those at SRC, else the first differing
 * dword's index + 1 */
same_as_src:
	push %esi
	push %ecx
	mov $SRC, %esi
	xor %eax, %eax
1:	inc %eax
	cmpsl
	jne 2f
	cmp $LEN / 4, %eax
	jb 1b
	xor %eax, %eax
2:	pop %ecx
	pop %esi
	ret

/* find_edu: dev = CONFIG_ADDRESS of the edu function on bus 0; eax = 0, or 1 after a failure */
find_edu:
	push %ecx
	mov $BUS0, %ecx
1:	mov %ecx, %eax
	call cfg_read
	cmp $EDU_ID, %eax
	je 2f
	add $1 << 11, %ecx		/* the next device number (bits 15:11) */
	cmp $BUS0 + (32 << 11), %ecx
	jb 1b
	mov $msg_none, %esi
	mov %ecx, %eax
	call fail
	mov $1, %eax
	pop %ecx
	ret
2:	mov %ecx, dev
	mov $msg_found, %esi
	call puts
	mov %ecx, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	xor %eax, %eax
	pop %ecx
	ret

/* set_command: the command register of dev := ax */
set_command:
	push %edx
	push %eax
	mov dev, %eax
	or $0x04, %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	pop %eax
	mov $CFG_DATA, %dx
	out %ax, %dx
	pop %edx
	ret

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
msg_found:	.asciz "edu: found at CONFIG_ADDRESS 0x"
msg_regs:	.asciz "edu: a. registers through BAR 0 answer\n"
msg_own:	.asciz "edu: b. DMA to and from its own RAM checks out\n"
msg_msi:	.asciz "edu: e. its MSI arrives as vector 0x41\n"
msg_msi_spy:	.asciz "edu: f. an MSI aimed at its RAM (0x007c0000) writes nothing and raises nothing\n"
msg_msi_spy_arrived: .asciz "an MSI aimed at its RAM arrived as vector 0x42: IRR"
msg_bar_moved:	.asciz "edu: f. BAR 0 answers where the guest moves it, and on the IOMMU's registers reaches nothing\n"
msg_no_msi:	.asciz "no MSI capability in its list:"
msg_msi_lost:	.asciz "its MSI never reached the local APIC: interrupt status"
msg_attack:	.asciz "edu: c. DMA write to 0x"
msg_sweep:	.asciz "edu: d. 72 DMA writes to pages past its RAM\n"
msg_after_ok:	.asciz "edu: after the sweep, DMA to its RAM arrives\n"
msg_after_blocked: .asciz "edu: after the sweep, DMA to its RAM does not arrive\n"
msg_done:	.asciz "edu: done\n"
msg_none:	.asciz "no edu device on bus 0, scanned up to CONFIG_ADDRESS"
msg_no_bar:	.asciz "BAR 0 has no address:"
msg_lost:	.asciz "a DMA never ended: destination"
msg_fail:	.asciz "edu: FAIL "
msg_got:	.asciz " 0x"
msg_nl:		.asciz "\n"
msg_ram_mib:	.asciz "edu.ram="
msg_sweep_word:	.asciz "edu.sweep"
msg_victim_word: .asciz "edu.victim"
msg_victim_wait: .asciz "edu: g. waiting for a host address at the console\n"
msg_victim_dma:	.asciz "edu: g. DMA write to host address 0x"
msg_victim_done: .asciz "edu: g. done\n"
msg_keel_wait:	.asciz "edu: h. waiting for a host address of keel's at the console\n"
msg_keel_read:	.asciz "edu: h. DMA read from keel's host address 0x"
msg_keel_write:	.asciz "edu: h. DMA write to keel's host address 0x"
msg_keel_gave:	.asciz "edu: h. the read gave 0x"
msg_forge_wait:	.asciz "edu: i. waiting for Enter to forge interrupt messages\n"
msg_forged:	.asciz "edu: i. 80 interrupt messages forged at 0xfee00018, data 0x00-0x3f and 0xd0-0xdf\n"
msg_forge_word:	.asciz "edu.forge"
msg_watch_word:	.asciz "edu.watch"
msg_watching:	.asciz "edu: w. its MSI is on as vector 0x41; waiting for Enter\n"
msg_forged_arrived: .asciz "an interrupt it did not raise arrived as vector 0x41: IRR"
msg_none_arrived: .asciz "edu: w. no interrupt arrived that it did not raise\n"
msg_own_lost:	.asciz "its own MSI never arrived: interrupt status"
msg_own_arrives: .asciz "edu: w. its own MSI arrives\n"

	.data
dev:		.long 0
bar:		.long 0
failures:	.long 0
keel_addr:	.long 0
	.section .note.GNU-stack,"",@progbits

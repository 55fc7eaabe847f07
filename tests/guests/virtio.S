/* virtio: a hostile driver for the virtio-rng device every VM has at 00:01.0 (docs/testing.md
 * "Hostile guests"; virtio 1.2, 2.7 and 4.1). It finds the device through configuration
 * mechanism #1, sets it up as a modern driver (VERSION_1 only), and checks that a well-formed
 * request comes back with 16 bytes of entropy. Then, one at a time and with a reset in between,
 * it hands the device what no driver may: a buffer outside its RAM, one on the IOAPIC page, one
 * of 4 GiB, a chain that loops, a next index past the table, a readable buffer after a writable
 * one, an indirect table without the feature, an available index far ahead. Each must leave the
 * used ring untouched and the device asking for a reset (status DEVICE_NEEDS_RESET). With bus
 * mastering off a request must wait, untouched, and be served once it is back on; a notification
 * for a queue the device does not have, queue_select past the last queue and an MSI-X vector the
 * table does not have do nothing. A last well-formed request must work. Exit code 0 when every
 * check held, 1 otherwise. */
#include "check.h"
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc
	.set SLOT1, 0x80000800		/* bus 0, device 1, function 0 */
	.set RNG_ID, 0x10441af4		/* virtio 1.x entropy device (4.1.2.1) */
	.set DESC, 0x800000		/* the queue in the guest's RAM (the image is at 2-4 MiB) */
	.set AVAIL, 0x801000
	.set USED, 0x802000
	.set BUF, 0x803000
	.set QSIZE, 8
	/* common configuration offsets (4.1.4.3) */
	.set GFSELECT, 8
	.set GF, 12
	.set STATUS, 20
	.set QSELECT, 22
	.set QSIZE_REG, 24
	.set QMSIX, 26
	.set QENABLE, 28
	.set QDESC, 32
	.set QDRIVER, 40
	.set QDEVICE, 48
	.set NOTIFY, 0x3000
	.set NEEDS_RESET, 64
	.set D_NEXT, 1
	.set D_WRITE, 2
	.set D_INDIRECT, 4

	.text
	.code32
	.globl guest_main
guest_main:
	mov $SLOT1, %eax
	call cfg_read
	CHECK %eax, $RNG_ID, virtio-rng_at_00:01.0
	cmp $RNG_ID, %eax		/* CHECK keeps the flags it found: compare again */
	jne 9f
	mov $SLOT1 | 0x10, %eax		/* BAR 0, 64-bit memory: keel put it below 4 GiB */
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar
	mov $6, %eax			/* memory decoding and bus mastering on */
	call set_command

	call setup
	call good_request

	/* the hostile requests, each on a freshly reset device */
	mov $hostile, %ebp
1:	cmp $hostile_end, %ebp
	jae 2f
	call setup
	call bad_request
	add $HOSTILE_SIZE, %ebp
	jmp 1b

	/* bus mastering off: the device may not touch the ring; back on, the next notification
	 * is served */
2:	call setup
	mov $2, %eax
	call set_command
	call post_good
	movw $0, NOTIFY(%ebx)
	movzwl USED+2, %eax
	CHECK %eax, $0, served_with_bus_mastering_off
	mov $6, %eax
	call set_command
	movw $0, NOTIFY(%ebx)
	movzwl USED+2, %eax
	CHECK %eax, $1, not_served_after_bus_mastering_on
	/* a queue and a vector that do not exist */
	movw $1, NOTIFY+4(%ebx)
	movw $5, QSELECT(%ebx)
	movzwl QSIZE_REG(%ebx), %eax
	CHECK %eax, $0, queue_5_has_a_size
	movw $0, QSELECT(%ebx)
	movw $50, QMSIX(%ebx)
	movzwl QMSIX(%ebx), %eax
	CHECK %eax, $0xffff, vector_50_accepted
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $15, status_changed

	call setup
	call good_request
9:	mov $msg_done, %esi
	call puts
	mov failures, %eax
	test %eax, %eax
	jz 1f
	mov $1, %eax
1:	ret

/* set_command: the command register of 00:01.0 := ax */
set_command:
	push %edx
	push %eax
	mov $SLOT1 | 0x04, %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	pop %eax
	mov $CFG_DATA, %dx
	out %ax, %dx
	pop %edx
	ret

/* setup: reset, VERSION_1 only, queue 0 of QSIZE at DESC/AVAIL/USED, DRIVER_OK; ebx = BAR */
setup:
	mov bar, %ebx
	movb $0, STATUS(%ebx)
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $0, status_after_reset
	movb $3, STATUS(%ebx)		/* ACKNOWLEDGE | DRIVER */
	movl $1, GFSELECT(%ebx)
	movl $1, GF(%ebx)		/* bit 32: VERSION_1 */
	movl $0, GFSELECT(%ebx)
	movl $0, GF(%ebx)
	movb $11, STATUS(%ebx)		/* | FEATURES_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $11, features_refused
	mov $DESC, %edi
	mov $0x1000, %ecx		/* the rings and the buffer: 16 KiB of zeros */
	xor %eax, %eax
	rep stosl
	movw $0, QSELECT(%ebx)
	movw $QSIZE, QSIZE_REG(%ebx)
	movl $DESC, QDESC(%ebx)
	movl $0, QDESC+4(%ebx)
	movl $AVAIL, QDRIVER(%ebx)
	movl $0, QDRIVER+4(%ebx)
	movl $USED, QDEVICE(%ebx)
	movl $0, QDEVICE+4(%ebx)
	movw $1, QENABLE(%ebx)
	movb $15, STATUS(%ebx)		/* | DRIVER_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $15, status_not_driver_ok
	ret

/* post_good: descriptor 0 = 16 writable bytes at BUF, made available (no notification) */
post_good:
	movl $BUF, DESC
	movl $0, DESC+4
	movl $16, DESC+8
	movw $D_WRITE, DESC+12
	movw $0, DESC+14
	movw $0, AVAIL+4		/* ring[0] = head 0 */
	movw $1, AVAIL+2		/* idx */
	ret

/* good_request: post_good, notify; the device used it with 16 bytes, not all zero */
good_request:
	call post_good
	movw $0, NOTIFY(%ebx)
	movzwl USED+2, %eax
	CHECK %eax, $1, used_idx_after_a_good_request
	CHECK USED+4, $0, used_id
	CHECK USED+8, $16, used_len
	mov BUF, %eax
	or BUF+4, %eax
	or BUF+8, %eax
	or BUF+12, %eax
	jnz 1f
	mov $msg_zero, %esi
	jmp fail
1:	mov $msg_good, %esi
	jmp puts

/* bad_request: the entry at ebp: two descriptors {addr, len, flags | next << 16} and the
 * available index to publish; the device must use nothing and need a reset */
bad_request:
	mov 0(%ebp), %eax
	mov %eax, DESC
	movl $0, DESC+4
	mov 4(%ebp), %eax
	mov %eax, DESC+8
	mov 8(%ebp), %eax
	mov %eax, DESC+12
	mov 12(%ebp), %eax
	mov %eax, DESC+16
	movl $0, DESC+20
	mov 16(%ebp), %eax
	mov %eax, DESC+24
	mov 20(%ebp), %eax
	mov %eax, DESC+28
	movw $0, AVAIL+4
	mov 24(%ebp), %eax
	mov %ax, AVAIL+2
	movw $0, NOTIFY(%ebx)
	mov 28(%ebp), %esi
	call puts
	movzwl USED+2, %eax
	CHECK %eax, $0, the_device_used_a_bad_request
	movzbl STATUS(%ebx), %eax
	and $NEEDS_RESET, %eax
	CHECK %eax, $NEEDS_RESET, no_reset_asked_after_a_bad_request
	ret

/* fail: prints "virtio: FAIL <esi> 0x<eax>" and counts it (check.h) */
fail:
	incl failures
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	ret

	.section .rodata
	.align 4
	.set HOSTILE_SIZE, 32
hostile:
	/* addr0, len0, flags0 | next0 << 16, addr1, len1, flags1 | next1 << 16, avail idx, what */
	.long 0x10000000, 16, D_WRITE, 0, 0, 0, 1, msg_h_outside
	.long 0xfec00000, 16, D_WRITE, 0, 0, 0, 1, msg_h_ioapic
	.long BUF, 0xfffffff0, D_WRITE, 0, 0, 0, 1, msg_h_huge
	.long BUF, 16, D_WRITE | D_NEXT | 0 << 16, 0, 0, 0, 1, msg_h_loop
	.long BUF, 16, D_WRITE | D_NEXT | 200 << 16, 0, 0, 0, 1, msg_h_past
	.long BUF, 16, D_WRITE | D_NEXT | 1 << 16, BUF + 16, 16, 0, 1, msg_h_order
	.long DESC + 0x400, 32, D_INDIRECT, 0, 0, 0, 1, msg_h_indirect
	.long BUF, 16, D_WRITE, 0, 0, 0, 100, msg_h_ahead
hostile_end:
msg_good:	.asciz "virtio: a well-formed request got 16 bytes of entropy\n"
msg_h_outside:	.asciz "virtio: a buffer outside RAM\n"
msg_h_ioapic:	.asciz "virtio: a buffer on the IOAPIC page\n"
msg_h_huge:	.asciz "virtio: a buffer of 4 GiB\n"
msg_h_loop:	.asciz "virtio: a chain that loops\n"
msg_h_past:	.asciz "virtio: a next index past the table\n"
msg_h_order:	.asciz "virtio: a readable buffer after a writable one\n"
msg_h_indirect:	.asciz "virtio: an indirect table without the feature\n"
msg_h_ahead:	.asciz "virtio: an available index 100 ahead\n"
msg_done:	.asciz "virtio: done\n"
msg_zero:	.asciz "16 zero bytes for entropy "
msg_fail:	.asciz "virtio: FAIL "
msg_nl:		.asciz "\n"

	.data
bar:		.long 0
failures:	.long 0
	.section .note.GNU-stack,"",@progbits

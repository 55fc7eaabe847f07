/* blk-end: a driver for the VM's first virtio-blk disk that writes at and past the disk's end
 * (docs/testing.md, host-nvme-part-end; virtio 1.2, 2.7, 4.1 and 5.2). keel gives the disk a
 * host GPT partition; the partition after it on the same namespace belongs to someone else, so
 * every sector past the capacity must be refused with IOERR and nothing of such a request may
 * reach the medium. It finds the device by scanning bus 0 through configuration mechanism #1
 * (keel puts disks after virtio-rng, their slots depending on the configuration), sets it up as
 * a modern driver (VERSION_1 only) with one queue, and sends one request at a time, polling the
 * used ring:
 *   a. one sector of pattern "blk-end!" written at capacity - 1: OK;
 *   b. read back: OK and the same bytes;
 *   c. one sector written at capacity: IOERR;
 *   d. two sectors written at capacity - 1: IOERR, and capacity - 1 still holds (a)'s pattern;
 *   e. one sector read at capacity, two read at capacity - 1, one read at 2^64 - 1 and two
 *      written there (the end wraps round to sector 1): IOERR each;
 *   f. one sector read at 0: OK, and the device never asked for a reset.
 * The requests that must fail carry the pattern "past-end": the e2e case finds capacity - 1
 * holding "blk-end!" and every other byte of the image as it was. Exit code 0 when every check
 * held, 1 otherwise. */
#include "check.h"
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc
	.set BUS0, 0x80000000		/* CONFIG_ADDRESS of bus 0, device 0, function 0 */
	.set BLK_ID, 0x10421af4		/* virtio 1.x block device (4.1.2.1: 0x1040 + 2) */
	.set DESC, 0x800000		/* the queue in the guest's RAM (the image is at 2-4 MiB) */
	.set AVAIL, 0x801000
	.set USED, 0x802000
	.set HDR, 0x803000		/* the request header (5.2.6) */
	.set STAT, 0x803010		/* its status byte */
	.set DATA, 0x804000		/* room for two sectors */
	.set QSIZE, 8			/* a power of 2: ring slot = index & (QSIZE - 1) (2.7.6) */
	.set POLLS, 10000000		/* used-ring polls before a request counts as lost */
	/* common configuration offsets (4.1.4.3) */
	.set DFSELECT, 0
	.set DF, 4
	.set GFSELECT, 8
	.set GF, 12
	.set STATUS, 20
	.set QSELECT, 22
	.set QSIZE_REG, 24
	.set QENABLE, 28
	.set QDESC, 32
	.set QDRIVER, 40
	.set QDEVICE, 48
	/* keel's BAR 0 (vdev/virtio/virtio_pci.h): device configuration at 0x2000 (4.1.4.6),
	 * queue 0's notification at 0x3000 (4.1.4.4) */
	.set DEVCFG, 0x2000
	.set NOTIFY, 0x3000
	/* descriptor flags (2.7.5) */
	.set D_NEXT, 1
	.set D_WRITE, 2
	/* request types and status values (5.2.6) */
	.set T_IN, 0
	.set T_OUT, 1
	.set S_OK, 0
	.set S_IOERR, 1
	.set SECTOR, 512

	.text
	.code32
	.globl guest_main
guest_main:
	call find_blk
	test %eax, %eax
	jnz 9f
	mov dev, %eax
	or $0x10, %eax			/* BAR 0, 64-bit memory: keel put it below 4 GiB */
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar
	mov dev, %eax
	or $0x14, %eax
	call cfg_read
	CHECK %eax, $0, bar0_above_4_GiB
	mov $6, %eax			/* memory decoding and bus mastering on */
	call set_command
	call setup

	/* capacity: le64 at device configuration offset 0, in 512-byte sectors (5.2.4) */
	mov DEVCFG(%ebx), %eax
	mov %eax, cap_lo
	mov DEVCFG+4(%ebx), %eax
	mov %eax, cap_hi
	mov $msg_cap, %esi
	call puts
	call puthex
	mov cap_lo, %eax
	call puthex
	mov $msg_sectors, %esi
	call puts
	mov cap_lo, %eax
	or cap_hi, %eax
	jnz 1f
	mov $msg_cap0, %esi
	call fail
	jmp 9f
1:

	/* a. the last sector takes a write */
	mov $msg_a, %esi
	call puts
	mov $pattern_ok, %esi
	mov $SECTOR, %ecx
	call fill
	call last_sector
	mov $T_OUT, %eax
	mov $1, %edi
	call request
	CHECK %eax, $S_OK, write_at_capacity-1

	/* b. and gives it back */
	mov $msg_b, %esi
	call puts
	call check_last

	/* c. the first sector past the end: refused */
	mov $msg_c, %esi
	call puts
	mov $pattern_bad, %esi
	mov $2 * SECTOR, %ecx
	call fill
	mov cap_lo, %ecx
	mov cap_hi, %edx
	mov $T_OUT, %eax
	mov $1, %edi
	call request
	CHECK %eax, $S_IOERR, write_at_capacity

	/* d. a write that starts inside and ends outside: refused whole */
	mov $msg_d, %esi
	call puts
	mov $pattern_bad, %esi
	mov $2 * SECTOR, %ecx
	call fill
	call last_sector
	mov $T_OUT, %eax
	mov $2, %edi
	call request
	CHECK %eax, $S_IOERR, write_of_2_at_capacity-1
	mov $msg_d2, %esi
	call puts
	call check_last

	/* e. reads past the end, and a sector number whose end wraps round */
	mov $msg_e, %esi
	call puts
	mov cap_lo, %ecx
	mov cap_hi, %edx
	mov $T_IN, %eax
	mov $1, %edi
	call request
	CHECK %eax, $S_IOERR, read_at_capacity
	mov $msg_e2, %esi
	call puts
	call last_sector
	mov $T_IN, %eax
	mov $2, %edi
	call request
	CHECK %eax, $S_IOERR, read_of_2_at_capacity-1
	mov $msg_e3, %esi
	call puts
	mov $-1, %ecx
	mov $-1, %edx
	mov $T_IN, %eax
	mov $1, %edi
	call request
	CHECK %eax, $S_IOERR, read_at_2^64-1
	mov $msg_e4, %esi
	call puts
	mov $pattern_bad, %esi
	mov $2 * SECTOR, %ecx
	call fill
	mov $-1, %ecx
	mov $-1, %edx
	mov $T_OUT, %eax
	mov $2, %edi
	call request
	CHECK %eax, $S_IOERR, write_of_2_at_2^64-1

	/* f. the device still serves a good request, and never asked for a reset */
	mov $msg_f, %esi
	call puts
	xor %ecx, %ecx
	xor %edx, %edx
	mov $T_IN, %eax
	mov $1, %edi
	call request
	CHECK %eax, $S_OK, read_of_sector_0
	CHECK last_len, $SECTOR+1, used_len_of_read_of_sector_0
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $15, device_status_changed

9:	mov $msg_done, %esi
	call puts
	mov failures, %eax
	test %eax, %eax
	jz 1f
	mov $1, %eax
1:	ret

/* find_blk: dev = CONFIG_ADDRESS of the first virtio-blk function on bus 0 (function 0 of each
 * slot; keel's devices are single-function); eax = 0, or 1 after a failure when none is there */
find_blk:
	push %ecx
	mov $BUS0, %ecx
1:	mov %ecx, %eax
	call cfg_read
	cmp $BLK_ID, %eax
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

/* setup: reset, VERSION_1 only, queue 0 of QSIZE at DESC/AVAIL/USED, DRIVER_OK; ebx = BAR
 * (3.1.1's order) */
setup:
	mov bar, %ebx
	movb $0, STATUS(%ebx)
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $0, status_after_reset
	movb $3, STATUS(%ebx)		/* ACKNOWLEDGE | DRIVER */
	movl $1, DFSELECT(%ebx)
	mov DF(%ebx), %eax
	and $1, %eax
	CHECK %eax, $1, VERSION_1_not_offered
	movl $1, GFSELECT(%ebx)
	movl $1, GF(%ebx)		/* bit 32: VERSION_1 */
	movl $0, GFSELECT(%ebx)
	movl $0, GF(%ebx)		/* no FLUSH: writes need not reach the medium for this test */
	movb $11, STATUS(%ebx)		/* | FEATURES_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $11, features_refused
	mov $DESC, %edi
	mov $0x1400, %ecx		/* the rings, the header and the data: 20 KiB of zeros */
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

/* last_sector: edx:ecx = capacity - 1 */
last_sector:
	mov cap_lo, %ecx
	mov cap_hi, %edx
	sub $1, %ecx
	sbb $0, %edx
	ret

/* fill: DATA := the ecx bytes at esi */
fill:
	push %edi
	mov $DATA, %edi
	rep movsb
	pop %edi
	ret

/* check_last: reads capacity - 1 into DATA (zeroed first): OK, 513 bytes used, pattern_ok */
check_last:
	push %edi
	mov $DATA, %edi
	mov $2 * SECTOR / 4, %ecx
	xor %eax, %eax
	rep stosl
	call last_sector
	mov $T_IN, %eax
	mov $1, %edi
	call request
	CHECK %eax, $S_OK, read_at_capacity-1
	CHECK last_len, $SECTOR+1, used_len_of_read_at_capacity-1
	mov $pattern_ok, %esi
	mov $DATA, %edi
	mov $SECTOR, %ecx
	repe cmpsb
	mov %ecx, %eax			/* bytes left unchecked after the first difference */
	CHECK %eax, $0, capacity-1_not_as_written
	pop %edi
	ret

/* request: one request of type eax (T_IN or T_OUT) for edi sectors at sector edx:ecx, its data
 * at DATA, as a chain of three descriptors: the header (device-readable), the data (writable
 * for T_IN) and the status byte (writable), 5.2.6. Made available, notified, and waited for on
 * the used ring (2.7.13); eax = the status byte, last_len = the used element's len (2.7.8). */
request:
	push %ecx
	push %edx
	/* struct virtio_blk_req: le32 type, le32 reserved, le64 sector (5.2.6) */
	mov %eax, HDR
	movl $0, HDR+4
	mov %ecx, HDR+8
	mov %edx, HDR+12
	movb $0xff, STAT		/* not a status the device may set: it must write one */
	/* struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next (2.7.5) */
	movl $HDR, DESC
	movl $0, DESC+4
	movl $16, DESC+8
	movw $D_NEXT, DESC+12
	movw $1, DESC+14
	movl $DATA, DESC+16
	movl $0, DESC+20
	mov %edi, %ecx
	shl $9, %ecx
	mov %ecx, DESC+24
	movw $D_NEXT, DESC+28
	cmp $T_IN, %eax
	jne 1f
	movw $D_NEXT | D_WRITE, DESC+28
1:	movw $2, DESC+30
	movl $STAT, DESC+32
	movl $0, DESC+36
	movl $1, DESC+40
	movw $D_WRITE, DESC+44
	movw $0, DESC+46
	/* struct virtq_avail: le16 flags, le16 idx, le16 ring[] (2.7.6); x86 keeps these stores in
	 * order, so the device sees the descriptors before the index */
	movzwl AVAIL+2, %ecx
	mov %ecx, %edx
	and $QSIZE - 1, %edx
	movw $0, AVAIL+4(,%edx,2)	/* the chain's head: descriptor 0 */
	inc %ecx
	mov %cx, AVAIL+2
	movw $0, NOTIFY(%ebx)		/* queue 0 (4.1.4.4) */
	and $0xffff, %ecx
	mov $POLLS, %edx
2:	movzwl USED+2, %eax		/* struct virtq_used: le16 flags, le16 idx, ring[] (2.7.8) */
	cmp %ecx, %eax
	je 3f
	pause
	dec %edx
	jnz 2b
	mov $msg_lost, %esi
	call fail
	mov $0xff, %eax
	jmp 4f
	/* struct virtq_used_elem: le32 id, le32 len, at 4 + 8 * slot */
3:	dec %ecx
	and $QSIZE - 1, %ecx
	lea USED+4(,%ecx,8), %edx
	CHECK (%edx), $0, used_id_not_the_head
	mov 4(%edx), %eax
	mov %eax, last_len
	movzbl STAT, %eax
4:	pop %edx
	pop %ecx
	ret

/* fail: prints "blk-end: FAIL <esi> 0x<eax>" and counts it (check.h) */
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
/* the sector (a) writes, and the two sectors of every request that must be refused; the e2e
 * case (tests/e2e/host-nvme.sh) looks for the first on the image */
pattern_ok:
	.rept SECTOR / 8
	.ascii "blk-end!"
	.endr
pattern_bad:
	.rept 2 * SECTOR / 8
	.ascii "past-end"
	.endr
msg_found:	.asciz "blk-end: virtio-blk at CONFIG_ADDRESS 0x"
msg_cap:	.asciz "blk-end: capacity 0x"
msg_sectors:	.asciz " sectors\n"
msg_a:		.asciz "blk-end: a. write 1 sector at capacity-1\n"
msg_b:		.asciz "blk-end: b. read it back\n"
msg_c:		.asciz "blk-end: c. write 1 sector at capacity\n"
msg_d:		.asciz "blk-end: d. write 2 sectors at capacity-1\n"
msg_d2:		.asciz "blk-end: d. capacity-1 read back unchanged\n"
msg_e:		.asciz "blk-end: e. read 1 sector at capacity\n"
msg_e2:		.asciz "blk-end: e. read 2 sectors at capacity-1\n"
msg_e3:		.asciz "blk-end: e. read 1 sector at 2^64-1\n"
msg_e4:		.asciz "blk-end: e. write 2 sectors at 2^64-1\n"
msg_f:		.asciz "blk-end: f. read 1 sector at 0\n"
msg_done:	.asciz "blk-end: done\n"
msg_cap0:	.asciz "the disk has no sectors: capacity"
msg_none:	.asciz "no virtio-blk device on bus 0, scanned up to CONFIG_ADDRESS"
msg_lost:	.asciz "the device never used the request: used idx"
msg_fail:	.asciz "blk-end: FAIL "
msg_got:	.asciz " 0x"
msg_nl:		.asciz "\n"

	.data
	.align 4
dev:		.long 0
bar:		.long 0
cap_lo:		.long 0
cap_hi:		.long 0
last_len:	.long 0
failures:	.long 0
	.section .note.GNU-stack,"",@progbits

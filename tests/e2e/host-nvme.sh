# Host disks (sourced by run-svm): keel drives QEMU's NVMe controller (`-device nvme` on a raw
# image of this machine) and gives a VM a namespace as its virtio-blk disk. The Linux guest writes
# a file of random data into the ext4 file system on it and syncs (keel.persist in
# tools/build-guest-images); this script then reads the image with e2fsprogs' debugfs, and a
# second boot reads the file back in the guest.

# host_nvme_opts IMAGE: QEMU options for an NVMe controller at 00:04.0 over IMAGE
host_nvme_opts() {
	printf '%s' "--qemu -drive --qemu if=none,id=nvd0,file=$1,format=raw
		--qemu -device --qemu nvme,serial=keel-e2e,drive=nvd0,addr=0x4"
}

# host_nvme_check_fs CASE IMAGE WANT: the file system on IMAGE is clean and holds /persist with
# sha256 WANT.
host_nvme_check_fs() {
	local case=$1 img=$2 want=$3 got
	e2fsck -fn "$img" >"$out/$case.fsck" 2>&1 ||
		{ e2e_fail "$case" "e2fsck finds the file system not clean: $(tail -n3 "$out/$case.fsck")"; return 1; }
	rm -f "$out/$case.persist"
	debugfs -R "dump /persist $out/$case.persist" "$img" >/dev/null 2>&1
	got=$(sha256sum <"$out/$case.persist" 2>/dev/null | cut -d' ' -f1)
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		{ e2e_fail "$case" "/persist on the image has sha256 '$got'; the guest wrote '$want'"; return 1; }
}

# host-nvme-ns: disk = nvme:1, a whole namespace with ext4 on it
host_nvme_ns() {
	local case=host-nvme-ns dir=$out/host-nvme-ns guest=$root/build/guest
	local img=$dir/nvme.img want
	mkdir -p "$dir"
	rm -f "$img"
	truncate -s 64M "$img"
	mke2fs -q -t ext4 "$img"
	printf '[vm linux]\nmemory = 256M\nkernel = vmlinuz\ninitrd = initrd.gz\n%s\n%s\n' \
		"cmdline = console=ttyS0 keel.persist" "disk = nvme:1" >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} $(host_nvme_opts "$img")" \
		e2e_boot_svm "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" "$guest/vmlinuz" \
		"$guest/initrd.gz"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: pci 00:04.0 1b36:0010 class 010802 NVMe" \
		"keel: nvme0: 00:04.0 QEMU NVMe Ctrl, serial keel-e2e" \
		"keel: nvme0: namespace 1: 131072 blocks of 512 bytes (64 MiB)" \
		"keel: disk nvme0n1: nvme:1, 64 MiB" \
		"vm linux: disk vda: nvme:1, 64 MiB" "KEEL-PERSIST-SYNCED" "!EXT4-fs error" \
		"!I/O error" "vm linux: powered off" || return
	want=$(sed -n 's/^KEEL-PERSIST-SHA: \([0-9a-f]*\).*/\1/p' "$out/$case.log" | head -n1)
	host_nvme_check_fs "$case" "$img" "$want" || return
	# the second boot (its own log) reads it back through keel
	case=$case-readback
	printf '[vm linux]\nmemory = 256M\nkernel = vmlinuz\ninitrd = initrd.gz\n%s\n%s\n' \
		"cmdline = console=ttyS0 keel.readback" "disk = nvme:1,ro" >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} $(host_nvme_opts "$img")" \
		e2e_boot_svm "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" "$guest/vmlinuz" \
		"$guest/initrd.gz"
	e2e_ended "$case" && e2e_expect_all "$case" "vm linux: disk vda: nvme:1, 64 MiB, read-only" \
		"KEEL-READBACK-SHA: $want" "vm linux: powered off" && e2e_pass "$case"
}

# host_nvme_kill_session: QEMU killed (SIGKILL: no flush of its own) as soon as the guest says
# its sync returned
host_nvme_kill_session() {
	e2e_console_wait "KEEL-PERSIST-SYNCED" || return
	pkill -9 -f -- "^qemu-system-x86_64 .*id=nvd0,file=$host_nvme_img," || e2e_console_error="no QEMU to kill"
}

# host-nvme-powerloss: the machine dies right after the guest's sync returned; the synced file is
# on the image, and e2fsck finds the file system clean once its journal is replayed.
host_nvme_powerloss() {
	local case=host-nvme-powerloss dir=$out/host-nvme-powerloss guest=$root/build/guest want rc
	host_nvme_img=$dir/nvme.img
	mkdir -p "$dir"
	rm -f "$host_nvme_img"
	truncate -s 64M "$host_nvme_img"
	mke2fs -q -t ext4 "$host_nvme_img"
	printf '[vm linux]\nmemory = 256M\nkernel = vmlinuz\ninitrd = initrd.gz\n%s\n%s\n' \
		"cmdline = console=ttyS0 keel.persist" "disk = nvme:1" >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} $(host_nvme_opts "$host_nvme_img")" \
		e2e_boot_svm_session "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" \
		host_nvme_kill_session "$guest/vmlinuz" "$guest/initrd.gz"
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	e2e_expect_all "$case" "vm linux: disk vda: nvme:1, 64 MiB" "KEEL-PERSIST-SYNCED" \
		"!EXT4-fs error" "!I/O error" || return
	want=$(sed -n 's/^KEEL-PERSIST-SHA: \([0-9a-f]*\).*/\1/p' "$out/$case.log" | head -n1)
	# the journal replayed on a copy (0: clean, 1: recovered), then a full check must be clean
	cp "$host_nvme_img" "$dir/recovered.img"
	e2fsck -p "$dir/recovered.img" >"$out/$case.recover" 2>&1
	rc=$?
	[ $rc -le 1 ] || { e2e_fail "$case" "e2fsck -p: exit $rc: $(tail -n3 "$out/$case.recover")"; return; }
	host_nvme_check_fs "$case" "$dir/recovered.img" "$want" && e2e_pass "$case"
}

# host_nvme_gpt_image IMAGE: 64 MiB with a GPT (sfdisk): keel-a and keel-b of 24 MiB with an ext4
# file system each, then an unnamed partition filled with a pattern no VM may change
host_nvme_gpt_image() {
	local img=$1
	rm -f "$img"
	truncate -s 64M "$img"
	sfdisk -q "$img" <<'GPT'
label: gpt
start=2048, size=49152, name=keel-a
start=51200, size=49152, name=keel-b
start=100352, size=20480
GPT
	mke2fs -q -t ext4 -E offset=$((2048 * 512)) "$img" 24M
	mke2fs -q -t ext4 -E offset=$((51200 * 512)) "$img" 24M
	yes keel | head -c $((20480 * 512)) | dd of="$img" bs=512 seek=100352 conv=notrunc status=none
}

# host_nvme_part IMAGE FIRST COUNT OUT: sectors [FIRST, FIRST + COUNT) of IMAGE into OUT
host_nvme_part() {
	dd if="$1" of="$4" bs=512 skip="$2" count="$3" status=none
}

# host-nvme-parts: two VMs, each on its own GPT partition of one namespace (disk = part:LABEL),
# write at the same time on two CPUs (b with its disk's cache turned writethrough); each partition then holds its own VM's file and a clean
# file system, and the partition no VM has is unchanged.
host_nvme_parts() {
	local case=host-nvme-parts dir=$out/host-nvme-parts guest=$root/build/guest
	local img=$dir/nvme.img want_a want_b third
	mkdir -p "$dir"
	host_nvme_gpt_image "$img"
	third=$(host_nvme_part "$img" 100352 20480 /dev/stdout | sha256sum)
	{
		printf '[vm a]\nmemory = 192M\nkernel = vmlinuz\ninitrd = initrd.gz\n'
		printf 'cmdline = console=ttyS0 keel.persist\ndisk = part:keel-a\n'
		printf '[vm b]\nmemory = 192M\nkernel = vmlinuz\ninitrd = initrd.gz\n'
		printf 'cmdline = console=ttyS0 keel.persist keel.writethrough\ndisk = part:keel-b\n'
	} >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2 $(host_nvme_opts "$img")" \
		e2e_boot_svm "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" "$guest/vmlinuz" \
		"$guest/initrd.gz"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: disk nvme0n1p1: part:keel-a, 24 MiB" "keel: disk nvme0n1p2: part:keel-b, 24 MiB" \
		"keel: disk nvme0n1p3: no usable label, 10 MiB" \
		"vm a: disk vda: part:keel-a, 24 MiB" "vm b: disk vda: part:keel-b, 24 MiB" \
		"b| KEEL-CACHE-TYPE: write through" "a| KEEL-PERSIST-SYNCED" "b| KEEL-PERSIST-SYNCED" "!EXT4-fs error" "!I/O error" \
		"vm a: powered off" "vm b: powered off" || return
	want_a=$(sed -n 's/^a| KEEL-PERSIST-SHA: \([0-9a-f]*\).*/\1/p' "$out/$case.log" | head -n1)
	want_b=$(sed -n 's/^b| KEEL-PERSIST-SHA: \([0-9a-f]*\).*/\1/p' "$out/$case.log" | head -n1)
	[ "$want_a" != "$want_b" ] || { e2e_fail "$case" "both VMs wrote '$want_a'"; return; }
	host_nvme_part "$img" 2048 49152 "$dir/a.img"
	host_nvme_part "$img" 51200 49152 "$dir/b.img"
	host_nvme_check_fs "$case" "$dir/a.img" "$want_a" &&
		host_nvme_check_fs "$case" "$dir/b.img" "$want_b" || return
	[ "$(host_nvme_part "$img" 100352 20480 /dev/stdout | sha256sum)" = "$third" ] ||
		{ e2e_fail "$case" "the partition no VM has changed"; return; }
	e2e_pass "$case"
}

# host-nvme-claims: a namespace given whole to one VM while a partition of it is another VM's is
# a keel.cfg:LINE: error found when the VMs are built; nothing starts.
host_nvme_claims() {
	local case=host-nvme-claims dir=$out/host-nvme-claims img
	img=$dir/nvme.img
	mkdir -p "$dir"
	host_nvme_gpt_image "$img"
	cat >"$dir/keel.cfg" <<'CFG'
[vm a]
memory = 32M
kernel = hello.elf
disk = part:keel-a
[vm b]
memory = 32M
kernel = hello.elf
disk = nvme:1,ro
CFG
	QEMU_OPTS="${QEMU_OPTS:-} $(host_nvme_opts "$img")" \
		e2e_boot_svm "$case" "$dir/keel.cfg" 120 "$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel.cfg:8: [vm b] disk = nvme:1: nvme0n1 overlaps nvme0n1p1, vda of [vm a] (line 4); expected a namespace and its partitions in different VMs' disks never both" \
		"no VM started" "!vm a: starting" && e2e_pass "$case"
}

# host-nvme-part-end: a VM's own virtio-blk driver (tests/guests/blk-end.S) writes the last
# sector of its partition keel-a, then at and past the end, where keel must answer IOERR. keel-b
# starts right after keel-a, so a write past the end would land on it: filled here with a pattern,
# as are keel-a's last 8 sectors. Afterwards keel-b still holds its pattern, the last sector holds
# the guest's "blk-end!" x 64, and no other byte of the image changed.
host_nvme_part_end() {
	local case=host-nvme-part-end dir=$out/host-nvme-part-end img last=51199 stray
	img=$dir/nvme.img
	mkdir -p "$dir"
	host_nvme_gpt_image "$img"
	yes keel-b-next | head -c $((49152 * 512)) >"$dir/b.want"
	dd if="$dir/b.want" of="$img" bs=512 seek=51200 conv=notrunc status=none
	yes keel-a-tail | head -c $((8 * 512)) |
		dd of="$img" bs=512 seek=$((last - 7)) conv=notrunc status=none
	cp "$img" "$dir/before.img"
	printf 'blk-end!%.0s' $(seq 64) >"$dir/last.want"
	cat >"$dir/keel.cfg" <<'CFG'
[vm end]
memory = 32M
kernel = blk-end.elf
disk = part:keel-a
CFG
	QEMU_OPTS="${QEMU_OPTS:-} $(host_nvme_opts "$img")" \
		e2e_boot_svm "$case" "$dir/keel.cfg" 120 "$root/build/guests/blk-end.elf"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: disk nvme0n1p1: part:keel-a, 24 MiB" "vm end: disk vda: part:keel-a, 24 MiB" \
		"blk-end: capacity 0x000000000000c000 sectors" "blk-end: f. read 1 sector at 0" \
		"blk-end: done" "!blk-end: FAIL" "vm end: exit code 0" || return
	host_nvme_part "$img" 51200 49152 "$dir/b.img"
	cmp -s "$dir/b.img" "$dir/b.want" ||
		{ e2e_fail "$case" "keel-b, after keel-a's end, changed: $(cmp "$dir/b.img" "$dir/b.want")"; return; }
	host_nvme_part "$img" "$last" 1 "$dir/last.img"
	cmp -s "$dir/last.img" "$dir/last.want" ||
		{ e2e_fail "$case" "keel-a's last sector does not hold the guest's write: $(head -c 32 "$dir/last.img" | od -An -c | head -n1)"; return; }
	# cmp -l: one line per differing byte, numbered from 1; none may lie outside the last sector
	stray=$(cmp -l "$dir/before.img" "$img" | awk -v lo=$((last * 512)) -v hi=$(((last + 1) * 512)) \
		'$1 - 1 < lo || $1 - 1 >= hi { if (!n++) first = $1 - 1 } END { if (n) print n " bytes from sector " int(first / 512) }')
	[ -z "$stray" ] || { e2e_fail "$case" "bytes outside keel-a's last sector changed: $stray"; return; }
	rm -f "$dir/before.img" "$dir/b.img" "$dir/b.want"
	e2e_pass "$case"
}

host_nvme_svm() {
	host_nvme_ns
	host_nvme_powerloss
	host_nvme_parts
	host_nvme_claims
	host_nvme_part_end
}

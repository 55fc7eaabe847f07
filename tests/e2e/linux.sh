# Debian's kernel to its busybox init, through the bzImage path and through PVH (sourced by
# run-svm). /init prints the facts checked here, then powers the VM off.

# linux_case BOOT NAME KERNEL MEMORY_MIB CPUS: BOOT is e2e_boot_svm, e2e_boot_mb2 or e2e_boot_vmx
# (lib.sh). With LINUX_DISKS=1 the VM also gets the two virtio-blk disks linux_disk_checks reads.
linux_case() {
	local boot=$1 name=$2 kernel=$3 memory_mib=$4 cpus=$5
	local dir=$out/$name guest=$root/build/guest
	local cmdline="console=ttyS0 keel.test=$name" disk_lines="" files=()
	mkdir -p "$dir"
	if [ "${LINUX_DISKS:-0}" = 1 ]; then
		linux_disk_images "$dir"
		cmdline+=" keel.disk"
		disk_lines=$'disk = disk.img\ndisk = ro.img,ro'
		files=("$dir/disk.img" "$dir/ro.img")
	fi
	cat >"$dir/keel.cfg" <<CFG
[vm linux]
memory = ${memory_mib}M
cpus = $cpus
kernel = $kernel
initrd = initrd.gz
cmdline = $cmdline
$disk_lines
CFG
	"$boot" "$name" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" "$guest/$kernel" "$guest/initrd.gz" \
		"${files[@]}"
	local log=$out/$name.log
	e2e_ended "$name" || return
	e2e_expect "$name" "KEEL-GUEST-INIT" || return
	local want_version got_version nproc memkb got_cmdline
	want_version=$(cat "$guest/kernel-version")
	got_version=$(sed -n 's/^KEEL-KERNEL: \([^[:space:]]*\).*/\1/p' "$log" | head -n1)
	[ "$got_version" = "$want_version" ] ||
		{ e2e_fail "$name" "kernel version '$got_version', expected '$want_version'"; return; }
	nproc=$(sed -n 's/^KEEL-NPROC: \([0-9]*\).*/\1/p' "$log" | head -n1)
	[ "$nproc" = "$cpus" ] || { e2e_fail "$name" "nproc '$nproc', expected $cpus"; return; }
	memkb=$(sed -n 's/^KEEL-MEMTOTAL-KB: \([0-9]*\).*/\1/p' "$log" | head -n1)
	local total=$((memory_mib * 1024))
	[ -n "$memkb" ] && [ "$memkb" -ge $((total * 85 / 100)) ] && [ "$memkb" -le "$total" ] ||
		{ e2e_fail "$name" "MemTotal '$memkb' kB is not 85-100 % of $total kB"; return; }
	got_cmdline=$(sed -n 's/^KEEL-CMDLINE: \(.*\)/\1/p' "$log" | head -n1 | tr -d '\r')
	[ "$got_cmdline" = "$cmdline" ] ||
		{ e2e_fail "$name" "cmdline '$got_cmdline', expected '$cmdline'"; return; }
	# the PCI bus found through ACPI alone: the host bridge device, MCFG's ECAM, the windows
	# (the 64-bit one from 4 GiB, as long as the emulated CPU's MAXPHYADDR allows);
	# Debian's virtio modules load and virtio-rng gives the guest its bytes
	# every function the VM has and no other: bridge, rng, balloon (and the two disks)
	local nr_pci want_pci=3
	[ "${LINUX_DISKS:-0}" = 1 ] && want_pci=5
	nr_pci=$(grep -ac '^KEEL-PCI: ' "$log")
	[ "$nr_pci" = "$want_pci" ] ||
		{ e2e_fail "$name" "Linux lists $nr_pci PCI functions, expected $want_pci"; return; }
	e2e_expect_all "$name" "KEEL-PCI: 0000:00:00.0 0x1b36:0x0008 class 0x060000" \
		"KEEL-PCI: 0000:00:01.0 0x1af4:0x1044 class 0xff0000 driver virtio-pci" \
		"KEEL-PCI: 0000:00:1e.0 0x1af4:0x1045 class 0xff0000 driver virtio-pci" \
		"!KEEL-INSMOD-FAILED" "KEEL-HWRNG: virtio_rng.0" "KEEL-HWRNG-BYTES: 4096 " \
		"ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00])" \
		"PCI: MMCONFIG for domain 0000 [bus 00-00] at [mem 0xe0000000-0xe00fffff]" \
		"root bus resource [mem 0xc0000000-0xdfffffff window]" \
		"root bus resource [mem 0x100000000-" || return
	if [ "${LINUX_DISKS:-0}" = 1 ]; then
		linux_disk_checks "$name" "$dir" || return
	fi
	e2e_expect "$name" "vm linux: stage 2 maps only its own ${memory_mib} MiB" &&
		e2e_expect "$name" "vm linux: powered off" && e2e_expect "$name" "vm linux: exits total" &&
		e2e_pass "$name"
}

# Two virtio-blk disks in DIR: vda writable (1 MiB), vdb read-only (64 KiB), both random.
linux_disk_images() {
	head -c 1048576 /dev/urandom >"$1/disk.img"
	head -c 65536 /dev/urandom >"$1/ro.img"
}

# linux_disk_checks NAME DIR: the guest (keel.disk) read vda's first 64 KiB (checked against the
# image's), wrote a line to sector 100 and read it back after dropping its caches, and found vdb
# read-only and refusing a write.
linux_disk_checks() {
	local name=$1 want
	want=$(head -c 65536 "$2/disk.img" | md5sum | cut -d' ' -f1)
	e2e_expect_all "$name" "vm linux: disk vda: disk.img, 1 MiB" \
		"vm linux: disk vdb: ro.img, 64 KiB, read-only" \
		"KEEL-PCI: 0000:00:02.0 0x1af4:0x1042 class 0x018000 driver virtio-pci" \
		"KEEL-VDA: 2048 sectors, ro 0" "KEEL-VDA-READ: $want" "KEEL-VDA-WRITE: keel was here" \
		"KEEL-VDB: 128 sectors, ro 1" "KEEL-VDB-WRITE: refused"
}

# linux-net: two Linux VMs on one switch, each with a virtio-net port (a keel.cfg mac for a,
# keel's own for b). Each serves a file made from its address over HTTP and fetches the other's
# (tools/build-guest-images, keel.net): ARP's broadcast is flooded, the replies and the TCP
# stream go to the ports the switch learned, and each file arrives whole, checked against the
# md5 this script computes for it. A third VM, c, is on switch other: its pings to a go
# unanswered, and once a and b have powered off, neither its eth0 nor `stats c` has received a
# frame (a's and b's broadcasts never crossed switches).
linux_net_session() {
	e2e_console_wait "c| KEEL-HOLD" || return
	e2e_console_wait "vm a: powered off" || return
	e2e_console_wait "vm b: powered off" || return
	# the focus left a and b as they stopped, for c (keel's own move): Ctrl-T typed before that
	# move would land after it
	e2e_console_wait "keel: console input goes to vm c" || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'stats c\r'
	e2e_console_wait "    rx: " || return
	e2e_console_focus "vm c" || return
	e2e_console_type '\r'
	e2e_console_wait "vm c: powered off" || return
}

linux_net() {
	local name=linux-net dir=$out/linux-net guest=$root/build/guest
	mkdir -p "$dir"
	local vm cfg=''
	for vm in a b c; do
		cfg+="[vm $vm]
memory = $([ $vm = c ] && echo 128M || echo 256M)
kernel = vmlinuz
initrd = initrd.gz
"
		case $vm in
		a) cfg+="net = lan
mac = 52:54:00:00:00:0a
cmdline = console=ttyS0 keel.net=1,2
" ;;
		b) cfg+="net = lan
cmdline = console=ttyS0 keel.net=2,1
" ;;
		c) cfg+="net = other
cmdline = console=ttyS0 keel.isolated=3 keel.hold
" ;;
		esac
	done
	printf '%s' "$cfg" >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2" e2e_boot_svm_session "$name" "$dir/keel.cfg" \
		"${LINUX_TIMEOUT:-400}" linux_net_session "$guest/vmlinuz" "$guest/initrd.gz"
	[ -z "$e2e_console_error" ] || { e2e_fail "$name" "$e2e_console_error"; return; }
	local from_a from_b
	from_a=$(seq 1 100000 | sed 's/^/10.0.0.1 /' | md5sum | cut -d' ' -f1)
	from_b=$(seq 1 100000 | sed 's/^/10.0.0.2 /' | md5sum | cut -d' ' -f1)
	local size_a size_b
	size_a=$(seq 1 100000 | sed 's/^/10.0.0.1 /' | wc -c)
	size_b=$(seq 1 100000 | sed 's/^/10.0.0.2 /' | wc -c)
	# what Linux's virtio_net takes of keel's offer (bit 0 first): CSUM, GUEST_CSUM, MTU, MAC,
	# GUEST_TSO4/6, HOST_TSO4/6, MRG_RXBUF, STATUS, then INDIRECT_DESC (28), EVENT_IDX (29),
	# VERSION_1 (32)
	local net_features=1101010110011001100000000000110010000000000000000000000000000000
	e2e_ended "$name" && e2e_expect_all "$name" "vm a: net 0: switch lan, mac 52:54:00:00:00:0a" \
		"vm b: net 0: switch lan, mac 02:" "vm c: net 0: switch other, mac 02:" \
		"!KEEL-INSMOD-FAILED" \
		"a| KEEL-PCI: 0000:00:02.0 0x1af4:0x1041 class 0x020000 driver virtio-pci" \
		"a| KEEL-NET-MAC: 52:54:00:00:00:0a" "b| KEEL-NET-MAC: 02:" \
		"a| KEEL-NET-FEATURES: $net_features" "b| KEEL-NET-FEATURES: $net_features" \
		"a| KEEL-NET-GOT: from 10.0.0.2 $size_b bytes, md5 $from_b" \
		"b| KEEL-NET-GOT: from 10.0.0.1 $size_a bytes, md5 $from_a" \
		"a| KEEL-NET-SERVED: 1" "b| KEEL-NET-SERVED: 1" \
		"c| KEEL-ISOLATED: ping 10.0.0.1 unanswered" "    rx: 0 frames, 0 bytes, 0 queued" \
		"c| KEEL-ISOLATED-RX: 0 packets" "vm c: powered off" && e2e_pass "$name"
}

# linux-ext4: vda an ext4 file system this script builds with mke2fs -d around a file of random
# bytes: Linux mounts it and finds the file's sha256, writes a file, syncs, unmounts, mounts again
# and reads the file back (sha256 against this script's).
linux_ext4() {
	local name=linux-ext4 dir=$out/linux-ext4 guest=$root/build/guest
	mkdir -p "$dir/tree"
	head -c 300000 /dev/urandom >"$dir/tree/data"
	rm -f "$dir/ext4.img"
	truncate -s 8M "$dir/ext4.img"
	mke2fs -q -t ext4 -d "$dir/tree" "$dir/ext4.img"
	printf '[vm linux]\nmemory = 256M\nkernel = vmlinuz\ninitrd = initrd.gz\n%s\n%s\n' \
		"cmdline = console=ttyS0 keel.ext4" "disk = ext4.img" >"$dir/keel.cfg"
	e2e_boot_svm "$name" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" "$guest/vmlinuz" \
		"$guest/initrd.gz" "$dir/ext4.img"
	local data written
	data=$(sha256sum <"$dir/tree/data" | cut -d' ' -f1)
	written=$(seq 1 50000 | sha256sum | cut -d' ' -f1)
	e2e_ended "$name" && e2e_expect_all "$name" "vm linux: disk vda: ext4.img, 8 MiB" \
		"KEEL-EXT4-DATA: $data" "KEEL-EXT4-WRITTEN: $written" "!KEEL-INSMOD-FAILED" \
		"!EXT4-fs error" "vm linux: powered off" && e2e_pass "$name"
}

linux_boots() {
	# 512 MiB: with less, the kernel's own reservations put MemTotal under the 85 % bound
	linux_case e2e_boot_svm linux-bzimage vmlinuz 512 1
	# virtio-blk: vda read and written, vdb read-only
	LINUX_DISKS=1 linux_case e2e_boot_svm linux-disks vmlinuz 512 1
	linux_case e2e_boot_svm linux-pvh vmlinux 512 1
	# eight vCPUs on two CPUs: four time-sliced on each, and Linux brings all eight online
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2" linux_case e2e_boot_svm linux-8vcpu-2cpu vmlinuz 512 8
	linux_ext4
	linux_net
	linux_reboot
	linux_hvc
}

# linux_reboot_session: `reboot -f` at the first life's shell, `poweroff -f` at the second's.
linux_reboot_session() {
	e2e_console_wait "keel demo guest: busybox shell" || return
	e2e_console_type 'reboot -f\r'
	e2e_console_wait "vm linux: rebooting, as the guest asked" || return
	e2e_console_wait "keel demo guest: busybox shell" 2 || return
	e2e_console_type 'poweroff -f\r'
	e2e_console_wait "vm linux: powered off" || return
}

# linux-reboot: `reboot` in the guest reboots its VM (on_reboot's default, restart), which boots
# to its shell again; the guest's reset does not count as a crash.
linux_reboot() {
	local name=linux-reboot dir=$out/linux-reboot guest=$root/build/guest
	mkdir -p "$dir"
	printf '[vm linux]\nmemory = 256M\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = %s\n' \
		"console=ttyS0 keel.shell" >"$dir/keel.cfg"
	e2e_boot_svm_session "$name" "$dir/keel.cfg" 400 linux_reboot_session "$guest/vmlinuz" \
		"$guest/initrd.gz"
	[ -z "$e2e_console_error" ] || { e2e_fail "$name" "$e2e_console_error"; return; }
	e2e_ended "$name" && e2e_expect_all "$name" "vm linux: reset" "!vm linux: crashed" \
		"!restarting (" && e2e_before "$name" "vm linux: reset" "vm linux: powered off" &&
		e2e_pass "$name"
}

# linux_hvc_session: once the shell runs on hvc0, a command typed at keel's console (which goes to
# vm linux, the first VM, from the start) runs there and its output comes back through hvc0; then
# `stats linux` at keel's shell shows the device's counters, and `exit` typed back at the VM ends
# the guest's shell, so /init powers the VM off.
linux_hvc_session() {
	e2e_console_wait "linux| keel demo guest: busybox shell on hvc0" || return
	# its prompt first: /init prints the line above before it starts the shell, and a line typed
	# before the shell ran was echoed but never executed (seen with both CPUs busy)
	e2e_console_wait "linux| / # " || return
	e2e_console_type 'echo KEEL-TYPED-$((6*7)) $(tty)\r'
	e2e_console_wait "linux| KEEL-TYPED-42 /dev/hvc0" || return
	# the shell's view of the device: the 32 bytes typed went through, none waits or was dropped
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'stats linux\r'
	e2e_console_wait "dropped: buffer-full=" || return
	e2e_console_focus "vm linux" || return
	e2e_console_type 'exit\r'
	e2e_console_wait "vm linux: powered off" || return
}

# linux-hvc: keel.cfg's console = virtio gives Linux a virtio console at 00:1f.0 (Debian's
# virtio_console module), and console=hvc0 makes it the kernel's console. What the guest writes to
# hvc0 reaches keel's console as a UART's output does, line by line with the `linux| ` prefix (a
# second VM, the hello guest, makes keel prefix); what is typed at keel's console reaches the
# shell on hvc0 through the receive queue. The UART still carries the early lines.
linux_hvc() {
	local name=linux-hvc dir=$out/linux-hvc guest=$root/build/guest
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm linux]
memory = 256M
kernel = vmlinuz
initrd = initrd.gz
console = virtio
cmdline = console=ttyS0 console=hvc0 keel.hvc
[vm hello]
memory = 32M
kernel = hello.elf
CFG
	e2e_boot_svm_session "$name" "$dir/keel.cfg" 400 linux_hvc_session "$guest/vmlinuz" \
		"$guest/initrd.gz" "$root/build/guests/hello.elf"
	[ -z "$e2e_console_error" ] || { e2e_fail "$name" "$e2e_console_error"; return; }
	e2e_ended "$name" && e2e_expect_all "$name" \
		"vm linux: console: virtio-console at 00:1f.0 takes its input" \
		"linux| KEEL-GUEST-INIT" \
		"linux| KEEL-PCI: 0000:00:1f.0 0x1af4:0x1043 class 0x078000 driver virtio-pci" \
		"linux| KEEL-HVC-OUT: written to hvc0" "!KEEL-INSMOD-FAILED" \
		"linux| KEEL-TYPED-42 /dev/hvc0" "linux| KEEL-GUEST-DONE" "vm hello: exit code 0" \
		"  console: virtio" "    rx: 32 bytes, 0 waiting; dropped: buffer-full=0; empty-chains=0" \
		"vm linux: powered off" "!vm linux: crashed" "!needs a reset" &&
		e2e_before "$name" "linux| KEEL-GUEST-INIT" "linux| KEEL-HVC-OUT" && e2e_pass "$name"
}

# Guest I/O in keel.cfg (sourced by run-svm): disk images loaded at boot and handed to their VM's
# block backends, on UEFI and on Multiboot2, virtio-net devices on keel's switches, and the
# keel.cfg errors of the I/O keys. These cases check the loading, the log line per disk and net,
# and that hv_vm_destroy gives the backends and devices back; linux-disks (linux.sh) has Linux
# read and write the disks through virtio-blk.

# disk_case BOOT CASE: the hello guest with a writable 1 MiB disk and a read-only 64 KiB one;
# keel must log a line per disk, run the guest to exit code 0 and, once the VM is destroyed, have
# its own memory back where it was before the VM.
disk_case() {
	local boot=$1 case=$2 dir=$out/$2
	mkdir -p "$dir"
	dd if=/dev/zero of="$dir/disk.img" bs=1M count=1 status=none
	dd if=/dev/zero of="$dir/ro.img" bs=1K count=64 status=none
	cat >"$dir/keel.cfg" <<CFG
[vm hello]
memory = 32M
kernel = hello.elf
disk = disk.img
disk = ro.img,ro
console = uart
CFG
	"$boot" "$case" "$dir/keel.cfg" 60 "$root/build/guests/hello.elf" "$dir/disk.img" \
		"$dir/ro.img"
	e2e_ended "$case" && e2e_expect_all "$case" "vm hello: disk vda: disk.img, 1 MiB" \
		"vm hello: disk vdb: ro.img, 64 KiB, read-only" "vm hello: exit code 0" &&
		e2e_before "$case" "vm hello: disk vdb" "vm hello: starting" &&
		restart_destroyed "$case" && e2e_pass "$case"
}

# net_case BOOT CASE: the hello guest (which ignores PCI) with two virtio-net devices after a disk:
# net 0 on switch lan with keel.cfg's MAC, net 1 on switch dmz with keel's (net_mac_for("hello",
# 1), the same on every boot). keel must log both before the VM starts, attach their ports, run
# the guest to exit code 0 (the ports leave their switches when it stops) and give the devices'
# pages back when it destroys the VM.
net_case() {
	local boot=$1 case=$2 dir=$out/$2
	mkdir -p "$dir"
	dd if=/dev/zero of="$dir/disk.img" bs=64K count=1 status=none
	cat >"$dir/keel.cfg" <<CFG
[switch dmz]
[vm hello]
memory = 32M
kernel = hello.elf
disk = disk.img
net = lan
mac = 52:54:00:12:34:56
net = dmz
CFG
	"$boot" "$case" "$dir/keel.cfg" 60 "$root/build/guests/hello.elf" "$dir/disk.img"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"vm hello: net 0: switch lan, mac 52:54:00:12:34:56" \
		"vm hello: net 1: switch dmz, mac 02:1e:8f:ac:c8:c0 (keel's, from the VM's name)" \
		"vm hello: exit code 0" &&
		e2e_before "$case" "vm hello: net 1" "vm hello: starting" &&
		restart_destroyed "$case" && e2e_pass "$case"
}

# console_virtio_case BOOT CASE: the hello guest (which ignores PCI) with console = virtio: keel
# logs the device before the VM starts, the guest's UART output still reaches keel's console, the
# guest ends with exit code 0 and the VM's pages come back when it is destroyed.
console_virtio_case() {
	local boot=$1 case=$2 dir=$out/$2
	mkdir -p "$dir"
	printf '[vm hello]\nmemory = 32M\nkernel = hello.elf\nconsole = virtio\n' >"$dir/keel.cfg"
	"$boot" "$case" "$dir/keel.cfg" 60 "$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"vm hello: console: virtio-console at 00:1f.0 takes its input" \
		"hello from a keel test guest" "vm hello: exit code 0" &&
		e2e_before "$case" "vm hello: console: virtio-console" "vm hello: starting" &&
		restart_destroyed "$case" && e2e_pass "$case"
}

# disk_errors [CASE...]: the keel.cfg errors of the I/O keys (all of them without arguments)
disk_errors() {
	local k=$out/cfg-files c
	mkdir -p "$k"
	head -c 4096 /dev/zero >"$k/kernel"
	head -c 1000 /dev/zero >"$k/odd.img"
	local odd="keel.cfg:4: disk odd.img (1000 bytes) is not a whole number of 512-byte sectors;"
	odd+=" expected a raw image whose size is a multiple of 512"
	local cases=("$@")
	local h=$root/build/guests/hello.elf
	# nine switch names: eight sections (lines 1-8), then [vm a] (line 9) names a ninth
	local nine='' n
	for n in 0 1 2 3 4 5 6 7; do nine+="[switch s$n]\\n"; done
	nine+='[vm a]\nmemory = 32M\nkernel = hello.elf\nnet = s8\n'
	# seventeen nets on one switch: four each in [vm a] to [vm d], then [vm e]'s first (line 32)
	local full='' v
	for v in a b c d e; do
		full+="[vm $v]\\nmemory = 32M\\nkernel = hello.elf\\n"
		full+='net = lan\nnet = lan\nnet = lan\nnet = lan\n'
	done
	[ $# -gt 0 ] || cases=(cfg-bad-mac cfg-disk-odd-size mb2-cfg-disk-odd-size cfg-disk-part
		cfg-uplink cfg-net-bad-switch cfg-net-switches cfg-net-ports cfg-console-bad)
	for c in "${cases[@]}"; do
		case $c in
		cfg-bad-mac)
			config_case e2e_boot_svm "$c" "keel.cfg:5: mac = 01:00:5e:00:00:01 is a multicast address; expected a unicast address" \
				'[vm a]\nmemory = 64M\nkernel = kernel\nnet = lan\nmac = 01:00:5e:00:00:01\n' "$k/kernel" ;;
		cfg-disk-odd-size)
			config_case e2e_boot_svm "$c" "$odd" \
				'[vm a]\nmemory = 64M\nkernel = kernel\ndisk = odd.img\n' "$k/kernel" "$k/odd.img" ;;
		mb2-cfg-disk-odd-size)
			config_case e2e_boot_mb2 "$c" "$odd" \
				'[vm a]\nmemory = 64M\nkernel = kernel\ndisk = odd.img\n' "$k/kernel" "$k/odd.img" ;;
		cfg-disk-part)
			# no NVMe controller under this QEMU: no partitions; found when the VM is built
			config_case e2e_boot_svm "$c" "keel.cfg:4: [vm a] disk = part:root: no GPT partition named root on keel's disks; expected the name of one" \
				'[vm a]\nmemory = 32M\nkernel = hello.elf\ndisk = part:root\n' "$h" ;;
		cfg-uplink)
			# no NIC under this QEMU (-net none): found when the VMs are built
			config_case e2e_boot_svm "$c" "keel.cfg:2: [switch lan] uplink: keel has no nic0; expected one of the 0 NICs it listed" \
				'[switch lan]\nuplink = nic0\n[vm a]\nmemory = 32M\nkernel = hello.elf\nnet = lan\n' "$h" ;;
		# nets keel cannot give: the parser's name check, then the registry's limits when the
		# VMs are built (a real kernel, as the kernel loads first); no VM half built
		cfg-net-bad-switch)
			config_case e2e_boot_svm "$c" "keel.cfg:4: bad switch name 'a b'; expected 1 to 31 letters, digits, '-' or '_'" \
				'[vm a]\nmemory = 64M\nkernel = kernel\nnet = a b\n' "$k/kernel" ;;
		cfg-net-switches)
			config_case e2e_boot_svm "$c" "keel.cfg:12: [vm a] net = s8: more than 8 switches; expected at most 8 different switch names" \
				"$nine" "$h" ;;
		cfg-net-ports)
			config_case e2e_boot_svm "$c" "keel.cfg:32: [vm e] net = lan: switch lan has 16 nets already; expected at most 16 nets on one switch" \
				"$full" "$h" ;;
		# a console keel has no device for: refused by the parser, no VM half built
		cfg-console-bad)
			config_case e2e_boot_svm "$c" "keel.cfg:4: bad console value 'hvc'; expected uart or virtio" \
				'[vm a]\nmemory = 64M\nkernel = hello.elf\nconsole = hvc\n' "$root/build/guests/hello.elf" ;;
		*) e2e_fail "$c" "no such case" ;;
		esac
	done
}

disks_svm() {
	disk_case e2e_boot_svm disk-hello
	disk_case e2e_boot_mb2 mb2-disk-hello
	net_case e2e_boot_svm net-hello
	console_virtio_case e2e_boot_svm console-virtio-hello
	disk_errors
}

# Hostile guests (tests/guests/, docs/testing.md "Hostile guests"): each attack is a tiny Multiboot
# guest; keel must stay up, answer as the docs say, log what it did, and power off by itself at
# the end. Several VMs share one boot (keel runs a config's VMs one after another), which keeps
# OVMF's start-up out of each case and shows that a VM crashing or resetting stops only itself.
# Sourced by run-svm.

# hostile_boot NAME TIMEOUT SPEC...: boots one keel.cfg whose VMs are SPECs "vmname guest [cmdline]"
# (32 MiB each, pinned to CPU 1 one after the other); every guest ELF comes from build/guests/.
# Beside them, on CPU 0, Debian's kernel boots to init and powers off: the attacks must not
# disturb it (the issue: each attack runs beside a Linux guest).
hostile_boot() {
	local name=$1 timeout=$2
	shift 2
	local dir=$out/$name spec vm guest cmdline files=()
	mkdir -p "$dir"
	printf '[vm linux]\nmemory = 512M\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = console=ttyS0\n\n' \
		>"$dir/keel.cfg"
	for spec in "$@"; do
		read -r vm guest cmdline <<<"$spec"
		# on_reboot = stop: a guest that resets ends its case instead of starting over
		printf '[vm %s]\nmemory = 32M\nkernel = %s.elf\ncmdline = %s %s\npin = 1\non_reboot = stop\n\n' \
			"$vm" "$guest" "$vm" "$cmdline" >>"$dir/keel.cfg"
		files+=("$root/build/guests/$guest.elf")
	done
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2" e2e_boot_svm "$name" "$dir/keel.cfg" "$timeout" \
		$(printf '%s\n' "${files[@]}" | sort -u) "$root/build/guest/vmlinuz" \
		"$root/build/guest/initrd.gz"
	hostile_boot_ok=1
	e2e_ended "$name" && e2e_expect "$name" "keel: every VM has stopped" &&
		e2e_expect "$name" "linux| KEEL-KERNEL: $(cat "$root/build/guest/kernel-version")" &&
		e2e_expect "$name" "vm linux: powered off" || hostile_boot_ok=0
	echo "boot $name: $# VMs beside Linux, $qemu_secs s"
}

# hostile_case BOOT VM LINE [CHECK...]: the VM's run ended with LINE (e.g. "exit code 0",
# "reset", "crashed: triple fault") and keel counted its exits; each CHECK is a function called
# with BOOT and VM for the case's own log checks. One PASS or FAIL line per VM.
hostile_case() {
	local boot=$1 vm=$2 line=$3 check
	shift 3
	[ "$hostile_boot_ok" = 1 ] || { e2e_fail "$boot" "case $vm: the boot failed"; return; }
	grep -aqF -- "vm $vm: starting" "$out/$boot.log" ||
		{ e2e_fail "$boot" "case $vm: no 'vm $vm: starting'"; return; }
	grep -aqF -- "vm $vm: $line" "$out/$boot.log" ||
		{ e2e_fail "$boot" "case $vm: no line 'vm $vm: $line'"; return; }
	grep -aqF -- "vm $vm: exits total" "$out/$boot.log" ||
		{ e2e_fail "$boot" "case $vm: no exit counts"; return; }
	for check in "$@"; do
		$check "$boot" "$vm" || return
	done
	echo "PASS $boot/$vm: $line"
	e2e_passed=$((e2e_passed + 1))
}

# hostile_count BOOT VM FIXED-STRING: how many of VM's lines hold the string.
hostile_count() {
	grep -aF -- "vm $2: " "$out/$1.log" | grep -acF -- "$3"
}

# hostile_bounded BOOT VM FIXED-STRING MIN MAX: MIN <= count <= MAX.
hostile_bounded() {
	local n
	n=$(hostile_count "$1" "$2" "$3")
	[ "$n" -ge "$4" ] && [ "$n" -le "$5" ] || {
		e2e_fail "$1" "case $2: $n lines with '$3', expected $4..$5"
		return 1
	}
}

# keel's unclaimed-access log is a token bucket: 16 lines at once, then one a second
# (vdev/io_bus.c); the whole boot's length bounds what a VM can print.
check_msr_log() {
	grep -aqF "vm $2: rdmsr 0x480: not offered, #GP" "$out/$1.log" ||
		{ e2e_fail "$1" "case $2: no 'rdmsr 0x480: not offered, #GP'"; return 1; }
	# keel reports each refused MSR once, at most 32 of them per VM (core/vm.h msr_logged)
	hostile_bounded "$1" "$2" "not offered, #GP" 32 32
}
check_ports_log() {
	hostile_bounded "$1" "$2" "unclaimed I/O port" 16 $((16 + qemu_secs))
}
check_mmio_log() {
	hostile_bounded "$1" "$2" "unclaimed MMIO page" 16 $((16 + qemu_secs)) &&
		hostile_logged "$1" "$2" "unclaimed MMIO page 0x2000000: 4-byte read at 0x2000000, all ones"
}
check_pagetables_log() {
	hostile_logged "$1" "$2" "unclaimed MMIO page 0x40000000: 4-byte read" &&
		hostile_logged "$1" "$2" "unclaimed MMIO page 0x123456000: 4-byte read"
}
check_smc_log() {
	hostile_logged "$1" "$2" "unclaimed MMIO page 0xd0000000: 4-byte read"
}
# a VM that reset, powered off or crashed never reached the exit port (the guests write 4 there
# when the attack did not stop them)
check_no_exit_code() {
	! grep -aqF "vm $2: exit code" "$out/$1.log" ||
		{ e2e_fail "$1" "case $2: the guest was still running after the attack"; return 1; }
}

# hostile_logged BOOT VM FIXED-STRING: one of VM's lines holds the string.
hostile_logged() {
	[ "$(hostile_count "$1" "$2" "$3")" -gt 0 ] ||
		{ e2e_fail "$1" "case $2: no line 'vm $2: ...$3'"; return 1; }
}

hostile_guests() {
	# the attacks that run to their end: exit code 0
	hostile_boot hostile 180 "msr msr" "ports ports" "memory memory" "pagetables pagetables" \
		"smc-mmio smc-mmio"
	hostile_case hostile msr "exit code 0" check_msr_log
	hostile_case hostile ports "exit code 0" check_ports_log
	hostile_case hostile memory "exit code 0" check_mmio_log
	hostile_case hostile pagetables "exit code 0" check_pagetables_log
	hostile_case hostile smc-mmio "exit code 0" check_smc_log

	# the attacks that stop their VM; each stops only itself (hello runs after them all)
	hostile_boot hostile-stops 120 "port-cf9 ports mode=cf9" "port-kbc ports mode=kbc" \
		"port-92 ports mode=p92" "port-pm1 ports mode=pm1" "mmio-fetch mmio-fetch" \
		"mmio-fetch-apic mmio-fetch mode=apic" "mmio-fetch-beyond mmio-fetch mode=beyond" \
		"triple-fault triple-fault" "pagetables-hole pagetables mode=pt-in-hole" \
		"pagetables-apic pagetables mode=pt-in-apic" "memory-straddle memory mode=straddle" \
		"hello hello"
	local b=hostile-stops
	hostile_case $b port-cf9 "reset" check_no_exit_code
	hostile_case $b port-kbc "reset" check_no_exit_code
	hostile_case $b port-92 "reset" check_no_exit_code
	hostile_case $b port-pm1 "powered off" check_no_exit_code
	hostile_case $b mmio-fetch "crashed: instruction fetch from MMIO at c0000000"
	hostile_case $b mmio-fetch-apic "crashed: instruction fetch from MMIO at fee00000"
	hostile_case $b mmio-fetch-beyond "crashed: instruction fetch from MMIO at 2000000"
	hostile_case $b triple-fault "crashed: triple fault"
	hostile_case $b pagetables-hole \
		"crashed: page table outside RAM on the way to c0005000 (fault at 40000028)"
	hostile_case $b pagetables-apic \
		"crashed: page table outside RAM on the way to c0005000 (fault at fee00028)"
	# a dword across the end of RAM: the RAM half goes to RAM, the rest is unclaimed
	hostile_case $b memory-straddle "exit code 0"
	hostile_case $b hello "exit code 0"
}

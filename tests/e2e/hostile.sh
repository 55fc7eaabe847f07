# Hostile guests (tests/guests/, docs/testing.md "Hostile guests"): each attack is a tiny Multiboot
# guest; keel must stay up, answer as the docs say, log what it did, and power off by itself at
# the end. Several VMs share one boot (keel runs a config's VMs one after another), which keeps
# OVMF's start-up out of each case and shows that a VM crashing or resetting stops only itself.
# Sourced by run-svm.

# hostile_boot NAME TIMEOUT SPEC...: boots one keel.cfg whose VMs are SPECs "vmname guest [cmdline]"
# (32 MiB each); every guest ELF comes from build/guests/.
hostile_boot() {
	local name=$1 timeout=$2
	shift 2
	local dir=$out/$name spec vm guest cmdline files=()
	mkdir -p "$dir"
	: >"$dir/keel.cfg"
	for spec in "$@"; do
		read -r vm guest cmdline <<<"$spec"
		printf '[vm %s]\nmemory = 32M\nkernel = %s.elf\ncmdline = %s %s\n\n' "$vm" "$guest" \
			"$vm" "$cmdline" >>"$dir/keel.cfg"
		files+=("$root/build/guests/$guest.elf")
	done
	e2e_boot_svm "$name" "$dir/keel.cfg" "$timeout" $(printf '%s\n' "${files[@]}" | sort -u)
	hostile_boot_ok=1
	e2e_ended "$name" && e2e_expect "$name" "keel: every VM has stopped" || hostile_boot_ok=0
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
	hostile_bounded "$1" "$2" "unclaimed MMIO page" 16 $((16 + qemu_secs))
}

hostile_guests() {
	# the attacks that run to their end: exit code 0
	hostile_boot hostile 180 "msr msr" "ports ports" "memory memory"
	hostile_case hostile msr "exit code 0" check_msr_log
	hostile_case hostile ports "exit code 0" check_ports_log
	hostile_case hostile memory "exit code 0" check_mmio_log
}

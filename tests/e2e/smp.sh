# Every host CPU (sourced by run-svm and run-vmx): keel starts the APs the host MADT lists, runs a
# test job on each through its mailbox, and the hello test guest still runs on the boot CPU; then
# several VMs on the host's CPUs, and one VM with several vCPUs (the smp test guest).

# smp_case BOOT CASE CPUS [FIXED-STRING...]: the hello guest booted by BOOT (e2e_boot_svm,
# e2e_boot_mb2 or e2e_boot_vmx) on a host with CPUS processors (QEMU's -smp, Bochs' cpu count);
# the log must say that CPUS CPUs are online and that every AP answered its test job, plus each
# FIXED-STRING.
smp_case() {
	local boot=$1 case=$2 cpus=$3
	shift 3
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm hello]
memory = 32M
kernel = hello.elf
cmdline = keel test guest hello
CFG
	local online=${cpus%%,*} want
	QEMU_OPTS="${QEMU_OPTS:-} --smp $cpus" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus $cpus" \
		"$boot" "$case" "$dir/keel.cfg" 90 "$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect "$case" "keel: $online CPUs online" || return
	if [ "$online" -gt 1 ]; then
		want="keel: job mailbox: $((online - 1)) of $((online - 1)) APs ran a test job"
		e2e_expect "$case" "$want" || return
	fi
	e2e_expect_all "$case" "$@" || return
	e2e_reject "$case" "did not start" && e2e_expect "$case" "vm hello: exit code 0" &&
		e2e_pass "$case"
}

smp_boots_svm() {
	smp_case e2e_boot_svm smp-efi 4 "keel: cpu 3: APIC ID 3 online"
	smp_case e2e_boot_mb2 smp-mb2 4 "keel: cpu 3: APIC ID 3 online"
	# QEMU lists CPU 1 as present but disabled (not online-capable): skipped, not started
	smp_case e2e_boot_svm smp-disabled 1,maxcpus=2 "keel: 1 disabled CPUs in the MADT skipped"
}

smp_boots_vmx() {
	smp_case e2e_boot_vmx vmx-smp 2 "keel: cpu 1: APIC ID 1 online"
}

# two_vms_case BOOT CASE CPUS CONFIG-TEXT EXPECTED...: several VMs of one keel.cfg on a host with
# CPUS processors; each EXPECTED fixed string must be in the log (guest lines carry "NAME| ").
# A string starting with '!' must not be. two_vms_check does the same without the PASS line.
two_vms_case() {
	two_vms_check "$@" && e2e_pass "$2"
}

two_vms_check() {
	local boot=$1 case=$2 cpus=$3 text=$4
	shift 4
	local dir=$out/$case
	mkdir -p "$dir"
	printf '%b' "$text" >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --smp $cpus" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus $cpus" \
		"$boot" "$case" "$dir/keel.cfg" 300 "$root/build/guests/hello.elf" \
		"$root/build/guests/triple-fault.elf" "$root/build/guests/isolation.elf" \
		"$root/build/guest/vmlinuz" "$root/build/guest/initrd.gz"
	e2e_ended "$case" || return
	e2e_expect_all "$case" "$@" || return
	e2e_expect "$case" "keel: every VM has stopped"
}

# isolation_case BOOT CASE MODE: the isolation guest (tests/guests/isolation.S) as a victim on
# CPU 0 that fills its RAM with a marker and keeps checking it, and as an attacker on CPU 1 that
# looks for the marker everywhere it can address and writes garbage outside its RAM; both must end
# with exit code 0, and the attack must have run while the victim held and checked its marker.
# MODE "console" (QEMU): nothing is timed; a scripted console session types a key to the attacker
# once the victim's marker is in place, and a key to the victim once the attacker is done
# (isolation_session). MODE "seconds=N" (Bochs, whose clock runs by instructions, not wall time):
# the attacker starts after one second of its PM timer and the victim checks for N seconds.
isolation_case() {
	local boot=$1 case=$2 mode=$3
	local cfg="[vm victim]\nmemory = 32M\nkernel = isolation.elf\ncmdline = victim $mode\n"
	cfg+="pin = 0\n\n[vm attacker]\nmemory = 32M\nkernel = isolation.elf\n"
	cfg+="cmdline = attacker $mode\npin = 1\n"
	two_vms_check "$boot" "$case" 2 "$cfg" "vm attacker: runs on cpu 1 (pinned)" \
		"!vm victim: runs on" \
		"attacker| attacker: the marker never showed; exit code 0" "vm attacker: exit code 0" \
		"victim| victim: pattern intact after passes" "vm victim: exit code 0" "!: FAIL" &&
		e2e_before "$case" "victim| victim: marker in place" "attacker| attacker: scanning" &&
		e2e_before "$case" "vm attacker: exit code 0" "victim| victim: pattern intact" &&
		e2e_pass "$case"
}

# isolation_session: the console side of isolation_case's "console" mode.
isolation_session() {
	e2e_console_wait "victim| victim: marker in place" || return
	e2e_console_wait "attacker| attacker: waiting for a key" || return
	e2e_console_focus "vm attacker" || return
	e2e_console_type 'g'
	e2e_console_wait "vm attacker: exit code" || return
	# the attacker had the focus: when it stops, keel moves it on to the victim by itself (a
	# Ctrl-T typed meanwhile would move it on once more, to the shell); the first such line was
	# keel's "console input goes to vm victim; Ctrl-T ..." at the start
	e2e_console_wait "keel: console input goes to vm victim" 2 || return
	e2e_console_type 'd'
	e2e_console_wait "vm victim: exit code" || return
}

# e2e_boot_svm_isolation NAME CONFIG TIMEOUT FILE...: e2e_boot_svm with isolation_session
# working the console.
e2e_boot_svm_isolation() {
	local name=$1 cfg=$2 timeout=$3
	shift 3
	e2e_boot_svm_session "$name" "$cfg" "$timeout" isolation_session "$@"
	[ -z "$e2e_console_error" ] || echo "$name: $e2e_console_error" >>"$out/$name.log"
}

smp_vms_svm() {
	local version
	version=$(cat "$root/build/guest/kernel-version")
	local cfg='[vm linux]\nmemory = 512M\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = console=ttyS0\n\n'
	cfg+='[vm hello]\nmemory = 32M\nkernel = hello.elf\ncmdline = side by side\n'
	# a CPU each: both run at once, their lines prefixed and whole
	two_vms_case e2e_boot_svm smp-two-vms 2 "$cfg" "vm hello: runs on cpu 1" \
		"hello| hello from a keel test guest" "hello| cmdline: side by side" \
		"vm hello: exit code 0" "linux| KEEL-KERNEL: $version" "linux| KEEL-NPROC: 1" \
		"vm linux: powered off"
	# a crashing VM beside Linux: rebuilt and restarted up to its limit, Linux unharmed
	local crash='[vm linux]\nmemory = 512M\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = console=ttyS0\n\n'
	crash+='[vm c]\nmemory = 32M\nkernel = triple-fault.elf\non_crash = restart\nrestart_limit = 2\n'
	two_vms_case e2e_boot_svm smp-crash-restart 2 "$crash" "vm c: runs on cpu 1" \
		"vm c: crashed: triple fault" "vm c: restarting (1 of 2)" "vm c: restarting (2 of 2)" \
		"vm c: restart limit 2 reached; the VM stays stopped" "!restarting (3 of" \
		"linux| KEEL-KERNEL: $version" "vm linux: powered off"
	# pin: Linux and b share CPU 2 (one after the other), a takes CPU 0
	local pin='[vm linux]\nmemory = 512M\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = console=ttyS0\npin = 2\n\n'
	pin+='[vm a]\nmemory = 32M\nkernel = hello.elf\ncmdline = a\n\n'
	pin+='[vm b]\nmemory = 32M\nkernel = hello.elf\ncmdline = b\npin = 2\n'
	two_vms_case e2e_boot_svm smp-pin 3 "$pin" "vm linux: runs on cpu 2 (pinned)" \
		"vm b: runs on cpu 2 (pinned)" "!vm a: runs on" "a| cmdline: a" "b| cmdline: b" \
		"vm a: exit code 0" "vm b: exit code 0" "vm linux: powered off"
	# no VM reaches another's memory: an attacker beside a victim, each on its own CPU
	isolation_case e2e_boot_svm_isolation smp-isolation console
	# one CPU: the second VM waits for the first, prefixes all the same
	two_vms_case e2e_boot_svm smp-two-vms-one-cpu 1 "$cfg" "!runs on cpu" \
		"hello| cmdline: side by side" "vm hello: exit code 0" \
		"linux| KEEL-KERNEL: $version" "vm linux: powered off"
}

smp_vms_vmx() {
	local cfg='[vm a]\nmemory = 32M\nkernel = hello.elf\ncmdline = vm a\n\n'
	cfg+='[vm b]\nmemory = 32M\nkernel = hello.elf\ncmdline = vm b\n'
	cfg+='\n[vm c]\nmemory = 32M\nkernel = triple-fault.elf\non_crash = restart\nrestart_limit = 1\n'
	two_vms_case e2e_boot_vmx vmx-two-vms 2 "$cfg" "vm b: runs on cpu 1" "a| cmdline: vm a" \
		"b| cmdline: vm b" "vm a: exit code 0" "vm b: exit code 0" \
		"vm c: crashed: triple fault" "vm c: restarting (1 of 1)" \
		"vm c: restart limit 1 reached"
	isolation_case e2e_boot_vmx vmx-isolation seconds=8
}

# smp_guest_case BOOT CASE HOST-CPUS VCPUS [FIXED-STRING...]: the SMP test guest
# (tests/guests/smp.S) as a VM with cpus = VCPUS on a host with HOST-CPUS processors. It must
# start every AP, see each IPI step's counts exactly, find every CPU's XMM0-7, MXCSR and LSTAR
# its own after each round, and end with exit code 0; each FIXED-STRING must be in the log too
# (one starting with '!' must not).
smp_guest_case() {
	local boot=$1 case=$2 host=$3 vcpus=$4
	shift 4
	local dir=$out/$case want i
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm smp]
memory = 32M
cpus = $vcpus
kernel = smp.elf
cmdline = keel test guest smp
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --smp $host" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus $host" \
		"$boot" "$case" "$dir/keel.cfg" 120 "$root/build/guests/smp.elf"
	e2e_ended "$case" && e2e_expect "$case" "vm smp: starting" &&
		e2e_expect "$case" "smp: the MADT lists $vcpus CPUs" || return
	for ((i = 1; i < vcpus; i++)); do
		e2e_expect "$case" "smp: cpu $i: APIC ID $i online, the LAPIC ID register and CPUID" ||
			return
	done
	for want in "fixed IPI to each AP (physical destination)" \
		"fixed IPI to the odd APs (logical flat destination)" \
		"fixed IPI to all excluding self" "NMI IPI to the last AP" \
		"fixed IPI from each AP to the BSP (vector 0x60 + its number)"; do
		e2e_expect "$case" "smp: $want: counts per CPU" || return
	done
	for ((i = 0; i < vcpus; i++)); do
		e2e_expect "$case" "smp: cpu $i: XMM0-7, MXCSR and IA32_LSTAR kept its own values" ||
			return
	done
	e2e_expect_all "$case" "$@" || return
	e2e_reject "$case" "FAIL" && e2e_expect "$case" "smp: $vcpus CPUs, every check held" &&
		e2e_expect "$case" "vm smp: exit code 0" && e2e_expect "$case" "vm smp: exits total" &&
		e2e_pass "$case"
}

# SVM: a physical CPU per vCPU, then four vCPUs time-sliced on two CPUs
smp_guest_svm() {
	smp_guest_case e2e_boot_svm smp-guest 4 4 "vm smp: vcpu 3 runs on cpu 3" "!time-slices"
	smp_guest_case e2e_boot_svm smp-guest-sliced 2 4 "keel: cpu 0 time-slices 2 vCPUs" \
		"keel: cpu 1 time-slices 2 vCPUs"
}

# VT-x under Bochs (one thread for every CPU): two vCPUs on one CPU, then on two. Bochs does
# not repeat injected events as QEMU's SVM does (tests/guests/smp.S HANDLER): none may show.
smp_guest_vmx() {
	smp_guest_case e2e_boot_vmx vmx-smp-guest-sliced 1 2 "keel: cpu 0 time-slices 2 vCPUs" \
		"!deliveries repeated"
	smp_guest_case e2e_boot_vmx vmx-smp-guest 2 2 "vm smp: vcpu 1 runs on cpu 1" "!time-slices" \
		"!deliveries repeated"
}

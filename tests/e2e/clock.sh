# Guest time across vCPUs (issue 13; sourced by run-svm and run-vmx): the SMP test guest's clock
# test (tests/guests/smp-clock.inc) reads kvm-clock and the TSC on every vCPU at once for 10 s
# of guest time, publishing each read; no read may come out below one another vCPU published
# before it. keel's boot verdict on the TSC must match what the guest finds: the stable bit set
# in CPUID and in every kvm-clock structure exactly when keel says kvm-clock is offered stable.

# clock_case BOOT CASE HOST-CPUS VCPUS [FIXED-STRING...]
clock_case() {
	local boot=$1 case=$2 host=$3 vcpus=$4 seconds=10
	shift 4
	local dir=$out/$case stable
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm smp]
memory = 32M
cpus = $vcpus
kernel = smp.elf
cmdline = keel test guest smp clock=$seconds
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --smp $host" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus $host" \
		"$boot" "$case" "$dir/keel.cfg" 300 "$root/build/guests/smp.elf"
	e2e_ended "$case" && e2e_expect "$case" "keel: TSC: " || return
	stable=clear
	grep -aqF "kvm-clock is offered stable" "$out/$case.log" && stable=set
	e2e_expect_all "$case" "$@" \
		"smp: clock: $seconds s of kvm-clock on $vcpus CPUs, stable bit $stable in CPUID and $stable in the structure" \
		"!FAIL" "vm smp: exit code 0" || return
	grep -aq "smp: clock: .* reads of each clock, 0 steps back" "$out/$case.log" ||
		{ e2e_fail "$case" "a clock stepped back"; return; }
	e2e_pass "$case"
}

clock_svm() {
	clock_case e2e_boot_svm clock 2 2 "vm smp: vcpu 1 runs on cpu 1" "!time-slices"
	clock_case e2e_boot_svm clock-sliced 1 3 "keel: cpu 0 time-slices 3 vCPUs"
	drift_case e2e_boot_svm drift 60
}

clock_vmx() {
	clock_case e2e_boot_vmx vmx-clock 2 2 "vm smp: vcpu 1 runs on cpu 1" "!time-slices"
	clock_case e2e_boot_vmx vmx-clock-sliced 1 2 "keel: cpu 0 time-slices 2 vCPUs"
	drift_case e2e_boot_vmx vmx-drift 60
}

# linux-clock: Debian's kernel with 4 vCPUs time-sliced on 2 CPUs; tests/linux/clockwarp.c reads
# CLOCK_MONOTONIC and CLOCK_REALTIME on every CPU at once for 10 s (a thread pinned to each) and
# finds no read below one another CPU made before it. The kernel runs on kvm-clock; its
# clocksource watchdog never complains and its TSC sync check measures no warp. (It does mark the
# TSC itself unstable, "TSCs unsynchronized", by policy and without measuring: an AMD CPU without
# an invariant TSC, as QEMU's TCG EPYC is, with more than one CPU.)
linux_clock() {
	local case=linux-clock dir=$out/linux-clock guest=$root/build/guest line
	mkdir -p "$dir"
	printf '[vm linux]\nmemory = 512M\ncpus = 4\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = %s\n' \
		"console=ttyS0 keel.clock" >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2" e2e_boot_svm "$case" "$dir/keel.cfg" \
		"${LINUX_TIMEOUT:-400}" "$guest/vmlinuz" "$guest/initrd.gz"
	e2e_ended "$case" && e2e_expect_all "$case" "keel: cpu 0 time-slices 2 vCPUs" \
		"KEEL-CLOCK: 4 cpus, 10 s, " "KEEL-DMESG-CLOCK: " "clocksource kvm-clock" \
		"!clocksource watchdog" "!timekeeping watchdog" "!Marking clocksource" "!TSC warp" \
		"!TSC synchronization" \
		"vm linux: powered off" || return
	line=$(grep -a "KEEL-CLOCK: " "$out/$case.log" | head -n1)
	case $line in
	*" 0 steps back"*) e2e_pass "$case" ;;
	*) e2e_fail "$case" "the clock went backwards: $line" ;;
	esac
}

# drift_case BOOT CASE SECONDS [FIXED-STRING...]: the SMP guest's drift test (two vCPUs, one
# host CPU; tests/guests/smp-drift.inc) measures the TSC, the local APIC timer, the PM timer, the
# PIT and the RTC against kvm-clock over SECONDS of guest time; each must stay within 100 ppm.
drift_case() {
	local boot=$1 case=$2 seconds=$3
	shift 3
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm smp]
memory = 32M
cpus = 2
kernel = smp.elf
cmdline = keel test guest smp drift=$seconds
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --smp 1" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 1" \
		"$boot" "$case" "$dir/keel.cfg" $((seconds * 4 + 120)) "$root/build/guests/smp.elf"
	e2e_ended "$case" && e2e_expect_all "$case" "$@" "smp: drift: RTC " "smp: drift: TSC " \
		"smp: drift: local APIC timer " "smp: drift: PM timer " "smp: drift: PIT " \
		"smp: drift: $seconds s of kvm-clock, every clock within 100 ppm of it" "!FAIL" \
		"vm smp: exit code 0" && e2e_pass "$case"
}

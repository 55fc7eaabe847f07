# Every host CPU (sourced by run-svm and run-vmx): keel starts the APs the host MADT lists, runs a
# test job on each through its mailbox, and the hello test guest still runs on the boot CPU.

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
	for want in "$@"; do
		e2e_expect "$case" "$want" || return
	done
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

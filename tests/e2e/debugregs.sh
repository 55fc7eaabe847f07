# Debug registers (sourced by run-svm and run-vmx): three VMs of the debugregs test guest
# (tests/guests/debugregs.S) time-sliced on one CPU. The writer keeps values of its own in
# DR0-DR3, DR6 and DR7; the reader, until it has been descheduled 4 times, never sees them; the
# breakpoints VM takes its execution and data-write #DBs, DR6 naming each, across CPUID, OUT and
# PM timer exits and until it has been descheduled 4 times. The writer must outlive the other
# two (its rounds are many times their work) and arm before they end, so they ran while its values
# were in place; which of the three the CPU runs first does not matter.

# debugregs_case BOOT CASE WRITER-ROUNDS [FIXED-STRING...]
debugregs_case() {
	local boot=$1 case=$2 rounds=$3
	shift 3
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm writer]
memory = 32M
kernel = debugregs.elf
cmdline = writer rounds=$rounds

[vm reader]
memory = 32M
kernel = debugregs.elf
cmdline = reader

[vm breakpoints]
memory = 32M
kernel = debugregs.elf
cmdline = breakpoints sliced
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --smp 1" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 1" \
		"$boot" "$case" "$dir/keel.cfg" 300 "$root/build/guests/debugregs.elf"
	e2e_ended "$case" || return
	e2e_expect_all "$case" "keel: cpu 0 time-slices 3 vCPUs" \
		"writer| writer: DR0-3, DR6 and DR7 kept its own values" "vm writer: exit code 0" \
		"reader| reader: never saw another vCPU's debug registers" "vm reader: exit code 0" \
		"breakpoints| breakpoints: every #DB came with DR6 naming its breakpoint" \
		"vm breakpoints: exit code 0" "!FAIL" "$@" || return
	# Whichever VM the CPU runs first, round-robin gives the writer a slice between any two of
	# the reader's: with the writer armed before the reader ends, at least three of the reader's
	# four deschedules let the writer's values into the CPU before the reader looked again.
	e2e_before "$case" "writer| writer: armed" "vm reader: exit code 0" &&
		e2e_before "$case" "writer| writer: armed" "vm breakpoints: exit code 0" &&
		e2e_before "$case" "vm reader: exit code 0" "writer| writer: DR0-3, DR6 and DR7 kept" &&
		e2e_before "$case" "vm breakpoints: exit code 0" "writer| writer: DR0-3, DR6 and DR7 kept" &&
		e2e_expect "$case" "keel: every VM has stopped" && e2e_pass "$case"
}

debugregs_svm() {
	debugregs_case e2e_boot_svm debugregs-sliced 4096
}

debugregs_vmx() {
	debugregs_case e2e_boot_vmx vmx-debugregs-sliced 4096
}

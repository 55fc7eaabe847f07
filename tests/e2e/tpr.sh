# CR8 and the TPR (sourced by run-svm and run-vmx): the tpr test guest (tests/guests/tpr.S) checks
# that CR8 and the local APIC's TPR are one register in xAPIC and x2APIC mode, that the TPR holds
# an interrupt back and a lower CR8 lets it in at once, and that a disabled APIC leaves CPUID and
# its page; then a hog that sets CR8 = 15 and spins without exits shares one CPU with a victim.

# tpr_hog_cfg DIR HOG-CMDLINE: the hog first, the victim after it, both pinned to CPU 0
tpr_hog_cfg() {
	printf '[vm hog]\nmemory = 32M\nkernel = tpr.elf\ncmdline = %s\npin = 0\n\n' "$2" >"$1/keel.cfg"
	printf '[vm victim]\nmemory = 32M\nkernel = tpr.elf\ncmdline = victim wait=50\npin = 0\n' \
		>>"$1/keel.cfg"
}

# tpr_hog_session: once the victim is done beside the hog, keel's shell stops the hog (which
# never exits by itself): with the hog's CR8 on the physical TPR, neither would happen.
tpr_hog_session() {
	e2e_console_wait "vm victim: exit code 0" || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'stop hog\r'
	e2e_console_wait "vm hog: stopped from the shell" || return
}

tpr_svm() {
	guest_case e2e_boot_svm guest-tpr tpr 0 "$TPR_LINE"
	local case=tpr-hog dir=$out/tpr-hog
	mkdir -p "$dir"
	tpr_hog_cfg "$dir" "hog"
	QEMU_OPTS="${QEMU_OPTS:-} --smp 1" e2e_boot_svm_session "$case" "$dir/keel.cfg" 120 \
		tpr_hog_session "$root/build/guests/tpr.elf"
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	e2e_ended "$case" && e2e_expect_all "$case" "hog| hog: CR8 = 15" \
		"victim| victim: done; exit code 0" "vm hog: stopped from the shell" \
		"keel: every VM has stopped" && e2e_pass "$case"
}

# Under Bochs (no console input) the hog stops itself after 300 million TSC ticks, which Bochs
# counts by instructions: a few seconds of emulated time, hundreds of 5 ms slices. The victim must
# be done long before; with the hog's CR8 on the physical TPR it only ran once the hog had ended.
tpr_vmx() {
	guest_case e2e_boot_vmx vmx-tpr tpr 0 "$TPR_LINE"
	local case=vmx-tpr-hog dir=$out/vmx-tpr-hog
	mkdir -p "$dir"
	tpr_hog_cfg "$dir" "hog ticks=300"
	BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 1" e2e_boot_vmx "$case" "$dir/keel.cfg" 300 \
		"$root/build/guests/tpr.elf"
	e2e_ended "$case" && e2e_expect_all "$case" "hog| hog: CR8 = 15" \
		"victim| victim: done; exit code 0" "vm hog: exit code 0" &&
		e2e_before "$case" "vm victim: exit code 0" "hog| hog: spin over" && e2e_pass "$case"
}

TPR_LINE="tpr: CR8 and the TPR are one register; every check held"

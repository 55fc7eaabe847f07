# Transient-execution mitigations between VMs (core/mitigations.c, arch/x86/mitigations.c): the
# boot line says what keel applies for what the emulated CPU enumerates, and each VM's stop line
# counts what ran for it (sourced by run-svm and run-vmx). The emulators cannot show a leak; they
# show that the paths run, and run only where the CPU asks for them.

# mitig_count CASE VM WHAT: the number after WHAT= on VM's "vm VM: mitigations:" line ("" if none)
mitig_count() {
	grep -a "vm $2: mitigations:" "$out/$1.log" | head -n 1 | grep -oE "$3=[0-9]+" | cut -d= -f2
}

# mitig_exits CASE VM: the T of VM's "vm VM: exits total T:" line
mitig_exits() {
	grep -a "vm $2: exits total" "$out/$1.log" | head -n 1 | sed -E 's/.*exits total ([0-9]+).*/\1/'
}

# mitig_check CASE VM WHAT OP VALUE: the count of WHAT for VM compares so with VALUE (test's OP:
# -eq, -ge, -gt ...)
mitig_check() {
	local n
	n=$(mitig_count "$1" "$2" "$3")
	[ -n "$n" ] && [ "$n" "$4" "$5" ] ||
		e2e_fail "$1" "vm $2: $3=${n:-?}, wanted $4 $5"
}

# mitig_case BOOT CASE BOOT-LINE [VM WHAT OP VALUE]...: two hello VMs, a and b, time-sliced on
# one CPU; keel's boot line must read "keel: mitigations: BOOT-LINE", and each check must hold
# (VALUE "exits" stands for that VM's exit total).
mitig_case() {
	local boot=$1 case=$2 line=$3 vm what op value
	shift 3
	local dir=$out/$case
	mkdir -p "$dir"
	printf '[vm a]\nmemory = 32M\nkernel = hello.elf\ncmdline = vm a\n\n' >"$dir/keel.cfg"
	printf '[vm b]\nmemory = 32M\nkernel = hello.elf\ncmdline = vm b\n' >>"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --smp 1" BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 1" \
		"$boot" "$case" "$dir/keel.cfg" 300 "$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect "$case" "keel: mitigations: $line (" &&
		e2e_expect_all "$case" "vm a: exit code 0" "vm b: exit code 0" || return
	while [ $# -ge 4 ]; do
		vm=$1 what=$2 op=$3 value=$4
		shift 4
		[ "$value" = exits ] && value=$(mitig_exits "$case" "$vm")
		mitig_check "$case" "$vm" "$what" "$op" "${value:-0}" || return
	done
	e2e_pass "$case"
}

# QEMU 7.2 TCG filters every speculation-control bit out of -cpu EPYC (and max): no IBPB, so none
# is issued; the RSB fill needs no enumeration and runs once per exit.
mitigations_svm() {
	mitig_case e2e_boot_svm mitig-svm \
		"RSB fill on exit; needed but not enumerated: IBPB on VM switch" \
		a rsb-fill -eq exits b rsb-fill -eq exits a rsb-fill -gt 0 \
		a ibpb -eq 0 b ibpb -eq 0 a l1d-flush -eq 0 a verw -eq 0
}

# Bochs 2.7: corei7_skylake_x enumerates none of the bits (an Intel CPU before the 2018 microcode:
# only the RSB fill, the rest reported missing); tigerlake has Bochs' sca_mitigations: IBRS/IBPB,
# STIBP, L1D_FLUSH, MD_CLEAR, IA32_ARCH_CAPABILITIES = 0x1F (RDCL_NO, IBRS_ALL, RSBA,
# SKIP_L1DFL_VMENTRY, SSB_NO; not MDS_NO): IBPB when CPU 0 goes from one VM to the other, VERW
# before every entry, no L1D flush. VT-x re-enters without core after the CR exits it handles
# itself, so fills and VERWs may outnumber the exits core counts.
mitigations_vmx() {
	mitig_case e2e_boot_vmx vmx-mitig-skylake \
		"RSB fill on exit; needed but not enumerated: IBPB on VM switch, L1D flush on entry, VERW on entry" \
		a rsb-fill -ge exits b rsb-fill -ge exits a rsb-fill -gt 0 \
		a ibpb -eq 0 b ibpb -eq 0 a l1d-flush -eq 0 a verw -eq 0
	BOCHS_OPTS="${BOCHS_OPTS:-} --cpu tigerlake" mitig_case e2e_boot_vmx vmx-mitig-tigerlake \
		"IBPB on VM switch, RSB fill on exit, VERW on entry" \
		a rsb-fill -ge exits b rsb-fill -ge exits b ibpb -gt 0 \
		a verw -ge exits b verw -ge exits a l1d-flush -eq 0 b l1d-flush -eq 0
}

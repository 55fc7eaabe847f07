# Shared helpers of the e2e scenarios (sourced). Each scenario boots keel under an emulator and
# checks the serial log; a failure prints the reason and the log's tail.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/e2e
mkdir -p "$out"
e2e_passed=0
e2e_failed=0

# e2e_boot_svm NAME CONFIG TIMEOUT [FILE...]: boots keel.efi with CONFIG under QEMU and OVMF; the
# serial log lands in $out/NAME.log. Sets qemu_rc (124 when the timeout killed QEMU) and
# e2e_firmware (what keel's first line must name, checked by e2e_ended).
e2e_boot_svm() {
	local name=$1 cfg=$2 timeout=$3
	shift 3
	e2e_firmware=UEFI
	"$root/tools/make-esp" "$out/esp-$name" "$cfg" "$@"
	local start=$SECONDS
	"$root/tools/run-qemu" --log "$out/$name.log" --timeout "$timeout" ${QEMU_OPTS:-} \
		"$out/esp-$name" 2>"$out/$name.qemu-stderr"
	qemu_rc=$?
	qemu_secs=$((SECONDS - start))
}

# e2e_boot_mb2 NAME CONFIG TIMEOUT [FILE...]: the same with keel.elf from a GRUB ISO
# (tools/make-iso, Multiboot2) under SeaBIOS. The ISO is deleted after the run unless KEEP_ISO=1.
e2e_boot_mb2() {
	local name=$1 cfg=$2 timeout=$3
	shift 3
	e2e_firmware=Multiboot2
	local start=$SECONDS
	"$root/tools/make-iso" "$out/$name.iso" "$cfg" "$@" || { qemu_rc=1; return; }
	"$root/tools/run-qemu" --log "$out/$name.log" --timeout "$timeout" ${QEMU_OPTS:-} \
		--iso "$out/$name.iso" 2>"$out/$name.qemu-stderr"
	qemu_rc=$?
	qemu_secs=$((SECONDS - start))
	[ "${KEEP_ISO:-0}" = 1 ] || rm -f "$out/$name.iso"
}

# e2e_boot_vmx NAME CONFIG TIMEOUT [FILE...]: keel.elf from a GRUB ISO under Bochs
# (corei7_skylake_x: VT-x with EPT, VPID, unrestricted guest), 1 GiB of RAM; BOCHS_OPTS adds
# tools/run-bochs options (e.g. --cpus 2).
e2e_boot_vmx() {
	local name=$1 cfg=$2 timeout=$3
	shift 3
	e2e_firmware=Multiboot2
	local start=$SECONDS
	"$root/tools/make-iso" "$out/$name.iso" "$cfg" "$@" || { qemu_rc=1; return; }
	"$root/tools/run-bochs" --megs 1024 --log "$out/$name.log" --timeout "$timeout" \
		${BOCHS_OPTS:-} "$out/$name.iso" 2>"$out/$name.bochs-stderr"
	qemu_rc=$?
	qemu_secs=$((SECONDS - start))
	[ "${KEEP_ISO:-0}" = 1 ] || rm -f "$out/$name.iso"
}

# e2e_fail NAME WHY: reports a failed check with the tail of the serial log.
e2e_fail() {
	echo "FAIL $1: $2"
	echo "---- last 25 lines of $out/$1.log ----"
	tail -n 25 "$out/$1.log" 2>/dev/null | sed 's/\x1b\[[0-9;=]*[A-Za-z]//g'
	echo "----"
	e2e_failed=$((e2e_failed + 1))
	return 1
}

e2e_pass() {
	echo "PASS $1 ($qemu_secs s)"
	e2e_passed=$((e2e_passed + 1))
}

# e2e_expect NAME FIXED-STRING: the log must hold a keel line containing the string.
e2e_expect() {
	grep -aqF -- "$2" "$out/$1.log" || e2e_fail "$1" "no line containing '$2'"
}

# e2e_reject NAME FIXED-STRING: the log must not contain the string.
e2e_reject() {
	! grep -aqF -- "$2" "$out/$1.log" || e2e_fail "$1" "unexpected '$2' in the log"
}

# e2e_before NAME FIRST SECOND: the log's first line holding FIRST comes before its first line
# holding SECOND (both fixed strings, both present).
e2e_before() {
	local a b
	a=$(grep -anF -- "$2" "$out/$1.log" | head -n 1 | cut -d: -f1)
	b=$(grep -anF -- "$3" "$out/$1.log" | head -n 1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
		e2e_fail "$1" "no line with '$2' before a line with '$3'"
}

# e2e_ended NAME: the entry the boot function chose started keel, and QEMU exited by itself
# (guest or keel powered the machine off).
e2e_ended() {
	e2e_expect "$1" "keel: booting from $e2e_firmware" || return
	[ "$qemu_rc" -ne 124 ] && [ "$qemu_rc" -ne 137 ] ||
		e2e_fail "$1" "QEMU did not exit by itself (killed after its timeout)"
}

# e2e_stamped NAME: every keel line starts with the [SSSS.mmmmmm] stamp (CONVENTIONS.md).
e2e_stamped() {
	grep -aqE '^\[[0-9]{4}\.[0-9]{6}\] keel: ' "$out/$1.log" ||
		e2e_fail "$1" "no keel line with a [SSSS.mmmmmm] stamp"
}

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

# e2e_boot_svm_session NAME CONFIG TIMEOUT SESSION [FILE...]: e2e_boot_svm with keel's serial
# port on FIFOs; the function SESSION runs meanwhile and works keel's console with
# e2e_console_wait, e2e_console_type and e2e_console_focus. A session that gives up sets
# e2e_console_error (the case then fails with it).
e2e_boot_svm_session() {
	local name=$1 cfg=$2 timeout=$3 session=$4
	shift 4
	e2e_firmware=UEFI
	"$root/tools/make-esp" "$out/esp-$name" "$cfg" "$@"
	local pipe=$out/$name.serial log=$out/$name.log start=$SECONDS
	rm -f "$pipe.in" "$pipe.out"
	mkfifo "$pipe.in" "$pipe.out"
	: >"$log"
	cat "$pipe.out" >>"$log" &
	local reader=$!
	"$root/tools/run-qemu" --serial-pipe "$pipe" --timeout "$timeout" ${QEMU_OPTS:-} \
		"$out/esp-$name" 2>"$out/$name.qemu-stderr" &
	local qemu=$!
	# read-write: opening never waits for QEMU
	exec {e2e_console_fd}<>"$pipe.in"
	e2e_console_log=$log e2e_console_qemu=$qemu e2e_console_error=
	e2e_console_deadline=$((SECONDS + timeout))
	"$session" "$name"
	wait "$qemu"
	qemu_rc=$?
	exec {e2e_console_fd}>&-
	# the reader ends at QEMU's end of the FIFO; it is stuck only if QEMU never opened it
	local i
	for i in $(seq 20); do kill -0 "$reader" 2>/dev/null && sleep 0.1; done
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
	rm -f "$pipe.in" "$pipe.out"
	qemu_secs=$((SECONDS - start))
}

# e2e_console_wait FIXED-STRING [COUNT]: waits until the console log holds COUNT (default 1)
# lines with the string; 1 (and e2e_console_error) when QEMU ended or the case's time ran out.
e2e_console_wait() {
	local want=$1 count=${2:-1}
	while [ "$(grep -acF -- "$want" "$e2e_console_log")" -lt "$count" ]; do
		if ! kill -0 "$e2e_console_qemu" 2>/dev/null || [ $SECONDS -ge $e2e_console_deadline ]; then
			e2e_console_error="gave up waiting for '$want' on the console"
			return 1
		fi
		sleep 0.2
	done
}

# e2e_console_type TEXT: types TEXT (printf %b escapes: '\r' is Enter) at keel's console.
e2e_console_type() {
	printf '%b' "$1" >&"$e2e_console_fd"
}

# e2e_console_focus TARGET: Ctrl-T three times until keel says "console input goes to TARGET"
# ("vm NAME" or "keel's shell"); at most one round of every VM and the shell.
e2e_console_focus() {
	local line="keel: console input goes to $1" n all try
	for try in $(seq 8); do
		# counted before typing: keel may answer before a count after it
		n=$(grep -acF -- "$line" "$e2e_console_log")
		all=$(grep -acF -- "keel: console input goes to" "$e2e_console_log")
		e2e_console_type '\x14\x14\x14'
		e2e_console_wait "keel: console input goes to" $((all + 1)) || return
		[ "$(grep -acF -- "$line" "$e2e_console_log")" -gt "$n" ] && return 0
	done
	e2e_console_error="Ctrl-T x3 never gave the focus to $1"
	return 1
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

# e2e_expect_all NAME WANT...: e2e_expect of each WANT, or e2e_reject of it without its leading
# '!'; stops at the first miss.
e2e_expect_all() {
	local name=$1 want
	shift
	for want in "$@"; do
		if [ "${want:0:1}" = '!' ]; then
			e2e_reject "$name" "${want:1}" || return
		else
			e2e_expect "$name" "$want" || return
		fi
	done
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

# e2e_run_cases FUNCTION...: runs each case function in order; a name that is not a function (its
# file left unsourced) counts as a failed case instead of a "command not found" the run survives
e2e_run_cases() {
	local c
	for c in "$@"; do
		if [ "$(type -t "$c")" = function ]; then
			"$c"
		else
			echo "FAIL $c: no such case function (its file is not sourced)"
			e2e_failed=$((e2e_failed + 1))
		fi
	done
}

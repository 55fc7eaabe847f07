# keel's console under a chatty guest (sourced by run-svm and run-vmx): docs/testing.md "Console".

# console_flood_case BOOT CASE: the flood guest (tests/guests/flood.S) writes 1 MiB to COM1 with
# REP OUTSB beside the counter guest on the same CPU (both `pin = 0`, time-sliced). The counter
# must print every line and end while the flood still runs (event order, no time limit); every
# flood line that reaches the console must be whole and prefixed; the host console cannot keep
# up, so keel drops flood output and says so with a count.
console_flood_case() {
	local boot=$1 case=$2 i
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm flood]
memory = 32M
kernel = flood.elf
cmdline = flood
pin = 0

[vm counter]
memory = 32M
kernel = flood.elf
cmdline = counter
pin = 0
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --smp 1" "$boot" "$case" "$dir/keel.cfg" 240 \
		"$root/build/guests/flood.elf"
	e2e_ended "$case" || return
	e2e_expect_all "$case" "keel: cpu 0 time-slices 2 vCPUs" "flood| flood: flooding COM1" \
		"vm counter: exit code 0" "vm flood: exit code 0" "keel: every VM has stopped" \
		"!: FAIL" || return
	for i in $(seq 1 16); do
		e2e_expect "$case" "$(printf 'counter| counter: line 0x%08x' "$i")" || return
	done
	# the counter's work fell between the flood's first and last words
	e2e_before "$case" "flood| flood: flooding COM1" "counter| counter: line 0x00000002" &&
		e2e_before "$case" "counter| counter: done, exit code 0" "vm flood: exit code 0" &&
		e2e_before "$case" "vm counter: exit code 0" "vm flood: exit code 0" || return
	# what could not go out is counted, N > 0, and said before the VM's end
	local drop
	drop=$(grep -aE '^\[[0-9]{4}\.[0-9]{6}\] vm flood: console output dropped [1-9][0-9]* bytes' \
		"$out/$case.log" | head -n 1)
	[ -n "$drop" ] ||
		{ e2e_fail "$case" "no 'vm flood: console output dropped N bytes' line, N > 0"; return; }
	e2e_before "$case" "vm flood: console output dropped" "vm flood: exit code 0" || return
	# whole lines only: each flood line is the guest's 64 bytes behind its prefix, and no other
	# line holds a piece of one
	local torn
	torn=$(tr -d '\r' <"$out/$case.log" | grep -a 'flood: the quick' |
		grep -avxF 'flood| flood: the quick brown fox jumps over the lazy dog 0123456789ab' |
		head -n 3)
	[ -z "$torn" ] || { e2e_fail "$case" "torn flood lines: $torn"; return; }
	e2e_pass "$case"
}

console_svm() {
	console_flood_case e2e_boot_svm console-flood
}

console_vmx() {
	console_flood_case e2e_boot_vmx vmx-console-flood
}

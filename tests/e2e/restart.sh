# Restarts and teardown give back what they take (sourced by run-svm and run-vmx). keel's own
# memory (kmem: VMCBs or VMCSs, stage-2 tables, vCPU, device and console structures) must be the
# same after RESTARTS restarts from the shell as before them, and once every VM has stopped and
# been destroyed it must be what it was before the first VM was built.

RESTARTS=${RESTARTS:-200}

# Counted as whole lines: keel's log lines, its shell's and the guest's never land inside each
# other (core/console_line.h), and this many restarts gives every interleaving its chance.
restart_count() {
	grep -acF -- "$1" "$e2e_console_log"
}

# restart_wait FIXED-STRING COUNT: e2e_console_wait polling every 20 ms, as each of the restarts
# waits for one; 1 (and e2e_console_error) when QEMU ended or the case's time ran out.
restart_wait() {
	local want=$1 count=$2
	while [ "$(restart_count "$want")" -lt "$count" ]; do
		if ! kill -0 "$e2e_console_qemu" 2>/dev/null || [ $SECONDS -ge $e2e_console_deadline ]; then
			e2e_console_error="gave up waiting for '$want' (wanted $count) on the console"
			return 1
		fi
		sleep 0.02
	done
}

# restart_session: mem, then RESTARTS times "restart x", each once the new life's guest has
# printed its first line (its vCPU is in that life: a restart that came while the VM was still
# stopping would be refused), mem again, stop x.
restart_session() {
	local i
	restart_wait "hello from a keel test guest" 1 || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'mem\r'
	restart_wait "host memory:" 1 || return
	for i in $(seq "$RESTARTS"); do
		e2e_console_type 'restart x\r'
		restart_wait "hello from a keel test guest" $((i + 1)) || return
	done
	e2e_console_type 'mem\r'
	restart_wait "host memory:" 2 || return
	e2e_console_type 'stop x\r'
}

# restart_keel_bytes LOG N: keel's own bytes from the Nth "mem" line of LOG
# ("host memory: F MiB free, U MiB used; keel itself K bytes")
restart_keel_bytes() {
	grep -a "host memory:" "$1" | sed -n "${2}p" | tr -d '\r' |
		sed -n 's/.*; keel itself \([0-9]*\) bytes$/\1/p'
}

# restart_destroyed NAME: keel's line after destroying every VM gives its own memory as it was
# before they were built.
restart_destroyed() {
	local line now before
	line=$(grep -a "keel: every VM destroyed:" "$out/$1.log" | tr -d '\r')
	[[ $line =~ keel\'s\ own\ memory\ ([0-9]+)\ bytes,\ ([0-9]+)\ before ]] ||
		{ e2e_fail "$1" "no 'keel: every VM destroyed' line"; return; }
	now=${BASH_REMATCH[1]} before=${BASH_REMATCH[2]}
	[ "$now" -eq "$before" ] ||
		e2e_fail "$1" "keel's own memory $now bytes after destroying the VMs, $before before"
}

# One VM of 2 vCPUs (the second on the host's second CPU) whose guest stays alive (its exit port
# write is dropped, then it halts with interrupts off), restarted from keel's shell.
restart_svm() {
	local case=restart-mem dir=$out/restart-mem
	mkdir -p "$dir"
	printf '[vm x]\nmemory = 32M\ncpus = 2\nkernel = hello.elf\nexit_port = no\n' >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2" e2e_boot_svm_session "$case" "$dir/keel.cfg" 300 \
		restart_session "$root/build/guests/hello.elf"
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	e2e_ended "$case" && e2e_expect_all "$case" "vm x: vcpu 1 runs on cpu 1" \
		"vm x: stopped from the shell" "keel: every VM has stopped" || return
	local n
	n=$(grep -acF "vm x: restarting, as the shell asked" "$out/$case.log")
	[ "$n" -eq "$RESTARTS" ] ||
		{ e2e_fail "$case" "$n restarts logged, wanted $RESTARTS"; return; }
	local before after
	before=$(restart_keel_bytes "$out/$case.log" 1)
	after=$(restart_keel_bytes "$out/$case.log" 2)
	[ -n "$before" ] && [ -n "$after" ] ||
		{ e2e_fail "$case" "no 'keel itself N bytes' in the two mem lines"; return; }
	[ "$after" -eq "$before" ] || {
		e2e_fail "$case" "keel's own memory $after bytes after $RESTARTS restarts, $before before"
		return
	}
	restart_destroyed "$case" || return
	echo "  $case: keel's own memory $before bytes before $RESTARTS restarts, $after after"
	e2e_pass "$case"
}

# Under Bochs (no console input): the VM ends through its exit port; its second vCPU's VMCS is
# active on the host's second CPU until that CPU stops scheduling, and must be cleared there
# before hv_vm_destroy frees it.
restart_vmx() {
	local case=vmx-destroy dir=$out/vmx-destroy
	mkdir -p "$dir"
	printf '[vm x]\nmemory = 32M\ncpus = 2\nkernel = hello.elf\n' >"$dir/keel.cfg"
	BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 2" e2e_boot_vmx "$case" "$dir/keel.cfg" 300 \
		"$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect_all "$case" "vm x: vcpu 1 runs on cpu 1" \
		"vm x: exit code 0" "!is active on cpu" && restart_destroyed "$case" &&
		e2e_pass "$case"
}

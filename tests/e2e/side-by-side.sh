# Issue 5's scenario (sourced by run-svm): three VMs side by side under QEMU -smp 4, each vCPU on
# a CPU of its own, then the same keel.cfg with -smp 2, where four vCPUs share two
# CPUs under the time-slicing scheduler.
#   a: Debian's kernel on 2 vCPUs: nproc = 2, a CPU-bound job on each CPU at once, then it waits
#      for Enter at its console (keel.hold) so keel's shell sees it running
#   b: Debian's kernel on 1 vCPU, powers off by itself
#   c: a test guest that triple-faults, restarted up to its limit
# A scripted console session moves the focus to keel's shell (Ctrl-T x3), runs vms, stats a, mem,
# a wrong command and restart c (c crashes once more), then either gives the focus back to a and
# presses Enter (abc_end=enter) or stops a from the shell (abc_end=stop).

abc_session() {
	e2e_console_wait "a| KEEL-HOLD" || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'vms\r'
	e2e_console_wait "RESTARTS" || return
	e2e_console_type 'stats a\r'
	e2e_console_wait "vm a: exits since start" || return
	e2e_console_type 'mem\r'
	e2e_console_wait "host memory:" || return
	e2e_console_type 'frobnicate\r'
	e2e_console_wait "unknown command 'frobnicate'" || return
	e2e_console_type 'restart c\r'
	e2e_console_wait "vm c: crashed: triple fault" 4 || return
	if [ "$abc_end" = stop ]; then
		e2e_console_type 'stop a\r'
		return
	fi
	e2e_console_focus "vm a" || return
	e2e_console_type '\r'
}

# abc_case CASE HOST-CPUS END EXPECTED...: the scenario on a host with HOST-CPUS processors; END
# (enter or stop) is how the session ends VM a.
abc_case() {
	local case=$1 cpus=$2
	abc_end=$3
	shift 3
	local dir=$out/$case guest=$root/build/guest log=$out/$case.log
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm a]
memory = 256M
cpus = 2
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0 keel.parallel keel.hold

[vm b]
memory = 256M
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0

[vm c]
memory = 32M
kernel = triple-fault.elf
on_crash = restart
restart_limit = 2
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --smp $cpus" e2e_boot_svm_session "$case" "$dir/keel.cfg" 600 \
		abc_session "$guest/vmlinuz" "$guest/initrd.gz" "$root/build/guests/triple-fault.elf"
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	e2e_ended "$case" || return
	e2e_expect_all "$case" "a| KEEL-NPROC: 2" "b| KEEL-NPROC: 1" "vm b: powered off" \
		"vm c: crashed: triple fault" "vm c: restarting (2 of 2)" \
		"vm c: restart limit 2 reached" "vm c: restarting, as the shell asked" \
		"keel: every VM has stopped" \
		"keel: console input goes to keel's shell" "vm a: exits since start, per vcpu" \
		"  vcpu 0: total" "  vcpu 1: total" "unknown command 'frobnicate'" "$@" || return
	# the shell's table: a running with 2 vCPUs and 256M
	grep -aqE '^a +running +2 +256M ' "$log" ||
		{ e2e_fail "$case" "no 'a running 2 256M' row in the vms table"; return; }
	# both of a's CPUs were busy during the parallel job
	local busy
	busy=$(sed -n 's/^a| KEEL-PARALLEL: \(.*\)/\1/p' "$log" | tr -d '\r')
	[[ $busy =~ ^cpu0=[1-9][0-9]*\ cpu1=[1-9][0-9]*\ ?$ ]] ||
		{ e2e_fail "$case" "parallel job: per-CPU busy ticks '$busy', expected both > 0"; return; }
	e2e_pass "$case"
}

side_by_side_svm() {
	abc_case abc-smp4 4 enter "vm a: vcpu 1 runs on cpu 1" "vm b: runs on cpu 2" \
		"vm c: runs on cpu 3" "vm a: powered off"
	abc_case abc-smp2 2 stop "keel: cpu 0 time-slices 2 vCPUs" "keel: cpu 1 time-slices 2 vCPUs" \
		"vm a: stopped from the shell"
}

# virtio-balloon (issue 10; sourced by run-svm): Debian's Linux in a VM of 256 MiB boots to its
# busybox shell (keel.shell); at keel's shell `balloon linux 128M` makes it give 128 MiB back,
# `balloon linux 256M` gives them back to it. Then 128 MiB again, and the guest reboots with its
# balloon full: its next life starts whole and inflates to the same target again. Typed at the
# console as a user would.

# Waits until `stats linux` says the driver reports `actual` KiB given (Linux inflates 256 pages
# a chain, one chain after the other), in a line after what the log holds now.
balloon_wait_actual() {
	local want="actual $1 KiB" try seen
	seen=$(grep -acF -- "$want" "$e2e_console_log")
	for try in $(seq 60); do
		e2e_console_type 'stats linux\r'
		sleep 2
		[ "$(grep -acF -- "$want" "$e2e_console_log")" -gt "$seen" ] && return 0
		kill -0 "$e2e_console_qemu" 2>/dev/null || break
	done
	e2e_console_error="the guest never reported '$want'"
	return 1
}

# The guest's MemTotal, printed with a tag the typed line itself does not contain.
balloon_memtotal() {
	e2e_console_type "grep MemTotal /proc/meminfo | sed s/^/KEEL-BAL-$1-/\\r"
	e2e_console_wait "KEEL-BAL-$1-MemTotal" || return
}

balloon_mem() {
	local n
	n=$(grep -acF -- "host memory: " "$e2e_console_log")
	e2e_console_type 'mem\r'
	e2e_console_wait "host memory: " $((n + 1))
}

linux_balloon_session() {
	e2e_console_wait "keel demo guest: busybox shell" || return
	balloon_memtotal A || return
	e2e_console_focus "keel's shell" || return
	balloon_mem || return
	e2e_console_type 'balloon linux 128M\r'
	e2e_console_wait "vm linux: balloon target 128 MiB of its 256 MiB" || return
	balloon_wait_actual 131072 || return
	balloon_mem || return
	e2e_console_focus "vm linux" || return
	balloon_memtotal B || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'balloon linux 256M\r'
	e2e_console_wait "vm linux: balloon target 256 MiB of its 256 MiB" || return
	balloon_wait_actual 0 || return
	balloon_mem || return
	e2e_console_focus "vm linux" || return
	balloon_memtotal C || return
	# the guest still works: 140 MiB in a tmpfs file (more than it gave) touches pages it got back
	e2e_console_type 'mkdir -p /bal && mount -t tmpfs -o size=200m none /bal && dd if=/dev/zero of=/bal/f bs=1M count=140 2>/dev/null; echo KEEL-BAL-DD-$?-END\r'
	e2e_console_wait "KEEL-BAL-DD-0-END" || return
	# inflated again (the tmpfs gone first: the guest has no swap to give its pages from), then
	# a reboot: keel fills the holes before the next life, whose driver inflates to the target
	# it finds
	e2e_console_type 'umount /bal; echo KEEL-BAL-UMOUNT-$?-END\r'
	e2e_console_wait "KEEL-BAL-UMOUNT-0-END" || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'balloon linux 128M\r'
	e2e_console_wait "vm linux: balloon target 128 MiB of its 256 MiB" 2 || return
	balloon_wait_actual 131072 || return
	balloon_mem || return
	e2e_console_focus "vm linux" || return
	e2e_console_type 'reboot -f\r'
	e2e_console_wait "keel demo guest: busybox shell" 2 || return
	e2e_console_focus "keel's shell" || return
	balloon_wait_actual 131072 || return
	balloon_mem || return
	e2e_console_focus "vm linux" || return
	balloon_memtotal D || return
	e2e_console_type 'poweroff -f\r'
	e2e_console_wait "vm linux: powered off" || return
}

# MemTotal in kB from the line tagged KEEL-BAL-TAG-.
balloon_kb() {
	sed -n "s/.*KEEL-BAL-$1-MemTotal: *\([0-9]*\) kB.*/\1/p" "$out/linux-balloon.log" | head -n1
}

# Free MiB from the Nth `mem` answer.
balloon_free() {
	grep -a "host memory: " "$out/linux-balloon.log" | sed -n "$1s/.*host memory: \([0-9]*\) MiB free.*/\1/p"
}

linux_balloon() {
	local name=linux-balloon dir=$out/linux-balloon guest=$root/build/guest
	mkdir -p "$dir"
	printf '[vm linux]\nmemory = 256M\nkernel = vmlinuz\ninitrd = initrd.gz\ncmdline = %s\n' \
		"console=ttyS0 keel.shell" >"$dir/keel.cfg"
	e2e_boot_svm_session "$name" "$dir/keel.cfg" 600 linux_balloon_session "$guest/vmlinuz" \
		"$guest/initrd.gz"
	[ -z "$e2e_console_error" ] || { e2e_fail "$name" "$e2e_console_error"; return; }
	local a b c d f1 f2 f3 f4 f5
	a=$(balloon_kb A) b=$(balloon_kb B) c=$(balloon_kb C) d=$(balloon_kb D)
	f1=$(balloon_free 1) f2=$(balloon_free 2) f3=$(balloon_free 3) f4=$(balloon_free 4)
	f5=$(balloon_free 5)
	# the guest lost exactly the 128 MiB it gave (Linux takes them off MemTotal without
	# DEFLATE_ON_OOM) and had them back after
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -eq $((a - 131072)) ] && [ "$c" = "$a" ] ||
		{ e2e_fail "$name" "MemTotal $a, $b, $c kB: expected A, A - 131072, A"; return; }
	# keel's free memory grew by about 128 MiB, and shrank again
	[ -n "$f1" ] && [ -n "$f2" ] && [ $((f2 - f1)) -ge 120 ] && [ $((f2 - f1)) -le 130 ] &&
		[ $((f2 - f3)) -ge 120 ] ||
		{ e2e_fail "$name" "keel's free memory $f1, $f2, $f3 MiB: expected +128, -128"; return; }
	# the second life: the same MemTotal after the same inflation, and keel's free memory as
	# before the reboot (nothing leaked, nothing counted twice)
	[ "$d" = "$b" ] ||
		{ e2e_fail "$name" "MemTotal after the reboot $d kB: expected $b"; return; }
	[ -n "$f4" ] && [ -n "$f5" ] && [ $((f4 - f5)) -le 2 ] && [ $((f5 - f4)) -le 2 ] &&
		[ $((f4 - f3)) -ge 120 ] ||
		{ e2e_fail "$name" "keel's free memory $f3, $f4, $f5 MiB: expected +128, then the same"; return; }
	e2e_ended "$name" && e2e_expect_all "$name" "!vm linux: crashed" \
		"!virtio-balloon: not a page" "guest memory: " "vm linux: reset" \
		"vm linux: powered off" &&
		e2e_pass "$name"
}

# The demo `make run` boots (sourced by run-svm): tools/demo/keel.cfg as it is, with the same
# files, under -smp 2. A console session does what README tells a user to type: on vm web (whose
# root is the ext4 disk) it reads a file of the disk and writes one; on vm client it fetches
# web's page over keel's switch and pings it; then it powers both off.

demo_session() {
	e2e_console_wait "web| keel demo: root file system /dev/vda ext4" || return
	e2e_console_wait "client| keel demo guest: busybox shell" || return
	e2e_console_focus "vm web" || return
	e2e_console_type 'echo written >/root/note; cat /root/note /www/hello.txt\r'
	e2e_console_wait "web| keel demo disk" || return
	e2e_console_focus "vm client" || return
	e2e_console_type 'wget -q -O - http://10.0.0.1/ | grep h1\r'
	e2e_console_wait "client| <html><body><h1>Served by a Linux VM on keel</h1>" || return
	e2e_console_type 'ping -c 3 10.0.0.1 | grep transmitted\r'
	e2e_console_wait "client| 3 packets transmitted, 3 packets received" || return
	local n
	n=$(grep -acF -- "keel: console input goes to vm web" "$e2e_console_log")
	e2e_console_type 'poweroff -f\r'
	e2e_console_wait "vm client: powered off" || return
	# keel moves the focus off a VM that stopped, to the next running one: web. Ctrl-T typed
	# before that move would land after it and move on past web.
	e2e_console_wait "keel: console input goes to vm web" $((n + 1)) || return
	e2e_console_type 'poweroff -f\r'
	e2e_console_wait "vm web: powered off" || return
}

demo_svm() {
	local name=demo guest=$root/build/guest
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2" e2e_boot_svm_session "$name" "$root/tools/demo/keel.cfg" \
		"${LINUX_TIMEOUT:-400}" demo_session "$guest/vmlinuz" "$guest/initrd.gz" \
		"$guest/demo-root.img"
	[ -z "$e2e_console_error" ] || { e2e_fail "$name" "$e2e_console_error"; return; }
	e2e_ended "$name" && e2e_expect_all "$name" "vm web: disk vda: demo-root.img, 16 MiB" \
		"vm web: net 0: switch lan" "vm client: net 0: switch lan" "client| KEEL-IP: eth0 10.0.0.2/24" \
		"web| written" "!KEEL-INSMOD-FAILED" "!KEEL-ROOT-FAILED" && e2e_pass "$name"
}

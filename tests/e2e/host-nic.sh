# Host NIC (sourced by run-svm): keel drives QEMU's e1000e (an Intel 82574L; host-nic) or its
# virtio-net-pci (host-nic-virtio) on QEMU's user network and makes it the uplink of switch wan
# ([switch wan] uplink = nic0). Linux VM web, behind
# keel's switch, serves a file with busybox httpd, which a client on this machine fetches through
# QEMU's hostfwd on 127.0.0.1; and it fetches a file from a server on this machine (10.0.2.2 in
# QEMU's user network). Both checksums must match. VM lone, on a switch without an uplink and with
# the same address, must reach nothing.

# host_nic_free_port: a TCP port on 127.0.0.1 nobody listens on now
host_nic_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# host_nic_session: web's file fetched from here once it says it is done, `nics` at keel's shell,
# then Enter for web (keel.hold) to power off; lone powers off by itself
host_nic_session() {
	e2e_console_wait "web| KEEL-UPLINK-DONE" || return
	e2e_console_wait "lone| KEEL-UPLINK-DONE" || return
	curl -s --max-time 120 -o "$host_nic_dir/got" "http://127.0.0.1:$host_nic_fwd/blob" ||
		e2e_console_error="curl http://127.0.0.1:$host_nic_fwd/blob failed (hostfwd to web)"
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'nics\r'
	e2e_console_wait "  tx: " || return
	e2e_console_focus "vm web" || return
	e2e_console_type '\r'
	e2e_console_wait "vm web: powered off" || return
}

# host_nic_case CASE QEMU-DEVICE PCI-LINE NIC-LINE: the case with that NIC at 00:05.0
host_nic_case() {
	local case=$1 device=$2 pci_line=$3 nic_line=$4
	local dir=$out/$1 guest=$root/build/guest srv port served fetched want
	host_nic_dir=$dir
	mkdir -p "$dir/srv"
	rm -f "$dir/got"
	head -c 1048576 /dev/urandom >"$dir/srv/blob"
	want=$(sha256sum <"$dir/srv/blob" | cut -d' ' -f1)
	port=$(host_nic_free_port)
	host_nic_fwd=$(host_nic_free_port)
	python3 -m http.server --bind 127.0.0.1 --directory "$dir/srv" "$port" \
		>"$out/$case.http" 2>&1 &
	srv=$!
	cat >"$dir/keel.cfg" <<CFG
[switch wan]
uplink = nic0
[vm web]
memory = 192M
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0 keel.uplink=$port keel.hold
net = wan
[vm lone]
memory = 192M
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0 keel.uplink=$port
net = lan
CFG
	# romfile= off: no option ROM, so OVMF does not try to boot from the NIC (EMULATION.md)
	QEMU_OPTS="${QEMU_OPTS:-} --smp 2
		--qemu -netdev --qemu user,id=un0,hostfwd=tcp:127.0.0.1:$host_nic_fwd-10.0.2.15:80
		--qemu -device --qemu $device,netdev=un0,romfile=,addr=0x5" \
		e2e_boot_svm_session "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" host_nic_session \
		"$guest/vmlinuz" "$guest/initrd.gz"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: pci 00:05.0 $pci_line" "keel: nic0: 00:05.0 $nic_line, mac 52:54:00:12:34:56, link " \
		"keel: switch wan: uplink nic0" "web| KEEL-UPLINK-FETCHED: $want" \
		"lone| KEEL-UPLINK-FETCH-FAILED" "!lone| KEEL-UPLINK-FETCHED" "vm lone: powered off" \
		"nic0 00:05.0 $nic_line, mac 52:54:00:12:34:56: running, link up, uplink of switch wan" ||
		return
	# at least the two files each way went through the NIC
	local rx tx
	rx=$(sed -n 's/^  rx: \([0-9]*\) frames, \([0-9]*\) bytes.*/\2/p' "$out/$case.log" | head -n1)
	tx=$(sed -n 's/^  tx: \([0-9]*\) frames, \([0-9]*\) bytes.*/\2/p' "$out/$case.log" | head -n1)
	[ "${rx:-0}" -gt 1048576 ] && [ "${tx:-0}" -gt 1048576 ] ||
		{ e2e_fail "$case" "nics counted rx $rx and tx $tx bytes; expected over 1 MiB each"; return; }
	served=$(sed -n 's/^web| KEEL-UPLINK-SERVED: \([0-9a-f]*\).*/\1/p' "$out/$case.log" | head -n1)
	fetched=$(sha256sum <"$dir/got" 2>/dev/null | cut -d' ' -f1)
	[ -n "$served" ] && [ "$fetched" = "$served" ] ||
		{ e2e_fail "$case" "fetched web's /blob with sha256 '$fetched'; web served '$served'"; return; }
	# QEMU's model may still be negotiating when keel looks first: then a later line
	grep -aqE "keel: nic0: (00:05.0 $nic_line, mac 52:54:00:12:34:56, )?link up" \
		"$out/$case.log" || { e2e_fail "$case" "nic0's link never came up"; return; }
	e2e_pass "$case"
}

host_nic_svm() {
	host_nic_case host-nic e1000e "8086:10d3 class 020000 Ethernet" "Intel 82574L"
	host_nic_case host-nic-virtio virtio-net-pci,disable-legacy=on \
		"1af4:1041 class 020000 Ethernet" virtio-net
}

# keel's tiny Multiboot test guests (tests/guests/), each judged by its exit-port code
# (sourced by run-svm).

# guest_case BOOT CASE NAME END [LINE...]: the test guest NAME booted by BOOT (e2e_boot_svm,
# e2e_boot_mb2 or e2e_boot_vmx, lib.sh) must end with "vm NAME: exit code END" (END a number) or
# "vm NAME: END" (e.g. "crashed: triple fault"), and the log must hold each LINE; the log is
# $out/CASE.log; a LINE starting with '!' must not be there. GUEST_ARGS adds words to the
# guest's command line (e.g. mode=straddle); GUEST_CFG adds lines to its [vm] section (e.g. two
# "net = lan" lines); GUEST_CHECK names a function called with CASE for the case's own checks (0
# when they held).
guest_case() {
	local boot=$1 case=$2 name=$3 want_end=$4
	shift 4
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm $name]
memory = 32M
kernel = $name.elf
cmdline = keel test guest $name ${GUEST_ARGS:-}
${GUEST_CFG:-}
CFG
	[[ $want_end =~ ^[0-9]+$ ]] && want_end="exit code $want_end"
	"$boot" "$case" "$dir/keel.cfg" 60 "$root/build/guests/$name.elf"
	e2e_ended "$case" && e2e_expect "$case" "vm $name: starting" &&
		e2e_expect "$case" "vm $name: $want_end" &&
		e2e_expect "$case" "vm $name: exits total" && e2e_expect_all "$case" "$@" &&
		${GUEST_CHECK:-true} "$case" && e2e_pass "$case"
}

# the lines the guests print with string I/O (REP OUTSB, also with DF=1 and in real mode)
STRINGIO_LINES=("stringio: rep outsb to COM1" "stringio: std rep outsb to COM1")
# a guest that INITs all its processors has ended itself (tests/guests/init-self.S)
INIT_SELF_LINE="vm init-self: every vCPU waits for a start-up IPI"
REALMODE_LINES=("realmode: hello from real mode (out)" "realmode: rep outsb in real mode")
# NMI delivery and blocking (tests/guests/nmi.S): each of its four steps says it held
NMI_LINES=("nmi: self NMIs with IF clear taken at once" "nmi: NMIs blocked until the handler's IRET"
	"nmi: an IOAPIC NMI woke cli;hlt" "nmi: an IOAPIC NMI woke sti;hlt")
# the hostile virtio driver (tests/guests/virtio.S): each bad request breaks the queue, says why
VIRTIO_WHY="vm virtio: virtio-rng 00:01.0 queue 0:"
VIRTIO_LINES=("virtio: a well-formed request got 16 bytes of entropy"
	"$VIRTIO_WHY a buffer outside the VM's RAM; the device needs a reset"
	"$VIRTIO_WHY a descriptor chain loops" "$VIRTIO_WHY a descriptor index past the table"
	"$VIRTIO_WHY a device-readable buffer after a device-writable one"
	"$VIRTIO_WHY an indirect descriptor the device cannot take"
	"$VIRTIO_WHY the available index ran ahead of the queue's size" "!virtio: FAIL")
# the hostile virtio-net driver (tests/guests/net.S): two nets on one switch, A at 00:02.0, B at
# 00:03.0; every bad transmit is dropped and its chain used, one breaks A's transmit queue
NET_CFG=$'net = lan\nnet = lan'
# keel's line for each frame A sends from a MAC not its own (B's is keel's for vm net, net 1)
NET_SPOOFED="vm net: virtio-net 00:02.0: a frame from mac"
NET_LINES=("net: a broadcast frame from A arrived at B byte for byte"
	"net: a unicast frame to B's MAC arrived, header and frame split"
	"net: 1514-byte and 802.1Q-tagged 1518-byte frames arrived"
	"net: a frame with unknown flag bits and header fields set arrived"
	"net: A sent a 64 KiB frame; not carried"
	"net: A sent a chain with a device-writable buffer; not carried"
	"net: A sent a frame from B's MAC; not carried"
	"$NET_SPOOFED 02:47:18:fc:47:bd, not the device's own; dropped"
	"net: A sent a frame from the broadcast address; not carried"
	"$NET_SPOOFED ff:ff:ff:ff:ff:ff, not the device's own; dropped"
	"net: A sent a frame from a multicast address; not carried"
	"$NET_SPOOFED 01:00:5e:00:00:01, not the device's own; dropped"
	"net: A sent a frame from a MAC that is not its own; not carried"
	"$NET_SPOOFED 02:00:00:00:00:0a, not the device's own; dropped"
	"net: a unicast to B's MAC still arrived at B after A sent from it"
	"net: a frame sent while B had no receive buffer waited and arrived"
	"net: a 40-byte receive buffer came back empty, its frame dropped"
	"net: a frame arrived across a two-buffer receive chain"
	"vm net: virtio-net 00:02.0 queue 1: a device-readable buffer after a device-writable one; the device needs a reset"
	"net: A works again after a reset" "net: done" "!net: FAIL")
# the hostile virtio-balloon driver (tests/guests/balloon.S): each bad page frame skipped with a
# line, the inflate queue's own page breaks the queue
BALLOON_WHY="vm balloon: virtio-balloon:"
BALLOON_LINES=("balloon: an inflated page read back zeroed and took a write again"
	"$BALLOON_WHY not a page of the VM's RAM (page frame 10000); skipped"
	"$BALLOON_WHY not a page of the VM's RAM (page frame fee00); skipped"
	"$BALLOON_WHY not a page of the VM's RAM (page frame ffffffff); skipped"
	"$BALLOON_WHY a page already in the balloon (page frame 1002); skipped"
	"$BALLOON_WHY a chain of more page frames than the device takes (257 page frames); those past the first 256 skipped"
	"$BALLOON_WHY a page not in the balloon (page frame 1200); skipped"
	"vm balloon: virtio-balloon 00:1e.0 queue 0: a used ring outside the VM's RAM; the device needs a reset"
	"balloon: after a reset an inflate and a deflate worked" "balloon: done" "!balloon: FAIL")
# the hostile PCI driver (tests/guests/pci.S): each BAR moved where nothing may decode it, the
# balloon's BAR under the rng's (the lower slot decodes), and an MSI-X message aimed at RAM
PCI_BAR="vm pci: pci 00:01.0 BAR 0 (memory, 32768 bytes) at"
PCI_OUTSIDE="is not decoded: outside the host bridge's windows"
PCI_BAR_B="vm pci: pci 00:1e.0 BAR 0 (memory, 32768 bytes) at"
PCI_OVERLAP="is not decoded: it overlaps another BAR or device"
PCI_LINES=("pci: config space agrees through 0xCF8/0xCFC and ECAM; BAR 0 sizes as 32 KiB"
	"$PCI_BAR 0x900000 $PCI_OUTSIDE" "$PCI_BAR 0xfee00000 $PCI_OUTSIDE"
	"$PCI_BAR 0xfec00000 $PCI_OUTSIDE" "$PCI_BAR 0xe0000000 $PCI_OUTSIDE"
	"$PCI_BAR 0xf0000000 $PCI_OUTSIDE"
	"$PCI_BAR_B 0xc0008000 $PCI_OVERLAP" "$PCI_BAR_B 0xc0000000 $PCI_OVERLAP"
	"vm pci: pci 00:01.0 interrupt message to 0xa00000 dropped: not the local APICs' address"
	"pci: MSI-X entry 0 to the APIC interrupts again"
	"pci: 64 more moves outside the window, then home"
	"pci: a 64-bit BAR decodes in the window above RAM, not past it" "!pci: FAIL")
# pci_log_bounded CASE: the bus's log lines (BARs not decoded, messages dropped) are a token
# bucket of 16 and one a second; the guest's flood of 64 new addresses empties it
pci_log_bounded() {
	local n
	n=$(grep -acF "vm pci: pci 00:" "$out/$1.log")
	[ "$n" -ge 16 ] && [ "$n" -le $((16 + qemu_secs)) ] ||
		e2e_fail "$1" "$n lines 'vm pci: pci 00:', expected 16..$((16 + qemu_secs))"
}

test_guests() {
	guest_case e2e_boot_svm guest-hello hello 0
	guest_case e2e_boot_svm guest-hello-low hello-low 0 "cmdline: keel test guest hello-low"
	guest_case e2e_boot_svm guest-stringio stringio 0 "${STRINGIO_LINES[@]}"
	guest_case e2e_boot_svm guest-crs crs 0
	guest_case e2e_boot_svm guest-realmode realmode 0 "${REALMODE_LINES[@]}"
	guest_case e2e_boot_svm guest-init-self init-self "powered off" "$INIT_SELF_LINE"
	guest_case e2e_boot_svm guest-nmi nmi 0 "${NMI_LINES[@]}"
	guest_case e2e_boot_svm guest-virtio virtio 0 "${VIRTIO_LINES[@]}"
	GUEST_CFG=$NET_CFG guest_case e2e_boot_svm guest-net net 0 "${NET_LINES[@]}"
	guest_case e2e_boot_svm guest-balloon balloon 0 "${BALLOON_LINES[@]}"
	GUEST_CHECK=pci_log_bounded guest_case e2e_boot_svm guest-pci pci 0 "${PCI_LINES[@]}"
	guest_case e2e_boot_svm guest-pmu pmu 0 "pmu: AMD: PerfEvtSel/PerfCtr 0-3" "rdpmc="
}

# keel's tiny Multiboot test guests (tests/guests/), each judged by its exit-port code
# (sourced by run-svm).

# guest_case BOOT CASE NAME END [LINE...]: the test guest NAME booted by BOOT (e2e_boot_svm,
# e2e_boot_mb2 or e2e_boot_vmx, lib.sh) must end with "vm NAME: exit code END" (END a number) or
# "vm NAME: END" (e.g. "crashed: triple fault"), and the log must hold each LINE; the log is
# $out/CASE.log; a LINE starting with '!' must not be there. GUEST_ARGS adds words to the guest's command line (e.g. mode=straddle).
# GUEST_CHECK names a function called with CASE for the case's own checks (0 when they held).
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
# the hostile PCI driver (tests/guests/pci.S): each BAR moved where nothing may decode it, the
# balloon's BAR under the rng's (the lower slot decodes), and an MSI-X message aimed at RAM
PCI_BAR="vm pci: pci 00:01.0 BAR 0 (memory, 32768 bytes) at"
PCI_OUTSIDE="is not decoded: outside the host bridge's windows"
PCI_BAR_B="vm pci: pci 00:1e.0 BAR 0 (memory, 32768 bytes) at"
PCI_OVERLAP="is not decoded: it overlaps another BAR or device"
PCI_LINES=("pci: config space agrees through 0xCF8/0xCFC and ECAM; BAR 0 sizes as 32 KiB"
	"$PCI_BAR 0x900000 $PCI_OUTSIDE" "$PCI_BAR 0xfee00000 $PCI_OUTSIDE"
	"$PCI_BAR 0xfec00000 $PCI_OUTSIDE" "$PCI_BAR 0xe0000000 $PCI_OUTSIDE"
	"$PCI_BAR 0xf0000000 $PCI_OUTSIDE" "$PCI_BAR 0x1c0000000 $PCI_OUTSIDE"
	"$PCI_BAR_B 0xc0008000 $PCI_OVERLAP" "$PCI_BAR_B 0xc0000000 $PCI_OVERLAP"
	"vm pci: pci 00:01.0 interrupt message to 0xa00000 dropped: not the local APICs' address"
	"pci: MSI-X entry 0 to the APIC interrupts again"
	"pci: 64 more moves outside the window, then home" "!pci: FAIL")
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
	GUEST_CHECK=pci_log_bounded guest_case e2e_boot_svm guest-pci pci 0 "${PCI_LINES[@]}"
	guest_case e2e_boot_svm guest-pmu pmu 0 "pmu: AMD: PerfEvtSel/PerfCtr 0-3" "rdpmc="
}

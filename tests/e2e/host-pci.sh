# Host PCI (sourced by run-svm and run-vmx): keel lists every host PCI function at boot. Under QEMU
# (q35, ECAM from the MCFG) with an NVMe controller and an e1000e added; under Bochs (i440FX, no
# MCFG) through the fallback, configuration mechanism #1.

# host_pci_case BOOT CASE [FIXED-STRING...]: the hello guest booted by BOOT; the log must hold
# each FIXED-STRING (a leading '!': must not) and the hello guest must pass.
host_pci_case() {
	local boot=$1 case=$2
	shift 2
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm hello]
memory = 32M
kernel = hello.elf
cmdline = keel test guest hello
CFG
	"$boot" "$case" "$dir/keel.cfg" 120 "$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect_all "$case" "$@" || return
	e2e_before "$case" "keel: pci: " "vm hello: starting" &&
		e2e_expect "$case" "vm hello: exit code 0" && e2e_pass "$case"
}

host_pci_svm() {
	local img=$out/host-pci-nvme.img
	truncate -s 1M "$img"
	# romfile= off: no option ROM, so OVMF does not try to boot from the NIC (EMULATION.md)
	QEMU_OPTS="${QEMU_OPTS:-} --qemu -drive --qemu if=none,id=hpd0,file=$img,format=raw
		--qemu -device --qemu nvme,serial=keel,drive=hpd0,addr=0x4
		--qemu -device --qemu e1000e,romfile=,addr=0x5" \
		host_pci_case e2e_boot_svm host-pci \
		"keel: pci: ECAM segment 0 buses 00-" \
		"keel: pci 00:00.0 8086:29c0 class 060000 host bridge" \
		"keel: pci 00:04.0 1b36:0010 class 010802 NVMe; bar0 mem64 " \
		"keel: pci 00:05.0 8086:10d3 class 020000 Ethernet; bar0 mem32 " \
		"keel: pci 00:1f.0 8086:2918 class 060100 ISA bridge" \
		"!overlaps memory" "!no usable MCFG"
}

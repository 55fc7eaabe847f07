# Host PCI (sourced by run-svm and run-vmx): keel lists every host PCI function at boot, and its
# shell's `pci` the same with each function's owner; keel takes the NVMe controller, which `disks`
# shows with its namespace. Under QEMU (q35, ECAM from the MCFG) with an
# NVMe controller on the root bus and an e1000e behind a PCIe root port (a bridge to bus 1); under
# Bochs (i440FX, no MCFG) through the fallback, configuration mechanism #1.

# host_pci_session: once the guest (which stays alive: its exit port write is dropped) has
# spoken, `pci` and `disks` at keel's shell, then stop x.
host_pci_session() {
	e2e_console_wait "hello from a keel test guest" || return
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'pci\r'
	e2e_console_wait "class 020000 Ethernet" 2 || return
	e2e_console_type 'disks\r'
	e2e_console_wait "device interrupts: " || return
	# the framebuffer's status bar, which keel draws once a second while VMs run
	"$root/tools/qemu-screen-bar" "$out/host-pci.monitor" "$out/host-pci.ppm" \
		>"$out/host-pci.screen" 2>&1 ||
		e2e_console_error="no status bar on the framebuffer: $(tail -n1 "$out/host-pci.screen")"
	e2e_console_type 'stop x\r'
}

host_pci_svm() {
	local case=host-pci dir=$out/host-pci img=$out/host-pci-nvme.img
	mkdir -p "$dir"
	truncate -s 1M "$img"
	printf '[vm x]\nmemory = 32M\nkernel = hello.elf\nexit_port = no\n' >"$dir/keel.cfg"
	# romfile= off: no option ROM, so OVMF does not try to boot from the NIC (EMULATION.md)
	rm -f "$out/host-pci.monitor"
	QEMU_OPTS="${QEMU_OPTS:-} --qemu -drive --qemu if=none,id=hpd0,file=$img,format=raw
		--qemu -monitor --qemu unix:$out/host-pci.monitor,server=on,wait=off
		--qemu -device --qemu nvme,serial=keel,drive=hpd0,addr=0x4
		--qemu -device --qemu pcie-root-port,id=hprp,chassis=1,addr=0x5
		--qemu -device --qemu e1000e,romfile=,bus=hprp" \
		e2e_boot_svm_session "$case" "$dir/keel.cfg" 180 host_pci_session \
		"$root/build/guests/hello.elf"
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: pci: ECAM segment 0 buses 00-" \
		"keel: pci 00:00.0 8086:29c0 class 060000 host bridge" \
		"keel: pci 00:04.0 1b36:0010 class 010802 NVMe; bar0 mem64 " \
		"keel: pci 00:05.0 1b36:000c class 060400 PCI bridge bus 01-01; " \
		"keel: pci 01:00.0 8086:10d3 class 020000 Ethernet; bar0 mem32 " \
		"keel: pci 00:1f.0 8086:2918 class 060100 ISA bridge" \
		"keel: pci: 8 functions on 2 buses through ECAM" \
		"pci: 8 functions on 2 buses through ECAM" \
		"00:04.0 1b36:0010 class 010802 NVMe; bar0 mem64 " \
		"; owner none" "; owner keel" \
		"keel: nvme0: namespace 1: 2048 blocks of 512 bytes (1 MiB)" \
		"nvme0 00:04.0 QEMU NVMe Ctrl (serial keel): ready, MSI-X; commands " \
		"  nvme0n1      nvme:1                         1M  free" \
		"!overlaps memory" "!no usable MCFG" "!not walked" "!no MSI-X" || return
	# the controller's bring-up completions came as MSI-X messages to the boot CPU
	grep -aqE "^device interrupts: [1-9]" "$out/$case.log" ||
		{ e2e_fail "$case" "disks counts no device interrupt: $(grep -a "device interrupts" "$out/$case.log")"; return; }
	e2e_before "$case" "keel: pci: " "vm x: starting" && e2e_pass "$case"
}

# Bochs' i440FX has no ECAM and its BIOS no MCFG: mechanism #1 finds the host bridge and the
# PIIX's functions (ISA bridge, IDE, USB, power management).
host_pci_vmx() {
	local case=vmx-host-pci dir=$out/vmx-host-pci
	mkdir -p "$dir"
	printf '[vm x]\nmemory = 32M\nkernel = hello.elf\n' >"$dir/keel.cfg"
	e2e_boot_vmx "$case" "$dir/keel.cfg" 300 "$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: pci: no usable MCFG (not found); config space through ports 0xCF8/0xCFC" \
		"keel: pci 00:00.0 8086:1237 class 060000 host bridge" \
		"keel: pci 00:01.0 8086:7000 class 060100 ISA bridge" \
		" through ports 0xCF8" "vm x: exit code 0" "!overlaps memory" || return
	e2e_before "$case" "keel: pci: " "vm x: starting" && e2e_pass "$case"
}

# host_iommu_case CASE DEVICE EXPECTED...: keel boots on a q35 machine with QEMU's IOMMU DEVICE
# (intel-iommu or amd-iommu, with interrupt remapping, given before the other devices so that
# their DMA goes through it), lists its units from the firmware's DMAR or IVRS and turns
# translation on with every device blocked; keel's NVMe driver, attached to keel's domain, still
# serves a VM's disk (the blk-end guest reads and writes a GPT partition's last sectors, the
# data then checked on the image) and no fault is logged.
host_iommu_case() {
	local case=$1 device=$2 dir=$out/$1 img last=51199
	shift 2
	img=$dir/nvme.img
	mkdir -p "$dir"
	host_nvme_gpt_image "$img"
	printf 'blk-end!%.0s' $(seq 64) >"$dir/last.want"
	printf '[vm end]\nmemory = 32M\nkernel = blk-end.elf\ndisk = part:keel-a\n' >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --qemu -device --qemu $device $(host_nvme_opts "$img")" \
		e2e_boot_svm "$case" "$dir/keel.cfg" 180 "$root/build/guests/blk-end.elf"
	e2e_ended "$case" && e2e_expect_all "$case" "$@" \
		"keel: nvme0: namespace 1: 131072 blocks of 512 bytes (64 MiB)" \
		"vm end: disk vda: part:keel-a, 24 MiB" "blk-end: done" "!blk-end: FAIL" \
		"vm end: exit code 0" "!keel: iommu: fault" "!keel: iommu: interrupt from" \
		"!refused" "!not programmed" \
		"!DMA is not restricted" "!cannot map" || return
	host_nvme_part "$img" "$last" 1 "$dir/last.img"
	cmp -s "$dir/last.img" "$dir/last.want" ||
		{ e2e_fail "$case" "keel-a's last sector does not hold the guest's write: $(head -c 32 "$dir/last.img" | od -An -c | head -n1)"; return; }
	# the controller's MSI-X messages reached keel through remapping entries: nothing blocked
	grep -aqE "keel: iommu: 0 DMA faults, 0 interrupts blocked, 0 devices stopped; host devices' interrupts taken: [1-9][0-9]*, each through a remapping entry" "$out/$case.log" ||
		{ e2e_fail "$case" "no remapped device interrupt: $(grep -a "interrupts taken" "$out/$case.log")"; return; }
	e2e_before "$case" "translating: every device's DMA blocked" "keel: nvme0: " &&
		e2e_pass "$case"
}

host_iommu_svm() {
	host_iommu_case host-iommu-vtd intel-iommu,intremap=on \
		"keel: iommu: VT-d: 39-bit DMA addresses, 1 unit, 0 reserved ranges, interrupt remapping" \
		"keel: iommu: VT-d unit at 0xfed90000, segment 0, " \
		"keel: iommu: VT-d unit at 0xfed90000 translating: 3-level tables, 1 fault records, interrupts remapped" \
		"keel: iommu: VT-d translating: every device's DMA blocked but keel's own drivers' (to their buffers and guest RAM)"
	host_iommu_case host-iommu-amdvi amd-iommu,intremap=on \
		"keel: iommu: AMD-Vi unit 00:02.0 at 0xfed80000, segment 0, " \
		"keel: iommu: AMD-Vi unit at 0xfed80000 translating: 4-level tables, event log of 256 entries, interrupts remapped" \
		"keel: iommu: AMD-Vi translating: every device's DMA blocked but keel's own drivers' (to their buffers and guest RAM)"
}

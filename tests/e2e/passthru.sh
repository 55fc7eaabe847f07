# Device passthrough (sourced by run-svm): QEMU's edu device (a DMA engine, EMULATION.md) given to
# a VM with `pci =` behind each IOMMU in turn. The edu guest (tests/guests/edu.S) reads its
# registers through keel's forwarding of BAR 0, copies a pattern through the device within its
# own RAM, then aims DMA writes at addresses that are not its RAM, and, with edu.sweep, at 72
# pages more; another VM runs beside it. Under VT-d keel logs each blocked write once per page and
# stops the device's bus mastering after 64 faults, so the guest's last copy no longer arrives;
# QEMU 7.2's AMD-Vi blocks the writes without logging them (EMULATION.md), so there the device
# keeps working.

# passthru_edu_case CASE IOMMU AFTER EXPECTED...: AFTER is the guest's line about its last copy
passthru_edu_case() {
	local case=$1 iommu=$2 after=$3 dir=$out/$1
	shift 3
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<'CFG'
[vm edu]
memory = 32M
kernel = edu.elf
cmdline = edu.ram=32 edu.sweep
pci = 00:03.0

[vm other]
memory = 32M
kernel = hello.elf
CFG
	QEMU_OPTS="${QEMU_OPTS:-} --qemu -device --qemu $iommu --qemu -device --qemu edu,addr=0x3" \
		e2e_boot_svm "$case" "$dir/keel.cfg" 300 "$root/build/guests/edu.elf" \
		"$root/build/guests/hello.elf"
	e2e_ended "$case" && e2e_expect_all "$case" "$@" \
		"keel: pci 00:03.0 1234:11e8 class 00ff00" \
		"vm edu: pci 00:03.0: passed through, its DMA confined to the VM's RAM by the " \
		"edu: a. registers through BAR 0 answer" \
		"edu: b. DMA to and from its own RAM checks out" \
		"edu: e. its MSI arrives as vector 0x41" \
		"edu: c. DMA write to 0x02000000" "edu: c. DMA write to 0x0ffff000" \
		"edu: $after" "edu: done" "!edu: FAIL" "vm edu: exit code 0" \
		"hello from a keel test guest" "vm other: exit code 0" && e2e_pass "$case"
}

passthru_svm() {
	passthru_edu_case passthru-edu-vtd intel-iommu,intremap=on \
		"after the sweep, DMA to its RAM does not arrive" \
		"keel: iommu: fault from 00:03.0 write at 0x2000000 (vm edu): reason 0x" \
		"keel: iommu: fault from 00:03.0 write at 0x8000000 (vm edu): reason 0x" \
		"keel: iommu: fault from 00:03.0 write at 0xffff000 (vm edu): reason 0x" \
		"keel: iommu: 00:03.0 keeps faulting (64 faults): bus mastering off"
	passthru_edu_case passthru-edu-amdvi amd-iommu,intremap=on \
		"after the sweep, DMA to its RAM arrives"
}

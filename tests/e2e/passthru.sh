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
		": 256 of its 256 pages mapped straight, the rest forwarded" \
		"edu: a. registers through BAR 0 answer" \
		"edu: b. DMA to and from its own RAM checks out" \
		"edu: e. its MSI arrives as vector 0x41" \
		"edu: f. an MSI aimed at its RAM (0x007c0000) writes nothing and raises nothing" \
		"vm edu: pci 00:02.0 interrupt message to 0x7c0000 dropped: not the local APICs' address" \
		"edu: f. BAR 0 answers where the guest moves it, and on the IOMMU's registers reaches nothing" \
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

# passthru_nvme_case CASE IOMMU: a second NVMe controller (00:05.0) given to a Linux VM with
# `pci =`; Debian's nvme driver finds it through keel's virtual config space (MSI-X through
# remapping entries; BAR 0's registers and doorbells mapped straight in stage 2, its MSI-X table
# and PBA pages trapped) and reads and writes its namespace; meanwhile another VM writes to its
# partition of keel's own NVMe (00:04.0). Both images are then checked from outside.
# With NVME_SMP=1, two host CPUs and the Linux VM's two vCPUs pinned one on each: Linux aims its
# queues' vectors at both, and every interrupt must be taken on the CPU running the vCPU its
# message names (keel aims each remapping entry there; before, 7 of 30 were).
passthru_nvme_case() {
	local case=$1 iommu=$2 dir=$out/$1 guest=$root/build/guest
	local img=$dir/nvme.img passed=$dir/passed.img want first wrote
	mkdir -p "$dir"
	host_nvme_gpt_image "$img"
	printf 'blk-end!%.0s' $(seq 64) >"$dir/last.want"
	rm -f "$passed"
	truncate -s 32M "$passed"
	head -c 1048576 /dev/urandom | dd of="$passed" conv=notrunc status=none
	first=$(head -c 1048576 "$passed" | sha256sum | cut -d' ' -f1)
	want=$(seq 1 200000 | head -c 1048576 | sha256sum | cut -d' ' -f1)
	cat >"$dir/keel.cfg" <<CFG
[vm linux]
memory = 192M
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0 keel.nvme
pci = 00:05.0
${NVME_SMP:+cpus = 2
pin = 0,1}

[vm end]
memory = 32M
kernel = blk-end.elf
disk = part:keel-a
CFG
	QEMU_OPTS="${QEMU_OPTS:-} ${NVME_SMP:+--smp 2} --qemu -device --qemu $iommu $(host_nvme_opts "$img")
		--qemu -drive --qemu if=none,id=nvd1,file=$passed,format=raw
		--qemu -device --qemu nvme,serial=keel-passed,drive=nvd1,addr=0x5" \
		e2e_boot_svm "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" "$guest/vmlinuz" \
		"$guest/initrd.gz" "$root/build/guests/blk-end.elf"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: pci 00:05.0 set aside for vm linux (keel.cfg:6): keel's drivers leave it alone" \
		"keel: nvme0: 00:04.0 QEMU NVMe Ctrl, serial keel-e2e" "!keel: nvme1" \
		"vm linux: pci 00:05.0: passed through, its DMA confined to the VM's RAM by the " \
		"vm linux: pci 00:05.0: BAR 0 at 0x" ": 2 of its 4 pages mapped straight" \
		"driver nvme" "KEEL-NVME: QEMU NVMe Ctrl serial keel-passed, 65536 sectors" \
		"KEEL-NVME-READ: $first" "KEEL-NVME-WROTE: $want" "KEEL-NVME-READBACK: $want" \
		"blk-end: done" "!blk-end: FAIL" "vm end: exit code 0" "vm linux: powered off" \
		"!keel: iommu: fault" "!keel: iommu: interrupt from" "!I/O error" "!nvme nvme0: I/O" \
		"!timeout" || return
	grep -aqE "KEEL-NVME-IRQS: [1-9]" "$out/$case.log" ||
		{ e2e_fail "$case" "the guest's nvme driver took no interrupt: $(grep -a KEEL-NVME-IRQS "$out/$case.log")"; return; }
	[ "$(dd if="$passed" bs=1M skip=1 count=1 status=none | sha256sum | cut -d' ' -f1)" = "$want" ] ||
		{ e2e_fail "$case" "the passed namespace does not hold the guest's pattern at 1 MiB"; return; }
	host_nvme_part "$img" 51199 1 "$dir/last.img"
	cmp -s "$dir/last.img" "$dir/last.want" ||
		{ e2e_fail "$case" "keel-a's last sector does not hold the other VM's write"; return; }
	if [ -n "${NVME_SMP:-}" ]; then
		local taken
		taken=$(grep -a -m1 "vm linux: pci 00:05.0: .* interrupts sent on" "$out/$case.log")
		[[ "$taken" =~ :\ ([1-9][0-9]*)\ interrupts\ sent\ on,\ ([0-9]+)\ of\ them ]] &&
			[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
			{ e2e_fail "$case" "interrupts taken away from their vCPU's CPU: ${taken:-no count logged}"; return; }
	fi
	e2e_pass "$case"
}

passthru_nvme_svm() {
	passthru_nvme_case passthru-nvme-vtd intel-iommu,intremap=on
	passthru_nvme_case passthru-nvme-amdvi amd-iommu,intremap=on
	NVME_SMP=1 passthru_nvme_case passthru-nvme-smp-vtd intel-iommu,intremap=on
	NVME_SMP=1 passthru_nvme_case passthru-nvme-smp-amdvi amd-iommu,intremap=on
}

# passthru_config_errors: `pci =` lines keel refuses when it builds the VMs, each with its
# keel.cfg:LINE: message and no VM started (config_case, tests/e2e/config-errors.sh)
passthru_config_errors() {
	local hello=$root/build/guests/hello.elf vm='[vm a]\nmemory = 32M\nkernel = hello.elf\n'
	local vtd="--qemu -device --qemu intel-iommu,intremap=on"
	QEMU_OPTS="--qemu -device --qemu edu,addr=0x3" config_case e2e_boot_svm cfg-pci-no-iommu \
		"keel.cfg:4: [vm a] pci = 00:03.0: no IOMMU translates 00:03.0; expected a machine with VT-d or AMD-Vi (without one the device could DMA anywhere)" \
		"${vm}pci = 00:03.0\n" "$hello"
	QEMU_OPTS="$vtd" config_case e2e_boot_svm cfg-pci-absent \
		"keel.cfg:4: [vm a] pci = 00:09.0: no PCI function 00:09.0 on this machine; expected one keel lists at boot (keel: pci ...)" \
		"${vm}pci = 00:09.0\n" "$hello"
	QEMU_OPTS="$vtd" config_case e2e_boot_svm cfg-pci-host-bridge \
		"keel.cfg:4: [vm a] pci = 00:00.0: 00:00.0 is a host bridge; expected an endpoint (header type 0)" \
		"${vm}pci = 00:00.0\n" "$hello"
	QEMU_OPTS="--qemu -device --qemu amd-iommu,intremap=on" config_case e2e_boot_svm cfg-pci-iommu \
		"keel.cfg:4: [vm a] pci = 00:02.0: 00:02.0 is an IOMMU; expected an endpoint (header type 0)" \
		"${vm}pci = 00:02.0\n" "$hello"
	QEMU_OPTS="$vtd --qemu -device --qemu edu,addr=0x3.0,multifunction=on --qemu -device --qemu edu,addr=0x3.1" \
		config_case e2e_boot_svm cfg-pci-group \
		"keel.cfg:8: [vm b] pci = 00:03.1: 00:03.1 shares an IOMMU group with 00:03.0, which is [vm a]'s; expected every function of a device in one owner (keel does not read ACS yet)" \
		"${vm}pci = 00:03.0\n[vm b]\nmemory = 32M\nkernel = hello.elf\npci = 00:03.1\n" "$hello"
}

# passthru_sriov_case CASE IOMMU: an NVMe controller with SR-IOV (QEMU's nvme-subsys, two VFs,
# three namespaces: 1 on the PF, 2 and 3 detached) whose PF keel drives; [host] sriov enables the
# VFs, brings their secondary controllers online and attaches namespace 2 to VF 1 and 3 to VF 2;
# two Linux VMs get one VF each. Each must find exactly one namespace, its own (its size and first
# MiB), and write its pattern there; the images are checked from outside, keel's namespace 1
# unchanged.
passthru_sriov_case() {
	local case=$1 iommu=$2 dir=$out/$1 guest=$root/build/guest
	local want sum1 sum2 sum3 n
	mkdir -p "$dir"
	for n in 1 2 3; do
		rm -f "$dir/ns$n.img"
		truncate -s "$((16 * n))M" "$dir/ns$n.img"
		head -c 1048576 /dev/urandom | dd of="$dir/ns$n.img" conv=notrunc status=none
	done
	sum1=$(sha256sum <"$dir/ns1.img" | cut -d' ' -f1)
	sum2=$(head -c 1048576 "$dir/ns2.img" | sha256sum | cut -d' ' -f1)
	sum3=$(head -c 1048576 "$dir/ns3.img" | sha256sum | cut -d' ' -f1)
	want=$(seq 1 200000 | head -c 1048576 | sha256sum | cut -d' ' -f1)
	cat >"$dir/keel.cfg" <<'CFG'
[host]
sriov = 00:04.0 2 namespaces=2,3

[vm a]
memory = 160M
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0 keel.nvme
pci = 00:04.1

[vm b]
memory = 160M
kernel = vmlinuz
initrd = initrd.gz
cmdline = console=ttyS0 keel.nvme
pci = 00:04.2
CFG
	local nvme=nvme,serial=keel-pf,subsys=s0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,addr=0x4
	local opts="--qemu -device --qemu $iommu --qemu -device --qemu nvme-subsys,id=s0 --qemu -device --qemu $nvme"
	for n in 1 2 3; do
		opts="$opts --qemu -drive --qemu if=none,id=ns$n,file=$dir/ns$n.img,format=raw"
		opts="$opts --qemu -device --qemu nvme-ns,drive=ns$n,nsid=$n$([ $n = 1 ] || echo ,detached=true)"
	done
	QEMU_OPTS="${QEMU_OPTS:-} $opts" e2e_boot_svm "$case" "$dir/keel.cfg" "${LINUX_TIMEOUT:-400}" \
		"$guest/vmlinuz" "$guest/initrd.gz"
	e2e_ended "$case" && e2e_expect_all "$case" \
		"keel: nvme0: 00:04.0 QEMU NVMe Ctrl, serial keel-pf" \
		"(VF 1 of 00:04.0)" "(VF 2 of 00:04.0)" \
		"keel: nvme0: VF 1 online as controller 1, namespace 2 attached to it" \
		"keel: nvme0: VF 2 online as controller 2, namespace 3 attached to it" \
		"keel: pci 00:04.1 set aside for vm a" "keel: pci 00:04.2 set aside for vm b" \
		"keel: disk nvme0n1: nvme:1, 16 MiB" \
		"vm a: pci 00:04.1: passed through, its DMA confined to the VM's RAM by the " \
		"vm b: pci 00:04.2: passed through, its DMA confined to the VM's RAM by the " \
		"a| KEEL-NVME: QEMU NVMe Ctrl serial " "a| KEEL-NVME-NAMESPACES: 1" \
		"b| KEEL-NVME: QEMU NVMe Ctrl serial " "b| KEEL-NVME-NAMESPACES: 1" \
		", 65536 sectors" ", 98304 sectors" \
		"a| KEEL-NVME-READ: $sum2" "b| KEEL-NVME-READ: $sum3" \
		"a| KEEL-NVME-READBACK: $want" "b| KEEL-NVME-READBACK: $want" \
		"vm a: powered off" "vm b: powered off" \
		"!keel: iommu: fault" "!keel: iommu: interrupt from" "!I/O error" "!timeout" || return
	grep -aqE "a\| KEEL-NVME: .*, 65536 sectors" "$out/$case.log" &&
		grep -aqE "b\| KEEL-NVME: .*, 98304 sectors" "$out/$case.log" ||
		{ e2e_fail "$case" "a VM sees another namespace than its own: $(grep -a 'KEEL-NVME:' "$out/$case.log")"; return; }
	for n in 2 3; do
		[ "$(dd if="$dir/ns$n.img" bs=1M skip=1 count=1 status=none | sha256sum | cut -d' ' -f1)" = "$want" ] ||
			{ e2e_fail "$case" "namespace $n does not hold its VM's pattern at 1 MiB"; return; }
	done
	[ "$(sha256sum <"$dir/ns1.img" | cut -d' ' -f1)" = "$sum1" ] ||
		{ e2e_fail "$case" "keel's namespace 1 changed"; return; }
	e2e_pass "$case"
}

passthru_sriov_svm() {
	passthru_sriov_case passthru-sriov-vtd intel-iommu,intremap=on
	passthru_sriov_case passthru-sriov-amdvi amd-iommu,intremap=on
}

# passthru_victim_session CASE: types at keel's console what the attacker, the watch and the
# victim wait for
passthru_victim_session() {
	local hpa
	e2e_console_wait "vm victim: RAM blocks (guest address+size at host address): 0+" || return
	hpa=$(grep -a -m1 "vm victim: RAM blocks" "$e2e_console_log" |
		sed -n 's/.*: 0+[0-9a-f]* at \([0-9a-f]*\).*/\1/p')
	[ -n "$hpa" ] || { e2e_console_error="no host address for the victim's RAM at 0"; return; }
	victim_target=$(printf '%x' $((0x$hpa + 0x500000)))
	keel_text=$(grep -a -m1 "keel: own page tables: " "$e2e_console_log" |
		sed -n 's/.*, text \([0-9a-f]*\)-.*/\1/p')
	[ -n "$keel_text" ] || { e2e_console_error="keel logged no address of its code"; return; }
	e2e_console_wait "victim: 4 MiB at 0x00400000 filled" || return
	e2e_console_wait "edu: g. waiting for a host address at the console" || return
	e2e_console_type "$victim_target\r"
	e2e_console_wait "edu: h. waiting for a host address of keel's at the console" || return
	e2e_console_type "$keel_text\r"
	# the forged messages once the watch's MSI has its remapping entry
	e2e_console_wait "edu: w. its MSI is on as vector 0x41; waiting for Enter" || return
	if [ -n "$victim_forge" ]; then
		e2e_console_wait "edu: i. waiting for Enter to forge interrupt messages" || return
		e2e_console_type '\r'
	fi
	e2e_console_wait "vm edu: exit code" || return
	# keel's shell while the functions are the VMs': owner and DMA domain, edu's counts
	e2e_console_focus "keel's shell" || return
	e2e_console_type 'pci\r'
	e2e_console_wait "00:04.0 1234:11e8 class 00ff00; bar0 mem32 " || return
	e2e_console_type 'stats edu\r'
	e2e_console_wait "  passthrough: 1 functions, " || return
	e2e_console_focus "vm watch" || return
	e2e_console_type '\r'
	e2e_console_wait "vm watch: exit code" || return
	e2e_console_focus "vm victim" || return
	e2e_console_type '\r'
	e2e_console_wait "vm victim: exit code" || return
}

# passthru_victim_case CASE IOMMU EXPECTED...: the edu guest (edu.victim) attacks what is not its
# VM's through its passed device, at host addresses typed at its console once keel has logged
# them (edu's DMA reaches 48 bits: dma_mask):
#   - another VM's RAM (5 MiB into it, where the victim guest wrote a pattern): the victim then
#     finds its 4 MiB unchanged;
#   - keel's code (a read from its first page, a write to the next): the read must not give
#     keel's first instruction bytes (taken from build/keel.so), and keel carries on;
#   - interrupts (with FORGE=1): 80 forged messages (edu.S step i), while a third VM (edu.watch)
#     has a second edu with its MSI on; the watch must see none, then its own. Only under
#     AMD-Vi: QEMU 7.2 gives a device's DMA writes no requester ID (pci_dma_write passes
#     MEMTXATTRS_UNSPECIFIED), so its VT-d skips the source-id check of every entry (keel's have
#     SVT=01b) and a forged message naming the watch's entry reaches the watch; its AMD-Vi takes
#     them as the IOAPIC's (devid 00:14.0), whose device table entry aborts them (keel gives
#     every requester without a table of its own IntCtl=abort). Real AMD-Vi would look them up
#     in edu's own table, which holds only edu's entries.
# Under VT-d keel logs the blocked writes and the read. Between the attacks and the end, keel's
# shell shows each function as its VM's in that VM's DMA domain, and edu's stats its interrupts
# and, under VT-d, its blocked DMA.
passthru_victim_case() {
	local case=$1 iommu=$2 dir=$out/$1 keel_code cmdline=edu.victim forged=()
	shift 2
	victim_forge=${FORGE:-}
	if [ -n "$victim_forge" ]; then
		cmdline="edu.victim edu.forge"
		forged=("edu: i. 80 interrupt messages forged at 0xfee00018")
	fi
	mkdir -p "$dir"
	objcopy -O binary --only-section=.text "$root/build/keel.so" "$dir/keel-text.bin" || return
	keel_code=$(od -An -tx4 -N4 "$dir/keel-text.bin" | tr -d ' ')
	cat >"$dir/keel.cfg" <<'CFG'
[vm edu]
memory = 32M
kernel = edu.elf
cmdline = @CMDLINE@
pci = 00:03.0

[vm victim]
memory = 32M
kernel = victim.elf

[vm watch]
memory = 32M
kernel = edu.elf
cmdline = edu.watch
pci = 00:04.0
CFG
	sed -i "s/@CMDLINE@/$cmdline/" "$dir/keel.cfg"
	victim_target= keel_text=
	QEMU_OPTS="${QEMU_OPTS:-} --qemu -device --qemu $iommu --qemu -device --qemu edu,addr=0x3,dma_mask=0xffffffffffff --qemu -device --qemu edu,addr=0x4" \
		e2e_boot_svm_session "$case" "$dir/keel.cfg" 300 passthru_victim_session \
		"$root/build/guests/edu.elf" "$root/build/guests/victim.elf"
	[ -z "$e2e_console_error" ] || { e2e_fail "$case" "$e2e_console_error"; return; }
	local expected=("${@/@TARGET@/$victim_target}")
	expected=("${expected[@]/@KEEL@/$keel_text}")
	expected=("${expected[@]/@KEEL_NEXT@/$(printf '%x' $((0x$keel_text + 0x1000)))}")
	e2e_ended "$case" && e2e_expect_all "$case" \
		"edu: b. DMA to and from its own RAM checks out" \
		"edu: g. DMA write to host address 0x$(printf '%08x' 0x$victim_target)" \
		"edu: h. DMA read from keel's host address 0x$(printf '%08x' 0x$keel_text)" \
		"edu: h. the read gave 0x" "!edu: h. the read gave 0x$keel_code" \
		"${forged[@]}" \
		"edu: done" "!edu: FAIL" "vm edu: exit code 0" \
		"edu: w. no interrupt arrived that it did not raise" "edu: w. its own MSI arrives" \
		"vm watch: exit code 0" \
		"victim: RAM unchanged" "!victim: FAIL" "vm victim: exit code 0" \
		"; DMA translated by the " "; owner vm edu; DMA domain 3" "; owner vm watch; DMA domain 4" \
		"  passthrough: 1 functions, 2 interrupts taken through remapping entries and sent on, " \
		"${expected[@]}" && e2e_pass "$case"
}

passthru_victim_svm() {
	passthru_victim_case passthru-victim-vtd intel-iommu,intremap=on \
		"keel: iommu: fault from 00:03.0 write at 0x@TARGET@ (vm edu): reason 0x" \
		"keel: iommu: fault from 00:03.0 read at 0x@KEEL@ (vm edu): reason 0x" \
		"keel: iommu: fault from 00:03.0 write at 0x@KEEL_NEXT@ (vm edu): reason 0x" \
		" interrupts taken through remapping entries and sent on, 6 DMA faults"
	FORGE=1 passthru_victim_case passthru-victim-amdvi amd-iommu,intremap=on
}

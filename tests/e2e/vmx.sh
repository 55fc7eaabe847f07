# keel.elf on Intel VT-x: a GRUB ISO under Bochs (sourced by run-vmx). Bochs runs ~50 MIPS and
# emulates every CPU on one thread: the runs are few and short.

vmx_boots() {
	guest_case e2e_boot_vmx vmx-hello hello 0
	guest_case e2e_boot_vmx vmx-hello-low hello-low 0 "cmdline: keel test guest hello-low"
	guest_case e2e_boot_vmx vmx-stringio stringio 0 "${STRINGIO_LINES[@]}"
	guest_case e2e_boot_vmx vmx-crs crs 0
	guest_case e2e_boot_vmx vmx-realmode realmode 0 "${REALMODE_LINES[@]}"
	guest_case e2e_boot_vmx vmx-init-self init-self "powered off" "$INIT_SELF_LINE"
	guest_case e2e_boot_vmx vmx-nmi nmi 0 "${NMI_LINES[@]}"
	guest_case e2e_boot_vmx vmx-virtio virtio 0 "${VIRTIO_LINES[@]}"
	GUEST_CFG=$NET_CFG guest_case e2e_boot_vmx vmx-net net 0 "${NET_LINES[@]}"
	guest_case e2e_boot_vmx vmx-balloon balloon 0 "${BALLOON_LINES[@]}"
	GUEST_CHECK=pci_log_bounded guest_case e2e_boot_vmx vmx-pci pci 0 "${PCI_LINES[@]}"
	guest_case e2e_boot_vmx vmx-pmu pmu 0 "pmu: Intel: PERFEVTSEL/PMC 0-1"
	# hostile guests (tests/e2e/hostile.sh) that run in seconds under Bochs; the port sweep
	# (ports, ~393 000 exits) is left out
	guest_case e2e_boot_vmx vmx-memory memory 0 \
		"vm memory: unclaimed MMIO page 0x2000000: 4-byte read at 0x2000000, all ones"
	GUEST_ARGS=mode=straddle guest_case e2e_boot_vmx vmx-memory-straddle memory 0 \
		"memory: RAM word after a straddling dword write 0x0000ccdd"
	guest_case e2e_boot_vmx vmx-msr msr 0 "vm msr: rdmsr 0x480: not offered, #GP"
	guest_case e2e_boot_vmx vmx-pagetables pagetables 0 \
		"vm pagetables: unclaimed MMIO page 0x40000000: 4-byte read" \
		"vm pagetables: unclaimed MMIO page 0x123456000: 4-byte read"
	guest_case e2e_boot_vmx vmx-smc-mmio smc-mmio 0 \
		"vm smc-mmio: unclaimed MMIO page 0xd0000000: 4-byte read"
	guest_case e2e_boot_vmx vmx-triple-fault triple-fault "crashed: triple fault"
	# Bochs boots Linux in 4-5 minutes with both cores busy: the limit only catches a hang
	local LINUX_TIMEOUT=${LINUX_TIMEOUT:-1200}
	# with virtio-blk disks (MSI-X, one exit per notify) on VT-x too
	LINUX_DISKS=1 linux_case e2e_boot_vmx vmx-linux-pvh vmlinux 512 1
	# Linux SMP on VT-x: two vCPUs on two CPUs, then both time-sliced on one (the VMCS, CR2 and
	# SYSCALL MSRs switched per vCPU)
	BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 2" linux_case e2e_boot_vmx vmx-linux-smp2 vmlinux 512 2
	BOCHS_OPTS="${BOCHS_OPTS:-} --cpus 1" linux_case e2e_boot_vmx vmx-linux-smp2-sliced vmlinux 512 2
}

# keel.elf on Intel VT-x: a GRUB ISO under Bochs (sourced by run-vmx). Bochs runs ~50 MIPS and
# emulates every CPU on one thread: the runs are few and short.

vmx_boots() {
	guest_case e2e_boot_vmx vmx-hello hello 0
	linux_case e2e_boot_vmx vmx-linux-pvh vmlinux 512 1
}

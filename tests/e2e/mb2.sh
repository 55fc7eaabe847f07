# keel.elf through a GRUB ISO (Multiboot2) under SeaBIOS instead of keel.efi under OVMF (sourced by
# run-svm): the hello test guest, Debian's kernel through PVH, and two bad keel.cfg files, which
# must end with QEMU exiting by itself: keel's ACPI S5 power-off of the host.

mb2_boots() {
	local k=$out/cfg-files
	mkdir -p "$k"
	head -c 4096 /dev/zero >"$k/kernel"
	guest_case e2e_boot_mb2 mb2-hello hello 0
	local want="keel.cfg:3: cannot read initrd 'nope.gz': not found;"
	want+=" expected a module2 line with the string 'nope.gz'"
	config_case e2e_boot_mb2 mb2-cfg-missing-module "$want" \
		'[vm a]\nmemory = 64M\ninitrd = nope.gz\nkernel = kernel\n' "$k/kernel"
	config_case e2e_boot_mb2 mb2-cfg-unknown-key \
		"keel.cfg:4: unknown key 'colour'; expected one of memory, cpus" \
		'[vm a]\nmemory = 64M\nkernel = kernel\ncolour = blue\n' "$k/kernel"
	linux_case e2e_boot_mb2 mb2-linux-pvh vmlinux 512 1
}

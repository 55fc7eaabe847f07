# Guest RAM in several host blocks (core/guest_ram.c; sourced by run-svm). QEMU's q35 with 3 GiB
# puts 2 GiB below 4 GiB, where OVMF and keel's own image and files sit too, and the last GiB
# above 4 GiB: a 2048 MiB VM fits in no single free block, only in several.

# split_ram_blocks NAME VM: the number of host blocks keel's stage-2 line gives for VM
# ("vm VM: stage 2 maps only its own N MiB: ... leaves, in B host blocks").
split_ram_blocks() {
	grep -a "vm $2: stage 2 maps only its own" "$out/$1.log" | tr -d '\r' |
		sed -n 's/.*, in \([0-9]*\) host blocks$/\1/p' | head -n1
}

# split_ram_check NAME VM: VM's RAM took more than one host block.
split_ram_check() {
	local blocks
	blocks=$(split_ram_blocks "$1" "$2")
	[ -n "$blocks" ] && [ "$blocks" -gt 1 ] ||
		{ e2e_fail "$1" "vm $2 in '${blocks:-?}' host blocks; expected more than one"; return 1; }
	echo "$1: vm $2 in $blocks host blocks"
}

# split-ram: the memory test guest (tests/guests/memory.S) reads and writes a dword in every MiB
# of its 2 GiB and at each region edge; all of it must be RAM that holds what was written.
split_ram_guest() {
	local name=split-ram dir=$out/split-ram
	mkdir -p "$dir"
	printf '[vm big]\nmemory = 2048M\nkernel = memory.elf\ncmdline = big\n' >"$dir/keel.cfg"
	QEMU_OPTS="${QEMU_OPTS:-} --mem 3G" e2e_boot_svm "$name" "$dir/keel.cfg" 300 \
		"$root/build/guests/memory.elf"
	e2e_ended "$name" && e2e_expect "$name" "vm big: stage 2 maps only its own 2048 MiB" &&
		split_ram_check "$name" big && e2e_expect "$name" "vm big: exit code 0" &&
		e2e_pass "$name"
}

# linux-split-ram: Debian's kernel through the bzImage path in 2 GiB of split RAM: its image,
# initrd, boot_params, page tables and ACPI tables are written across the blocks.
split_ram_linux() {
	local before=$e2e_failed
	QEMU_OPTS="${QEMU_OPTS:-} --mem 3G" linux_case e2e_boot_svm linux-split-ram vmlinuz 2048 1
	[ "$e2e_failed" -gt "$before" ] || split_ram_check linux-split-ram linux
}

split_ram_svm() {
	split_ram_guest
	split_ram_linux
}

# Guest RAM in several host blocks (core/guest_ram.c; sourced by run-svm). QEMU's q35 with 3 GiB
# or more puts 2 GiB below 4 GiB, where OVMF and keel's own image and files sit too, and the rest
# above 4 GiB: a 2048 MiB VM fits in no single free block, only in several.

# split_ram_blocks NAME VM: the number of host blocks keel's stage-2 line gives for VM
# ("vm VM: stage 2 maps only its own N MiB: ... leaves, in B host block(s)").
split_ram_blocks() {
	grep -a "vm $2: stage 2 maps only its own" "$out/$1.log" | tr -d '\r' |
		sed -n 's/.*, in \([0-9]*\) host blocks\{0,1\}$/\1/p' | head -n1
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

# split_ram_initrd_crossed NAME: the first RAM block of vm linux ends inside the initrd Linux
# reports ("RAMDISK: [mem 0xA-0xB]"): the loader wrote it across two host blocks.
split_ram_initrd_crossed() {
	local log=$out/$1.log blocks ramdisk end lo hi
	blocks=$(grep -a "vm linux: RAM blocks" "$log" | tr -d '\r' | head -n1)
	ramdisk=$(grep -a "RAMDISK: \[mem " "$log" | tr -d '\r' | head -n1)
	[[ $blocks =~ :\ 0\+([0-9a-f]+)\ at ]] ||
		{ e2e_fail "$1" "no 'vm linux: RAM blocks' line starting at guest address 0"; return 1; }
	end=$((16#${BASH_REMATCH[1]}))
	[[ $ramdisk =~ 0x([0-9a-f]+)-0x([0-9a-f]+) ]] ||
		{ e2e_fail "$1" "no 'RAMDISK: [mem ...]' line from Linux"; return 1; }
	lo=$((16#${BASH_REMATCH[1]})) hi=$((16#${BASH_REMATCH[2]}))
	[ "$end" -gt "$lo" ] && [ "$end" -le "$hi" ] || {
		e2e_fail "$1" "$(printf 'first RAM block ends at %#x, outside the initrd %#x-%#x' \
			"$end" "$lo" "$hi"): the case no longer loads across blocks"
		return 1
	}
	echo "$1: the initrd $(printf '%#x-%#x' "$lo" "$hi") crosses the block end $(printf '%#x' "$end")"
}

# linux-split-ram: Debian's kernel through the bzImage path in 2 GiB of split RAM. With 4 GiB, q35
# puts 2 GiB above 4 GiB; keel's own structures take the top of it, so the first block (1 GiB
# congruent: it keeps a 1 GiB leaf) is that range less keel's few hundred KiB, and the rest of
# the VM comes from below 4 GiB. The block boundary then falls a few hundred KiB below 2 GiB,
# inside the initrd, which the bzImage loader puts at the top of low RAM (initrd_addr_max).
split_ram_linux() {
	local name=linux-split-ram before=$e2e_failed
	QEMU_OPTS="${QEMU_OPTS:-} --mem 4G" linux_case e2e_boot_svm "$name" vmlinuz 2048 1
	[ "$e2e_failed" -gt "$before" ] || { split_ram_check "$name" linux &&
		split_ram_initrd_crossed "$name"; }
}

split_ram_svm() {
	split_ram_guest
	split_ram_linux
}

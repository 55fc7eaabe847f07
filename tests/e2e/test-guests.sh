# keel's tiny Multiboot test guests (tests/guests/), each judged by its exit-port code
# (sourced by run-svm).

guest_case() {
	local name=$1 want_code=$2
	shift 2
	local dir=$out/guest-$name
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm $name]
memory = 32M
kernel = $name.elf
cmdline = keel test guest $name
CFG
	e2e_boot_svm "guest-$name" "$dir/keel.cfg" 60 "$root/build/guests/$name.elf"
	e2e_ended "guest-$name" && e2e_expect "guest-$name" "vm $name: starting" &&
		e2e_expect "guest-$name" "vm $name: exit code $want_code" &&
		e2e_expect "guest-$name" "vm $name: exits total" && e2e_pass "guest-$name"
}

test_guests() {
	guest_case hello 0
}

# keel's tiny Multiboot test guests (tests/guests/), each judged by its exit-port code
# (sourced by run-svm).

# guest_case BOOT CASE NAME CODE: the test guest NAME booted by BOOT (e2e_boot_svm or
# e2e_boot_mb2, lib.sh) must end with exit code CODE; the log is $out/CASE.log.
guest_case() {
	local boot=$1 case=$2 name=$3 want_code=$4
	local dir=$out/$case
	mkdir -p "$dir"
	cat >"$dir/keel.cfg" <<CFG
[vm $name]
memory = 32M
kernel = $name.elf
cmdline = keel test guest $name
CFG
	"$boot" "$case" "$dir/keel.cfg" 60 "$root/build/guests/$name.elf"
	e2e_ended "$case" && e2e_expect "$case" "vm $name: starting" &&
		e2e_expect "$case" "vm $name: exit code $want_code" &&
		e2e_expect "$case" "vm $name: exits total" && e2e_pass "$case"
}

test_guests() {
	guest_case e2e_boot_svm guest-hello hello 0
}

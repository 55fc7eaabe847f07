# Bad keel.cfg files: each must print its exact keel.cfg:LINE: message, start no VM, and power the
# machine off by itself. (sourced by run-svm)

# config_case BOOT NAME WANT TEXT [FILE...]: BOOT is e2e_boot_svm or e2e_boot_mb2 (lib.sh); the
# log is $out/NAME.log.
config_case() {
	local boot=$1 name=$2 want=$3 text=$4
	shift 4
	local dir=$out/$name
	mkdir -p "$dir"
	printf '%b' "$text" >"$dir/keel.cfg"
	"$boot" "$name" "$dir/keel.cfg" 60 "$@"
	e2e_ended "$name" && e2e_stamped "$name" && e2e_expect "$name" "$want" &&
		e2e_expect "$name" "no VM started" && e2e_reject "$name" "vm a: starting" &&
		e2e_pass "$name"
}

config_errors() {
	local k=$out/cfg-files
	mkdir -p "$k"
	head -c 4096 /dev/zero >"$k/kernel"
	config_case e2e_boot_svm cfg-unknown-key "keel.cfg:4: unknown key 'colour'; expected one of memory, cpus" \
		'[vm a]\nmemory = 64M\nkernel = kernel\ncolour = blue\n' "$k/kernel"
	config_case e2e_boot_svm cfg-bad-size "keel.cfg:3: bad memory size '64'; expected a number with a K, M or G suffix" \
		'# comment\n[vm a]\nmemory = 64\nkernel = kernel\n' "$k/kernel"
	config_case e2e_boot_svm cfg-missing-file "keel.cfg:3: cannot read initrd 'nope.gz': not found; expected a file beside keel.cfg" \
		'[vm a]\nmemory = 64M\ninitrd = nope.gz\nkernel = kernel\n' "$k/kernel"
	config_case e2e_boot_svm cfg-duplicate "keel.cfg:4: duplicate VM name 'a' (first at line 1)" \
		'[vm a]\nmemory = 64M\nkernel = kernel\n[vm a]\nmemory = 64M\nkernel = kernel\n' "$k/kernel"
	config_case e2e_boot_svm cfg-too-many-cpus "keel.cfg:3: cpus = 64 is more than keel supports yet; expected 1 to" \
		'[vm a]\nmemory = 64M\ncpus = 64\nkernel = kernel\n' "$k/kernel"
	config_case e2e_boot_svm cfg-too-much-memory "keel.cfg:2: [vm a] memory = 65536M does not fit" \
		'[vm a]\nmemory = 64G\nkernel = kernel\n' "$k/kernel"
	QEMU_OPTS="--smp 2" config_case e2e_boot_svm cfg-pin-offline \
		"keel.cfg:4: pin = 5: cpu 5 is not online (2 CPUs online); expected a CPU number" \
		'[vm a]\nmemory = 64M\nkernel = kernel\npin = 5\n' "$k/kernel"
	config_case e2e_boot_svm cfg-missing-kernel-key "keel.cfg:1: [vm a] has no kernel; expected e.g. kernel = vmlinuz" \
		'[vm a]\nmemory = 64M\n' "$k/kernel"
}

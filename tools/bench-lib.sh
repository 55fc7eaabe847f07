# Helpers of make bench's scripts (sourced): stamping serial lines with the host's time, the
# seconds between two of them, a median.

# stamp: prefixes every line read with the host time in seconds (bash's EPOCHREALTIME: no fork)
stamp() {
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

# seconds between the first line matching $2 (or the start time $3) and the first matching $4: on
# the host's clock (the stamp), or with BENCH_ICOUNT=1 on the guest's (the uptime a bench marker
# line ends with, tools/build-guest-images; no start time then)
elapsed() {
	local log=$1 from_re=$2 start=$3 to_re=$4
	local t0 t1 field=1
	[ "${BENCH_ICOUNT:-0}" = 1 ] && field=NF
	if [ -n "$from_re" ]; then
		t0=$(grep -a -m1 -- "$from_re" "$log" | tr -d '\r' | awk "{ print \$$field }")
	else
		t0=$start
	fi
	t1=$(grep -a -m1 -- "$to_re" "$log" | tr -d '\r' | awk "{ print \$$field }")
	[ -n "$t0" ] && [ -n "$t1" ] || { echo "NA"; return; }
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

median() {
	tr ' ' '\n' | grep -v '^NA$' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 }
		END { if (NR == 0) { print "NA"; exit } if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# keel_qemu ESP SMP LOG: keel.efi from the ESP folder under QEMU TCG (-cpu EPYC: SVM with nested
# paging) and OVMF with SMP CPUs and 1 GiB, its serial lines stamped into LOG
keel_qemu() {
	local esp=$1 smp=$2 log=$3 vars
	vars=$(mktemp /tmp/keel-vars.XXXXXX.fd)
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
	timeout 600 qemu-system-x86_64 -machine q35 -accel tcg,thread=single -cpu EPYC -m 1G \
		-smp "$smp" -display none -no-reboot -net none -serial stdio -monitor none ${BENCH_QEMU_OPTS:-} \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$vars" \
		-drive file=fat:rw:"$esp",format=raw,media=disk </dev/null 2>/dev/null |
		stamp >"$log"
	rm -f "$vars"
}

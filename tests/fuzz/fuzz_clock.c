/* The VM's clock (core/vm_clock.h) and the pvclock arithmetic, driven by the input: any TSC rate
 * keel may calibrate, any host TSC at the start (the wrap included), then a sequence of steps
 * that advance the host TSC, read the clock on one of four vCPUs, or write IA32_TSC as a guest
 * may. After every step: the time a vCPU computes from its kvm-clock structure equals keel's for
 * the VM, the TSC-deadline conversion agrees with both, no read is earlier than one before it,
 * and pvclock_scale_apply equals the 128-bit reference.
 *
 * Input: 8 bytes of rate (taken modulo 10^11, at least 1000), 8 bytes of start TSC, then steps
 * of 9 bytes: a byte c and 8 of argument a. c % 3 = 0: the host TSC advances by a >> (c / 3 %
 * 48); c % 3 = 1: vCPU c / 3 % 4 reads; c % 3 = 2: vCPU c / 3 % 4 writes a to IA32_TSC. */
#include "core/vm_clock.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take64(const uint8_t **p, size_t *left)
{
	uint64_t v = 0;
	size_t n = *left < 8 ? *left : 8;
	memcpy(&v, *p, n);
	*p += n;
	*left -= n;
	return v;
}

static uint64_t reference_scale(struct pvclock_scale s, uint64_t d)
{
	d = s.shift < 0 ? d >> -s.shift : d << s.shift;
	return (uint64_t)(((unsigned __int128)d * s.mul) >> 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hz = take64(&data, &size) % 100000000000ull;
	uint64_t host = take64(&data, &size);
	struct vm_clock c;
	uint64_t tsc_at_zero[4], last = 0;

	if (hz < 1000)
		hz = 1000;
	vm_clock_start(&c, host, hz, hz & 1);
	const uint64_t start = host;
	for (unsigned v = 0; v < 4; v++)
		tsc_at_zero[v] = vm_clock_tsc_at_zero(&c);
	while (size) {
		uint8_t op = *data++;
		size--;
		uint64_t a = take64(&data, &size);
		unsigned v = op / 3 % 4;
		switch (op % 3) {
		case 0: {
			/* no further than guest time's range: keel runs for less than centuries */
			uint64_t step = a >> (op / 3 % 48), span = host - start;
			uint64_t limit = (1ull << 62) >> (c.scale.shift > 0 ? c.scale.shift : 0);
			if (step < limit && span < limit - step)
				host += step;
			break;
		}
		case 1: {
			uint64_t guest_tsc = host + c.tsc_offset;
			uint64_t now =
				tsc_at_zero[v] == vm_clock_tsc_at_zero(&c)
					? reference_scale(c.scale, guest_tsc - tsc_at_zero[v])
					: 0;
			if (now != vm_clock_ns(&c, host) || now != vm_clock_tsc_ns(&c, guest_tsc) ||
			    now < last)
				abort();
			last = now;
			break;
		}
		default:
			if (vm_clock_write_tsc(&c, a, host))
				for (unsigned w = 0; w < 4; w++) /* every vCPU takes it */
					tsc_at_zero[w] = vm_clock_tsc_at_zero(&c);
			break;
		}
		uint64_t d = host - start;
		if (pvclock_scale_apply(c.scale, d) != reference_scale(c.scale, d))
			abort();
	}
	return 0;
}

#include "core/kvmclock.h"

#include "lib/kstring.h"

struct pvclock_scale pvclock_scale_for(uint64_t tsc_hz)
{
	/* the smallest shift with tsc_hz * 2^shift > 1e9 keeps mul < 2^32 and >= 2^31 */
	int shift = 0;
	uint64_t scaled = tsc_hz;
	while (scaled > 2000000000ull && shift > -31) {
		scaled >>= 1;
		shift--;
	}
	while (scaled <= 1000000000ull && shift < 31) {
		scaled <<= 1;
		shift++;
	}
	struct pvclock_scale s = { (uint32_t)((1000000000ull << 32) / scaled), (int8_t)shift };
	return s;
}

uint64_t pvclock_scale_apply(struct pvclock_scale s, uint64_t d)
{
	d = s.shift < 0 ? d >> -s.shift : d << s.shift;
	/* 64 x 32 bit product, shifted right by 32, without 128-bit arithmetic */
	uint64_t lo = (d & 0xffffffffull) * s.mul, hi = (d >> 32) * s.mul;
	return hi + (lo >> 32);
}

struct pvclock_time {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} PACKED;

struct pvclock_wall {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} PACKED;

/* The guest may put a structure across a page boundary, and its two pages may lie in different
 * host blocks (core/gmem.h): the fields go through gmem_write. Only the version is written in
 * place, as one store the guest sees whole: 4 bytes at a 4-aligned address never cross a page.
 * An odd version while the fields change (one vCPU writes it; the guest retries on odd). */
static int write_versioned(const struct guest_mem *m, uint64_t gpa, const void *body,
			   uint64_t body_off, uint64_t size)
{
	uint32_t *version = gmem_ptr(m, gpa, sizeof(*version));

	if (!version || !IS_ALIGNED(gpa, 4) || !gmem_covers(m, gpa, size))
		return -1;
	uint32_t v = __atomic_load_n(version, __ATOMIC_RELAXED);
	__atomic_store_n(version, v | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	gmem_write(m, gpa + body_off, (const uint8_t *)body + body_off, size - body_off);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(version, (v | 1) + 1, __ATOMIC_RELAXED);
	return 0;
}

int kvmclock_write_time(const struct guest_mem *m, uint64_t gpa, uint64_t tsc, uint64_t system_ns,
			struct pvclock_scale scale, bool stable)
{
	struct pvclock_time t = { .tsc_timestamp = tsc,
				  .system_time = system_ns,
				  .tsc_to_system_mul = scale.mul,
				  .tsc_shift = scale.shift,
				  .flags = stable ? PVCLOCK_TSC_STABLE_BIT : 0 };

	/* from tsc_timestamp on: version and pad0 stay the guest's */
	return write_versioned(m, gpa, &t, 8, sizeof(t));
}

int kvmclock_write_wall(const struct guest_mem *m, uint64_t gpa, uint64_t epoch_sec)
{
	struct pvclock_wall w = { .sec = (uint32_t)epoch_sec, .nsec = 0 };

	return write_versioned(m, gpa, &w, 4, sizeof(w));
}

uint64_t epoch_seconds(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute,
		       unsigned second)
{
	static const uint16_t before_month[12] = { 0,	31,  59,  90,  120, 151,
						   181, 212, 243, 273, 304, 334 };
	if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 ||
	    hour > 23 || minute > 59 || second > 60)
		return 0;
	uint64_t y = year - 1970;
	/* leap days from 1970 up to the start of this year: years 1972, 1976, ... */
	uint64_t leaps = (year - 1969) / 4 - (year - 1901) / 100 + (year - 1601) / 400;
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	uint64_t days = y * 365 + leaps + before_month[month - 1] + (leap && month > 2) + day - 1;
	return ((days * 24 + hour) * 60 + minute) * 60 + second;
}

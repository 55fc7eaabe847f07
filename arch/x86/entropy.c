#include "arch/x86/entropy.h"

#include "arch/x86/cpu.h"
#include "lib/drbg.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "lib/spinlock.h"

enum source { SRC_DRBG, SRC_RDRAND, SRC_RDSEED };
static enum source source;
static struct drbg drbg;
static struct spinlock drbg_lock;

/* Both set CF when the value is valid (SDM vol 2, RDRAND and RDSEED). */
static bool rdrand64(uint64_t *v)
{
	bool ok;
	__asm__ volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

static bool rdseed64(uint64_t *v)
{
	bool ok;
	__asm__ volatile("rdseed %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

/* Intel's guidance: retry RDRAND up to 10 times; RDSEED may fail more often, so more tries
 * with a pause between (Intel DRNG Software Implementation Guide, 5.2). */
static bool hw64(uint64_t *v)
{
	for (unsigned i = 0; i < 100; i++) {
		if (source == SRC_RDSEED ? rdseed64(v) : rdrand64(v))
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

static void drbg_fill(void *buf, size_t n)
{
	spin_lock(&drbg_lock);
	drbg_generate(&drbg, buf, n);
	spin_unlock(&drbg_lock);
}

void entropy_fill(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (source != SRC_DRBG && n) {
		uint64_t v;
		if (!hw64(&v))
			break;
		size_t k = n < 8 ? n : 8;
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
	if (n)
		drbg_fill(p, n);
}

void entropy_init(void)
{
	uint64_t seed[64];
	/* the low bits of the TSC across loops of work: what jitter a machine without a hardware
	 * generator offers keel this early */
	for (unsigned i = 0; i < 64; i++) {
		uint64_t t0 = rdtsc();
		for (volatile unsigned k = 0; k < 1000 + (t0 & 0xFF); k++)
			;
		seed[i] = rdtsc() ^ t0 << 32;
	}
	drbg_seed(&drbg, seed, sizeof(seed));
	if (cpuid(7, 0).ebx & (1u << 18))
		source = SRC_RDSEED;
	else if (cpuid(1, 0).ecx & (1u << 30))
		source = SRC_RDRAND;
	uint64_t v;
	if (source != SRC_DRBG && hw64(&v))
		drbg_seed(&drbg, &v, sizeof(v)); /* the DRBG's seed gets the hardware's too */
	else
		source = SRC_DRBG;
	klog("keel: entropy for the VMs from %s",
	     source == SRC_RDSEED ? "RDSEED"
	     : source == SRC_RDRAND
		     ? "RDRAND"
		     : "a ChaCha20 DRBG seeded from TSC jitter (weak: no RDRAND on this CPU)");
}

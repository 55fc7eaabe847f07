/* Entropy for the VMs (virtio-rng): RDSEED where the CPU has it (CPUID.7.0:EBX[18]), else RDRAND
 * (CPUID.1:ECX[30]) (Intel SDM vol 1, 7.3.17), else keel's ChaCha20 DRBG (lib/drbg.h) seeded at
 * boot from the time-stamp counter's jitter over timed loops -- weak, and said so in
 * docs/security.md: a guest on such a CPU should not rely on it alone. An instruction that keeps
 * failing (the hardware's entropy exhausted) also falls back to the DRBG for that request. */
#ifndef KEEL_ARCH_X86_ENTROPY_H
#define KEEL_ARCH_X86_ENTROPY_H

#include "lib/types.h"

/* Picks the source and seeds the DRBG; logs which. */
void entropy_init(void);
/* n bytes of entropy into buf; any CPU, any time after entropy_init. */
void entropy_fill(void *buf, size_t n);

#endif

/* A test-and-set spinlock for the few structures several CPUs share (keel's allocator, the
 * console). Freestanding: compiler atomics only. */
#ifndef KEEL_LIB_SPINLOCK_H
#define KEEL_LIB_SPINLOCK_H

#include "lib/types.h"

struct spinlock {
	volatile bool locked;
};

static inline bool spin_trylock(struct spinlock *l)
{
	return !__atomic_exchange_n(&l->locked, true, __ATOMIC_ACQUIRE);
}

static inline void spin_lock(struct spinlock *l)
{
	while (!spin_trylock(l))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

/* Gives up after `tries` polls: false, and the caller goes on without the lock (for the log,
 * which must still speak when a CPU died holding it, or faulted inside it). */
static inline bool spin_lock_bounded(struct spinlock *l, unsigned long tries)
{
	while (!spin_trylock(l)) {
		if (!tries--)
			return false;
		__builtin_ia32_pause();
	}
	return true;
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, false, __ATOMIC_RELEASE);
}

#endif

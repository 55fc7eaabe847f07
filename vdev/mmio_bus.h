/* A VM's guest-physical MMIO space: ranges claimed by devices. An access no device claims reads
 * all ones and a write to it is dropped; the first access per 4 KiB page is logged, rate-limited
 * (CONVENTIONS.md, "Unclaimed guest I/O"). */
#ifndef KEEL_VDEV_MMIO_BUS_H
#define KEEL_VDEV_MMIO_BUS_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

struct mmio_ops {
	/* off is the offset of the first byte from the range's base; size is 1, 2, 4 or 8. An
	 * access may run past the range's end: the device decides what those bytes are. */
	int (*read)(void *dev, uint64_t off, unsigned size, uint64_t *val);
	int (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
};

/* the IOAPIC, ECAM and the PCI devices' memory BARs */
#define MMIO_BUS_MAX_RANGES 64

struct mmio_range {
	uint64_t base, size;
	const struct mmio_ops *ops;
	void *dev;
};

struct mmio_bus {
	const struct vdev_env *env;
	struct mmio_range ranges[MMIO_BUS_MAX_RANGES];
	unsigned nr;
	struct unclaimed_log log;
};

void mmio_bus_init(struct mmio_bus *bus, const struct vdev_env *env);
/* -1 when the range is empty, wraps, overlaps a claimed one or the table is full. */
int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *dev);
/* Releases every range registered with dev (a BAR the guest moved or stopped decoding). */
void mmio_bus_unregister(struct mmio_bus *bus, const void *dev);
/* size must be 1, 2, 4 or 8 (else -1). Unclaimed: all ones, 0. */
int mmio_bus_read(struct mmio_bus *bus, uint64_t gpa, unsigned size, uint64_t *val);
int mmio_bus_write(struct mmio_bus *bus, uint64_t gpa, unsigned size, uint64_t val);
/* Logs an unclaimed access (first per page, rate-limited): for callers that decide themselves
 * that nothing claims gpa. */
void mmio_bus_log_unclaimed(struct mmio_bus *bus, uint64_t gpa, unsigned size, bool write,
			    uint64_t val);

#endif

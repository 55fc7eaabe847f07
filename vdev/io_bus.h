/* A VM's I/O port space: ranges of ports, each claimed by one device. An access no device claims
 * reads all ones and a write to it is dropped; the first access per port is logged, rate-limited
 * (CONVENTIONS.md, "Unclaimed guest I/O"): that is a handled exit, not an error. */
#ifndef KEEL_VDEV_IO_BUS_H
#define KEEL_VDEV_IO_BUS_H

#include "lib/types.h"
#include "vdev/vdev.h"

struct io_ops {
	/* port is the first port accessed (inside the device's range); size is 1, 2 or 4 and one of
	 * the sizes the range was registered with. Return 0; anything else goes to the caller. */
	int (*read)(void *dev, uint16_t port, unsigned size, uint32_t *val);
	int (*write)(void *dev, uint16_t port, unsigned size, uint32_t val);
};

/* Access-size masks for registration. */
#define IO_SIZE_1 (1u << 1)
#define IO_SIZE_2 (1u << 2)
#define IO_SIZE_4 (1u << 4)
#define IO_SIZE_ANY (IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4)

/* Remembers which unclaimed ports/pages were already reported, and a token bucket that bounds
 * how many lines a guest can make keel print (a burst, then one per second of guest time).
 * Shared by the I/O and MMIO buses. */
#define UNCLAIMED_SEEN 32
#define UNCLAIMED_BURST 16

struct unclaimed_log {
	uint64_t seen[UNCLAIMED_SEEN]; /* key + 1; 0 = empty slot */
	unsigned next;
	unsigned tokens;
	unsigned suppressed;
	uint64_t refill_ns;
};

void unclaimed_log_init(struct unclaimed_log *log);
/* True when key has not been reported yet and a line may be printed now; *suppressed then holds
 * the number of first accesses that were not printed since the last line (and is reset). */
bool unclaimed_log_should_print(struct unclaimed_log *log, const struct vdev_env *env, uint64_t key,
				unsigned *suppressed);

/* the platform's ports, PCI configuration and the PCI devices' I/O BARs */
#define IO_BUS_MAX_RANGES 64

struct io_range {
	uint16_t base;
	uint16_t last; /* inclusive, so a range may end at 0xFFFF */
	uint8_t sizes;
	const struct io_ops *ops;
	void *dev;
};

struct io_bus {
	const struct vdev_env *env;
	struct io_range ranges[IO_BUS_MAX_RANGES];
	unsigned nr;
	struct unclaimed_log log;
};

void io_bus_init(struct io_bus *bus, const struct vdev_env *env);
/* Claims [base, base + len) for dev. sizes (IO_SIZE_*) must include IO_SIZE_1. The range holding
 * an access's first port takes it: whole when sizes has its size (the handler then sees ports past
 * its range as part of that access), else split into byte accesses as the ISA bus does, the bytes
 * past the range reading ones. -1 when the range is empty,
 * wraps, overlaps a claimed one or the table is full. */
int io_bus_register(struct io_bus *bus, uint16_t base, uint32_t len, unsigned sizes,
		    const struct io_ops *ops, void *dev);
/* Releases every range registered with dev (a BAR the guest moved or stopped decoding). */
void io_bus_unregister(struct io_bus *bus, const void *dev);
/* size must be 1, 2 or 4 (else -1 and *val all ones). Returns the device's result, normally 0. */
int io_bus_read(struct io_bus *bus, uint16_t port, unsigned size, uint32_t *val);
int io_bus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t val);

#endif

/* MMIO dispatch: a short table of claimed guest-physical ranges, searched linearly. */
#include "vdev/mmio_bus.h"

#include "lib/kstring.h"
#include "lib/log.h"

void mmio_bus_init(struct mmio_bus *bus, const struct vdev_env *env)
{
	memset(bus, 0, sizeof(*bus));
	bus->env = env;
	unclaimed_log_init(&bus->log);
}

int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *dev)
{
	if (!size || base + size - 1 < base || !ops || !ops->read || !ops->write ||
	    bus->nr == MMIO_BUS_MAX_RANGES)
		return -1;
	uint64_t last = base + size - 1;
	for (unsigned i = 0; i < bus->nr; i++) {
		const struct mmio_range *r = &bus->ranges[i];
		if (base <= r->base + r->size - 1 && r->base <= last)
			return -1;
	}
	bus->ranges[bus->nr++] =
		(struct mmio_range){ .base = base, .size = size, .ops = ops, .dev = dev };
	return 0;
}

static struct mmio_range *find(struct mmio_bus *bus, uint64_t gpa)
{
	for (unsigned i = 0; i < bus->nr; i++)
		if (gpa >= bus->ranges[i].base && gpa - bus->ranges[i].base < bus->ranges[i].size)
			return &bus->ranges[i];
	return NULL;
}

static bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t ones(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

void mmio_bus_log_unclaimed(struct mmio_bus *bus, uint64_t gpa, unsigned size, bool write,
			    uint64_t val)
{
	unsigned suppressed;
	if (!unclaimed_log_should_print(&bus->log, bus->env, gpa >> 12, &suppressed))
		return;
	const char *name = bus->env && bus->env->vm_name ? bus->env->vm_name : "?";
	const char *more = suppressed ? " (earlier pages not logged)" : "";
	if (write)
		klog("vm %s: unclaimed MMIO page 0x%llx: %u-byte write of 0x%llx at 0x%llx "
		     "dropped%s",
		     name, (unsigned long long)(gpa & ~0xFFFull), size, (unsigned long long)val,
		     (unsigned long long)gpa, more);
	else
		klog("vm %s: unclaimed MMIO page 0x%llx: %u-byte read at 0x%llx, all ones%s", name,
		     (unsigned long long)(gpa & ~0xFFFull), size, (unsigned long long)gpa, more);
}

void mmio_bus_unregister(struct mmio_bus *bus, const void *dev)
{
	unsigned k = 0;
	for (unsigned i = 0; i < bus->nr; i++)
		if (bus->ranges[i].dev != dev)
			bus->ranges[k++] = bus->ranges[i];
	bus->nr = k;
}

int mmio_bus_read(struct mmio_bus *bus, uint64_t gpa, unsigned size, uint64_t *val)
{
	*val = ~0ull;
	if (!size_ok(size))
		return -1;
	struct mmio_range *r = find(bus, gpa);
	if (!r) {
		mmio_bus_log_unclaimed(bus, gpa, size, false, 0);
		*val = ones(size);
		return 0;
	}
	uint64_t v = 0;
	int rc = r->ops->read(r->dev, gpa - r->base, size, &v);
	*val = v & ones(size);
	return rc;
}

int mmio_bus_write(struct mmio_bus *bus, uint64_t gpa, unsigned size, uint64_t val)
{
	if (!size_ok(size))
		return -1;
	val &= ones(size);
	struct mmio_range *r = find(bus, gpa);
	if (!r) {
		mmio_bus_log_unclaimed(bus, gpa, size, true, val);
		return 0;
	}
	return r->ops->write(r->dev, gpa - r->base, size, val);
}

/* I/O port dispatch: a short table of claimed ranges, searched linearly (a VM has ~20). */
#include "vdev/io_bus.h"

#include "lib/kstring.h"
#include "lib/log.h"

void unclaimed_log_init(struct unclaimed_log *log)
{
	memset(log, 0, sizeof(*log));
	log->tokens = UNCLAIMED_BURST;
}

bool unclaimed_log_should_print(struct unclaimed_log *log, const struct vdev_env *env, uint64_t key,
				unsigned *suppressed)
{
	for (unsigned i = 0; i < UNCLAIMED_SEEN; i++)
		if (log->seen[i] == key + 1)
			return false;
	/* Forget the oldest once full: a guest sweeping every port is then reported again, but
	 * only at the bucket's pace. */
	log->seen[log->next] = key + 1;
	log->next = (log->next + 1) % UNCLAIMED_SEEN;

	uint64_t now = env && env->now_ns ? env->now_ns(env->ctx) : 0;
	if (now >= log->refill_ns + VDEV_NS_PER_SEC) {
		uint64_t add = (now - log->refill_ns) / VDEV_NS_PER_SEC;
		uint64_t t = log->tokens + MIN(add, (uint64_t)UNCLAIMED_BURST);
		log->tokens = (unsigned)MIN(t, (uint64_t)UNCLAIMED_BURST);
		log->refill_ns = now;
	}
	if (!log->tokens) {
		log->suppressed++;
		return false;
	}
	log->tokens--;
	*suppressed = log->suppressed;
	log->suppressed = 0;
	return true;
}

void io_bus_init(struct io_bus *bus, const struct vdev_env *env)
{
	memset(bus, 0, sizeof(*bus));
	bus->env = env;
	unclaimed_log_init(&bus->log);
}

int io_bus_register(struct io_bus *bus, uint16_t base, uint32_t len, unsigned sizes,
		    const struct io_ops *ops, void *dev)
{
	if (!len || base + len - 1 > 0xFFFF || !(sizes & IO_SIZE_1) || !ops || !ops->read ||
	    !ops->write || bus->nr == IO_BUS_MAX_RANGES)
		return -1;
	uint16_t last = (uint16_t)(base + len - 1);
	for (unsigned i = 0; i < bus->nr; i++)
		if (base <= bus->ranges[i].last && bus->ranges[i].base <= last)
			return -1;
	struct io_range *r = &bus->ranges[bus->nr++];
	*r = (struct io_range){
		.base = base, .last = last, .sizes = (uint8_t)sizes, .ops = ops, .dev = dev
	};
	return 0;
}

static struct io_range *find(struct io_bus *bus, uint16_t port)
{
	for (unsigned i = 0; i < bus->nr; i++)
		if (port >= bus->ranges[i].base && port <= bus->ranges[i].last)
			return &bus->ranges[i];
	return NULL;
}

static void log_unclaimed(struct io_bus *bus, uint16_t port, unsigned size, bool write,
			  uint32_t val)
{
	unsigned suppressed;
	if (!unclaimed_log_should_print(&bus->log, bus->env, port, &suppressed))
		return;
	const char *name = bus->env && bus->env->vm_name ? bus->env->vm_name : "?";
	if (write)
		klog("vm %s: unclaimed I/O port 0x%x: %u-byte write of 0x%x dropped%s", name, port,
		     size, val, suppressed ? " (earlier ports not logged)" : "");
	else
		klog("vm %s: unclaimed I/O port 0x%x: %u-byte read, all ones%s", name, port, size,
		     suppressed ? " (earlier ports not logged)" : "");
}

static bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4;
}

/* The device whose range holds the first port takes the access: whole when it accepts that
 * size, else byte by byte as an 8-bit ISA device sees it, with the bytes past its range reading
 * ones. The ports after the first never pull in a second device: a dword access to 0xCF8 (PCI
 * CONFIG_ADDRESS) must not reach the reset register at 0xCF9. */
void io_bus_unregister(struct io_bus *bus, const void *dev)
{
	unsigned k = 0;
	for (unsigned i = 0; i < bus->nr; i++)
		if (bus->ranges[i].dev != dev)
			bus->ranges[k++] = bus->ranges[i];
	bus->nr = k;
}

int io_bus_read(struct io_bus *bus, uint16_t port, unsigned size, uint32_t *val)
{
	*val = 0xFFFFFFFFu;
	if (!size_ok(size))
		return -1;
	uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
	struct io_range *r = find(bus, port);
	if (!r) {
		log_unclaimed(bus, port, size, false, 0);
		*val = mask;
		return 0;
	}
	if (r->sizes & (1u << size)) {
		uint32_t v = 0;
		int rc = r->ops->read(r->dev, port, size, &v);
		*val = v & mask;
		return rc;
	}
	uint32_t out = 0;
	int rc = 0;
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = (uint32_t)port + i, v = 0xFF;
		if (p <= r->last) {
			int r2 = r->ops->read(r->dev, (uint16_t)p, 1, &v);
			rc = rc ? rc : r2;
		}
		out |= (v & 0xFF) << (8 * i);
	}
	*val = out;
	return rc;
}

int io_bus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t val)
{
	if (!size_ok(size))
		return -1;
	if (size < 4)
		val &= (1u << (8 * size)) - 1;
	struct io_range *r = find(bus, port);
	if (!r) {
		log_unclaimed(bus, port, size, true, val);
		return 0;
	}
	if (r->sizes & (1u << size))
		return r->ops->write(r->dev, port, size, val);
	int rc = 0;
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = (uint32_t)port + i;
		if (p > r->last)
			break;
		int r2 = r->ops->write(r->dev, (uint16_t)p, 1, (val >> (8 * i)) & 0xFF);
		rc = rc ? rc : r2;
	}
	return rc;
}

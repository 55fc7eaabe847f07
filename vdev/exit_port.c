/* The exit port: records the first value written and asks the VM to stop. */
#include "vdev/exit_port.h"

void exit_port_init(struct exit_port *ep, const struct vdev_env *env)
{
	ep->env = env;
	exit_port_reset(ep);
}

void exit_port_reset(struct exit_port *ep)
{
	ep->fired = false;
	ep->code = 0;
}

static int exit_port_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	(void)dev, (void)port, (void)size;
	*val = 0xFFFFFFFFu; /* write-only: reads as an empty bus */
	return 0;
}

static int exit_port_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct exit_port *ep = dev;
	(void)port, (void)size;
	/* The stop takes effect when the vCPU returns to its loop; a second write before then
	 * (another vCPU) must not change the code already reported. */
	if (ep->fired)
		return 0;
	ep->fired = true;
	ep->code = val;
	if (ep->env->request_stop)
		ep->env->request_stop(ep->env->ctx, VM_STOP_EXIT_PORT, val);
	return 0;
}

static const struct io_ops exit_port_ops = { .read = exit_port_read, .write = exit_port_write };

int exit_port_register(struct exit_port *ep, struct io_bus *bus)
{
	return io_bus_register(bus, EXIT_PORT, 1, IO_SIZE_ANY, &exit_port_ops, ep);
}

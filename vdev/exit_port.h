/* The exit port (CONVENTIONS.md, "The exit port"): a 1-, 2- or 4-byte write to port 0xF4 stops
 * the VM; the value is the exit code (0: the test passed). */
#ifndef KEEL_VDEV_EXIT_PORT_H
#define KEEL_VDEV_EXIT_PORT_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define EXIT_PORT 0xF4

struct exit_port {
	const struct vdev_env *env;
	bool fired;
	uint32_t code;
};

void exit_port_init(struct exit_port *ep, const struct vdev_env *env);
void exit_port_reset(struct exit_port *ep);
/* Claims EXIT_PORT on bus. */
int exit_port_register(struct exit_port *ep, struct io_bus *bus);

#endif

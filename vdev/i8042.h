/* The keyboard controller's system functions and System Control Port A: enough for the reset
 * paths (8042 command 0xFE, port 0x92 bit 0) and for drivers that poll its status. No keyboard or
 * mouse is attached: the guest's ACPI tables describe no PS/2 device. */
#ifndef KEEL_VDEV_I8042_H
#define KEEL_VDEV_I8042_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define VI8042_DATA_PORT 0x60
#define VI8042_CMD_PORT 0x64
#define VI8042_PORT_A 0x92

struct vi8042 {
	const struct vdev_env *env;
	uint8_t ccb; /* controller command byte */
	uint8_t out; /* output buffer */
	bool out_full;
	uint8_t pending;     /* command waiting for its data byte on port 0x60, or 0 */
	bool last_was_cmd;   /* status bit 3: the last write went to port 0x64 */
	uint8_t port_a;	     /* port 0x92 */
	uint8_t output_port; /* 8042 output port: bit 0 reset line (active low), bit 1 A20 */
};

void vi8042_init(struct vi8042 *k, const struct vdev_env *env);
void vi8042_reset(struct vi8042 *k);
int vi8042_register(struct vi8042 *k, struct io_bus *bus);

#endif

/* 8042 keyboard controller, system side (IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard/Auxiliary Device Controller": status register, commands 0x20/0x60/0xAA/0xAB/0xD0/
 * 0xD1/0xFx) and System Control Port A at 0x92 (same reference, "System Control Port A":
 * bit 0 fast reset, bit 1 A20). Input is never full, so drivers that wait for it to drain (Linux
 * kb_wait before writing 0xFE) do not hang. A20 is always enabled: the gate bits are stored
 * only. */
#include "vdev/i8042.h"

#include "lib/kstring.h"

#define STS_OBF 0x01
#define STS_SYS 0x04 /* system flag: POST passed */
#define STS_CMD 0x08 /* last write was a command */
#define STS_UNLOCKED 0x10

#define CCB_DEFAULT 0x45 /* keyboard interrupt on, system flag, translation */

void vi8042_init(struct vi8042 *k, const struct vdev_env *env)
{
	memset(k, 0, sizeof(*k));
	k->env = env;
	vi8042_reset(k);
}

void vi8042_reset(struct vi8042 *k)
{
	k->ccb = CCB_DEFAULT;
	k->out = 0;
	k->out_full = false;
	k->pending = 0;
	k->last_was_cmd = false;
	k->port_a = 0x02; /* A20 on */
	k->output_port = 0x03;
}

static void reset_system(struct vi8042 *k)
{
	if (k->env->request_stop)
		k->env->request_stop(k->env->ctx, VM_STOP_RESET, 0);
}

static void respond(struct vi8042 *k, uint8_t byte)
{
	k->out = byte;
	k->out_full = true;
}

static void command(struct vi8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20: /* read command byte */
		respond(k, k->ccb);
		break;
	case 0x60: /* write command byte: next data byte */
	case 0xD1: /* write output port: next data byte */
		k->pending = cmd;
		break;
	case 0xA7: /* disable / enable the auxiliary port */
		k->ccb |= 0x20;
		break;
	case 0xA8:
		k->ccb &= (uint8_t)~0x20;
		break;
	case 0xAA: /* self test: passed */
		respond(k, 0x55);
		break;
	case 0xA9: /* aux interface test, keyboard interface test: no error */
	case 0xAB:
		respond(k, 0x00);
		break;
	case 0xAD:
		k->ccb |= 0x10;
		break;
	case 0xAE:
		k->ccb &= (uint8_t)~0x10;
		break;
	case 0xD0: /* read output port */
		respond(k, k->output_port);
		break;
	default:
		/* 0xF0-0xFF pulse output port bits 0-3 low for those clear in the command's low
		 * nibble: bit 0 is the CPU reset line (0xFE). */
		if (cmd >= 0xF0 && !(cmd & 1))
			reset_system(k);
		break;
	}
}

static void data(struct vi8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;
	k->pending = 0;
	if (cmd == 0x60) {
		k->ccb = v;
	} else if (cmd == 0xD1) {
		k->output_port = v;
		if (!(v & 1)) /* reset line driven low */
			reset_system(k);
	}
	/* a byte for the keyboard itself: no keyboard is attached, it goes nowhere */
}

static int kbc_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vi8042 *k = dev;
	(void)size;
	if (port == VI8042_CMD_PORT) {
		*val = STS_SYS | STS_UNLOCKED | (k->last_was_cmd ? STS_CMD : 0) |
		       (k->out_full ? STS_OBF : 0);
	} else {
		*val = k->out;
		k->out_full = false;
	}
	return 0;
}

static int kbc_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vi8042 *k = dev;
	(void)size;
	k->last_was_cmd = port == VI8042_CMD_PORT;
	if (port == VI8042_CMD_PORT)
		command(k, (uint8_t)val);
	else
		data(k, (uint8_t)val);
	return 0;
}

static int port_a_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vi8042 *k = dev;
	(void)port, (void)size;
	*val = k->port_a & 0xFE; /* the reset bit reads 0 once the pulse is over */
	return 0;
}

static int port_a_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vi8042 *k = dev;
	(void)port, (void)size;
	bool rise = (val & 1) && !(k->port_a & 1);
	k->port_a = (uint8_t)val;
	if (rise)
		reset_system(k);
	k->port_a &= 0xFE;
	return 0;
}

static const struct io_ops kbc_ops = { .read = kbc_read, .write = kbc_write };
static const struct io_ops port_a_ops = { .read = port_a_read, .write = port_a_write };

int vi8042_register(struct vi8042 *k, struct io_bus *bus)
{
	if (io_bus_register(bus, VI8042_DATA_PORT, 1, IO_SIZE_1, &kbc_ops, k) ||
	    io_bus_register(bus, VI8042_CMD_PORT, 1, IO_SIZE_1, &kbc_ops, k) ||
	    io_bus_register(bus, VI8042_PORT_A, 1, IO_SIZE_1, &port_a_ops, k))
		return -1;
	return 0;
}

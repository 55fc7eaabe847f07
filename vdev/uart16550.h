/* The guest's COM1: a 16550A UART (TI PC16550D data sheet) at 0x3F8, IRQ 4. Transmission is
 * instant (THR is always empty again at once); received bytes wait in a 16-byte FIFO. */
#ifndef KEEL_VDEV_UART16550_H
#define KEEL_VDEV_UART16550_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define VUART_COM1_BASE 0x3F8
#define VUART_COM1_GSI 4
#define VUART_FIFO_SIZE 16
#define VUART_TX_LINE 128 /* bytes kept until a line end before they are handed out anyway */

struct vuart16550 {
	const struct vdev_env *env;
	uint16_t base;
	unsigned gsi;
	bool irq_level;
	uint8_t ier, fcr, lcr, mcr, lsr_err, msr, scr, dll, dlm;
	bool thre_pending; /* the THRE interrupt: THR emptied, not yet acknowledged */
	uint8_t rx[VUART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint8_t tx[VUART_TX_LINE];
	uint8_t tx_len;
};

void vuart_init(struct vuart16550 *u, const struct vdev_env *env, uint16_t base, unsigned gsi);
void vuart_reset(struct vuart16550 *u);
int vuart_register(struct vuart16550 *u, struct io_bus *bus);
/* A byte from the console for the guest. False when the FIFO is full (the byte is lost and the
 * guest sees an overrun); feed at the guest's pace with vuart_can_receive(). */
bool vuart_receive(struct vuart16550 *u, uint8_t byte);
bool vuart_can_receive(const struct vuart16550 *u);
/* Hands out what the guest wrote that is still waiting for its line end. */
void vuart_flush(struct vuart16550 *u);

/* Register access for tests and the bus: offset 0-7 from the base. */
uint8_t vuart_read(struct vuart16550 *u, unsigned offset);
void vuart_write(struct vuart16550 *u, unsigned offset, uint8_t val);

#endif

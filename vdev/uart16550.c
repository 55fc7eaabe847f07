/* 16550A UART register logic. Register map and bits: TI PC16550D data sheet, table 2 (register
 * summary) and 8.6-8.10 (IIR priorities, FCR, LCR, MCR loopback, LSR, MSR). Linux's 8250 driver
 * probes it (drivers/tty/serial/8250 autoconfig): IER keeps only bits 0-3, loopback must loop
 * MCR into MSR, and IIR bits 6-7 read 11 with the FIFOs on, which makes it a 16550A. */
#include "vdev/uart16550.h"

#include "lib/kstring.h"

enum {
	REG_RBR_THR = 0, /* DLL when LCR.DLAB */
	REG_IER = 1,	 /* DLM when LCR.DLAB */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0C /* character timeout */
#define IIR_FIFO 0xC0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIGGER 0xC0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_FIFOERR 0x80

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0F

void vuart_init(struct vuart16550 *u, const struct vdev_env *env, uint16_t base, unsigned gsi)
{
	memset(u, 0, sizeof(*u));
	u->env = env;
	u->base = base;
	u->gsi = gsi;
	vuart_reset(u);
}

/* The modem lines the far end drives: in loopback, MCR's outputs (8.8: RTS->CTS, DTR->DSR,
 * OUT1->RI, OUT2->DCD); otherwise a connected terminal (carrier, DSR, CTS). */
static uint8_t modem_inputs(const struct vuart16550 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	uint8_t m = 0;
	m |= u->mcr & MCR_RTS ? MSR_CTS : 0;
	m |= u->mcr & MCR_DTR ? MSR_DSR : 0;
	m |= u->mcr & MCR_OUT1 ? MSR_RI : 0;
	m |= u->mcr & MCR_OUT2 ? MSR_DCD : 0;
	return m;
}

static void update_msr(struct vuart16550 *u)
{
	uint8_t now = modem_inputs(u), old = u->msr & 0xF0, changed = now ^ old;
	uint8_t delta = 0;
	delta |= changed & MSR_CTS ? MSR_DCTS : 0;
	delta |= changed & MSR_DSR ? MSR_DDSR : 0;
	delta |= changed & MSR_DCD ? MSR_DDCD : 0;
	delta |= (old & MSR_RI) && !(now & MSR_RI) ? MSR_TERI : 0; /* trailing edge only */
	u->msr = (uint8_t)(now | (u->msr & MSR_DELTAS) | delta);
}

static unsigned rx_trigger(const struct vuart16550 *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };
	return u->fcr & FCR_ENABLE ? levels[u->fcr >> 6] : 1;
}

/* IIR's interrupt identification, highest priority first (data sheet table 4). */
static uint8_t pending_iir(const struct vuart16550 *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr_err & LSR_OE))
		return IIR_RLSI;
	if ((u->ier & IER_ERBFI) && u->rx_count)
		return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_CTI;
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRI;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* On a PC the INTR pin reaches the PIC through OUT2; loopback disconnects it (8.8). */
static void update_irq(struct vuart16550 *u)
{
	bool level = pending_iir(u) != IIR_NO_INT && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->env && u->env->set_irq)
			u->env->set_irq(u->env->ctx, u->gsi, level);
	}
}

void vuart_flush(struct vuart16550 *u)
{
	if (u->tx_len && u->env && u->env->uart_tx)
		u->env->uart_tx(u->env->ctx, u->tx, u->tx_len);
	u->tx_len = 0;
}

void vuart_reset(struct vuart16550 *u)
{
	vuart_flush(u);
	u->ier = u->fcr = u->lcr = u->mcr = u->lsr_err = u->scr = 0;
	u->dll = 0x0C; /* 9600 baud, as after a PC BIOS; nothing depends on it */
	u->dlm = 0;
	u->msr = modem_inputs(u);
	u->thre_pending = false;
	u->rx_head = u->rx_count = 0;
	update_irq(u);
}

static void rx_push(struct vuart16550 *u, uint8_t byte)
{
	unsigned cap = u->fcr & FCR_ENABLE ? VUART_FIFO_SIZE : 1;
	if (u->rx_count >= cap) {
		u->lsr_err |= LSR_OE; /* the new byte is lost, as on the chip (8.10, OE) */
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = byte;
	u->rx_count++;
}

bool vuart_can_receive(const struct vuart16550 *u)
{
	/* loopback cuts the serial input off the pins (8.8) */
	return !(u->mcr & MCR_LOOP) && u->rx_count < (u->fcr & FCR_ENABLE ? VUART_FIFO_SIZE : 1);
}

bool vuart_receive(struct vuart16550 *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP)
		return false;
	bool ok = vuart_can_receive(u);
	rx_push(u, byte);
	update_irq(u);
	return ok;
}

static void transmit(struct vuart16550 *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, byte);
	} else {
		u->tx[u->tx_len++] = byte;
		if (byte == '\n' || u->tx_len == VUART_TX_LINE)
			vuart_flush(u);
	}
	/* The byte moved on at once: THR is empty again, which raises THRE anew (8.4). */
	u->thre_pending = true;
}

uint8_t vuart_read(struct vuart16550 *u, unsigned offset)
{
	uint8_t v = 0xFF;

	switch (offset & 7) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			v = u->dll;
		} else if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (uint8_t)((u->rx_head + 1) % VUART_FIFO_SIZE);
			u->rx_count--;
		} else {
			v = 0;
		}
		break;
	case REG_IER:
		v = u->lcr & LCR_DLAB ? u->dlm : u->ier;
		break;
	case REG_IIR_FCR:
		v = pending_iir(u);
		/* Reading IIR while it reports THRE acknowledges that interrupt (8.6). */
		if (v == IIR_THRI)
			u->thre_pending = false;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0);
		u->lsr_err = 0; /* error bits clear on read (8.10) */
		break;
	case REG_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTAS;
		break;
	case REG_SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}

void vuart_write(struct vuart16550 *u, unsigned offset, uint8_t val)
{
	switch (offset & 7) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = val;
		else
			transmit(u, val);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
		} else {
			/* Enabling ETBEI while THR is empty raises THRE at once: Linux's startup
			 * test (UART_BUG_THRE) and its start_tx rely on it. */
			if ((val & IER_ETBEI) && !(u->ier & IER_ETBEI))
				u->thre_pending = true;
			u->ier = val & 0x0F;
		}
		break;
	case REG_IIR_FCR:
		/* FIFO enable toggling clears both FIFOs; the other bits only take effect with
		 * bit 0 set (8.7). There is no TX FIFO to clear: transmission is instant. */
		if ((val ^ u->fcr) & FCR_ENABLE)
			u->rx_head = u->rx_count = 0;
		if (val & FCR_ENABLE) {
			if (val & FCR_CLEAR_RX)
				u->rx_head = u->rx_count = 0;
			u->fcr = val & (FCR_ENABLE | FCR_TRIGGER);
		} else {
			u->fcr = 0;
		}
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		if ((val ^ u->mcr) & MCR_LOOP)
			vuart_flush(u);
		u->mcr = val & 0x1F;
		update_msr(u);
		break;
	case REG_LSR: /* factory test only */
	case REG_MSR:
		break;
	case REG_SCR:
		u->scr = val;
		break;
	}
	update_irq(u);
}

static int vuart_io_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct vuart16550 *u = dev;
	(void)size;
	*val = vuart_read(u, (unsigned)(port - u->base));
	return 0;
}

static int vuart_io_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vuart16550 *u = dev;
	(void)size;
	vuart_write(u, (unsigned)(port - u->base), (uint8_t)val);
	return 0;
}

static const struct io_ops vuart_ops = { .read = vuart_io_read, .write = vuart_io_write };

int vuart_register(struct vuart16550 *u, struct io_bus *bus)
{
	return io_bus_register(bus, u->base, 8, IO_SIZE_1, &vuart_ops, u);
}

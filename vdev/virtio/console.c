#include "vdev/virtio/console.h"

#include "lib/kstring.h"

/* Feature bits (5.3.3). MULTIPORT (1) is not offered: one port on queues 0 and 1. */
#define F_SIZE 0
#define F_EMERG_WRITE 2

/* struct virtio_console_config (5.3.4): le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
#define CFG_COLS 0
#define CFG_ROWS 2
#define CFG_MAX_PORTS 4
#define CFG_EMERG_WR 8
#define CFG_LEN 12

/* simple communications controller, other (PCI Code and ID Assignment, 1.2), as QEMU's console */
#define PCI_CLASS_COMM_OTHER 0x078000

_Static_assert(VIRTIO_CONSOLE_QUEUE_SIZE <= VIRTQ_MAX_SIZE, "the transport takes the queue size");
_Static_assert((VIRTIO_CONSOLE_IN_MAX & (VIRTIO_CONSOLE_IN_MAX - 1)) == 0,
	       "free-running indices wrap cleanly over a power of two");

static void output(struct virtio_console *c, const uint8_t *buf, size_t n)
{
	const struct vdev_env *env = c->vpci.env;
	if (env->uart_tx)
		env->uart_tx(env->ctx, buf, n);
}

/* ---- transmit (guest to keel) ------------------------------------------------------------- */

static uint32_t transmit(struct virtio_pci *v, const struct guest_mem *m,
			 const struct virtq_chain *ch)
{
	struct virtio_console *c = v->ctx;
	if (ch->nr_in) {
		/* transmit buffers are device-readable only (5.3.6.1): a malformed chain */
		c->stats.tx_bad_chain++;
		return 0;
	}
	uint64_t want = ch->out_bytes;
	if (want > VIRTIO_CONSOLE_TX_MAX) {
		/* a bound on one exit's work: no console line is that long */
		c->stats.tx_cut += want - VIRTIO_CONSOLE_TX_MAX;
		want = VIRTIO_CONSOLE_TX_MAX;
	}
	for (uint64_t off = 0; off < want;) {
		size_t n = MIN(want - off, (uint64_t)sizeof(c->tx_buf));
		size_t k = virtq_chain_read(m, ch, off, c->tx_buf, n);
		if (!k)
			break; /* the RAM went away under the chain */
		output(c, c->tx_buf, k);
		c->stats.tx_bytes += k;
		off += k;
	}
	return 0; /* nothing written into the chain (2.7.8: used length is bytes written) */
}

/* ---- receive (keel to guest) -------------------------------------------------------------- */

unsigned virtio_console_waiting(const struct virtio_console *c)
{
	return c->in_head - c->in_tail;
}

/* As many waiting bytes as fit into one chain: the used length. */
static uint32_t receive(struct virtio_console *c, const struct guest_mem *m,
			const struct virtq_chain *ch)
{
	if (ch->nr_out) {
		c->stats.rx_bad_chain++; /* the bytes stay for a chain that can take them */
		return 0;
	}
	uint32_t done = 0;
	while (virtio_console_waiting(c) && done < ch->in_bytes) {
		/* the waiting bytes up to the buffer's end, then from its start */
		unsigned at = c->in_tail % VIRTIO_CONSOLE_IN_MAX;
		size_t n = MIN(virtio_console_waiting(c), VIRTIO_CONSOLE_IN_MAX - at);
		n = MIN((uint64_t)n, ch->in_bytes - done);
		size_t k = virtq_chain_write(m, ch, done, c->in + at, n);
		c->in_tail += (unsigned)k;
		done += (uint32_t)k;
		if (k < n)
			break; /* the RAM went away under the chain: what is left waits */
	}
	c->stats.rx_bytes += done;
	return done;
}

void virtio_console_rx(struct virtio_console *c)
{
	struct virtio_pci *v = &c->vpci;
	struct virtq *vq = &v->vq[VIRTIO_CONSOLE_RXQ];
	const struct guest_mem *m = virtio_pci_dma(v);
	if (!m || !vq->enabled)
		return;
	uint16_t before = vq->used_idx;
	for (unsigned i = 0; i < vq->size && virtio_console_waiting(c); i++) {
		const char *why = NULL;
		enum virtq_pop r = virtq_pop(vq, m, &c->rx_chain, &why);
		if (r == VIRTQ_EMPTY)
			break; /* the driver's next notification of this queue brings us back */
		uint32_t used = r == VIRTQ_GOT ? receive(c, m, &c->rx_chain) : 0;
		if (r == VIRTQ_BROKEN || virtq_push(vq, m, c->rx_chain.head, used)) {
			virtio_pci_queue_broken(v, VIRTIO_CONSOLE_RXQ,
						why ? why : "a used ring outside the VM's RAM");
			break;
		}
	}
	virtio_pci_used(v, VIRTIO_CONSOLE_RXQ, before);
}

size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t n)
{
	size_t room = VIRTIO_CONSOLE_IN_MAX - virtio_console_waiting(c);
	size_t take = MIN(n, room);
	for (size_t i = 0; i < take; i++)
		c->in[(c->in_head + i) % VIRTIO_CONSOLE_IN_MAX] = buf[i];
	c->in_head += (unsigned)take;
	c->stats.rx_dropped += n - take;
	virtio_console_rx(c);
	return take;
}

/* ---- the transport's callbacks ------------------------------------------------------------ */

static void notify(struct virtio_pci *v, unsigned q)
{
	if (q == VIRTIO_CONSOLE_TXQ)
		virtio_pci_drain(v, q, transmit);
	else
		virtio_console_rx(v->ctx); /* new receive buffers: input may be waiting for them */
}

static uint64_t cfg_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	const struct virtio_console *c = v->ctx;
	uint8_t cfg[CFG_LEN] = { 0 };
	uint32_t ports = 1; /* meaningful only with MULTIPORT, not offered */
	memcpy(cfg + CFG_COLS, &c->cols, 2);
	memcpy(cfg + CFG_ROWS, &c->rows, 2);
	memcpy(cfg + CFG_MAX_PORTS, &ports, 4);
	/* emerg_wr is write-only: it reads as 0 */
	uint64_t val = 0;
	memcpy(&val, cfg + off, size); /* the transport keeps off + size inside CFG_LEN */
	return val;
}

/* emerg_wr (5.3.4): a write outputs one character, its low byte, whatever the queues' state (the
 * field is for output before or without them, 5.3.5). Only a write that starts at emerg_wr counts;
 * cols, rows and max_nr_ports are read-only. */
static void cfg_write(struct virtio_pci *v, unsigned off, unsigned size, uint64_t val)
{
	struct virtio_console *c = v->ctx;
	(void)size;
	if (off != CFG_EMERG_WR)
		return;
	uint8_t ch = (uint8_t)val;
	output(c, &ch, 1);
	c->stats.emerg_bytes++;
}

/* No reset callback: when the driver resets the device, typed bytes still wait for the buffers
 * of its next set-up (a new life of the VM builds a new device). */
static const struct virtio_dev_ops console_ops = { .notify = notify,
						   .cfg_read = cfg_read,
						   .cfg_write = cfg_write };

int virtio_console_init(struct virtio_console *c, const struct vdev_env *env, uint16_t cols,
			uint16_t rows)
{
	memset(c, 0, sizeof(*c));
	c->cols = cols;
	c->rows = rows;
	uint64_t f = 1ull << F_SIZE | 1ull << F_EMERG_WRITE;
	return virtio_pci_init(&c->vpci, env, VIRTIO_ID_CONSOLE, PCI_CLASS_COMM_OTHER, 2,
			       VIRTIO_CONSOLE_QUEUE_SIZE, f, CFG_LEN, &console_ops, c);
}

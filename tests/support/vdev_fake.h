/* A fake VM for device tests: a clock the test moves, an interrupt sink that records every line,
 * and recorders for stop requests and console output. Header-only: each test includes it. */
#ifndef KEEL_TESTS_SUPPORT_VDEV_FAKE_H
#define KEEL_TESTS_SUPPORT_VDEV_FAKE_H

#include "lib/kstring.h"
#include "vdev/vdev.h"

#define FAKE_GSIS 24

struct fake_vm {
	struct vdev_env env;
	uint64_t now;
	bool irq[FAKE_GSIS];
	unsigned raises[FAKE_GSIS]; /* low-to-high transitions seen */
	enum vm_stop_reason stop;
	uint32_t code;
	unsigned stops;
	char out[8192];
	size_t out_len;
	unsigned tx_calls;
	unsigned kicks;
};

static inline uint64_t fake_now(void *ctx)
{
	return ((struct fake_vm *)ctx)->now;
}

static inline void fake_set_irq(void *ctx, unsigned gsi, bool level)
{
	struct fake_vm *vm = ctx;
	if (gsi >= FAKE_GSIS)
		return;
	if (level && !vm->irq[gsi])
		vm->raises[gsi]++;
	vm->irq[gsi] = level;
}

static inline void fake_stop(void *ctx, enum vm_stop_reason reason, uint32_t code)
{
	struct fake_vm *vm = ctx;
	vm->stop = reason;
	vm->code = code;
	vm->stops++;
}

static inline void fake_tx(void *ctx, const uint8_t *buf, size_t n)
{
	struct fake_vm *vm = ctx;
	vm->tx_calls++;
	if (n > sizeof(vm->out) - 1 - vm->out_len)
		n = sizeof(vm->out) - 1 - vm->out_len;
	memcpy(vm->out + vm->out_len, buf, n);
	vm->out_len += n;
	vm->out[vm->out_len] = 0;
}

static inline void fake_kick(void *ctx, unsigned cpu)
{
	(void)cpu;
	((struct fake_vm *)ctx)->kicks++;
}

static inline void fake_vm_init(struct fake_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->env = (struct vdev_env){ .ctx = vm,
				     .vm_name = "t",
				     .now_ns = fake_now,
				     .set_irq = fake_set_irq,
				     .request_stop = fake_stop,
				     .uart_tx = fake_tx,
				     .kick = fake_kick };
}

#endif

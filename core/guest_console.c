#include "core/guest_console.h"

#include "arch/x86/time.h"
#include "core/console.h"
#include "core/console_buf.h"
#include "lib/log.h"
#include "lib/spinlock.h"

static struct vm **vms;
static unsigned nr_vms, next_vm;
/* One drainer at a time, so each VM's lines go out in order and whole. Taken before a VM's lock
 * (briefly, to copy a line out), never while holding one; klog, which may run under a VM's lock,
 * needs only the console's own lock. */
static struct spinlock drain_lock;

void guest_console_attach(struct vm **list, unsigned nr)
{
	vms = list;
	nr_vms = nr;
}

/* With drain_lock held: one line of vm's out to the host console; false when it had none. */
static bool drain_one(struct vm *vm)
{
	char out[CONBUF_TAKE_MAX];
	uint64_t dropped;

	vm_lock(vm);
	size_t n = conbuf_take(vm->con, vm->prefix_output ? vm->name : NULL, out, &dropped);
	vm_unlock(vm);
	if (dropped) {
		klog("vm %s: console output dropped %llu bytes", vm->name,
		     (unsigned long long)dropped);
		return true;
	}
	if (!n)
		return false;
	console_write(vm, out, n);
	return true;
}

void guest_console_drain(struct vm *vm, uint64_t until_ns)
{
	if (!nr_vms || !spin_trylock(&drain_lock))
		return;
	/* round-robin over the VMs, a line each, until a whole round found nothing */
	unsigned round = vm ? 1 : nr_vms, empty = 0;
	do {
		struct vm *cur = vm ? vm : vms[next_vm++ % nr_vms];
		if (drain_one(cur))
			empty = 0;
		else if (++empty >= round)
			break;
	} while (time_now_ns() < until_ns);
	spin_unlock(&drain_lock);
}

static bool vm_pending(const struct vm *vm)
{
	const struct conbuf *b = vm->con;
	return __atomic_load_n(&b->head, __ATOMIC_RELAXED) !=
		       __atomic_load_n(&b->tail, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&b->dropped, __ATOMIC_RELAXED);
}

bool guest_console_pending(const struct vm *vm)
{
	if (vm)
		return vm_pending(vm);
	for (unsigned i = 0; i < nr_vms; i++)
		if (vm_pending(vms[i]))
			return true;
	return false;
}

void guest_console_flush(struct vm *vm)
{
	spin_lock(&drain_lock);
	vm_lock(vm);
	conbuf_end_line(vm->con);
	vm_unlock(vm);
	while (drain_one(vm))
		;
	spin_unlock(&drain_lock);
}

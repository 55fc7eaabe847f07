#include "core/console_input.h"

#include "drivers/uart16550.h"
#include "lib/log.h"
#include "lib/spinlock.h"

static struct vm **vms;
static unsigned nr_vms;
static unsigned focus;
static struct spinlock reader;

void console_input_attach(struct vm **list, unsigned nr)
{
	vms = list;
	nr_vms = nr;
	focus = 0;
}

/* One byte into the VM's input ring, which its vCPU 0 empties into the guest's UART; when the
 * ring is full the byte waits in the host UART (nothing typed is dropped by keel). */
static bool to_vm(struct vm *vm, uint8_t c)
{
	unsigned head = vm->input_head;
	if (head - __atomic_load_n(&vm->input_tail, __ATOMIC_ACQUIRE) >= sizeof(vm->input))
		return false;
	vm->input[head % sizeof(vm->input)] = c;
	__atomic_store_n(&vm->input_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

void console_input_poll(void)
{
	if (!nr_vms || !spin_trylock(&reader))
		return;
	struct vm *vm = vms[__atomic_load_n(&focus, __ATOMIC_ACQUIRE)];
	int c;
	while (vm->input_head - __atomic_load_n(&vm->input_tail, __ATOMIC_ACQUIRE) <
		       sizeof(vm->input) &&
	       (c = host_uart_read()) >= 0)
		to_vm(vm, (uint8_t)c);
	spin_unlock(&reader);
}

void console_input_vm_stopped(struct vm *vm)
{
	unsigned f = __atomic_load_n(&focus, __ATOMIC_ACQUIRE);
	if (!nr_vms || vms[f] != vm)
		return;
	for (unsigned k = 1; k < nr_vms; k++) {
		unsigned i = (f + k) % nr_vms;
		if (__atomic_load_n(&vms[i]->state, __ATOMIC_ACQUIRE) != VM_STOPPED) {
			__atomic_store_n(&focus, i, __ATOMIC_RELEASE);
			klog("keel: console input now goes to vm %s", vms[i]->name);
			return;
		}
	}
}

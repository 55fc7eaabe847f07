/* The framebuffer's status bar on the real machine (core/status_bar.h): keel's counters sampled
 * about once a second by whichever CPU gets there first between guest slices. */
#include "core/status_bar_hw.h"

#include "arch/x86/percpu.h"
#include "arch/x86/time.h"
#include "core/console.h"
#include "core/kmem.h"
#include "core/status_bar.h"
#include "core/vm.h"
#include "lib/spinlock.h"
#include "mm/phys.h"
#include "vdev/platform.h"
#include "vdev/virtio/net.h"

static struct vm **vms;
static unsigned nr_vms;
static struct spinlock sampler; /* one CPU samples; the others go on */
static uint64_t next_ns;
static struct status_sample prev;
static bool have_prev;
/* A device's byte counters start again at each of its VM's lives: what the sampler saw last of
 * each, and the bytes of lives gone, keep the totals growing. */
static uint64_t last_disk[CFG_MAX_VMS][VM_MAX_DISKS], last_net[CFG_MAX_VMS][VM_MAX_NETS];
static uint64_t total_disk, total_net;

void status_bar_attach(struct vm **list, unsigned nr)
{
	vms = list;
	nr_vms = nr < CFG_MAX_VMS ? nr : CFG_MAX_VMS;
}

/* adds what counter grew by since last (or all of it: a new life started from 0) */
static void grow(uint64_t *total, uint64_t *last, uint64_t now)
{
	*total += now >= *last ? now - *last : now;
	*last = now;
}

/* Racy reads of counters other CPUs add to: a display may be a moment behind. */
static void sample(struct status_sample *s)
{
	*s = (struct status_sample){ .now_ns = time_now_ns(), .cpus = percpu_online_count() };
	s->mem_free = kmem_free_bytes();
	s->mem_used = kmem_used_bytes();
	for (unsigned i = 0; i < nr_vms; i++) {
		struct vm *vm = vms[i];
		enum vm_state st = __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE);

		if (st == VM_RUNNING || st == VM_STOPPING)
			s->vms_running++;
		else if (st == VM_STOPPED)
			s->vms_stopped++;
		if (st != VM_CREATED)
			s->mem_used += vm->memory -
				       __atomic_load_n(&vm->balloon.inflated, __ATOMIC_RELAXED) *
					       PAGE_SIZE;
		for (unsigned j = 0; j < vm->nr_disks && j < PLATFORM_MAX_DISKS; j++) {
			const struct virtio_blk *b = &vm->platform->blk[j];

			grow(&total_disk, &last_disk[i][j],
			     __atomic_load_n(&b->read_bytes, __ATOMIC_RELAXED) +
				     __atomic_load_n(&b->written_bytes, __ATOMIC_RELAXED));
		}
		for (unsigned j = 0; j < vm->nr_nets && j < VM_MAX_NETS; j++) {
			const struct virtio_net *n = vm->nets[j].dev;

			grow(&total_net, &last_net[i][j],
			     __atomic_load_n(&n->stats.rx_bytes, __ATOMIC_RELAXED) +
				     __atomic_load_n(&n->stats.tx_bytes, __ATOMIC_RELAXED));
		}
	}
	s->disk_bytes = total_disk;
	s->net_bytes = total_net;
}

void status_bar_tick(void)
{
	char text[160];
	struct status_sample s;
	uint64_t now = time_now_ns();

	if (!console_has_framebuffer() || now < __atomic_load_n(&next_ns, __ATOMIC_RELAXED) ||
	    !spin_trylock(&sampler))
		return;
	if (now >= next_ns) {
		next_ns = now + STATUS_BAR_PERIOD_NS;
		sample(&s);
		status_bar_format(text, sizeof(text), have_prev ? &prev : NULL, &s);
		console_set_status(text);
		prev = s;
		have_prev = true;
	}
	spin_unlock(&sampler);
}

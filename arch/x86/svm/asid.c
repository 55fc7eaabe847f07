#include "arch/x86/svm/asid.h"

int asid_cpu_init(struct asid_cpu *c, uint32_t nr_asids)
{
	if (nr_asids < 2)
		return -1;
	c->generation = 1;
	c->max = nr_asids - 1;
	/* used up from the start: the first assignment begins a generation with a flush */
	c->next = c->max + 1;
	c->flush_all = false;
	return 0;
}

void asid_vcpu_reset(struct asid_vcpu *v)
{
	v->generation = 0;
	v->cpu = ASID_NO_CPU;
	v->asid = 0;
}

bool asid_assign(struct asid_cpu *c, uint32_t cpu_index, struct asid_vcpu *v)
{
	if (v->cpu != cpu_index || v->generation != c->generation) {
		/* next > max also when max is 0xfffffffe: next stops at 0xffffffff, no wrap */
		if (c->next > c->max) {
			c->generation++;
			c->next = 1;
			c->flush_all = true;
		}
		v->asid = c->next++;
		v->generation = c->generation;
		v->cpu = cpu_index;
	}
	/* whichever vCPU runs first after a new generation began does the flush */
	bool flush = c->flush_all;
	c->flush_all = false;
	return flush;
}

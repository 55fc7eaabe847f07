#include "arch/x86/debugreg.h"

void guest_dregs_reset(struct guest_dregs *d)
{
	for (unsigned i = 0; i < 4; i++)
		d->dr[i] = 0;
	d->dr6 = DR6_RESET;
	d->pending = true;
}

void guest_dregs_read(uint64_t dr[4])
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(dr[3]));
}

void guest_dregs_save(struct guest_dregs *d)
{
	if (d->pending)
		return; /* the registers still hold what the reset replaced */
	guest_dregs_read(d->dr);
	if (d->has_dr6)
		__asm__ volatile("mov %%dr6, %0" : "=r"(d->dr6));
}

void guest_dregs_load(struct guest_dregs *d)
{
	/* keel's DR7 enables nothing, so no breakpoint is armed while these change */
	__asm__ volatile("mov %0, %%dr0" : : "r"(d->dr[0]));
	__asm__ volatile("mov %0, %%dr1" : : "r"(d->dr[1]));
	__asm__ volatile("mov %0, %%dr2" : : "r"(d->dr[2]));
	__asm__ volatile("mov %0, %%dr3" : : "r"(d->dr[3]));
	if (d->has_dr6)
		__asm__ volatile("mov %0, %%dr6" : : "r"(d->dr6));
	d->pending = false;
}

void guest_dregs_sync(struct guest_dregs *d)
{
	if (d->pending)
		guest_dregs_load(d);
}

/* Picks the virtualization backend for this CPU's vendor, once, at boot. This file is the only
 * place that names both backends. */
#include "arch/x86/cpu.h"
#include "core/virt.h"
#include "lib/kstring.h"

extern const struct virt_ops svm_ops, vmx_ops;

const struct virt_ops *virt_select(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	char vendor[13];

	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = '\0';
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		return &svm_ops;
	if (!strcmp(vendor, "GenuineIntel"))
		return &vmx_ops;
	return NULL;
}

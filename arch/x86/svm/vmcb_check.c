#include "arch/x86/svm/vmcb_check.h"

#include "lib/fmt.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_SVME (1ull << 12)
#define ATTR_L (1u << 9)
#define ATTR_D (1u << 10)
/* EVENTINJ (APM vol 2, 15.20): vector 7:0, type 10:8, valid 31 */
#define EVT_VALID (1ull << 31)
#define EVT_TYPE(e) (((e) >> 8) & 7)
#define EVT_TYPE_EXC 3

const char *svm_check_vmcb(const struct svm_vmcb_state *g, char *buf, size_t size)
{
	bool long_paging = (g->efer & EFER_LME) && (g->cr0 & CR0_PG);

	/* the rules in the order APM vol 2, 15.5.1 lists them */
	if (!(g->efer & EFER_SVME))
		ksnprintf(buf, size, "EFER %#llx: SVME is clear", (unsigned long long)g->efer);
	else if (!(g->cr0 & CR0_CD) && (g->cr0 & CR0_NW))
		ksnprintf(buf, size, "CR0 %#llx: NW set with CD clear", (unsigned long long)g->cr0);
	else if (g->cr0 >> 32)
		ksnprintf(buf, size, "CR0 %#llx: bits 63:32 are not zero",
			  (unsigned long long)g->cr0);
	else if (long_paging && g->maxphyaddr < 64 && (g->cr3 >> g->maxphyaddr))
		ksnprintf(buf, size, "CR3 %#llx: bits above the %u-bit physical address width set",
			  (unsigned long long)g->cr3, g->maxphyaddr);
	else if (!long_paging && (g->cr3 >> 32))
		ksnprintf(buf, size, "CR3 %#llx: bits 63:32 set outside long mode",
			  (unsigned long long)g->cr3);
	else if (g->cr4 & ~g->cr4_valid)
		ksnprintf(buf, size,
			  "CR4 %#llx: must-be-zero bits %#llx set (this CPU's CR4 has %#llx)",
			  (unsigned long long)g->cr4, (unsigned long long)(g->cr4 & ~g->cr4_valid),
			  (unsigned long long)g->cr4_valid);
	else if (g->dr6 >> 32)
		ksnprintf(buf, size, "DR6 %#llx: bits 63:32 are not zero",
			  (unsigned long long)g->dr6);
	else if (g->dr7 >> 32)
		ksnprintf(buf, size, "DR7 %#llx: bits 63:32 are not zero",
			  (unsigned long long)g->dr7);
	else if (g->efer & ~g->efer_valid)
		ksnprintf(buf, size, "EFER %#llx: must-be-zero bits %#llx set",
			  (unsigned long long)g->efer,
			  (unsigned long long)(g->efer & ~g->efer_valid));
	else if (long_paging && !(g->cr4 & CR4_PAE))
		ksnprintf(buf, size, "EFER.LME and CR0.PG set, CR4.PAE clear (CR4 %#llx)",
			  (unsigned long long)g->cr4);
	else if (long_paging && !(g->cr0 & CR0_PE))
		ksnprintf(buf, size, "EFER.LME and CR0.PG set, CR0.PE clear (CR0 %#llx)",
			  (unsigned long long)g->cr0);
	else if (long_paging && (g->cr4 & CR4_PAE) && (g->cs_attr & ATTR_L) &&
		 (g->cs_attr & ATTR_D))
		ksnprintf(buf, size,
			  "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set (CS attributes %#x)",
			  g->cs_attr);
	else if (!(g->intercept_misc2 & 1))
		ksnprintf(buf, size, "the VMRUN intercept is clear");
	else if (g->asid == 0)
		ksnprintf(buf, size, "ASID is 0 (the host's)");
	else if ((g->eventinj & EVT_VALID) &&
		 (EVT_TYPE(g->eventinj) == 1 || EVT_TYPE(g->eventinj) >= 5 ||
		  (EVT_TYPE(g->eventinj) == EVT_TYPE_EXC && (g->eventinj & 0xff) == 2)))
		ksnprintf(buf, size, "EVENTINJ %#llx: reserved type, or an exception with vector 2",
			  (unsigned long long)g->eventinj);
	else
		return NULL;
	return buf;
}

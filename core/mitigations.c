#include "core/mitigations.h"

#include "lib/fmt.h"

static bool has_ibpb(const struct mitig_cpu *c)
{
	/* Intel enumerates IBPB with IBRS in CPUID.7.0:EDX[26]; AMD in CPUID 0x80000008 EBX[12] */
	return (c->cpuid7_edx & CPUID7_EDX_IBRS_IBPB) || (c->ext8_ebx & CPUID_EXT8_EBX_IBPB);
}

/* L1 terminal fault: a guest's not-present PTE lets it read whatever the L1D holds for any
 * physical address, another VM's data or keel's. Intel CPUs are affected unless they say
 * RDCL_NO; SKIP_L1DFL_VMENTRY says a VMM need not flush (Intel "Deep Dive: Intel Analysis of
 * L1 Terminal Fault", "L1D flush on VMENTER"). AMD's CPUs are not affected (AMD does not
 * speculate on a not-present translation). */
static bool needs_l1d_flush(const struct mitig_cpu *c)
{
	return c->vendor == MITIG_VENDOR_INTEL &&
	       !(c->arch_caps & (ARCH_CAP_RDCL_NO | ARCH_CAP_SKIP_L1DFL_VMENTRY));
}

/* Microarchitectural data sampling: store, fill and load-port buffers may hand keel's or the last
 * VM's data to a guest's faulting loads. Intel CPUs are affected unless MDS_NO; a CPU with
 * MDS_NO but TSX (RTM) is still open to TSX asynchronous abort unless TAA_NO. Both are closed by
 * VERW where the microcode enumerates MD_CLEAR (Intel "Deep Dive: Intel Analysis of
 * Microarchitectural Data Sampling", "Mitigation for VMMs"; "Intel TSX Asynchronous Abort").
 * AMD says it is not affected by either. */
static bool needs_verw(const struct mitig_cpu *c)
{
	if (c->vendor != MITIG_VENDOR_INTEL)
		return false;
	if (!(c->arch_caps & ARCH_CAP_MDS_NO))
		return true;
	return (c->cpuid7_ebx & CPUID7_EBX_RTM) && !(c->arch_caps & ARCH_CAP_TAA_NO);
}

struct mitig_policy mitig_choose(const struct mitig_cpu *c)
{
	struct mitig_policy p = { 0, 0 };

	/* Branch target injection across VMs: one VM's trained indirect-branch predictions steer
	 * another's. IBPB at the switch keeps them apart, on every vendor (Intel "Speculative
	 * Execution Side Channel Mitigations", "Indirect Branch Predictor Barrier"; AMD "Software
	 * Techniques for Managing Speculation", "IBPB"). */
	if (has_ibpb(c))
		p.apply |= MITIG_IBPB_ON_SWITCH;
	else
		p.missing |= MITIG_IBPB_ON_SWITCH;
	/* A guest's return-stack entries survive the VM exit; keel's returns would consume them
	 * (or, when the RSB runs empty on RSBA parts, fall back to the indirect predictor). keel
	 * sets neither IBRS nor enhanced IBRS, so every CPU needs the fill; it needs no
	 * enumeration, being plain CALLs (Intel, same document, "Return Stack Buffer stuffing";
	 * AMD, same document, "RSB stuffing on VMEXIT"). */
	p.apply |= MITIG_RSB_FILL;
	if (needs_l1d_flush(c)) {
		if (c->cpuid7_edx & CPUID7_EDX_L1D_FLUSH)
			p.apply |= MITIG_L1D_FLUSH;
		else
			p.missing |= MITIG_L1D_FLUSH;
	}
	/* Where the CPU flushes the L1D on entry and has the MD_CLEAR microcode, the flush command
	 * overwrites the same buffers VERW does: no VERW on top (Intel "Deep Dive: Intel Analysis of
	 * Microarchitectural Data Sampling", "Mitigation for VMMs"). */
	bool flush_clears = (p.apply & MITIG_L1D_FLUSH) && (c->cpuid7_edx & CPUID7_EDX_MD_CLEAR);
	if (needs_verw(c) && !flush_clears) {
		if (c->cpuid7_edx & CPUID7_EDX_MD_CLEAR)
			p.apply |= MITIG_VERW;
		else
			p.missing |= MITIG_VERW;
	}
	return p;
}

unsigned mitig_on_switch(const struct mitig_policy *p, const void *last, const void *next)
{
	/* the first VM a CPU runs follows only keel and the firmware: nothing to keep apart */
	if (!last || last == next)
		return 0;
	return p->apply & MITIG_IBPB_ON_SWITCH;
}

static const struct {
	unsigned bit;
	const char *what;
} names[] = {
	{ MITIG_IBPB_ON_SWITCH, "IBPB on VM switch" },
	{ MITIG_RSB_FILL, "RSB fill on exit" },
	{ MITIG_L1D_FLUSH, "L1D flush on entry" },
	{ MITIG_VERW, "VERW on entry" },
};

static size_t append(char *buf, size_t size, size_t n, const char *s)
{
	if (n >= size)
		return n;
	int w = ksnprintf(buf + n, size - n, "%s", s);
	return w < 0 ? n : MIN(n + (size_t)w, size - 1);
}

static size_t list(char *buf, size_t size, size_t n, unsigned set)
{
	const char *sep = "";
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (set & names[i].bit) {
			n = append(buf, size, n, sep);
			n = append(buf, size, n, names[i].what);
			sep = ", ";
		}
	return n;
}

size_t mitig_describe(const struct mitig_policy *p, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	if (p->apply & MITIG_ALL)
		n = list(buf, size, n, p->apply);
	else
		n = append(buf, size, n, p->missing & MITIG_ALL ? "none available" : "none needed");
	if (p->missing & MITIG_ALL) {
		n = append(buf, size, n, "; needed but not enumerated: ");
		n = list(buf, size, n, p->missing);
	}
	return n;
}

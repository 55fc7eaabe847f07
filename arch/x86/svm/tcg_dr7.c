#include "arch/x86/svm/tcg_dr7.h"

#include "arch/x86/debugreg.h"

/* The bytes a data breakpoint watches: LEN 0, 1, 3 and 2 give 1, 2, 4 and 8 bytes, at the
 * address rounded down to that size (SDM vol 3B, 18.2.5). */
static struct tcg_dr7_range watched(uint64_t addr, unsigned len_field)
{
	static const uint64_t sizes[4] = { 1, 2, 8, 4 };
	uint64_t size = sizes[len_field & 3];
	uint64_t start = addr & ~(size - 1);
	return (struct tcg_dr7_range){ start, start + size };
}

static bool overlaps(struct tcg_dr7_range a, struct tcg_dr7_range b)
{
	return a.start < b.end && b.start < a.end;
}

uint64_t tcg_dr7_to_arm(uint64_t guest_dr7, const uint64_t dr[4], struct tcg_dr7_range code,
			struct tcg_dr7_range data, unsigned *dropped)
{
	*dropped = 0;
	if (!(guest_dr7 & DR7_ENABLES))
		return 0;
	uint64_t arm = (guest_dr7 & ~DR7_GD) | DR7_FIXED_1;
	for (unsigned n = 0; n < 4; n++) {
		if (!DR7_ENABLED(arm, n))
			continue;
		unsigned rw = (unsigned)DR7_RW(arm, n);
		bool hazard;
		if (rw == DR7_RW_EXEC)
			hazard = dr[n] >= code.start && dr[n] < code.end;
		else if (rw == DR7_RW_IO)
			hazard = false; /* no IN or OUT runs between the two writes */
		else
			hazard = overlaps(watched(dr[n], (unsigned)DR7_LEN(arm, n)), data);
		if (hazard) {
			arm &= ~(3ull << (2 * n));
			*dropped |= 1u << n;
		}
	}
	return arm;
}

/* The VT-d decoders (drivers/vtd.c) over values a remapping unit, or a guest, could hand keel.
 *
 * Input: records of 41 bytes, little-endian, read until fewer than 41 bytes are left: CAP (8), ECAP
 * (8), the register set's size as 4 KiB << (byte & 15) (1), a fault recording register's low and
 * high halves (8 + 8), a 32-bit MSI address and data (4 + 4). A short input is zero-padded to one
 * record, so every input runs.
 *
 * Checked: no crash or sanitizer report; vtd_decode_caps keeps every field within its register
 * field's range; when vtd_caps_usable says yes, every fault recording register and the IOTLB
 * registers lie inside the register set and above the architectural block, and vtd_pick_levels is 3
 * or 4; the IOTLB descriptors take DR/DW only as the caps say, and a refused page-selective one is
 * all zero; vtd_decode_fault is false exactly when F is clear, its fields fit their widths, and the
 * description line is NUL-terminated, printable and as long as its return value says (also into a
 * buffer too short for it); vtd_msi_decode accepts exactly the remappable 0xfeexxxxx addresses and
 * vtd_msi_remappable gives that address back from what it decoded. */
#include "drivers/vtd.h"
#include "lib/kstring.h"
#include "lib/le.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORD 41

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_line(const char *buf, size_t size, int n)
{
	size_t len = kstrnlen(buf, size);

	check(len < size);
	check(n >= 0 && (size_t)n >= len && ((size_t)n < size) == ((size_t)n == len));
	for (size_t i = 0; i < len; i++)
		check(buf[i] >= 0x20 && buf[i] <= 0x7e);
}

static void check_caps(uint64_t cap, uint64_t ecap, uint64_t reg_size)
{
	struct vtd_caps c;
	const char *why = NULL;
	uint64_t d[2];
	int levels;

	vtd_decode_caps(cap, ecap, &c);
	check(c.nd_bits == 0 || (c.nd_bits >= 4 && c.nd_bits <= 16 && c.nd_bits % 2 == 0));
	check(c.sagaw <= 0x1f && c.mgaw >= 1 && c.mgaw <= 64 && c.mamv <= 63);
	check(c.nr_fault_regs >= 1 && c.nr_fault_regs <= 256);
	check(c.fault_reg_offset <= 0x3ff0 && c.fault_reg_offset % 16 == 0);
	check(c.iotlb_reg_offset <= 0x3ff0 && c.iotlb_reg_offset % 16 == 0);
	levels = vtd_pick_levels(&c);
	check(levels == 0 || levels == 3 || levels == 4);

	if (vtd_caps_usable(&c, reg_size, &why)) {
		check(strcmp(why, "ok") == 0);
		check(c.qi && c.nd_bits != 0 && levels != 0);
		check(c.fault_reg_offset >= VTD_REG_ARCH_END);
		check(c.iotlb_reg_offset >= VTD_REG_ARCH_END);
		check(vtd_fault_reg(&c, c.nr_fault_regs - 1) + VTD_FAULT_REG_SIZE <= reg_size);
		check(c.iotlb_reg_offset + VTD_REG_IOTLB_OFF + 8 <= reg_size);
	} else {
		check(why != NULL && why[0] != '\0' && strcmp(why, "ok") != 0);
	}

	vtd_qi_iotlb_global(&c, d);
	check(((d[0] >> 7) & 1) == c.drd && ((d[0] >> 6) & 1) == c.dwd && d[1] == 0);
	/* a page-selective invalidation from bits of the caps themselves */
	if (vtd_qi_iotlb_page(&c, (uint16_t)cap, ecap & ~0xfffull, (unsigned)(cap >> 58), cap & 1,
			      d) == 0)
		check(c.psi && (d[1] & 0x3f) <= c.mamv && (d[0] & 0xf) == 2);
	else
		check(d[0] == 0 && d[1] == 0);
}

static void check_fault(uint64_t lo, uint64_t hi)
{
	struct vtd_fault f;
	char buf[160];
	char tiny[16];
	bool present = vtd_decode_fault(lo, hi, &f);

	check(present == (hi >> 63));
	if (present) {
		check(f.sid == (uint16_t)hi && f.reason == (uint8_t)(hi >> 32));
		check(f.type <= 3 && f.at <= 3 && f.pasid <= 0xfffff);
		check(f.write == (f.type == VTD_FAULT_WRITE));
		check(f.pasid_present || f.pasid == 0);
		check((f.addr & 0xfff) == 0);
		check(!f.intr || f.addr == 0);
	} else {
		check(f.sid == 0 && f.addr == 0 && f.reason == 0 && !f.write);
	}
	check(vtd_fault_reason(f.reason)[0] != '\0');
	check_line(buf, sizeof(buf), vtd_describe_fault(&f, buf, sizeof(buf)));
	check_line(tiny, sizeof(tiny), vtd_describe_fault(&f, tiny, sizeof(tiny)));
}

static void check_msi(uint32_t addr, uint32_t data)
{
	struct vtd_msi_remap m;
	uint32_t a2, d2;
	bool ok = vtd_msi_decode(addr, data, &m);

	check(ok == ((addr & 0xfff00000u) == 0xfee00000u && (addr & 0x10)));
	if (!ok) {
		check(m.handle == 0 && !m.shv && m.index == 0);
		return;
	}
	check(m.index == (uint32_t)m.handle + (m.shv ? (uint16_t)data : 0));
	vtd_msi_remappable(m.handle, m.shv, m.subhandle, &a2, &d2);
	check(a2 == (addr & ~3u));
	check(d2 == (m.shv ? (uint16_t)data : 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pad[RECORD] = { 0 };
	size_t off = 0;

	if (size < RECORD) {
		memcpy(pad, data, size);
		data = pad;
		size = RECORD;
	}
	for (; size - off >= RECORD; off += RECORD) {
		const uint8_t *r = data + off;

		check_caps(le64(r), le64(r + 8), 4096ull << (r[16] & 15));
		check_fault(le64(r + 17), le64(r + 25));
		check_msi(le32(r + 33), le32(r + 37));
	}
	return 0;
}

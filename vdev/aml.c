/* AML encoding (ACPI 6.4, chapter 20; opcodes in lib/acpi_aml.h): the pieces keel's guest
 * tables are made of. */
#include "vdev/aml.h"

#include "lib/acpi_aml.h"
#include "lib/kstring.h"

unsigned aml_pkglen_encode(uint8_t out[4], uint32_t content)
{
	/* 20.2.4: one byte holds 0..63 in bits 5:0; otherwise bits 7:6 count the 1-3 bytes that
	 * follow, bits 3:0 hold the low nibble and each following byte the next 8 bits. The value
	 * counts the PkgLength bytes too, so pick the smallest form that fits content + itself. */
	if (content < 0x3F) {
		out[0] = (uint8_t)(content + 1);
		return 1;
	}
	if (content > 0x0FFFFFFF)
		return 0;
	for (unsigned extra = 1; extra <= 3; extra++) {
		uint32_t total = content + extra + 1;
		if (total >= 1u << (4 + 8 * extra))
			continue;
		out[0] = (uint8_t)((extra << 6) | (total & 0xF));
		for (unsigned i = 1; i <= extra; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return extra + 1;
	}
	return 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* A NameString (20.2.2): optional leading '\' or '^'s, then 4-character segments separated by
 * '.', e.g. "\_SB_.PCI0". Segments must be given padded to 4 characters. */
void aml_namestring(struct aml *a, const char *path)
{
	unsigned segs = 0;

	while (*path == AML_ROOT_CHAR || *path == AML_PARENT_CHAR)
		aml_byte(a, (uint8_t)*path++);
	for (const char *p = path; *p; p += p[4] == '.' ? 5 : 4) {
		if (kstrnlen(p, 4) != 4 || (p[4] && p[4] != '.')) {
			/* a bug in keel, not the guest's doing: fail the build */
			a->overflow = true;
			return;
		}
		segs++;
	}
	if (segs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)segs);
	} else if (segs == 0) {
		aml_byte(a, 0); /* NullName */
		return;
	}
	for (unsigned i = 0; i < segs; i++)
		aml_bytes(a, path + 5 * (size_t)i, 4);
}

/* The shortest ComputationalData for v (20.2.3): ZeroOp, OneOp, OnesOp or a prefixed constant. */
void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v == ~0ull)
		aml_byte(a, AML_ONES_OP);
	else {
		uint8_t prefix = v <= 0xFF	   ? AML_BYTE_PREFIX
				 : v <= 0xFFFF	   ? AML_WORD_PREFIX
				 : v <= 0xFFFFFFFF ? AML_DWORD_PREFIX
						   : AML_QWORD_PREFIX;
		unsigned n = prefix == AML_BYTE_PREFIX	  ? 1
			     : prefix == AML_WORD_PREFIX  ? 2
			     : prefix == AML_DWORD_PREFIX ? 4
							  : 8;
		aml_byte(a, prefix);
		for (unsigned i = 0; i < n; i++)
			aml_byte(a, (uint8_t)(v >> (8 * i)));
	}
}

/* A package's contents are built first; aml_pkg_end then slides them up to make room for the
 * PkgLength, whose size depends on their length. */
size_t aml_pkg_begin(const struct aml *a)
{
	return a->len;
}

void aml_pkg_end(struct aml *a, size_t start)
{
	uint8_t enc[4];
	unsigned n;

	if (a->overflow)
		return;
	n = aml_pkglen_encode(enc, (uint32_t)(a->len - start));
	if (n == 0 || a->len - start > 0x0FFFFFFF || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + start + n, a->buf + start, a->len - start);
	memcpy(a->buf + start, enc, n);
	a->len += n;
}

/* Name (name, Package () { v... }): DefName := NameOp NameString DataRefObject, with
 * DefPackage := PackageOp PkgLength NumElements PackageElementList (20.2.5.1, 20.2.5.4). */
void aml_name_package(struct aml *a, const char *name, const uint64_t *v, unsigned n)
{
	size_t start;

	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
	aml_byte(a, AML_PACKAGE_OP);
	start = aml_pkg_begin(a);
	aml_byte(a, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		aml_integer(a, v[i]);
	aml_pkg_end(a, start);
}

/* Scope (name) { ... }: DefScope := ScopeOp PkgLength NameString TermList (20.2.5.1). The caller
 * emits the TermList and closes it with aml_pkg_end. */
size_t aml_scope_begin(struct aml *a, const char *name)
{
	size_t start;

	aml_byte(a, AML_SCOPE_OP);
	start = aml_pkg_begin(a);
	aml_namestring(a, name);
	return start;
}

/* Device (name) { ... }: DefDevice := DeviceOp PkgLength NameString TermList (20.2.5.2). */
size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t start;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	start = aml_pkg_begin(a);
	aml_namestring(a, name);
	return start;
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

/* EISAID ("PNP0A08"): three letters of 5 bits each, then four hex digits, as the bytes
 * appear in memory (ACPI 6.4, 19.6.35; 6.1.5 _HID). Anything else is a bug in keel. */
void aml_eisaid(struct aml *a, const char *id)
{
	uint8_t b[4];
	unsigned v = 0;

	if (kstrnlen(id, 8) != 7) {
		a->overflow = true;
		return;
	}
	for (unsigned i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			a->overflow = true;
			return;
		}
		v = v << 5 | (unsigned)(id[i] - 0x40);
	}
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	for (unsigned i = 0; i < 4; i++) {
		char c = id[3 + i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16;
		if (d > 15) {
			a->overflow = true;
			return;
		}
		b[2 + i / 2] = (uint8_t)(i % 2 ? b[2 + i / 2] | d : d << 4);
	}
	aml_byte(a, AML_DWORD_PREFIX);
	aml_bytes(a, b, 4);
}

/* Buffer () { bytes }: DefBuffer := BufferOp PkgLength BufferSize ByteList (20.2.5.4). */
void aml_buffer(struct aml *a, const void *bytes, size_t n)
{
	size_t start;

	aml_byte(a, AML_BUFFER_OP);
	start = aml_pkg_begin(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_pkg_end(a, start);
}

/* Package () { ... } of n elements the caller emits: DefPackage := PackageOp PkgLength
 * NumElements PackageElementList (20.2.5.4). */
size_t aml_package_begin(struct aml *a, unsigned n)
{
	size_t start;

	aml_byte(a, AML_PACKAGE_OP);
	start = aml_pkg_begin(a);
	aml_byte(a, (uint8_t)n);
	return start;
}

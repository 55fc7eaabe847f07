/* AML encoding (ACPI 6.4, chapter 20), for the tables keel writes into each guest: an AML byte
 * stream built into a fixed buffer; overflow is sticky and checked once, at the end. A
 * *_begin call returns where its package starts; aml_pkg_end(a, that) closes it. */
#ifndef KEEL_VDEV_AML_H
#define KEEL_VDEV_AML_H

#include "lib/types.h"

struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool overflow;
};

/* Encodes PkgLength for a package whose contents after the PkgLength field take `content` bytes
 * (the value includes the PkgLength bytes themselves, 20.2.4). Returns its size, 1..4, or 0 when
 * the package is too big (over 2^28 - 1 bytes). out needs 4 bytes. */
unsigned aml_pkglen_encode(uint8_t out[4], uint32_t content);

void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);
/* A NameString: optional leading '\' or '^'s, then 4-character segments separated by '.',
 * e.g. "\_SB_.PCI0"; segments padded to 4 characters. */
void aml_namestring(struct aml *a, const char *path);
/* The shortest ComputationalData for v: ZeroOp, OneOp, OnesOp or a prefixed constant. */
void aml_integer(struct aml *a, uint64_t v);
size_t aml_pkg_begin(const struct aml *a);
void aml_pkg_end(struct aml *a, size_t start);
/* Name (name, Package () { v... }) */
void aml_name_package(struct aml *a, const char *name, const uint64_t *v, unsigned n);
/* Scope (name) { ... } and Device (name) { ... } */
size_t aml_scope_begin(struct aml *a, const char *name);
size_t aml_device_begin(struct aml *a, const char *name);
/* Name (name, ...): the object that follows is the caller's to emit. */
void aml_name(struct aml *a, const char *name);
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
/* EisaId ("PNP0A08") as its DWord constant. */
void aml_eisaid(struct aml *a, const char *id);
void aml_buffer(struct aml *a, const void *bytes, size_t n);
/* Package () { n elements the caller emits } */
size_t aml_package_begin(struct aml *a, unsigned n);

#endif

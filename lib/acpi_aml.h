/* AML encoding constants (ACPI 6.4, chapter 20 "ACPI Machine Language Specification"), shared
 * by the guest table builder (vdev/acpi_tables.c) and the host table parser
 * (drivers/acpi_host.c). */
#ifndef KEEL_LIB_ACPI_AML_H
#define KEEL_LIB_ACPI_AML_H

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2E
#define AML_MULTI_NAME_PREFIX 0x2F
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_CHAR '^'
#define AML_EXT_OP_PREFIX 0x5B
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ONES_OP 0xFF

#endif

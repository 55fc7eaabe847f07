/* A small checked reader of ELF executables (System V gABI, "ELF Header", "Program Header",
 * "Note Section"): ELF64 x86-64 for PVH kernels and ELF32 i386 or ELF64 for Multiboot kernels.
 * elf_open() validates the header and that the whole program-header table lies in the file;
 * every other offset the file gives is checked where it is used. Little-endian only (x86). */
#ifndef KEEL_GUEST_ELF_H
#define KEEL_GUEST_ELF_H

#include "lib/types.h"

#define ELF_MAX_PHNUM 128 /* real kernels have fewer than 10; keeps every scan short */

#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4
#define ELF_EM_386 3
#define ELF_EM_X86_64 62

struct elf_file {
	const uint8_t *data;
	size_t size;
	bool is64;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	unsigned phnum;
	unsigned phentsize;
};

/* One program header, widened to 64 bits whatever the class. */
struct elf_seg {
	uint32_t type;
	uint32_t flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* True when data starts with the ELF magic. */
bool elf_is_elf(const void *data, size_t size);

/* Checks the ELF header (class, little-endian, version 1, an executable for i386 or x86-64, a
 * program-header table of known entry size, at most ELF_MAX_PHNUM entries, inside the file).
 * 0, or -1 with the reason in err. */
int elf_open(struct elf_file *f, const void *data, size_t size, char *err, size_t err_size);

/* Program header i (< f->phnum) of a file elf_open() accepted. */
void elf_phdr(const struct elf_file *f, unsigned i, struct elf_seg *s);

/* Looks for the note (name, type) in the PT_NOTE segments. 1 with *desc (inside the file) and
 * *desc_size when found, 0 when absent, -1 with the reason in err when a note segment or a note
 * in it is malformed (out of the file, sizes running past the segment). */
int elf_find_note(const struct elf_file *f, const char *name, uint32_t type, const uint8_t **desc,
		  uint32_t *desc_size, char *err, size_t err_size);

#endif

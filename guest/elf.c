/* Checked ELF reading for the loaders. Field offsets are the System V gABI's ("ELF Header",
 * "Program Header", "Note Section"), for ELFCLASS32 and ELFCLASS64. */
#include "guest/elf.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2

#define EHDR32_SIZE 52
#define EHDR64_SIZE 64
#define PHDR32_SIZE 32
#define PHDR64_SIZE 56
#define NHDR_SIZE 12 /* namesz, descsz, type: three 4-byte words in both classes */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int elf_fail(char *err, size_t err_size, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int elf_fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		kvsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

bool elf_is_elf(const void *data, size_t size)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };

	return size >= 4 && memcmp(data, magic, sizeof(magic)) == 0;
}

int elf_open(struct elf_file *f, const void *data, size_t size, char *err, size_t err_size)
{
	const uint8_t *p = data;

	memset(f, 0, sizeof(*f));
	if (!elf_is_elf(data, size))
		return elf_fail(err, err_size, "not an ELF file");
	if (size < EHDR32_SIZE)
		return elf_fail(err, err_size, "ELF header truncated (file is %zu bytes)", size);
	if (p[EI_CLASS] != ELFCLASS32 && p[EI_CLASS] != ELFCLASS64)
		return elf_fail(err, err_size,
				"ELF class %u unknown; expected 1 (32-bit) or 2 (64-bit)",
				p[EI_CLASS]);
	if (p[EI_DATA] != ELFDATA2LSB)
		return elf_fail(err, err_size, "ELF is not little-endian (EI_DATA %u)", p[EI_DATA]);
	if (p[EI_VERSION] != 1 || rd32(p + 20) != 1)
		return elf_fail(err, err_size, "ELF version is not 1");
	f->is64 = p[EI_CLASS] == ELFCLASS64;
	if (f->is64 && size < EHDR64_SIZE)
		return elf_fail(err, err_size, "ELF64 header truncated (file is %zu bytes)", size);
	if (rd16(p + 16) != ET_EXEC)
		return elf_fail(err, err_size, "ELF type %u is not an executable (ET_EXEC)",
				rd16(p + 16));
	f->machine = rd16(p + 18);
	if (f->machine != ELF_EM_386 && f->machine != ELF_EM_X86_64)
		return elf_fail(err, err_size, "ELF machine %u is not x86 (3) or x86-64 (62)",
				f->machine);
	if (f->is64) {
		f->entry = rd64(p + 24);
		f->phoff = rd64(p + 32);
		f->phentsize = rd16(p + 54);
		f->phnum = rd16(p + 56);
	} else {
		f->entry = rd32(p + 24);
		f->phoff = rd32(p + 28);
		f->phentsize = rd16(p + 42);
		f->phnum = rd16(p + 44);
	}
	if (f->phnum == 0)
		return elf_fail(err, err_size, "ELF has no program headers");
	/* 0xffff (PN_XNUM) means the count is in section header 0: far more than a kernel has */
	if (f->phnum > ELF_MAX_PHNUM)
		return elf_fail(err, err_size,
				"ELF has %u program headers; keel accepts at most %u", f->phnum,
				ELF_MAX_PHNUM);
	if (f->phentsize != (f->is64 ? PHDR64_SIZE : PHDR32_SIZE))
		return elf_fail(err, err_size, "ELF program header size %u; expected %u",
				f->phentsize, f->is64 ? PHDR64_SIZE : PHDR32_SIZE);
	if (!range_within(f->phoff, (uint64_t)f->phnum * f->phentsize, size))
		return elf_fail(err, err_size,
				"ELF program headers (%u at offset 0x%llx) run past the end of the "
				"file (%zu bytes)",
				f->phnum, (unsigned long long)f->phoff, size);
	f->data = p;
	f->size = size;
	return 0;
}

void elf_phdr(const struct elf_file *f, unsigned i, struct elf_seg *s)
{
	const uint8_t *p = f->data + f->phoff + (uint64_t)i * f->phentsize;

	if (f->is64) {
		s->type = rd32(p);
		s->flags = rd32(p + 4);
		s->offset = rd64(p + 8);
		s->vaddr = rd64(p + 16);
		s->paddr = rd64(p + 24);
		s->filesz = rd64(p + 32);
		s->memsz = rd64(p + 40);
		s->align = rd64(p + 48);
	} else {
		s->type = rd32(p);
		s->offset = rd32(p + 4);
		s->vaddr = rd32(p + 8);
		s->paddr = rd32(p + 12);
		s->filesz = rd32(p + 16);
		s->memsz = rd32(p + 20);
		s->flags = rd32(p + 24);
		s->align = rd32(p + 28);
	}
}

/* Walks one PT_NOTE segment's notes. Each is a 12-byte header, the name and the descriptor, both
 * padded to the note alignment: 4 bytes, or 8 when the segment says so (gABI "Note Section";
 * GNU tools use 4 in ELF64 too). Everything is bounded by the segment's bytes in the file. */
static int find_in_segment(const struct elf_file *f, unsigned idx, const struct elf_seg *s,
			   const char *name, uint32_t type, const uint8_t **desc,
			   uint32_t *desc_size, char *err, size_t err_size)
{
	uint64_t align = s->align == 8 ? 8 : 4;
	size_t name_len = strlen(name) + 1;
	const uint8_t *seg;
	uint64_t off = 0;

	if (!range_within(s->offset, s->filesz, f->size))
		return elf_fail(
			err, err_size,
			"ELF note segment %u (offset 0x%llx, %llu bytes) runs past the end of "
			"the file (%zu bytes)",
			idx, (unsigned long long)s->offset, (unsigned long long)s->filesz, f->size);
	seg = f->data + s->offset;
	while (s->filesz - off >= NHDR_SIZE) {
		uint64_t namesz = rd32(seg + off), descsz = rd32(seg + off + 4);
		uint32_t ntype = rd32(seg + off + 8);
		uint64_t name_off = off + NHDR_SIZE;
		uint64_t desc_off = name_off + ALIGN_UP(namesz, align);
		uint64_t next = desc_off + ALIGN_UP(descsz, align);

		/* namesz, descsz < 2^32, so none of these sums wraps in 64 bits */
		if (!range_within(desc_off, descsz, s->filesz))
			return elf_fail(err, err_size,
					"ELF note at offset 0x%llx of note segment %u has sizes "
					"(name %llu, descriptor %llu) that run past the segment",
					(unsigned long long)off, idx, (unsigned long long)namesz,
					(unsigned long long)descsz);
		if (ntype == type && namesz == name_len &&
		    memcmp(seg + name_off, name, name_len) == 0) {
			*desc = seg + desc_off;
			*desc_size = (uint32_t)descsz;
			return 1;
		}
		if (next >= s->filesz)
			break;
		off = next;
	}
	return 0;
}

int elf_find_note(const struct elf_file *f, const char *name, uint32_t type, const uint8_t **desc,
		  uint32_t *desc_size, char *err, size_t err_size)
{
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;
		int r;

		elf_phdr(f, i, &s);
		if (s.type != ELF_PT_NOTE)
			continue;
		r = find_in_segment(f, i, &s, name, type, desc, desc_size, err, err_size);
		if (r != 0)
			return r;
	}
	return 0;
}

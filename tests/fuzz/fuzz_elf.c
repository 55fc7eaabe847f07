/* ELF reader alone: any bytes through elf_open(), every program header and a note search. What it
 * accepts must hold: the program-header table inside the file, a found note's descriptor inside
 * a PT_NOTE segment's file bytes. Seeds: tests/fuzz/corpus/elf/ (the loader's tiny ELF seeds). */
#include "guest/elf.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_file f;
	char err[160];
	/* exact-size copy so ASan catches any read past the end */
	uint8_t *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	err[0] = 0;
	if (elf_open(&f, copy, size, err, sizeof(err)) == 0) {
		const uint8_t *desc = NULL;
		uint32_t desc_size = 0;
		int r;

		if (f.phnum == 0 || f.phnum > ELF_MAX_PHNUM ||
		    f.phoff + (uint64_t)f.phnum * f.phentsize > size)
			abort();
		for (unsigned i = 0; i < f.phnum; i++) {
			struct elf_seg s;
			elf_phdr(&f, i, &s);
		}
		r = elf_find_note(&f, "Xen", 18, &desc, &desc_size, err, sizeof(err));
		if (r == 1 && (desc < copy || desc + desc_size > copy + size))
			abort();
		if (r < 0 && (!err[0] || strlen(err) >= sizeof(err)))
			abort();
	} else if (!err[0] || strlen(err) >= sizeof(err)) {
		abort();
	}
	free(copy);
	return 0;
}

#include "core/boot_info.h"

#include "lib/kstring.h"

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *path)
{
	for (unsigned i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].path, path))
			return &bi->modules[i];
	return NULL;
}

#ifndef KEEL_CORE_LAUNCH_H
#define KEEL_CORE_LAUNCH_H

#include "core/boot_info.h"

struct vm;

/* Creates, fills and loads every VM of bi->config into vms[]; runs none. -1 after logging a
 * keel.cfg:LINE: message. */
int launch_vms(const struct boot_info *bi, struct vm **vms);

#endif

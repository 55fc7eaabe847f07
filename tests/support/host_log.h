#ifndef KEEL_TESTS_SUPPORT_HOST_LOG_H
#define KEEL_TESTS_SUPPORT_HOST_LOG_H

#include "lib/kstring.h"
#include "lib/log.h"
#include "lib/types.h"

/* Everything klog() printed since the last host_log_clear(), one line per call. */
const char *host_log_text(void);
void host_log_clear(void);
bool host_log_contains(const char *s);

#endif

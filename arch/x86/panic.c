/* panic(): keel's last words, on every console, with a backtrace of frame pointers. */
#include "core/panic.h"

#include "arch/x86/cpu.h"
#include "lib/fmt.h"
#include "lib/log.h"

extern char ImageBase[];

/* keel.efi's backtraces name offsets into build/keel.so (`addr2line -e build/keel.so OFFSET`);
 * keel.elf is linked where it runs, so there the absolute address is what
 * `addr2line -e build/keel.elf ADDRESS` wants. The Multiboot2 entry sets "keel.elf". */
const char *panic_image_name = "keel.so";

void backtrace_from(uint64_t rbp)
{
	uint64_t base = (uint64_t)(uintptr_t)ImageBase;

	klog("backtrace:");
	for (int depth = 0; depth < 16 && rbp && IS_ALIGNED(rbp, 8); depth++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		uint64_t ret = frame[1];
		if (!ret)
			break;
		klog("  #%d %016llx (%s+%llx)", depth, (unsigned long long)ret, panic_image_name,
		     (unsigned long long)(ret - base));
		if (frame[0] <= rbp) /* frames grow upwards; anything else is corrupt */
			break;
		rbp = frame[0];
	}
}

NORETURN void panic(const char *fmt, ...)
{
	static int nested;
	char msg[256];
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	klog("PANIC: %s", msg);
	if (!nested++)
		backtrace_from((uint64_t)(uintptr_t)__builtin_frame_address(0));
	klog("keel: halted");
	cpu_halt_forever();
}

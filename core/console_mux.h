/* Who gets the bytes typed on keel's serial console. keel runs several VMs, each with a console,
 * and a shell of its own; exactly one of them (the focus) receives what is typed. Targets are
 * numbered 0 .. nr_vms - 1 for the VMs and nr_vms for the shell.
 *
 * Ctrl-T typed CONSOLE_HOTKEY_COUNT times in a row moves the focus to the next target that can
 * take input, cyclically: the VMs in order, then the shell, then the first VM again (Xen's
 * console does the same with Ctrl-A; keel leaves Ctrl-A to QEMU's -nographic console). A VM
 * that is not alive is skipped; the shell is always alive, so it can always be reached.
 *
 * Hotkey bytes are held back until it is known whether they make a switch: the byte after one or
 * two Ctrl-Ts releases them to the focus ahead of itself, so nothing typed is lost, but a lone
 * Ctrl-T reaches the VM only with the next key. Host-testable: no locks, no console, no VM. */
#ifndef KEEL_CORE_CONSOLE_MUX_H
#define KEEL_CORE_CONSOLE_MUX_H

#include "lib/types.h"

#define CONSOLE_HOTKEY 0x14 /* Ctrl-T */
#define CONSOLE_HOTKEY_COUNT 3

struct console_mux {
	unsigned nr_vms; /* the shell is target nr_vms */
	unsigned focus;	 /* current target */
	unsigned held;	 /* hotkey bytes seen in a row and not yet passed on */
	/* true when VM i can take input (it runs); NULL: every VM can. The shell always can. */
	bool (*vm_alive)(void *ctx, unsigned i);
	void *ctx;
};

/* Focus starts on the first alive VM, else on the shell. */
void console_mux_init(struct console_mux *m, unsigned nr_vms, bool (*vm_alive)(void *, unsigned),
		      void *ctx);

/* Feeds one typed byte. Writes the bytes the focus must receive to out and returns their count:
 * 0 while hotkeys are held or when this byte completed the hotkey, else the held hotkeys that
 * turned out not to be a switch followed by c (at most CONSOLE_HOTKEY_COUNT bytes). *switched
 * is set when this byte completed the hotkey: the focus is then the next alive target, which is
 * the one it was when no other target is alive (the caller announces the focus either way).
 * Bytes for a VM that stopped before the caller told console_mux_target_stopped are the
 * caller's to drop. */
unsigned console_mux_feed(struct console_mux *m, uint8_t c, uint8_t out[CONSOLE_HOTKEY_COUNT],
			  bool *switched);

/* VM i stopped. When it had the focus, the focus moves to the next alive VM after it (wrapping
 * round, VM i itself excluded), else to the shell; returns true if the focus moved. Held
 * hotkeys stay held and go to the new focus. */
bool console_mux_target_stopped(struct console_mux *m, unsigned i);

bool console_mux_is_shell(const struct console_mux *m);

#endif

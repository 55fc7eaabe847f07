/* The framebuffer's status bar on the real machine (core/status_bar.h). */
#ifndef KEEL_CORE_STATUS_BAR_HW_H
#define KEEL_CORE_STATUS_BAR_HW_H

struct vm;

/* The VMs it counts (hv_run's list, which lives as long as keel runs). */
void status_bar_attach(struct vm **vms, unsigned nr);
/* Redraws the bar when STATUS_BAR_PERIOD_NS have passed since the last time; nothing without a
 * framebuffer. Any CPU, between guest slices. */
void status_bar_tick(void);

#endif

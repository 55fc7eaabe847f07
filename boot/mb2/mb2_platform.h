/* What keel.efi gets from UEFI and keel.elf must do itself on the Multiboot2 path: the legacy
 * interrupt controller, TSC calibration, the wall-clock time, power-off and reset. */
#ifndef KEEL_BOOT_MB2_MB2_PLATFORM_H
#define KEEL_BOOT_MB2_MB2_PLATFORM_H

#include "core/boot_info.h"
#include "lib/types.h"

/* Remaps the 8259 pair away from the exception vectors and masks every line: BIOSes leave the
 * PIT's IRQ 0 unmasked on vector 8, which keel would take for a double fault. */
void mb2_pic_mask(void);

/* Reads the host's ACPI tables from the RSDP at rsdp_phys (identity-mapped, below 4 GiB) and keeps
 * what power-off, reset and the PM-timer calibration need. Returns 0, or -1 with *why set. */
int mb2_acpi_init(uint64_t rsdp_phys, const char **why);
/* The PM1 registers and \_S5 values found (for the log); false when power-off cannot work. */
bool mb2_acpi_s5(uint16_t *pm1a_cnt, uint8_t *slp_typa, uint8_t *slp_typb);

/* The TSC's rate in Hz, measured over 40 ms of the PIT's channel 2, or of the ACPI PM timer when
 * the PIT does not count; *how names the reference, *ppm bounds the measuring error (the
 * reference's own crystal tolerance aside). 0 when neither works. */
uint64_t mb2_calibrate_tsc(const char **how, uint32_t *ppm);

/* firmware_get_time: the host CMOS RTC. */
int mb2_rtc_get_time(struct wall_time *t);
/* firmware_poweroff: ACPI S5; halts with a message when that is impossible. Never returns. */
void mb2_poweroff(void);
/* firmware_reset: the ACPI reset register, else port 0xCF9, else the keyboard controller. */
void mb2_reset(void);

#endif

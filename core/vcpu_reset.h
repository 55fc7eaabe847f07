/* The architectural states a vCPU starts from: the loader's entry state (vCPU 0 of a new life),
 * INIT (Intel SDM vol 3A, 9.1.1 table 9-1 "IA-32 Processor States Following Power-up, Reset,
 * or INIT") and a start-up IPI (9.4.3: real mode, CS = vector << 8, IP = 0). Each is loaded on
 * the CPU the vCPU runs on. */
#ifndef KEEL_CORE_VCPU_RESET_H
#define KEEL_CORE_VCPU_RESET_H

#include "core/vm.h"

void vcpu_reset_to_boot(struct vcpu *v, const struct guest_boot *b);
void vcpu_reset_to_init(struct vcpu *v);
void vcpu_reset_to_sipi(struct vcpu *v, uint8_t vector);

#endif

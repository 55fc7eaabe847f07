/* An interrupt message on the (logical) APIC bus: what an IOAPIC redirection entry, a local
 * APIC's ICR or an MSI sends to the local APICs. */
#ifndef KEEL_VDEV_APIC_MSG_H
#define KEEL_VDEV_APIC_MSG_H

#include "lib/types.h"

/* Delivery modes (Intel SDM vol 3, 11.6.1 "Interrupt Command Register"; 82093AA 3.2.4) */
enum vapic_delivery {
	VAPIC_DM_FIXED = 0,
	VAPIC_DM_LOWEST = 1,
	VAPIC_DM_SMI = 2,
	VAPIC_DM_NMI = 4,
	VAPIC_DM_INIT = 5,
	VAPIC_DM_SIPI = 6,
	VAPIC_DM_EXTINT = 7,
};

struct vapic_msg {
	uint8_t vector;
	uint8_t delivery; /* enum vapic_delivery */
	bool logical;	  /* destination mode */
	bool level;	  /* level-triggered: the APIC sets TMR and broadcasts the EOI */
	uint32_t dest;	  /* APIC ID (8 bits in xAPIC, 32 in x2APIC) or logical mask */
};

#endif

/* The host's serial port (a 16550 at COM1): keel's console output and, later, its input. */
#ifndef KEEL_DRIVERS_UART16550_H
#define KEEL_DRIVERS_UART16550_H

#include "lib/types.h"

void host_uart_init(uint16_t base);
void host_uart_write(const char *s, size_t n);
/* -1 when no byte is waiting */
int host_uart_read(void);

#endif

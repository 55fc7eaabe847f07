#ifndef KEEL_LIB_RT_STACK_PROTECTOR_H
#define KEEL_LIB_RT_STACK_PROTECTOR_H

/* Sets a fresh canary. Call it from a function built without the stack protector, before any
 * protected frame exists. */
void stack_protector_init(void);

#endif

/* Inside the keel.cfg parser: the state core/config.c and core/config_io.c share. Not an
 * interface for anything else (core/config.h is). */
#ifndef KEEL_CORE_CONFIG_PARSER_H
#define KEEL_CORE_CONFIG_PARSER_H

#include "core/config.h"

struct parser {
	const struct config_limits *limits;
	struct keel_config *cfg;
	struct config_error *err;
	struct vm_config *vm;	  /* the [vm NAME] section being read, or NULL */
	struct switch_config *sw; /* the [switch NAME] section being read, or NULL */
	bool host;		  /* in the [host] section */
	unsigned line;
	/* which keys the current section has set, to reject duplicates */
	unsigned seen;
};

int cfg_fail(struct parser *p, unsigned line, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* A path relative to keel.cfg's folder into dst ('\' becomes '/'); -1 after cfg_fail. */
int cfg_parse_path(struct parser *p, const char *key, const char *v, char *dst);
/* A decimal whole number up to max: 0, -1 when it is not one, -2 when it is above max. */
int cfg_parse_uint(const char *s, unsigned max, unsigned *out);

/* The I/O keys of [vm NAME] (config_io.c): 0 done, -1 after cfg_fail, 1 when key is none of
 * them. */
int cfg_io_key(struct parser *p, const char *key, const char *v);
/* pci = [SSSS:]BB:DD.F of vm (config_pci.c); 0 or -1 after cfg_fail. */
int cfg_set_pci(struct parser *p, struct vm_config *vm, const char *v);
/* A [switch NAME] header (s, n: NAME); 0 or -1 after cfg_fail. */
int cfg_open_switch(struct parser *p, const char *s, size_t n);
/* A key inside the [host] section (config_pci.c: sriov). */
int cfg_host_key(struct parser *p, const char *key, const char *v);
/* A key inside a [switch NAME] section. */
int cfg_switch_key(struct parser *p, const char *key, const char *v);
/* Checks across the whole file once it is read: no image two VMs (or one twice) may write. */
int cfg_io_finish(struct parser *p);

#define CFG_IO_KEY_LIST "disk, net, mac, console, pci"

#endif

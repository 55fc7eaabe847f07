/* keel.cfg's `pci = [SSSS:]BB:DD.F` key of [vm NAME] (docs/config.md "Passthrough"): the host PCI
 * function given to the VM. Only the text is checked here, and that no function is named twice in
 * the file; whether the machine has it and keel may give it away is drivers/pci_claim.h's, when
 * the VMs are built. */
#include "core/config_parser.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

#define PCI_FORMAT_HELP                                                                            \
	"expected two hex digits of bus, two of device (00-1f), one of function (0-7), e.g. "      \
	"pci = 00:04.0"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* n hex digits at s; -1 when one is not a hex digit */
static int hex_field(const char *s, unsigned n)
{
	int v = 0;

	for (unsigned i = 0; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

int cfg_set_pci(struct parser *p, struct vm_config *vm, const char *v)
{
	size_t n = strlen(v);
	const char *bdf = v;
	int seg = 0, bus = 0, dev = 0, fn = 0;

	if (!n)
		return cfg_fail(p, p->line, "empty pci; " PCI_FORMAT_HELP);
	/* a segment prefix has exactly four digits, as Linux's lspci -D writes it */
	if (n == 12 && v[4] == ':') {
		seg = hex_field(v, 4);
		bdf = v + 5;
	}
	if (strlen(bdf) != 7 || seg < 0 || bdf[2] != ':' || bdf[5] != '.' ||
	    (bus = hex_field(bdf, 2)) < 0 || (dev = hex_field(bdf + 3, 2)) < 0 ||
	    (fn = hex_field(bdf + 6, 1)) < 0)
		return cfg_fail(p, p->line, "pci = %.40s is not BB:DD.F; " PCI_FORMAT_HELP, v);
	/* PCI Local Bus 3.0, 3.2.2.3.1: a bus has 32 devices of 8 functions each */
	if (dev > 0x1f)
		return cfg_fail(p, p->line,
				"pci = %s: device %02x is past 1f; expected a device number 00 to "
				"1f",
				v, dev);
	if (fn > 7)
		return cfg_fail(
			p, p->line,
			"pci = %s: function %x is past 7; expected a function number 0 to 7", v,
			fn);
	if (seg != 0)
		return cfg_fail(p, p->line,
				"pci = %s: segment %04x is not 0; expected a function of segment "
				"0000 (the only one keel reaches so far)",
				v, seg);
	if (vm->nr_pcis == CFG_MAX_PCI)
		return cfg_fail(p, p->line,
				"more than %d pci functions in [vm %s]; expected at most %d",
				CFG_MAX_PCI, vm->name, CFG_MAX_PCI);
	/* a function has one owner: two VMs driving one device would each corrupt the other's
	 * view of it, and its DMA could reach only one VM's RAM anyway */
	for (unsigned i = 0; i < p->cfg->nr_vms; i++) {
		const struct vm_config *o = &p->cfg->vms[i];

		for (unsigned j = 0; j < o->nr_pcis; j++) {
			const struct pci_config *e = &o->pcis[j];

			if (e->segment == seg && e->bus == bus && e->dev == dev && e->fn == fn)
				return cfg_fail(p, p->line,
						"pci %02x:%02x.%x is also given to [vm %s] (line "
						"%u); expected each function in one VM",
						bus, dev, fn, o->name, e->line);
		}
	}
	struct pci_config *c = &vm->pcis[vm->nr_pcis++];
	memset(c, 0, sizeof(*c));
	c->segment = (uint16_t)seg;
	c->bus = (uint8_t)bus;
	c->dev = (uint8_t)dev;
	c->fn = (uint8_t)fn;
	c->line = p->line;
	return 0;
}

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

/* [SSSS:]BB:DD.F in v (key: "pci" or "sriov", for the messages) into *out; -1 after cfg_fail */
static int parse_bdf(struct parser *p, const char *key, const char *v, struct pci_config *out)
{
	size_t n = strlen(v);
	const char *bdf = v;
	int seg = 0, bus = 0, dev = 0, fn = 0;

	if (!n)
		return cfg_fail(p, p->line, "empty %s; " PCI_FORMAT_HELP, key);
	/* a segment prefix has exactly four digits, as Linux's lspci -D writes it */
	if (n == 12 && v[4] == ':') {
		seg = hex_field(v, 4);
		bdf = v + 5;
	}
	if (strlen(bdf) != 7 || seg < 0 || bdf[2] != ':' || bdf[5] != '.' ||
	    (bus = hex_field(bdf, 2)) < 0 || (dev = hex_field(bdf + 3, 2)) < 0 ||
	    (fn = hex_field(bdf + 6, 1)) < 0)
		return cfg_fail(p, p->line, "%s = %.40s is not BB:DD.F; " PCI_FORMAT_HELP, key, v);
	/* PCI Local Bus 3.0, 3.2.2.3.1: a bus has 32 devices of 8 functions each */
	if (dev > 0x1f)
		return cfg_fail(p, p->line,
				"%s = %s: device %02x is past 1f; expected a device number 00 to "
				"1f",
				key, v, dev);
	if (fn > 7)
		return cfg_fail(p, p->line,
				"%s = %s: function %x is past 7; expected a function number 0 to 7",
				key, v, fn);
	if (seg != 0)
		return cfg_fail(p, p->line,
				"%s = %s: segment %04x is not 0; expected a function of segment "
				"0000 (the only one keel reaches so far)",
				key, v, seg);
	*out = (struct pci_config){ (uint16_t)seg, (uint8_t)bus, (uint8_t)dev, (uint8_t)fn,
				    p->line };
	return 0;
}

int cfg_set_pci(struct parser *p, struct vm_config *vm, const char *v)
{
	struct pci_config f = { 0 };

	if (parse_bdf(p, "pci", v, &f))
		return -1;
	int seg = f.segment, bus = f.bus, dev = f.dev, fn = f.fn;
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
	vm->pcis[vm->nr_pcis++] = f;
	return 0;
}

#define SRIOV_FORMAT_HELP                                                                          \
	"expected sriov = BB:DD.F N [namespaces=NSID,...], e.g. sriov = 00:04.0 2 namespaces=2,3"

/* `sriov = BB:DD.F N [namespaces=NSID,...]` of [host]: the PF, how many VFs, and for an NVMe PF
 * the namespace each VF gets, VF 1 the first */
static int set_sriov(struct parser *p, char *v)
{
	char *words[4];
	unsigned nr_words = 0;
	struct sriov_config s;

	memset(&s, 0, sizeof(s));
	for (char *w = v; *w && nr_words < ARRAY_SIZE(words);) {
		while (*w == ' ' || *w == '\t')
			*w++ = '\0';
		if (!*w)
			break;
		words[nr_words++] = w;
		while (*w && *w != ' ' && *w != '\t')
			w++;
	}
	if (nr_words < 2 || nr_words > 3)
		return cfg_fail(p, p->line, "sriov = %.60s; " SRIOV_FORMAT_HELP, v);
	if (parse_bdf(p, "sriov", words[0], &s.pf))
		return -1;
	if (cfg_parse_uint(words[1], CFG_MAX_VFS, &s.nr_vfs) || !s.nr_vfs)
		return cfg_fail(p, p->line, "sriov = %s %.20s: bad number of VFs; expected 1 to %d",
				words[0], words[1], CFG_MAX_VFS);
	if (nr_words == 3) {
		char *list = words[2];
		if (strncmp(list, "namespaces=", 11) != 0)
			return cfg_fail(p, p->line,
					"sriov: unknown option '%.40s'; " SRIOV_FORMAT_HELP, list);
		for (char *t = list + 11;;) {
			char *comma = t;
			unsigned nsid;
			while (*comma && *comma != ',')
				comma++;
			if (*comma)
				*comma = '\0';
			else
				comma = NULL;
			/* NVMe Base 1.4, 3.2.1: 1 to FFFFFFFEh; capped lower, as keel lists them */
			if (s.nr_ns == CFG_MAX_VFS || cfg_parse_uint(t, 0xFFFFFFFEu, &nsid) ||
			    !nsid)
				return cfg_fail(p, p->line,
						"sriov: bad namespace '%.20s'; expected a list of "
						"namespace IDs (1 or more), one per VF",
						t);
			s.ns[s.nr_ns++] = nsid;
			if (!comma)
				break;
			t = comma + 1;
		}
		if (s.nr_ns != s.nr_vfs)
			return cfg_fail(
				p, p->line,
				"sriov: %u namespaces for %u VFs; expected one namespace per VF",
				s.nr_ns, s.nr_vfs);
	}
	for (unsigned i = 0; i < p->cfg->nr_sriovs; i++) {
		const struct sriov_config *o = &p->cfg->sriovs[i];
		if (o->pf.bus == s.pf.bus && o->pf.dev == s.pf.dev && o->pf.fn == s.pf.fn)
			return cfg_fail(p, p->line,
					"sriov %02x:%02x.%x is also on line %u; expected each "
					"physical function once",
					s.pf.bus, s.pf.dev, s.pf.fn, o->line);
	}
	if (p->cfg->nr_sriovs == CFG_MAX_SRIOV)
		return cfg_fail(p, p->line, "more than %d sriov lines; expected at most %d",
				CFG_MAX_SRIOV, CFG_MAX_SRIOV);
	s.line = p->line;
	p->cfg->sriovs[p->cfg->nr_sriovs++] = s;
	return 0;
}

int cfg_host_key(struct parser *p, const char *key, const char *v)
{
	char buf[CFG_VALUE_MAX + 1];

	if (strcmp(key, "sriov") != 0)
		return cfg_fail(p, p->line, "unknown key '%.40s' in [host]; expected sriov", key);
	if (strlen(v) > CFG_VALUE_MAX)
		return cfg_fail(p, p->line, "sriov value too long; " SRIOV_FORMAT_HELP);
	memcpy(buf, v, strlen(v) + 1);
	return set_sriov(p, buf);
}

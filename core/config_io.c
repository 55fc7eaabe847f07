/* keel.cfg's guest I/O: the `disk`, `net`, `mac`, `console` and `pci` (config_pci.c) keys of
 * [vm NAME] and the [switch NAME] sections (CONVENTIONS.md "I/O keys of [vm NAME]",
 * docs/config.md). What keel cannot back yet (device passthrough) is parsed in full, so a typo
 * gets its own message, and then refused: starting a VM without a device it was promised would be
 * the half-configured machine keel never starts. */
#include "core/config_parser.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

bool config_mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6];
	return !(mac[0] & 1) && memcmp(mac, zero, sizeof(zero)) != 0;
}

/* "XX:XX:XX:XX:XX:XX", hex digits of either case */
static int parse_mac(const char *v, uint8_t mac[6])
{
	if (strlen(v) != 17)
		return -1;
	for (unsigned i = 0; i < 6; i++) {
		const char *c = v + (size_t)3 * i;
		if (!is_hex(c[0]) || !is_hex(c[1]) || (i < 5 && c[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hex_val(c[0]) << 4 | hex_val(c[1]));
	}
	return 0;
}

/* part:LABEL: a GPT partition name; keel matches it as ASCII. No ',' (options follow one). */
static int parse_label(struct parser *p, const char *label, struct disk_config *d)
{
	size_t n = strlen(label);

	if (n == 0 || n > CFG_LABEL_MAX)
		return cfg_fail(p, p->line,
				"disk = part:%.40s: the label has %zu characters; expected 1 to %d "
				"(a GPT partition name)",
				label, n, CFG_LABEL_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || (unsigned char)label[i] > 0x7e)
			return cfg_fail(p, p->line,
					"disk = part:... label has byte 0x%02x; expected printable "
					"ASCII",
					(unsigned char)label[i]);
	kstrlcpy(d->path, label, sizeof(d->path));
	d->kind = CFG_DISK_PART;
	return 0;
}

/* The options after the first comma: only "ro" so far. */
static int parse_disk_options(struct parser *p, char *opts, struct disk_config *d)
{
	for (char *o = opts; o;) {
		char *comma = memchr(o, ',', strlen(o));
		if (comma)
			*comma = '\0';
		/* blanks around an option are allowed, as around the value */
		while (*o == ' ' || *o == '\t')
			o++;
		size_t n = strlen(o);
		while (n && (o[n - 1] == ' ' || o[n - 1] == '\t'))
			o[--n] = '\0';
		if (!strcmp(o, "ro"))
			d->read_only = true;
		else
			return cfg_fail(p, p->line, "unknown disk option '%.40s'; expected ro", o);
		o = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int set_disk(struct parser *p, struct vm_config *vm, const char *v)
{
	char val[CFG_PATH_MAX + 64];

	if (vm->nr_disks == CFG_MAX_DISKS)
		return cfg_fail(p, p->line,
				"more than %d disks in [vm %s]; expected at most %d (vda to vdh)",
				CFG_MAX_DISKS, vm->name, CFG_MAX_DISKS);
	if (strlen(v) >= sizeof(val))
		return cfg_fail(p, p->line,
				"disk value is %zu characters long; expected at most %zu",
				strlen(v), sizeof(val) - 1);
	kstrlcpy(val, v, sizeof(val));
	struct disk_config *d = &vm->disks[vm->nr_disks];
	memset(d, 0, sizeof(*d));
	d->line = p->line;
	char *comma = memchr(val, ',', strlen(val));
	if (comma) {
		*comma = '\0';
		if (parse_disk_options(p, comma + 1, d))
			return -1;
	}
	size_t n = strlen(val);
	while (n && (val[n - 1] == ' ' || val[n - 1] == '\t'))
		val[--n] = '\0';
	if (!n)
		return cfg_fail(p, p->line,
				"empty disk; expected disk = FILE (an image beside keel.cfg), "
				"optionally followed by ,ro");
	if (!strncmp(val, "part:", 5)) {
		if (parse_label(p, val + 5, d))
			return -1;
		vm->nr_disks++;
		return 0;
	}
	if (!strncmp(val, "nvme:", 5)) {
		unsigned nsid;
		/* NVMe namespace IDs run from 1 (NVMe base spec 2.0, 3.2.1) */
		if (cfg_parse_uint(val + 5, 0x7fffffff, &nsid) || nsid == 0)
			return cfg_fail(
				p, p->line,
				"bad disk '%.40s'; expected nvme:N with a namespace number N "
				"of 1 or more",
				val);
		d->kind = CFG_DISK_NVME;
		d->nsid = nsid;
		vm->nr_disks++;
		return 0;
	}
	d->kind = CFG_DISK_FILE;
	if (cfg_parse_path(p, "disk", val, d->path))
		return -1;
	vm->nr_disks++;
	return 0;
}

static int set_net(struct parser *p, struct vm_config *vm, const char *v)
{
	if (vm->nr_nets == CFG_MAX_NETS)
		return cfg_fail(p, p->line, "more than %d nets in [vm %s]; expected at most %d",
				CFG_MAX_NETS, vm->name, CFG_MAX_NETS);
	if (!config_name_ok(v, strlen(v)))
		return cfg_fail(p, p->line,
				"bad switch name '%.40s'; expected 1 to %d letters, digits, '-' or "
				"'_'",
				v, CFG_NAME_MAX);
	struct net_config *net = &vm->nets[vm->nr_nets++];
	memset(net, 0, sizeof(*net));
	kstrlcpy(net->sw, v, sizeof(net->sw));
	net->line = p->line;
	return 0;
}

static int set_mac(struct parser *p, struct vm_config *vm, const char *v)
{
	uint8_t mac[6];

	if (parse_mac(v, mac))
		return cfg_fail(p, p->line,
				"bad mac '%.40s'; expected six hex bytes XX:XX:XX:XX:XX:XX, e.g. "
				"52:54:00:12:34:56",
				v);
	if (!config_mac_ok(mac))
		return cfg_fail(p, p->line,
				"mac = %s is %s; expected a unicast address (bit 0 of the first "
				"byte clear), e.g. 52:54:00:12:34:56",
				v, (mac[0] & 1) ? "a multicast address" : "all zero");
	if (vm->nr_macs == vm->nr_nets)
		return cfg_fail(p, p->line,
				"mac without a net before it in [vm %s]; expected each mac after "
				"its net = line (the Nth mac belongs to the Nth net)",
				vm->name);
	/* two ports with one address would break any switch: unique in the whole file */
	for (unsigned i = 0; i < p->cfg->nr_vms; i++) {
		const struct vm_config *o = &p->cfg->vms[i];
		for (unsigned j = 0; j < o->nr_macs; j++)
			if (!memcmp(o->nets[j].mac, mac, sizeof(mac)))
				return cfg_fail(p, p->line,
						"mac = %s is already the mac of a net of [vm %s] "
						"(line %u); expected every mac once",
						v, o->name, o->nets[j].line);
	}
	struct net_config *net = &vm->nets[vm->nr_macs++];
	memcpy(net->mac, mac, sizeof(mac));
	net->has_mac = true;
	return 0;
}

/* p->seen bit of the one I/O key that may appear once; config.c's bits stop below it */
#define KEY_CONSOLE (1u << 20)

int cfg_io_key(struct parser *p, const char *key, const char *v)
{
	struct vm_config *vm = p->vm;
	bool console = !strcmp(key, "console");

	if (!console && strcmp(key, "disk") != 0 && strcmp(key, "net") != 0 &&
	    strcmp(key, "mac") != 0 && strcmp(key, "pci") != 0)
		return 1;
	if (!vm)
		return cfg_fail(p, p->line,
				"'%s' outside a VM section; expected a [vm NAME] line first", key);
	if (!strcmp(key, "disk"))
		return set_disk(p, vm, v);
	if (!strcmp(key, "net"))
		return set_net(p, vm, v);
	if (!strcmp(key, "mac"))
		return set_mac(p, vm, v);
	if (!strcmp(key, "pci"))
		return cfg_set_pci(p, vm, v);
	if (p->seen & KEY_CONSOLE)
		return cfg_fail(p, p->line,
				"'console' set twice in [vm %s]; expected each key once", vm->name);
	p->seen |= KEY_CONSOLE;
	vm->console_line = p->line;
	if (!strcmp(v, "uart"))
		vm->console = CFG_CONSOLE_UART;
	else if (!strcmp(v, "virtio"))
		vm->console = CFG_CONSOLE_VIRTIO;
	else
		return cfg_fail(p, p->line, "bad console value '%.40s'; expected uart or virtio",
				v);
	return 0;
}

int cfg_open_switch(struct parser *p, const char *s, size_t n)
{
	struct keel_config *cfg = p->cfg;

	if (!config_name_ok(s, n))
		return cfg_fail(
			p, p->line,
			"bad switch name '%.*s'; expected 1 to %d letters, digits, '-' or '_'",
			(int)MIN(n, 40), s, CFG_NAME_MAX);
	for (unsigned i = 0; i < cfg->nr_switches; i++) {
		const struct switch_config *o = &cfg->switches[i];
		if (strlen(o->name) == n && !strncmp(o->name, s, n))
			return cfg_fail(p, p->line,
					"duplicate [switch %s] (first at line %u); expected one "
					"section per switch",
					o->name, o->line);
	}
	if (cfg->nr_switches == CFG_MAX_SWITCHES)
		return cfg_fail(p, p->line,
				"more than %d [switch NAME] sections; expected at most %d",
				CFG_MAX_SWITCHES, CFG_MAX_SWITCHES);
	struct switch_config *sw = &cfg->switches[cfg->nr_switches++];
	memset(sw, 0, sizeof(*sw));
	memcpy(sw->name, s, n);
	sw->name[n] = '\0';
	sw->line = p->line;
	p->sw = sw;
	return 0;
}

int cfg_switch_key(struct parser *p, const char *key, const char *v)
{
	struct switch_config *sw = p->sw;
	unsigned nic = 0;

	if (strcmp(key, "uplink") != 0)
		return cfg_fail(p, p->line,
				"unknown key '%.40s' in [switch %s]; expected uplink (VM keys go "
				"under [vm NAME])",
				key, sw->name);
	if (sw->has_uplink)
		return cfg_fail(p, p->line,
				"'uplink' set twice in [switch %s]; expected each key once",
				sw->name);
	uint8_t mac[6];
	bool by_mac = !parse_mac(v, mac);

	if (by_mac && !config_mac_ok(mac))
		return cfg_fail(
			p, p->line,
			"uplink = %s is not a NIC's address; expected a unicast MAC or nicN", v);
	if (!by_mac &&
	    (strncmp(v, "nic", 3) != 0 || cfg_parse_uint(v + 3, CFG_MAX_NIC_NUMBER, &nic)))
		return cfg_fail(p, p->line,
				"bad uplink '%.40s'; expected nicN with N a host NIC number keel "
				"lists at boot, 0 to %d, or the NIC's MAC, e.g. uplink = nic0",
				v, CFG_MAX_NIC_NUMBER);
	/* one wire per switch and one switch per wire: two switches on one NIC would be one
	 * segment that keel's switches do not know is one */
	for (unsigned i = 0; i < p->cfg->nr_switches; i++) {
		const struct switch_config *o = &p->cfg->switches[i];

		if (o == sw || !o->has_uplink || o->uplink_by_mac != by_mac)
			continue;
		if (by_mac ? !memcmp(o->uplink_mac, mac, sizeof(mac)) : o->uplink_nic == nic)
			return cfg_fail(p, p->line,
					"uplink = %s is also the uplink of [switch %s] (line %u); "
					"expected each NIC in one switch",
					v, o->name, o->uplink_line);
	}
	sw->has_uplink = true;
	sw->uplink_by_mac = by_mac;
	if (by_mac)
		memcpy(sw->uplink_mac, mac, sizeof(mac));
	else
		sw->uplink_nic = nic;
	sw->uplink_line = p->line;
	return 0;
}

/* The same file on the ESP: FAT compares names without case, and "a/./b" is "a/b". Used to find
 * an image two writers would share, so it errs towards "the same". */
static const char *skip_dots(const char *s)
{
	while (s[0] == '.' && (s[1] == '/' || !s[1]))
		s += s[1] ? 2 : 1;
	return s;
}

static bool same_file(const char *a, const char *b)
{
	a = skip_dots(a);
	b = skip_dots(b);
	while (*a && *b) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return false;
		a++, b++;
		if (a[-1] == '/') {
			a = skip_dots(a);
			b = skip_dots(b);
		}
	}
	return !*a && !*b;
}

/* A host partition or namespace belongs to one disk of one VM, read-only or not (what keel can
 * tell from keel.cfg alone; a namespace claimed beside one of its partitions is found when the
 * VMs are built, core/host_disks.h). */
static int check_host_disk(struct parser *p, const struct disk_config *d,
			   const struct disk_config *e, const struct vm_config *o, unsigned j)
{
	if (e->kind != d->kind)
		return 0;
	if (d->kind == CFG_DISK_PART && !strcmp(e->path, d->path))
		return cfg_fail(p, d->line,
				"disk = part:%s is also vd%c of [vm %s] (line %u); expected each "
				"host partition in one disk of one VM",
				d->path, 'a' + j, o->name, e->line);
	if (d->kind == CFG_DISK_NVME && e->nsid == d->nsid)
		return cfg_fail(p, d->line,
				"disk = nvme:%u is also vd%c of [vm %s] (line %u); expected each "
				"host namespace in one disk of one VM",
				d->nsid, 'a' + j, o->name, e->line);
	return 0;
}

/* An image is the disk's only writer or nobody's: two writers (two VMs, or one VM through two
 * disks) would corrupt its file system, and a writable disk that is also a kernel or initrd would
 * let a guest change what a VM boots. All read-only, any number may share it. */
static int check_writer(struct parser *p, const struct disk_config *d)
{
	const struct keel_config *cfg = p->cfg;

	/* earlier disks only: each pair is reported once, at its later line */
	for (unsigned i = 0; i < cfg->nr_vms; i++) {
		const struct vm_config *o = &cfg->vms[i];
		for (unsigned j = 0; j < o->nr_disks; j++) {
			const struct disk_config *e = &o->disks[j];
			if (e == d)
				goto kernels;
			if (d->kind != CFG_DISK_FILE) {
				if (check_host_disk(p, d, e, o, j))
					return -1;
				continue;
			}
			if (e->kind != CFG_DISK_FILE)
				continue;
			if (same_file(e->path, d->path) && (!e->read_only || !d->read_only))
				return cfg_fail(
					p, d->line,
					"disk %s is also vd%c of [vm %s] (line %u), and one "
					"of them writes it; expected ,ro on every disk that "
					"shares an image",
					d->path, 'a' + j, o->name, e->line);
		}
	}
kernels:
	for (unsigned i = 0; i < cfg->nr_vms && !d->read_only && d->kind == CFG_DISK_FILE; i++) {
		const struct vm_config *o = &cfg->vms[i];
		bool kernel = same_file(o->kernel, d->path);
		if (kernel || (o->initrd[0] && same_file(o->initrd, d->path)))
			return cfg_fail(p, d->line,
					"disk %s is the %s of [vm %s]; expected ,ro, or a copy of "
					"the file",
					d->path, kernel ? "kernel" : "initrd", o->name);
	}
	return 0;
}

int cfg_io_finish(struct parser *p)
{
	const struct keel_config *cfg = p->cfg;

	for (unsigned i = 0; i < cfg->nr_vms; i++)
		for (unsigned j = 0; j < cfg->vms[i].nr_disks; j++)
			if (check_writer(p, &cfg->vms[i].disks[j]))
				return -1;
	return 0;
}

int config_check_disk_size(const struct disk_config *d, uint64_t bytes, struct config_error *err)
{
	const char *why = NULL;

	if (bytes == 0)
		why = "is empty; expected a raw image of at least one 512-byte sector";
	else if (bytes % CFG_SECTOR_SIZE)
		why = "is not a whole number of 512-byte sectors; expected a raw image whose size "
		      "is a multiple of 512";
	else if (bytes > CFG_DISK_IMAGE_MAX)
		why = "is too large; expected at most 2 GiB (keel holds disk images in RAM)";
	if (!why)
		return 0;
	err->line = d->line;
	ksnprintf(err->msg, sizeof(err->msg), "disk %s (%llu bytes) %s", d->path,
		  (unsigned long long)bytes, why);
	return -1;
}

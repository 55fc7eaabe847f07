/* The keel.cfg parser (CONVENTIONS.md "keel.cfg"; every key in docs/config.md). */
#include "core/config.h"

#include "core/config_parser.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

#define LINE_MAX_LEN 4096

int cfg_fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	p->err->line = line;
	kvsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool config_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

/* Trims blanks on both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s))
		(*s)++, (*n)--;
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

int config_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (!(s[0] >= '0' && s[0] <= '9'))
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	unsigned shift;
	switch (s[i]) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (s[i + 1] != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int cfg_parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -2;
	}
	*out = v;
	return 0;
}

/* Paths are relative to keel.cfg's folder: '\' becomes '/', no "..", nothing absolute. */
int cfg_parse_path(struct parser *p, const char *key, const char *v, char *dst)
{
	size_t n = strlen(v);

	if (n > CFG_PATH_MAX)
		return cfg_fail(p, p->line, "%s path is %zu characters long; expected at most %d",
				key, n, CFG_PATH_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return cfg_fail(p, p->line,
					"%s path has byte 0x%02x; expected printable ASCII", key,
					(unsigned char)v[i]);
	kstrlcpy(dst, v, CFG_PATH_MAX + 1);
	for (char *c = dst; *c; c++)
		if (*c == '\\')
			*c = '/';
	if (dst[0] == '/' || (dst[0] && dst[1] == ':'))
		return cfg_fail(p, p->line,
				"%s path '%s' is absolute; expected a path relative to keel.cfg",
				key, v);
	/* reject any ".." component */
	for (const char *c = dst; *c;) {
		const char *end = c;
		while (*end && *end != '/')
			end++;
		if (end - c == 2 && c[0] == '.' && c[1] == '.')
			return cfg_fail(p, p->line,
					"%s path '%s' leaves keel.cfg's folder; expected no '..'",
					key, v);
		if (end == c)
			return cfg_fail(p, p->line,
					"%s path '%s' has an empty component; expected a/b/c", key,
					v);
		c = *end ? end + 1 : end;
		if (!*c && *end)
			return cfg_fail(p, p->line,
					"%s path '%s' ends with '/'; expected a file name", key, v);
	}
	return 0;
}

enum key_bit {
	KEY_MEMORY = 1 << 0,
	KEY_CPUS = 1 << 1,
	KEY_KERNEL = 1 << 2,
	KEY_INITRD = 1 << 3,
	KEY_CMDLINE = 1 << 4,
	KEY_EXIT_PORT = 1 << 5,
	KEY_ON_CRASH = 1 << 6,
	KEY_RESTART_LIMIT = 1 << 7,
	KEY_PIN = 1 << 8,
	KEY_ON_REBOOT = 1 << 9,
};

static const struct {
	const char *name;
	enum key_bit bit;
} keys[] = {
	{ "memory", KEY_MEMORY },     { "cpus", KEY_CPUS },
	{ "kernel", KEY_KERNEL },     { "initrd", KEY_INITRD },
	{ "cmdline", KEY_CMDLINE },   { "exit_port", KEY_EXIT_PORT },
	{ "on_crash", KEY_ON_CRASH }, { "restart_limit", KEY_RESTART_LIMIT },
	{ "pin", KEY_PIN },	      { "on_reboot", KEY_ON_REBOOT },
};

#define KEY_LIST                                                                                   \
	"memory, cpus, kernel, initrd, cmdline, exit_port, on_crash, restart_limit, pin, "         \
	"on_reboot, " CFG_IO_KEY_LIST

static int set_key(struct parser *p, const char *key, const char *v)
{
	struct vm_config *vm = p->vm;
	enum key_bit bit = 0;

	if (p->sw)
		return cfg_switch_key(p, key, v);
	if (p->host)
		return cfg_host_key(p, key, v);
	int io = cfg_io_key(p, key, v);
	if (io != 1)
		return io;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(key, keys[i].name))
			bit = keys[i].bit;
	if (!bit)
		return cfg_fail(p, p->line, "unknown key '%.40s'; expected one of " KEY_LIST, key);
	if (!vm)
		return cfg_fail(p, p->line,
				"'%s' outside a VM section; expected a [vm NAME] line first", key);
	if (p->seen & bit)
		return cfg_fail(p, p->line, "'%s' set twice in [vm %s]; expected each key once",
				key, vm->name);
	p->seen |= bit;

	switch (bit) {
	case KEY_MEMORY:
		vm->memory_line = p->line;
		if (config_parse_size(v, &vm->memory))
			return cfg_fail(
				p, p->line,
				"bad memory size '%.40s'; expected a number with a K, M or G suffix, "
				"e.g. 512M",
				v);
		if (vm->memory < CFG_MEMORY_MIN || vm->memory > CFG_MEMORY_MAX)
			return cfg_fail(p, p->line,
					"memory = %.40s is out of range; expected 16M to 1024G", v);
		if (!IS_ALIGNED(vm->memory, CFG_MEMORY_ALIGN))
			return cfg_fail(
				p, p->line,
				"memory = %.40s is not a multiple of 2M; expected e.g. 256M", v);
		break;
	case KEY_CPUS: {
		vm->cpus_line = p->line;
		int r = cfg_parse_uint(v, 1000000, &vm->cpus);
		if (r == -1 || vm->cpus == 0)
			return cfg_fail(
				p, p->line,
				"bad cpus value '%.40s'; expected a whole number, 1 or more", v);
		if (r == -2 || vm->cpus > p->limits->max_cpus)
			return cfg_fail(
				p, p->line,
				"cpus = %.40s is more than keel supports yet; expected 1 to %u", v,
				p->limits->max_cpus);
		break;
	}
	case KEY_KERNEL:
		vm->kernel_line = p->line;
		if (!*v)
			return cfg_fail(p, p->line,
					"empty kernel path; expected a file beside keel.cfg");
		return cfg_parse_path(p, "kernel", v, vm->kernel);
	case KEY_INITRD:
		vm->initrd_line = p->line;
		if (!*v)
			return cfg_fail(p, p->line,
					"empty initrd path; expected a file beside keel.cfg");
		return cfg_parse_path(p, "initrd", v, vm->initrd);
	case KEY_CMDLINE:
		if (strlen(v) > CFG_CMDLINE_MAX)
			return cfg_fail(p, p->line,
					"cmdline is %zu characters long; expected at most %d",
					strlen(v), CFG_CMDLINE_MAX);
		kstrlcpy(vm->cmdline, v, sizeof(vm->cmdline));
		break;
	case KEY_EXIT_PORT:
		if (!strcmp(v, "yes"))
			vm->exit_port = true;
		else if (!strcmp(v, "no"))
			vm->exit_port = false;
		else
			return cfg_fail(p, p->line,
					"bad exit_port value '%.40s'; expected yes or no", v);
		break;
	case KEY_ON_CRASH:
		if (!strcmp(v, "stop"))
			vm->on_crash_restart = false;
		else if (!strcmp(v, "restart"))
			vm->on_crash_restart = true;
		else
			return cfg_fail(p, p->line,
					"bad on_crash value '%.40s'; expected stop or restart", v);
		break;
	case KEY_ON_REBOOT:
		if (!strcmp(v, "stop"))
			vm->on_reboot_restart = false;
		else if (!strcmp(v, "restart"))
			vm->on_reboot_restart = true;
		else
			return cfg_fail(p, p->line,
					"bad on_reboot value '%.40s'; expected restart or stop", v);
		break;
	case KEY_PIN: {
		/* "1,2": one physical CPU number per vCPU, as keel prints them at boot */
		vm->pin_line = p->line;
		vm->nr_pins = 0;
		for (const char *c = v;;) {
			char num[8];
			size_t len = 0;
			while (*c == ' ' || *c == '\t')
				c++;
			while (*c >= '0' && *c <= '9' && len < sizeof(num) - 1)
				num[len++] = *c++;
			num[len] = '\0';
			while (*c == ' ' || *c == '\t')
				c++;
			unsigned cpu;
			if (!len || (*c && *c != ',') ||
			    cfg_parse_uint(num, CFG_MAX_CPU_NUMBER, &cpu))
				return cfg_fail(
					p, p->line,
					"bad pin '%.40s'; expected CPU numbers 0 to %d separated "
					"by commas, e.g. pin = 1,2",
					v, CFG_MAX_CPU_NUMBER);
			if (vm->nr_pins == CFG_MAX_PINS)
				return cfg_fail(p, p->line, "pin names more than %d CPUs",
						CFG_MAX_PINS);
			vm->pins[vm->nr_pins++] = cpu;
			if (!*c)
				break;
			c++;
		}
		break;
	}
	case KEY_RESTART_LIMIT:
		if (cfg_parse_uint(v, CFG_RESTART_LIMIT_MAX, &vm->restart_limit))
			return cfg_fail(
				p, p->line,
				"bad restart_limit '%.40s'; expected a whole number, 0 to %d", v,
				CFG_RESTART_LIMIT_MAX);
		break;
	}
	return 0;
}

/* A finished section must have its required keys. */
static int close_section(struct parser *p)
{
	struct vm_config *vm = p->vm;

	if (!vm)
		return 0;
	if (!(p->seen & KEY_MEMORY))
		return cfg_fail(p, vm->line, "[vm %s] has no memory; expected e.g. memory = 256M",
				vm->name);
	if (!(p->seen & KEY_KERNEL))
		return cfg_fail(p, vm->line,
				"[vm %s] has no kernel; expected e.g. kernel = vmlinuz", vm->name);
	if ((p->seen & KEY_PIN) && vm->nr_pins != vm->cpus)
		return cfg_fail(p, vm->pin_line,
				"pin names %u CPUs for %u vCPUs; expected one CPU number per vCPU",
				vm->nr_pins, vm->cpus);
	return 0;
}

static int open_section(struct parser *p, const char *s, size_t n)
{
	/* s is the text between '[' and ']' */
	trim(&s, &n);
	p->host = false;
	if (n == 4 && !strncmp(s, "host", 4)) {
		if (close_section(p))
			return -1;
		if (p->cfg->host_line)
			return cfg_fail(
				p, p->line,
				"a second [host] section (the first at line %u); expected one",
				p->cfg->host_line);
		p->vm = NULL;
		p->sw = NULL;
		p->seen = 0;
		p->host = true;
		p->cfg->host_line = p->line;
		return 0;
	}
	if (n >= 7 && !strncmp(s, "switch", 6) && is_blank(s[6])) {
		s += 6, n -= 6;
		trim(&s, &n);
		if (close_section(p))
			return -1;
		p->vm = NULL;
		p->seen = 0;
		return cfg_open_switch(p, s, n);
	}
	if (n < 3 || strncmp(s, "vm", 2) != 0 || !is_blank(s[2]))
		return cfg_fail(
			p, p->line,
			"unknown section '[%.*s]'; expected [vm NAME], [switch NAME] or [host]",
			(int)MIN(n, 40), s);
	s += 2, n -= 2;
	trim(&s, &n);
	if (!config_name_ok(s, n))
		return cfg_fail(p, p->line,
				"bad VM name '%.*s'; expected 1 to %d letters, digits, '-' or '_'",
				(int)MIN(n, 40), s, CFG_NAME_MAX);
	for (unsigned i = 0; i < p->cfg->nr_vms; i++) {
		const struct vm_config *o = &p->cfg->vms[i];
		if (strlen(o->name) == n && !strncmp(o->name, s, n))
			return cfg_fail(
				p, p->line,
				"duplicate VM name '%s' (first at line %u); expected unique names",
				o->name, o->line);
	}
	if (close_section(p))
		return -1;
	if (p->cfg->nr_vms == CFG_MAX_VMS)
		return cfg_fail(p, p->line, "more than %d VMs; expected at most %d", CFG_MAX_VMS,
				CFG_MAX_VMS);
	struct vm_config *vm = &p->cfg->vms[p->cfg->nr_vms++];
	memset(vm, 0, sizeof(*vm));
	memcpy(vm->name, s, n);
	vm->name[n] = '\0';
	vm->line = p->line;
	vm->cpus = 1;
	vm->exit_port = true;
	vm->on_reboot_restart = true;
	vm->restart_limit = CFG_RESTART_LIMIT_DEFAULT;
	vm->console = CFG_CONSOLE_UART;
	p->vm = vm;
	p->sw = NULL;
	p->seen = 0;
	return 0;
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
	char key[16], value[LINE_MAX_LEN];

	trim(&s, &n);
	if (n == 0 || s[0] == '#' || s[0] == ';')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return cfg_fail(p, p->line, "control character 0x%02x; expected plain text",
					(unsigned char)s[i]);
	if (s[0] == '[') {
		if (s[n - 1] != ']')
			return cfg_fail(p, p->line,
					"section header without ']'; expected [vm NAME]");
		return open_section(p, s + 1, n - 2);
	}
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return cfg_fail(p, p->line,
				"'%.*s' is not a setting; expected [vm NAME] or key = value",
				(int)MIN(n, 40), s);
	const char *k = s, *v = eq + 1;
	size_t kn = (size_t)(eq - s), vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (kn == 0)
		return cfg_fail(p, p->line, "setting without a key; expected key = value");
	if (kn >= sizeof(key))
		return cfg_fail(p, p->line, "unknown key '%.*s'; expected one of " KEY_LIST,
				(int)MIN(kn, 40), k);
	memcpy(key, k, kn);
	key[kn] = '\0';
	memcpy(value, v, vn);
	value[vn] = '\0';
	return set_key(p, key, value);
}

int config_parse(const char *text, size_t len, const struct config_limits *limits,
		 struct keel_config *out, struct config_error *err)
{
	struct parser p = { .limits = limits, .cfg = out, .err = err, .line = 0 };
	size_t pos = 0;

	out->nr_vms = 0;
	out->nr_switches = 0;
	out->nr_sriovs = 0;
	out->host_line = 0;
	err->line = 0;
	err->msg[0] = '\0';
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		p.line++;
		pos += n + (nl ? 1 : 0);
		if (memchr(s, '\0', n))
			return cfg_fail(&p, p.line, "NUL byte; expected a text file");
		if (n >= LINE_MAX_LEN)
			return cfg_fail(&p, p.line,
					"line is %zu characters long; expected at most %d", n,
					LINE_MAX_LEN - 1);
		if (parse_line(&p, s, n))
			return -1;
	}
	if (close_section(&p))
		return -1;
	if (out->nr_vms == 0)
		return cfg_fail(&p, p.line ? p.line : 1,
				"no VM defined; expected a [vm NAME] section");
	return cfg_io_finish(&p);
}

int config_check_memory(const struct keel_config *cfg, uint64_t host_free_bytes,
			struct config_error *err)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < cfg->nr_vms; i++) {
		const struct vm_config *vm = &cfg->vms[i];
		total += vm->memory;
		if (total > host_free_bytes) {
			err->line = vm->memory_line;
			ksnprintf(err->msg, sizeof(err->msg),
				  "[vm %s] memory = %lluM does not fit: %llu MiB free for all VMs; "
				  "expected less memory",
				  vm->name, (unsigned long long)(vm->memory / MiB),
				  (unsigned long long)(host_free_bytes / MiB));
			return -1;
		}
	}
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * vmm command line.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhost-kernel/net.h>
#include <vhost-user/blk.h>
#include <vhost-user/blk_server.h>
#include <vmm/guest_abi.h>
#include "vmm.h"

#ifndef VIOPLANE_VERSION
#define VIOPLANE_VERSION "0.1"
#endif

static const char usage[] =
"usage: vmm --kernel FILE [--initrd FILE] [--mem SIZE] [--cmdline STR] [--cpus N] [--stats]\n"
"           [--disk path=FILE[,engine=E][,cache=C][,readonly][,queues=N][,queue-size=N]\n"
"                   [,poll-us=N]]...\n"
"           [--vhost-user=SOCK[,type=blk|net][,queue-size=N]]...\n"
"           [--net tap=NAME[,queues=N][,mac=MAC][,queue-size=N]]...\n"
"           [--no-ioeventfd] [--no-irqfd] [--no-acpi]\n"
"\n"
"Run an x86-64 guest on /dev/kvm: a bare ELF image or a Linux kernel.\n"
"\n"
"  -k, --kernel FILE    the guest: a Linux kernel, bzImage (boot protocol 2.12+)\n"
"                       or uncompressed vmlinux (an ELF with the kernel's\n"
"                       \"Linux\" notes), entered at its 64-bit entry with the\n"
"                       command line, the initrd and an e820 map; or any other\n"
"                       ELF64 x86-64 image (PT_LOAD\n"
"                       segments at their physical addresses, at or above 1 MiB;\n"
"                       entered in 64-bit mode at CPL0, RDI = boot info, see\n"
"                       vmm/include/vmm/guest_abi.h)\n"
"      --initrd FILE    initial ramdisk for a Linux kernel\n"
"  -m, --mem SIZE       guest RAM, e.g. 512M or 2G; a bare number is MiB\n"
"                       (default 256M, 2M..32G)\n"
"  -c, --cmdline STR    command line handed to the guest (at most 4095 bytes;\n"
"                       a Linux kernel says its own limit, 2047 on x86)\n"
"      --cpus N         number of vCPUs, 1..8 (1).  A Linux guest finds them in\n"
"                       the MP table; an ELF guest starts the others itself\n"
"                       (INIT/SIPI), they wait in KVM until then\n"
"      --hugetlb        back guest RAM with huge pages (needs reserved hugepages)\n"
"      --disk SPEC      a virtio-blk disk served by vioplane's vhost-user-blk\n"
"                       back-end on its own thread in vmm: path=FILE (required),\n"
"                       engine=io_uring|libaio|sync|threads (io_uring), cache=none|\n"
"                       writeback|writethrough (writeback), readonly, queues=N (1),\n"
"                       queue-size=N (256), poll-us=N: each queue thread spins\n"
"                       up to N us for the next request before it sleeps\n"
"                       (adaptive; 64; 0 = never)\n"
"      --vhost-user SPEC  a virtio device served by an external vhost-user\n"
"                       back-end: SOCK[,type=blk|net][,queue-size=N]; blk\n"
"                       (the default) is a virtio-blk disk, net a virtio-net\n"
"                       NIC with one RX/TX queue pair (vhost-user-net,\n"
"                       DPDK's vhost PMD)\n"
"      --net SPEC       a virtio-net NIC whose queues the host kernel's\n"
"                       vhost-net serves, packets to and from a tap:\n"
"                       tap=NAME (required; created if missing, brought up),\n"
"                       queues=N queue pairs, 1..8 (1; a vhost-net device\n"
"                       and a tap queue each, MQ for the guest),\n"
"                       mac=MAC (52:54:00:xx:xx:xx made up), queue-size=N\n"
"                       (256).  Needs /dev/vhost-net (modprobe vhost_net)\n"
"      --no-ioeventfd   queue notifications exit to vmm (the old emulated path)\n"
"      --no-irqfd       completions are injected by vmm, not by KVM irqfd\n"
"      --no-acpi        no ACPI tables for a Linux guest, only the MP table\n"
"                       (CPUs and interrupt wiring); it cannot power off then\n"
"      --stats          print exit and device counters as one JSON line on\n"
"                       stderr when the guest ends\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"The guest's serial port (COM1) is vmm's stdout and stdin.  A terminal on\n"
"stdin goes raw while vmm runs, every key to the guest; Ctrl-A x quits vmm.\n"
"\n"
"Exit status: the value the guest wrote to the debug-exit port (0x501);\n"
"0 when the guest powers off through ACPI (Linux's `poweroff`) or resets the\n"
"machine through the i8042 controller (how Linux reboots: `reboot`, or a panic\n"
"with panic=-1); 125 if the guest faulted (triple fault, KVM internal error);\n"
"1 on a usage or host error; 128+N if killed by signal N (130 for Ctrl-A x).\n"
"With --no-acpi, `poweroff` halts a Linux guest and vmm waits.\n";

int vmm_parse_size(const char *s, u64 *out)
{
	unsigned long long v;
	unsigned int shift = 20;	/* a bare number is MiB, as with QEMU's -m */
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'b': case 'B': shift = 0; end++; break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return -EINVAL;
	}
	/* accept "2G", "2GB" and "2GiB" */
	if (shift && (!strcmp(end, "B") || !strcmp(end, "iB")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = (u64)v << shift;
	return 0;
}

enum { OPT_CPUS = 256, OPT_STATS, OPT_HUGETLB, OPT_DISK, OPT_VHOST_USER, OPT_NO_IOEVENTFD,
       OPT_NO_IRQFD, OPT_INITRD, OPT_NET, OPT_NO_ACPI };

static const struct option longopts[] = {
	{ "kernel",  required_argument, NULL, 'k' },
	{ "mem",     required_argument, NULL, 'm' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "initrd",  required_argument, NULL, OPT_INITRD },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "stats",   no_argument,       NULL, OPT_STATS },
	{ "hugetlb", no_argument,       NULL, OPT_HUGETLB },
	{ "disk",    required_argument, NULL, OPT_DISK },
	{ "vhost-user", required_argument, NULL, OPT_VHOST_USER },
	{ "net",     required_argument, NULL, OPT_NET },
	{ "no-ioeventfd", no_argument,  NULL, OPT_NO_IOEVENTFD },
	{ "no-irqfd", no_argument,      NULL, OPT_NO_IRQFD },
	{ "no-acpi", no_argument,       NULL, OPT_NO_ACPI },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* "52:54:00:12:34:56" (exactly @len bytes) -> 6 bytes; 0 or -EINVAL. */
static int parse_mac(const char *v, size_t len, u8 *mac)
{
	unsigned int i, hi, lo;

	if (len != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		const char *b = v + 3 * i;

		if ((i < 5 && b[2] != ':') || !isxdigit((unsigned char)b[0]) ||
		    !isxdigit((unsigned char)b[1]))
			return -EINVAL;
		hi = isdigit((unsigned char)b[0]) ? b[0] - '0' : (tolower(b[0]) - 'a' + 10);
		lo = isdigit((unsigned char)b[1]) ? b[1] - '0' : (tolower(b[1]) - 'a' + 10);
		mac[i] = (u8)(hi << 4 | lo);
	}
	return 0;
}

/* Copy a "key=value" value into a fixed buffer, refusing what does not fit. */
static int copy_val(char *dst, size_t size, const char *v, size_t len, const char *opt,
		    const char *key, char *err, size_t errlen)
{
	if (len == 0 || len >= size) {
		snprintf(err, errlen, "%s: %s= %s", opt, key, len ? "is too long" : "needs a value");
		return -EINVAL;
	}
	memcpy(dst, v, len);
	dst[len] = 0;
	return 0;
}

static int parse_uint(const char *v, size_t len, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	char buf[16], *end;
	unsigned long n;

	if (!len || len >= sizeof(buf) || v[0] < '0' || v[0] > '9')
		return -EINVAL;
	memcpy(buf, v, len);
	buf[len] = 0;
	errno = 0;
	n = strtoul(buf, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

int vmm_dev_opts_parse(enum vmm_dev_kind kind, const char *arg, struct vmm_dev_opts *d,
		       char *err, size_t errlen)
{
	const char *opt = kind == VMM_DEV_DISK ? "--disk" :
			  kind == VMM_DEV_NET_TAP ? "--net" : "--vhost-user";
	const char *p = arg;
	bool first = true;

	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->arg = arg;
	d->queue_size = VMM_QUEUE_SIZE_DEFAULT;
	strcpy(d->type, kind == VMM_DEV_NET_TAP ? "net" : "blk");
	while (*p) {
		const char *end = strchrnul(p, ','), *eq = memchr(p, '=', end - p);
		size_t klen = eq ? (size_t)(eq - p) : (size_t)(end - p);
		const char *v = eq ? eq + 1 : NULL;
		size_t vlen = eq ? (size_t)(end - v) : 0;

#define KEY(k) (klen == strlen(k) && !strncmp(p, k, klen))
		if (first && kind == VMM_DEV_VHOST_USER && !eq) {
			/* --vhost-user=SOCK,...: the first item is the socket path */
			if (copy_val(d->path, sizeof(d->path), p, klen, opt, "socket", err, errlen))
				return -EINVAL;
		} else if (KEY("path") && kind == VMM_DEV_DISK && v) {
			if (copy_val(d->path, sizeof(d->path), v, vlen, opt, "path", err, errlen))
				return -EINVAL;
		} else if (KEY("socket") && kind == VMM_DEV_VHOST_USER && v) {
			if (copy_val(d->path, sizeof(d->path), v, vlen, opt, "socket", err, errlen))
				return -EINVAL;
		} else if (KEY("type") && kind == VMM_DEV_VHOST_USER && v) {
			if (vlen != 3 || (strncmp(v, "blk", 3) && strncmp(v, "net", 3))) {
				snprintf(err, errlen, "%s: type=%.*s: need type=blk or type=net",
					 opt, (int)vlen, v);
				return -EINVAL;
			}
			memcpy(d->type, v, 3);
			d->type[3] = 0;
		} else if (KEY("tap") && kind == VMM_DEV_NET_TAP && v) {
			if (!vlen || vlen >= IFNAMSIZ) {
				snprintf(err, errlen, "%s: tap=%.*s: an interface name of 1..%d bytes",
					 opt, (int)vlen, v, IFNAMSIZ - 1);
				return -EINVAL;
			}
			memcpy(d->path, v, vlen);
			d->path[vlen] = 0;
		} else if (KEY("mac") && kind == VMM_DEV_NET_TAP && v) {
			if (parse_mac(v, vlen, d->mac)) {
				snprintf(err, errlen, "%s: mac=%.*s: need six hex bytes, e.g. 52:54:00:12:34:56",
					 opt, (int)vlen, v);
				return -EINVAL;
			}
			d->has_mac = true;
		} else if (KEY("engine") && kind == VMM_DEV_DISK && v) {
			if (copy_val(d->engine, sizeof(d->engine), v, vlen, opt, "engine", err, errlen))
				return -EINVAL;
		} else if (KEY("cache") && kind == VMM_DEV_DISK && v) {
			if (copy_val(d->cache, sizeof(d->cache), v, vlen, opt, "cache", err, errlen))
				return -EINVAL;
		} else if (KEY("readonly") && kind == VMM_DEV_DISK && (!v || (vlen == 2 && !strncmp(v, "on", 2)))) {
			d->readonly = true;
		} else if (KEY("queues") && kind == VMM_DEV_DISK && v) {
			if (parse_uint(v, vlen, 1, 64, &d->queues)) {
				snprintf(err, errlen, "%s: queues=%.*s: need 1..64", opt, (int)vlen, v);
				return -EINVAL;
			}
		} else if (KEY("queues") && kind == VMM_DEV_NET_TAP && v) {
			if (parse_uint(v, vlen, 1, VHK_NET_MAX_PAIRS, &d->queues)) {
				snprintf(err, errlen, "%s: queues=%.*s: need 1..%d queue pairs", opt,
					 (int)vlen, v, VHK_NET_MAX_PAIRS);
				return -EINVAL;
			}
		} else if (KEY("poll-us") && kind == VMM_DEV_DISK && v) {
			if (parse_uint(v, vlen, 0, BLK_SERVER_MAX_POLL_US, &d->poll_us)) {
				snprintf(err, errlen, "%s: poll-us=%.*s: need microseconds 0..%u", opt,
					 (int)vlen, v, BLK_SERVER_MAX_POLL_US);
				return -EINVAL;
			}
			d->poll_set = true;
		} else if (KEY("queue-size") && v) {
			if (parse_uint(v, vlen, 1, 32768, &d->queue_size) ||
			    (d->queue_size & (d->queue_size - 1))) {
				snprintf(err, errlen, "%s: queue-size=%.*s: need a power of two up to 32768",
					 opt, (int)vlen, v);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "%s: unknown or malformed item '%.*s'", opt,
				 (int)(end - p), p);
			return -EINVAL;
		}
#undef KEY
		first = false;
		p = *end ? end + 1 : end;
	}
	if (d->engine[0]) {
		enum blk_engine_kind e;

		if (blk_engine_parse(d->engine, &e)) {
			snprintf(err, errlen, "%s: engine=%s: need io_uring, libaio, sync or threads", opt,
				 d->engine);
			return -EINVAL;
		}
	}
	if (d->cache[0]) {
		enum blk_cache_mode m;

		if (blk_cache_parse(d->cache, &m)) {
			snprintf(err, errlen, "%s: cache=%s: need none, writeback or writethrough",
				 opt, d->cache);
			return -EINVAL;
		}
	}
	if (!d->path[0]) {
		snprintf(err, errlen, kind == VMM_DEV_DISK ? "--disk: path=FILE is required" :
			 kind == VMM_DEV_NET_TAP ? "--net: tap=NAME is required" :
			 "--vhost-user: the socket path is required (--vhost-user=SOCK)");
		return -EINVAL;
	}
	return 0;
}

enum vmm_opts_result vmm_opts_parse(int argc, char **argv, struct vmm_opts *o,
				    char *err, size_t errlen)
{
	unsigned long n;
	char *end;
	int c, r;

	memset(o, 0, sizeof(*o));
	o->mem = VMM_MEM_DEFAULT;
	o->cpus = 1;
	o->cmdline = "";
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:m:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'm':
			r = vmm_parse_size(optarg, &o->mem);
			if (r == -ERANGE || (!r && o->mem > VMM_MEM_MAX)) {
				snprintf(err, errlen, "--mem %s: larger than the %lluG vmm can map",
					 optarg, VMM_MEM_MAX >> 30);
				return VMM_OPTS_ERROR;
			}
			if (r) {
				snprintf(err, errlen, "--mem %s: not a size (e.g. 512M, 2G)", optarg);
				return VMM_OPTS_ERROR;
			}
			if (o->mem < VMM_MEM_MIN) {
				snprintf(err, errlen, "--mem %s: too small, need at least %lluM",
					 optarg, VMM_MEM_MIN >> 20);
				return VMM_OPTS_ERROR;
			}
			if (o->mem & 4095) {
				snprintf(err, errlen, "--mem %s: not a multiple of 4K", optarg);
				return VMM_OPTS_ERROR;
			}
			break;
		case 'c':
			if (strlen(optarg) > VP_CMDLINE_MAX) {
				snprintf(err, errlen, "--cmdline is %zu bytes, at most %d fit",
					 strlen(optarg), VP_CMDLINE_MAX);
				return VMM_OPTS_ERROR;
			}
			o->cmdline = optarg;
			break;
		case OPT_CPUS:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				snprintf(err, errlen, "--cpus %s: not a number", optarg);
				return VMM_OPTS_ERROR;
			}
			if (n < 1 || n > VMM_MAX_CPUS) {
				snprintf(err, errlen, "--cpus %s: need 1..%d vCPUs", optarg, VMM_MAX_CPUS);
				return VMM_OPTS_ERROR;
			}
			o->cpus = (unsigned int)n;
			break;
		case OPT_INITRD:
			o->initrd = optarg;
			break;
		case OPT_STATS:
			o->stats = true;
			break;
		case OPT_HUGETLB:
			o->hugetlb = true;
			break;
		case OPT_NO_IOEVENTFD:
			o->no_ioeventfd = true;
			break;
		case OPT_NO_IRQFD:
			o->no_irqfd = true;
			break;
		case OPT_NO_ACPI:
			o->no_acpi = true;
			break;
		case OPT_DISK:
		case OPT_VHOST_USER:
		case OPT_NET:
			if (o->nr_devs == VMM_MAX_DEVICES) {
				snprintf(err, errlen, "too many devices (at most %d)", VMM_MAX_DEVICES);
				return VMM_OPTS_ERROR;
			}
			if (vmm_dev_opts_parse(c == OPT_DISK ? VMM_DEV_DISK : c == OPT_NET ?
					       VMM_DEV_NET_TAP : VMM_DEV_VHOST_USER,
					       optarg, &o->devs[o->nr_devs], err, errlen))
				return VMM_OPTS_ERROR;
			o->nr_devs++;
			break;
		case 'h':
			fputs(usage, stdout);
			return VMM_OPTS_EXIT_OK;
		case 'V':
			printf("vmm (vioplane) %s\n", VIOPLANE_VERSION);
			return VMM_OPTS_EXIT_OK;
		case ':':
			/* getopt leaves optind just past the option that lacked a value */
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return VMM_OPTS_ERROR;
		default:
			if (optopt && optopt < 256 && argv[optind - 1][1] != '-')
				snprintf(err, errlen, "unknown option '-%c' (see vmm --help)", optopt);
			else
				snprintf(err, errlen, "unknown option '%s' (see vmm --help)",
					 argv[optind - 1]);
			return VMM_OPTS_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see vmm --help)", argv[optind]);
		return VMM_OPTS_ERROR;
	}
	if (!o->kernel) {
		snprintf(err, errlen, "no guest image: use --kernel FILE (see vmm --help)");
		return VMM_OPTS_ERROR;
	}
	return VMM_OPTS_RUN;
}

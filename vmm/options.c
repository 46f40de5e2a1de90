// SPDX-License-Identifier: MIT
/*
 * vmm command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "vmm.h"

#ifndef VIOPLANE_VERSION
#define VIOPLANE_VERSION "0.1"
#endif

static const char usage[] =
"usage: vmm --kernel FILE [--mem SIZE] [--cmdline STR] [--cpus N] [--stats]\n"
"\n"
"Run a bare x86-64 ELF guest on /dev/kvm.\n"
"\n"
"  -k, --kernel FILE    ELF64 x86-64 image to boot (PT_LOAD segments at their\n"
"                       physical addresses, at or above 1 MiB; entered in 64-bit\n"
"                       mode at CPL0, RDI = boot info, see vmm/include/vmm/guest_abi.h)\n"
"  -m, --mem SIZE       guest RAM, e.g. 512M or 2G; a bare number is MiB\n"
"                       (default 256M, 2M..32G)\n"
"  -c, --cmdline STR    command line handed to the guest (at most 4095 bytes)\n"
"      --cpus N         number of vCPUs (this version supports 1)\n"
"      --hugetlb        back guest RAM with huge pages (needs reserved hugepages)\n"
"      --stats          print exit and device counters as one JSON line on\n"
"                       stderr when the guest ends\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Exit status: the value the guest wrote to the debug-exit port (0x501);\n"
"125 if the guest faulted (triple fault, KVM internal error); 1 on a usage or\n"
"host error; 128+N if killed by signal N.\n";

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

enum { OPT_CPUS = 256, OPT_STATS, OPT_HUGETLB };

static const struct option longopts[] = {
	{ "kernel",  required_argument, NULL, 'k' },
	{ "mem",     required_argument, NULL, 'm' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "stats",   no_argument,       NULL, OPT_STATS },
	{ "hugetlb", no_argument,       NULL, OPT_HUGETLB },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

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
				snprintf(err, errlen, "--cpus %s: this version supports 1 vCPU", optarg);
				return VMM_OPTS_ERROR;
			}
			o->cpus = (unsigned int)n;
			break;
		case OPT_STATS:
			o->stats = true;
			break;
		case OPT_HUGETLB:
			o->hugetlb = true;
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

// SPDX-License-Identifier: MIT
/* vmm command-line parsing: sizes, limits, bad input -> one clear error line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/vmm.h"
#include "check.h"


static void size_ok(const char *s, u64 want)
{
	u64 v = 0;
	int r = vmm_parse_size(s, &v);

	if (r || v != want) {
		fprintf(stderr, "vmm_parse_size(\"%s\") = %d, %llu; want 0, %llu\n", s, r,
			(unsigned long long)v, (unsigned long long)want);
		failures++;
	}
}

static void size_bad(const char *s, int want)
{
	u64 v = 12345;
	int r = vmm_parse_size(s, &v);

	if (r != want || v != 12345) {
		fprintf(stderr, "vmm_parse_size(\"%s\") = %d (v %llu); want %d, v untouched\n", s,
			r, (unsigned long long)v, want);
		failures++;
	}
}

/* Parse a NULL-terminated argv; return the result and the error text. */
static enum vmm_opts_result parse(struct vmm_opts *o, char *err, const char **args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"vmm";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	err[0] = 0;
	return vmm_opts_parse(argc, argv, o, err, 256);
}

#define ARGS(...) ((const char *[]){ __VA_ARGS__, NULL })

static void bad(const char **args, const char *want_substr)
{
	struct vmm_opts o;
	char err[256];
	enum vmm_opts_result r = parse(&o, err, args);

	if (r != VMM_OPTS_ERROR || !strstr(err, want_substr) || strchr(err, '\n')) {
		fprintf(stderr, "args starting '%s': result %d err '%s', want error with '%s'\n",
			args[0], r, err, want_substr);
		failures++;
	}
}

int main(void)
{
	struct vmm_opts o;
	char err[256];
	char longcmd[5000];

	size_ok("512", 512ULL << 20);
	size_ok("512M", 512ULL << 20);
	size_ok("512MiB", 512ULL << 20);
	size_ok("2G", 2ULL << 30);
	size_ok("2GB", 2ULL << 30);
	size_ok("64k", 64ULL << 10);
	size_ok("1T", 1ULL << 40);
	size_ok("4096B", 4096);
	size_ok("0", 0);
	size_bad("", -EINVAL);
	size_bad("abc", -EINVAL);
	size_bad("-1", -EINVAL);
	size_bad("12X", -EINVAL);
	size_bad("12MM", -EINVAL);
	size_bad(" 12", -EINVAL);
	size_bad("99999999999999999999999", -ERANGE);
	size_bad("17179869184T", -ERANGE);	/* 2^34 TiB overflows u64 */

	CHECK(parse(&o, err, ARGS("--kernel", "k")) == VMM_OPTS_RUN);
	CHECK(!strcmp(o.kernel, "k") && o.mem == VMM_MEM_DEFAULT && o.cpus == 1 &&
	      !strcmp(o.cmdline, "") && !o.stats && !o.no_acpi);
	CHECK(parse(&o, err, ARGS("-k", "g", "-m", "1G", "-c", "echo hi", "--stats",
				  "--no-acpi")) == VMM_OPTS_RUN);
	CHECK(o.mem == 1ULL << 30 && !strcmp(o.cmdline, "echo hi") && o.stats && o.no_acpi);
	CHECK(parse(&o, err, ARGS("--kernel=g", "--mem=64M", "--cpus=1")) == VMM_OPTS_RUN);
	CHECK(o.mem == 64ULL << 20);

	bad(ARGS("--mem", "1G"), "--kernel");
	bad(ARGS("--kernel", "k", "--mem", "0"), "too small");
	bad(ARGS("--kernel", "k", "--mem", "garbage"), "not a size");
	bad(ARGS("--kernel", "k", "--mem", "1P"), "not a size");
	bad(ARGS("--kernel", "k", "--mem", "100T"), "larger than");
	bad(ARGS("--kernel", "k", "--mem", "99999999999999999999999"), "larger than");
	bad(ARGS("--kernel", "k", "--mem", "4097K"), "multiple of 4K");
	bad(ARGS("--kernel", "k", "--bogus"), "unknown option '--bogus'");
	bad(ARGS("--kernel", "k", "-z"), "unknown option '-z'");
	bad(ARGS("--kernel"), "needs a value");
	bad(ARGS("--kernel", "k", "--mem"), "'--mem' needs a value");
	bad(ARGS("--kernel", "k", "--cpus", "9"), "--cpus 9: need 1..8 vCPUs");
	CHECK(parse(&o, err, ARGS("--kernel", "k", "--cpus", "8")) == VMM_OPTS_RUN && o.cpus == 8);
	CHECK(parse(&o, err, ARGS("--kernel", "k", "--cpus", "2")) == VMM_OPTS_RUN && o.cpus == 2);
	bad(ARGS("--kernel", "k", "--cpus", "x"), "not a number");
	bad(ARGS("--kernel", "k", "--cpus", "0"), "need 1..8");
	bad(ARGS("--kernel", "k", "extra"), "unexpected argument 'extra'");
	memset(longcmd, 'a', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = 0;
	bad(ARGS("--kernel", "k", "--cmdline", longcmd), "at most 4095");
	longcmd[4095] = 0;
	CHECK(parse(&o, err, ARGS("--kernel", "k", "--cmdline", longcmd)) == VMM_OPTS_RUN);

	/* --disk / --vhost-user items: every key, its default, its bounds. */
	CHECK(parse(&o, err, ARGS("-k", "k", "--disk", "path=/d0")) == VMM_OPTS_RUN);
	CHECK(o.nr_devs == 1 && o.devs[0].kind == VMM_DEV_DISK && !strcmp(o.devs[0].path, "/d0") &&
	      !o.devs[0].readonly && !o.devs[0].queues && !o.devs[0].poll_set &&
	      o.devs[0].queue_size == VMM_QUEUE_SIZE_DEFAULT && !o.devs[0].engine[0]);
	CHECK(parse(&o, err, ARGS("-k", "k", "--disk",
				  "path=/d,engine=libaio,cache=none,readonly,queues=4,queue-size=1024,poll-us=0",
				  "--vhost-user=/s,type=blk,queue-size=128")) == VMM_OPTS_RUN);
	CHECK(o.nr_devs == 2 && !strcmp(o.devs[0].engine, "libaio") &&
	      !strcmp(o.devs[0].cache, "none") && o.devs[0].readonly && o.devs[0].queues == 4 &&
	      o.devs[0].queue_size == 1024 && o.devs[0].poll_set && o.devs[0].poll_us == 0);
	CHECK(o.devs[1].kind == VMM_DEV_VHOST_USER && !strcmp(o.devs[1].path, "/s") &&
	      o.devs[1].queue_size == 128);
	CHECK(parse(&o, err, ARGS("-k", "k", "--disk", "path=/d,poll-us=1000000")) == VMM_OPTS_RUN);
	CHECK(o.devs[0].poll_set && o.devs[0].poll_us == 1000000);
	bad(ARGS("-k", "k", "--disk", "engine=sync"), "path=FILE is required");
	bad(ARGS("-k", "k", "--disk", "path=/d,engine=posix"), "engine=posix");
	bad(ARGS("-k", "k", "--disk", "path=/d,cache=unsafe"), "cache=unsafe");
	bad(ARGS("-k", "k", "--disk", "path=/d,queues=0"), "queues=0: need 1..64");
	bad(ARGS("-k", "k", "--disk", "path=/d,queues=65"), "queues=65");
	bad(ARGS("-k", "k", "--disk", "path=/d,queue-size=100"), "power of two");
	bad(ARGS("-k", "k", "--disk", "path=/d,queue-size=65536"), "power of two");
	bad(ARGS("-k", "k", "--disk", "path=/d,poll-us=1000001"), "poll-us=1000001");
	bad(ARGS("-k", "k", "--disk", "path=/d,poll-us=-1"), "poll-us=-1");
	bad(ARGS("-k", "k", "--disk", "path=/d,poll-us="), "poll-us=: need microseconds");
	bad(ARGS("-k", "k", "--disk", "path=/d,poll-us=5x"), "poll-us=5x");
	bad(ARGS("-k", "k", "--disk", "path=/d,bogus=1"), "unknown or malformed item 'bogus=1'");
	bad(ARGS("-k", "k", "--vhost-user=/s,poll-us=5"), "unknown or malformed item 'poll-us=5'");
	bad(ARGS("-k", "k", "--vhost-user=/s,type=scsi"), "type=scsi: need type=blk or type=net");
	bad(ARGS("-k", "k", "--vhost-user=/s,type=ne"), "type=ne: need");
	bad(ARGS("-k", "k", "--vhost-user=/s,type=netx"), "type=netx: need");
	CHECK(parse(&o, err, ARGS("-k", "k", "--vhost-user=/s,type=net", "--vhost-user=/t")) ==
	      VMM_OPTS_RUN);
	CHECK(o.nr_devs == 2 && !strcmp(o.devs[0].type, "net") && !strcmp(o.devs[1].type, "blk"));
	CHECK(parse(&o, err, ARGS("-k", "k", "--net", "tap=vp0,queues=4,mac=52:54:00:AB:cd:01,queue-size=512")) ==
	      VMM_OPTS_RUN);
	CHECK(o.nr_devs == 1 && o.devs[0].kind == VMM_DEV_NET_TAP && !strcmp(o.devs[0].path, "vp0") &&
	      o.devs[0].queues == 4 && o.devs[0].has_mac && o.devs[0].mac[3] == 0xab &&
	      o.devs[0].mac[5] == 1 && o.devs[0].queue_size == 512 && !strcmp(o.devs[0].type, "net"));
	bad(ARGS("-k", "k", "--net", "queues=2"), "--net: tap=NAME is required");
	bad(ARGS("-k", "k", "--net", "tap=vp0,queues=9"), "queues=9: need 1..8 queue pairs");
	bad(ARGS("-k", "k", "--net", "tap=vp0,queues=0"), "queues=0");
	bad(ARGS("-k", "k", "--net", "tap=a-very-long-tap-name"), "an interface name of 1..15 bytes");
	bad(ARGS("-k", "k", "--net", "tap=vp0,mac=52:54:00:12:34"), "mac=52:54:00:12:34: need six hex bytes");
	bad(ARGS("-k", "k", "--net", "tap=vp0,mac=52:54:00:12:34:zz"), "need six hex bytes");
	bad(ARGS("-k", "k", "--net", "tap=vp0,engine=sync"), "unknown or malformed item 'engine=sync'");
	CHECK(parse(&o, err, ARGS("-k", "k", "--initrd", "/i", "--vhost-user=/s")) == VMM_OPTS_RUN);
	CHECK(o.initrd && !strcmp(o.initrd, "/i"));
	bad(ARGS("-k", "k", "--initrd"), "needs a value");

	return check_exit("vmm_options");
}

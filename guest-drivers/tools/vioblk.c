// SPDX-License-Identifier: MIT
/*
 * vioblk: drive a vhost-user-blk back-end (qemu-storage-daemon, our own
 * vhost-user-blk, SPDK...) straight from this process with the guest-drivers
 * virtio-blk driver over libvirtio-user: random-read/-write benchmark, data
 * verifier, and small fill/crc helpers for tests.
 *
 * Security model: the back-end is not trusted; everything it returns goes
 * through the driver's checks (used ids, status byte, lengths).  A request
 * that fails is reported, never retried silently.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <guest-drivers/platform.h>
#include <guest-drivers/blk.h>
#include <guest-drivers/hist.h>
#include <guest-drivers/virtio_user.h>
#include "tool.h"

/* Exit statuses (also in --help). */

enum mode { M_RANDREAD, M_RANDWRITE, M_VERIFY, M_FILL, M_CRC, M_ZERO, M_DISCARD, M_FLUSH,
	    M_ID };
static const char *const mode_names[] = { "randread", "randwrite", "verify", "fill", "crc",
					  "write-zeroes", "discard", "flush", "id" };

struct opts {
	const char *socket;
	enum mode mode;
	u32 bs;
	unsigned int qd;
	unsigned int secs;
	u64 size;		/* bytes of the disk to use, 0 = all */
	u64 offset;		/* fill/crc: first byte */
	u64 len;		/* fill/crc: bytes */
	int byte;		/* fill: value */
	bool poll;
	bool unmap;		/* write-zeroes: VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP */
	u64 seed;
	bool seed_set;
	int phases;		/* verify: bit 0 write, bit 1 read */
	u64 features_off;	/* ring features not to negotiate */
};

struct req {
	void *buf;
	u64 t0;
	u64 block;
};

static struct gd_hist hist;

/* --- helpers --------------------------------------------------------------- */

static u64 rng_state;

static u64 rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}


static void usage(FILE *f)
{
	fprintf(f,
"usage: vioblk --socket PATH MODE [options]\n"
"\n"
"Drive a vhost-user-blk back-end from this process (guest-drivers virtio-blk\n"
"driver over libvirtio-user; no VM).\n"
"\n"
"modes:\n"
"  randread     random reads of --bs bytes for --secs seconds\n"
"  randwrite    random writes of --bs bytes for --secs seconds\n"
"  verify       write every block of the range (a pattern holding the block\n"
"               number and a per-run seed), then read each back and compare\n"
"               CRC-32s; every mismatch is reported on stderr\n"
"  fill         write --len bytes of --byte at --offset (test helper)\n"
"  crc          print crc32=xxxxxxxx (zlib CRC-32, lowercase hex) of --len\n"
"               bytes at --offset (test helper)\n"
"  write-zeroes WRITE_ZEROES over --len bytes at --offset (--unmap: may\n"
"               deallocate), in requests of the device's maximum size\n"
"  discard      DISCARD --len bytes at --offset, likewise\n"
"  flush        one FLUSH\n"
"  id           GET_ID: print the device's serial as JSON\n"
"\n"
"options:\n"
"  --socket PATH    vhost-user-blk unix socket (required)\n"
"  --bs N           I/O size: 512..1M, a multiple of 512, suffix k/m ok (4k)\n"
"  --qd N           requests in flight, 1..1024 (32; capped at the queue)\n"
"  --secs S         benchmark duration in seconds (5)\n"
"  --size N         bytes of the disk to use from offset 0 (all of it)\n"
"  --poll           busy-poll the used ring with interrupts suppressed\n"
"                   (default: sleep on the call eventfd)\n"
"  --offset N       fill/crc/write-zeroes/discard: first byte, a multiple of\n"
"                   512 (0)\n"
"  --len N          ditto: bytes, a multiple of 512 (required)\n"
"  --byte B         fill: the byte value 0..255 (0)\n"
"  --unmap          write-zeroes: set the UNMAP flag\n"
"  --seed N         verify/random offsets: seed (time-based by default; the\n"
"                   verify JSON line reports it)\n"
"  --phase P        verify: write, read or both (both); a read phase alone\n"
"                   checks what an earlier write phase with --seed wrote\n"
"  --no-indirect    do not negotiate INDIRECT_DESC (3 descriptors a request)\n"
"  --no-event-idx   do not negotiate EVENT_IDX (flags-based suppression)\n"
"  -h, --help       this text\n"
"\n"
"output: one JSON line on stdout, e.g.\n"
"  {\"tool\":\"vioblk\",\"rw\":\"randread\",\"bs\":4096,\"qd\":32,\"secs\":5,"
"\"iops\":N,\"p50_us\":N,\"p99_us\":N,\"ios\":N,\"poll\":0,\"irqs\":N,\"kicks\":N,...}\n"
"  verify adds \"verified_blocks\":N,\"mismatches\":N.\n"
"\n"
"SIGINT/SIGTERM end a benchmark early (the JSON line is still printed); a\n"
"second one stops waiting for the back-end.\n"
"\n"
"exit status: 0 ok; 1 verify mismatch, I/O error or device failure;\n"
"  2 usage; 3 cannot connect (socket missing, nobody listening, bad\n"
"  handshake); 4 device unusable (features refused, disk too small).\n");
}

static int parse_size(const char *s, u64 *out)
{
	char *end;
	unsigned long long v;
	u64 mul = 1;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "secs", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 'z' },
		{ "offset", required_argument, NULL, 'o' },
		{ "len", required_argument, NULL, 'l' },
		{ "byte", required_argument, NULL, 'B' },
		{ "seed", required_argument, NULL, 'S' },
		{ "poll", no_argument, NULL, 'p' },
		{ "phase", required_argument, NULL, 'P' },
		{ "no-indirect", no_argument, NULL, 'I' },
		{ "unmap", no_argument, NULL, 'U' },
		{ "no-event-idx", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool have_len = false;
	u64 v;
	int c;

	*o = (struct opts){ .bs = 4096, .qd = 32, .secs = 5, .mode = -1, .phases = 3 };
	o->seed = now_ns() ^ ((u64)getpid() << 32);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case 's':
			o->socket = a;
			break;
		case 'b':
			if (parse_size(a, &v) || v < 512 || v > (1u << 20) || v % 512) {
				fprintf(stderr, "vioblk: --bs %s: want 512..1M, a multiple of 512\n", a);
				return -1;
			}
			o->bs = (u32)v;
			break;
		case 'q':
			if (parse_size(a, &v) || v < 1 || v > 1024) {
				fprintf(stderr, "vioblk: --qd %s: want 1..1024\n", a);
				return -1;
			}
			o->qd = (unsigned int)v;
			break;
		case 't':
			if (parse_size(a, &v) || v < 1 || v > 86400) {
				fprintf(stderr, "vioblk: --secs %s: want 1..86400\n", a);
				return -1;
			}
			o->secs = (unsigned int)v;
			break;
		case 'z':
			if (parse_size(a, &v) || !v || v % 512) {
				fprintf(stderr, "vioblk: --size %s: want a positive multiple of 512\n", a);
				return -1;
			}
			o->size = v;
			break;
		case 'o':
			if (parse_size(a, &v) || v % 512) {
				fprintf(stderr, "vioblk: --offset %s: want a multiple of 512\n", a);
				return -1;
			}
			o->offset = v;
			break;
		case 'l':
			if (parse_size(a, &v) || !v || v % 512) {
				fprintf(stderr, "vioblk: --len %s: want a positive multiple of 512\n", a);
				return -1;
			}
			o->len = v;
			have_len = true;
			break;
		case 'B':
			if (parse_size(a, &v) || v > 255) {
				fprintf(stderr, "vioblk: --byte %s: want 0..255\n", a);
				return -1;
			}
			o->byte = (int)v;
			break;
		case 'S':
			if (parse_size(a, &v)) {
				fprintf(stderr, "vioblk: --seed %s: want a number\n", a);
				return -1;
			}
			o->seed = v;
			o->seed_set = true;
			break;
		case 'P':
			if (!strcmp(a, "write"))
				o->phases = 1;
			else if (!strcmp(a, "read"))
				o->phases = 2;
			else if (!strcmp(a, "both"))
				o->phases = 3;
			else {
				fprintf(stderr, "vioblk: --phase %s: want write, read or both\n", a);
				return -1;
			}
			break;
		case 'p':
			o->poll = true;
			break;
		case 'U':
			o->unmap = true;
			break;
		case 'I':
			o->features_off |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
			break;
		case 'E':
			o->features_off |= 1ull << VIRTIO_RING_F_EVENT_IDX;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vioblk: want exactly one mode (randread, randwrite, verify, fill, "
			"crc, write-zeroes, discard, flush, id)\n");
		return -1;
	}
	for (unsigned int i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(argv[optind], mode_names[i]))
			o->mode = i;
	if ((int)o->mode < 0) {
		fprintf(stderr, "vioblk: unknown mode '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->socket) {
		fprintf(stderr, "vioblk: --socket PATH is required\n");
		return -1;
	}
	if ((o->mode == M_FILL || o->mode == M_CRC || o->mode == M_ZERO ||
	     o->mode == M_DISCARD) && !have_len) {
		fprintf(stderr, "vioblk: %s needs --len\n", mode_names[o->mode]);
		return -1;
	}
	if (o->phases == 2 && !o->seed_set) {
		fprintf(stderr, "vioblk: verify --phase read needs the --seed of the write phase\n");
		return -1;
	}
	if (!o->seed)
		o->seed = 1;
	return 0;
}

static const char *status_str(int st)
{
	switch (st) {
	case VIRTIO_BLK_S_IOERR: return "IOERR";
	case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
	case GD_BLK_S_SHORT: return "short used length";
	case GD_BLK_S_BADSTATUS: return "bad status byte";
	}
	return "?";
}

/* Reap at least one completion (waiting as the mode says).  Count or -EIO. */
static int reap_some(struct gd_blk *b, struct gd_blk_done *done, unsigned int max,
		     bool poll)
{
	u64 spins = 0;
	int n;

	for (;;) {
		n = gd_blk_reap(b, done, max);
		if (n)
			return n;
		if (stop_flag >= 2)
			return -EINTR;
		if (!poll) {
			if (gd_blk_wait(b) < 0)
				return -EIO;
			if ((++spins & 63) == 0 && gd_blk_check(b))
				return -EIO;
		} else if ((++spins & 0xfffff) == 0 && gd_blk_check(b)) {
			return -EIO;
		}
	}
}

/* --- benchmark --------------------------------------------------------------- */

static int run_bench(struct gd_blk *b, const struct opts *o, struct req *reqs,
		     unsigned int qd, u64 nblocks)
{
	bool write = o->mode == M_RANDWRITE;
	struct gd_blk_done *done = calloc(qd, sizeof(*done));
	u64 ios = 0, errors = 0, t_start, t_end, deadline, irq0;
	unsigned int i;
	int n, ret = EX_OK;

	if (!done)
		return EX_DEVICE;
	for (i = 0; i < qd; i++)
		if (write)
			memset(reqs[i].buf, 0x5a ^ (int)i, o->bs);
	irq0 = gd_blk_irq_count(b);
	t_start = now_ns();
	deadline = t_start + (u64)o->secs * 1000000000ull;
	for (i = 0; i < qd; i++) {
		struct req *r = &reqs[i];
		struct gd_blk_io io = {
			.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			.buf = r->buf, .len = o->bs, .cookie = r,
		};

		r->block = rng_next() % nblocks;
		io.sector = r->block * (o->bs / GD_BLK_SECTOR);
		r->t0 = now_ns();
		if (gd_blk_submit(b, &io)) {
			fprintf(stderr, "vioblk: submit failed\n");
			free(done);
			return EX_FAIL;
		}
	}
	gd_blk_kick(b);
	for (;;) {
		u64 now;
		bool more;

		n = reap_some(b, done, qd, o->poll);
		if (n < 0) {
			fprintf(stderr, "vioblk: device failed during the run%s\n",
				n == -EINTR ? " (interrupted twice)" : "");
			free(done);
			return EX_FAIL;
		}
		now = now_ns();
		more = now < deadline && !stop_flag;
		for (i = 0; i < (unsigned int)n; i++) {
			struct req *r = done[i].cookie;
			struct gd_blk_io io = {
				.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
				.buf = r->buf, .len = o->bs, .cookie = r,
			};

			gd_hist_add(&hist, now - r->t0);
			ios++;
			if (done[i].status != VIRTIO_BLK_S_OK) {
				if (errors++ < 10)
					fprintf(stderr, "vioblk: block %llu: %s\n",
						r->block, status_str(done[i].status));
			}
			if (!more)
				continue;
			r->block = rng_next() % nblocks;
			io.sector = r->block * (o->bs / GD_BLK_SECTOR);
			r->t0 = now;
			gd_blk_submit(b, &io);
		}
		if (more)
			gd_blk_kick(b);
		else if (!b->inflight)
			break;
	}
	t_end = now_ns();
	{
		double secs = (double)(t_end - t_start) / 1e9;

		printf("{\"tool\":\"vioblk\",\"rw\":\"%s\",\"bs\":%u,\"qd\":%u,\"secs\":%u,"
		       "\"iops\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"ios\":%llu"
		       ",\"errors\":%llu,\"poll\":%d,\"irqs\":%llu"
		       ",\"kicks\":%llu,\"notifies\":%llu,\"event_idx\":%d,\"indirect\":%d}\n",
		       mode_names[o->mode], o->bs, qd, o->secs, ios / secs,
		       gd_hist_pct(&hist, 50) / 1000.0, gd_hist_pct(&hist, 99) / 1000.0, ios, errors,
		       o->poll, gd_blk_irq_count(b) - irq0, b->kicks, b->notifies, b->event_idx,
		       b->indirect);
	}
	if (errors)
		ret = EX_FAIL;
	free(done);
	return ret;
}

/* --- verify ------------------------------------------------------------------ */

/* Block @blk's contents for this run: header (magic, block, seed), then noise. */
static void pattern(void *buf, u32 bs, u64 blk, u64 seed)
{
	u64 *w = buf, x = seed ^ (blk * 0x9E3779B97F4A7C15ull) ^ 0x5bd1e995;

	w[0] = 0x6b6c626f69760a00ull;	/* "vioblk" */
	w[1] = blk;
	w[2] = seed;
	for (u32 i = 3; i < bs / 8; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545F4914F6CDD1Dull;
	}
}

static int run_verify(struct gd_blk *b, const struct opts *o, struct req *reqs,
		      unsigned int qd, u64 nblocks)
{
	struct gd_blk_done *done = calloc(qd, sizeof(*done));
	u32 *want = calloc(nblocks, sizeof(*want));
	void *scratch = malloc(o->bs);
	u64 mismatches = 0, verified = 0, t_start = now_ns();
	int ret = EX_OK;

	if (!done || !want || !scratch) {
		fprintf(stderr, "vioblk: out of memory for %llu block checksums\n",
			nblocks);
		free(done);
		free(want);
		free(scratch);
		return EX_DEVICE;
	}
	for (int pass = 0; pass < 2 && ret == EX_OK; pass++) {
		bool write = pass == 0;

		if (!(o->phases & (1 << pass)))
			continue;
		u64 next = 0, completed = 0;
		unsigned int i, free_n = qd;
		struct req *freel[1024];

		for (i = 0; i < qd; i++)
			freel[i] = &reqs[qd - 1 - i];
		while (completed < nblocks) {
			int n;

			while (free_n && next < nblocks) {
				struct req *r = freel[--free_n];
				struct gd_blk_io io = {
					.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
					.sector = next * (o->bs / GD_BLK_SECTOR),
					.buf = r->buf, .len = o->bs, .cookie = r,
				};

				r->block = next++;
				if (write) {
					pattern(r->buf, o->bs, r->block, o->seed);
					want[r->block] = gd_crc32(0, r->buf, o->bs);
				} else {
					memset(r->buf, 0, o->bs);
				}
				r->t0 = now_ns();
				if (gd_blk_submit(b, &io)) {
					fprintf(stderr, "vioblk: submit failed\n");
					ret = EX_FAIL;
					goto out;
				}
			}
			gd_blk_kick(b);
			n = reap_some(b, done, qd, o->poll);
			if (n < 0) {
				fprintf(stderr, "vioblk: device failed during verify\n");
				ret = EX_FAIL;
				goto out;
			}
			for (i = 0; i < (unsigned int)n; i++) {
				struct req *r = done[i].cookie;
				u64 now = now_ns();

				gd_hist_add(&hist, now - r->t0);
				completed++;
				freel[free_n++] = r;
				if (done[i].status != VIRTIO_BLK_S_OK) {
					fprintf(stderr, "vioblk: %s of block %llu failed: %s\n",
						write ? "write" : "read", r->block,
						status_str(done[i].status));
					mismatches++;
					continue;
				}
				if (write)
					continue;
				u32 got = gd_crc32(0, r->buf, o->bs);

				if (!(o->phases & 1)) {
					/* read phase alone: regenerate what was written */
					pattern(scratch, o->bs, r->block, o->seed);
					want[r->block] = gd_crc32(0, scratch, o->bs);
				}

				if (got != want[r->block]) {
					const u64 *w = r->buf;

					fprintf(stderr, "vioblk: mismatch at block %llu"
						" (byte offset %llu): crc32 %08x, want %08x;"
						" block header says block %llu seed %llu\n",
						r->block, r->block * o->bs, got, want[r->block],
						w[1], w[2]);
					mismatches++;
				} else {
					verified++;
				}
			}
		}
	}
	{
		u64 ios = (u64)__builtin_popcount(o->phases) * nblocks;
		double secs = (double)(now_ns() - t_start) / 1e9;

		printf("{\"tool\":\"vioblk\",\"rw\":\"verify\",\"seed\":%llu,\"bs\":%u,\"qd\":%u,"
		       "\"secs\":%.3f,\"iops\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		       "\"ios\":%llu,\"verified_blocks\":%llu"
		       ",\"mismatches\":%llu}\n",
		       o->seed, o->bs, qd, secs, ios / secs, gd_hist_pct(&hist, 50) / 1000.0,
		       gd_hist_pct(&hist, 99) / 1000.0, ios, verified, mismatches);
	}
	if (mismatches)
		ret = EX_FAIL;
out:
	free(done);
	free(want);
	free(scratch);
	return ret;
}

/* --- fill / crc ---------------------------------------------------------------- */

static int run_fill_crc(struct gd_blk *b, const struct opts *o, void *buf, u32 chunk)
{
	u64 pos = o->offset, end = o->offset + o->len;
	u32 crc = 0;

	if (o->mode == M_FILL)
		memset(buf, o->byte, chunk);
	while (pos < end) {
		u32 n = end - pos < chunk ? (u32)(end - pos) : chunk;
		struct gd_blk_io io = {
			.type = o->mode == M_FILL ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			.sector = pos / GD_BLK_SECTOR, .buf = buf, .len = n,
		};
		int st = gd_blk_sync(b, &io);

		if (st != VIRTIO_BLK_S_OK) {
			fprintf(stderr, "vioblk: %s at byte %llu failed: %s\n",
				mode_names[o->mode], pos,
				st < 0 ? strerror(-st) : status_str(st));
			return EX_FAIL;
		}
		if (o->mode == M_CRC)
			crc = gd_crc32(crc, buf, n);
		pos += n;
	}
	if (o->mode == M_CRC)
		printf("crc32=%08x\n", crc);
	else
		printf("{\"tool\":\"vioblk\",\"rw\":\"fill\",\"offset\":%llu"
		       ",\"len\":%llu,\"byte\":%d}\n", o->offset, o->len, o->byte);
	return EX_OK;
}

/* --- write-zeroes / discard / flush / id ---------------------------------------------- */

static int run_misc(struct gd_blk *b, const struct opts *o, void *buf)
{
	const char *name = mode_names[o->mode];
	struct gd_blk_io io = { 0 };
	int st;

	switch (o->mode) {
	case M_ZERO:
	case M_DISCARD: {
		bool z = o->mode == M_ZERO;
		u64 pos = o->offset / GD_BLK_SECTOR, end = pos + o->len / GD_BLK_SECTOR, reqs = 0;
		u32 max = z ? b->max_write_zeroes_sectors : b->max_discard_sectors;

		if (z ? !b->write_zeroes : !b->discard) {
			fprintf(stderr, "vioblk: the back-end does not offer %s\n",
				z ? "WRITE_ZEROES" : "DISCARD");
			return EX_DEVICE;
		}
		if (!max)
			max = 1u << 22;		/* not in the config: 2 GiB a request */
		while (pos < end) {
			u64 n = end - pos < max ? end - pos : max;

			io = (struct gd_blk_io){
				.type = z ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD,
				.flags = z && o->unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0,
				.sector = pos, .len = (u32)(n * GD_BLK_SECTOR),
			};
			st = gd_blk_sync(b, &io);
			if (st != VIRTIO_BLK_S_OK) {
				fprintf(stderr, "vioblk: %s at sector %llu failed: %s\n", name, pos,
					st < 0 ? strerror(-st) : status_str(st));
				return EX_FAIL;
			}
			pos += n;
			reqs++;
		}
		printf("{\"tool\":\"vioblk\",\"rw\":\"%s\",\"offset\":%llu,\"len\":%llu,"
		       "\"requests\":%llu,\"max_sectors\":%u}\n", name, o->offset, o->len, reqs,
		       max);
		return EX_OK;
	}
	case M_FLUSH:
		if (!b->flush) {
			fprintf(stderr, "vioblk: the back-end does not offer FLUSH\n");
			return EX_DEVICE;
		}
		io.type = VIRTIO_BLK_T_FLUSH;
		break;
	default:
		io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_GET_ID, .buf = buf,
					 .len = VIRTIO_BLK_ID_BYTES };
		memset(buf, 0, VIRTIO_BLK_ID_BYTES);
		break;
	}
	st = gd_blk_sync(b, &io);
	if (st != VIRTIO_BLK_S_OK) {
		fprintf(stderr, "vioblk: %s failed: %s\n", name,
			st < 0 ? strerror(-st) : status_str(st));
		return EX_FAIL;
	}
	if (o->mode == M_FLUSH) {
		printf("{\"tool\":\"vioblk\",\"rw\":\"flush\"}\n");
	} else {
		/* the serial is device data: print only plain characters */
		const char *s = buf;

		printf("{\"tool\":\"vioblk\",\"rw\":\"id\",\"serial\":\"");
		for (int i = 0; i < VIRTIO_BLK_ID_BYTES && s[i]; i++)
			putchar(s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ?
				s[i] : '?');
		printf("\"}\n");
	}
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct gd_vu_transport vt;
	struct gd_blk blk;
	struct gd_blk_opts bo = { 0 };
	struct opts o;
	struct req *reqs = NULL;
	unsigned int qd, qsize;
	u64 disk_bytes, use, nblocks;
	u32 chunk = 1 << 20;
	int ret;

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "try 'vioblk --help'\n");
		return EX_USAGE;
	}
	rng_state = o.seed;
	if (o.mode >= M_FILL)
		o.qd = 1;
	/* enough for the data buffers, the rings and the request headers */
	ret = tool_connect("vioblk", o.socket, (size_t)o.qd * o.bs + (o.mode >= M_FILL ? chunk : 0) + (4u << 20), 0, &vt);
	if (ret)
		return ret;
	for (qsize = 16; qsize < 3 * o.qd && qsize < GD_VU_QUEUE_MAX; qsize *= 2)
		;
	bo.queue_size = qsize;
	bo.features_mask = o.features_off;
	ret = gd_blk_init(&blk, &vt.t, &bo);
	if (ret) {
		if (ret == -EOPNOTSUPP)
			fprintf(stderr, "vioblk: the back-end refused our features "
				"(offered 0x%llx, asked 0x%llx)%s%s\n",
				(unsigned long long)blk.vdev.dev_features,
				(unsigned long long)blk.vdev.features,
				vt.err ? ": " : "", vt.err ? vt.err : "");
		else if (ret == -ENODEV)
			fprintf(stderr, "vioblk: not a usable virtio 1.x device (features 0x%llx)\n",
				(unsigned long long)blk.vdev.dev_features);
		else
			fprintf(stderr, "vioblk: device setup failed: %s%s%s (%s)\n",
				strerror(-ret), vt.err ? " in " : "", vt.err ? vt.err : "",
				vt.err_no ? strerror(-vt.err_no) : "no detail");
		ret = EX_DEVICE;
		goto out_close;
	}
	disk_bytes = blk.capacity * GD_BLK_SECTOR;
	if (o.mode >= M_FILL) {
		void *buf;

		if (o.offset > disk_bytes || o.len > disk_bytes - o.offset) {
			fprintf(stderr, "vioblk: range %llu+%llu is past the "
				"disk end (%llu bytes)\n", o.offset, o.len, disk_bytes);
			ret = EX_DEVICE;
			goto out_close;
		}
		if ((o.mode == M_FILL || o.mode == M_ZERO || o.mode == M_DISCARD) && blk.ro) {
			fprintf(stderr, "vioblk: the disk is read-only\n");
			ret = EX_DEVICE;
			goto out_close;
		}
		gd_blk_set_poll(&blk, true);
		buf = gd_alloc(chunk, 4096);
		if (!buf)
			ret = EX_DEVICE;
		else if (o.mode == M_FILL || o.mode == M_CRC)
			ret = run_fill_crc(&blk, &o, buf, chunk);
		else
			ret = run_misc(&blk, &o, buf);
		goto out_close;
	}
	use = o.size ? o.size : disk_bytes;
	if (use > disk_bytes || use < o.bs) {
		fprintf(stderr, "vioblk: disk too small: %llu bytes, want %s%llu"
			" (--size) and at least one --bs block of %u\n", disk_bytes,
			o.size ? "" : ">= ", use, o.bs);
		ret = EX_DEVICE;
		goto out_close;
	}
	if (o.mode != M_RANDREAD && blk.ro) {
		fprintf(stderr, "vioblk: the disk is read-only; %s needs to write\n",
			mode_names[o.mode]);
		ret = EX_DEVICE;
		goto out_close;
	}
	nblocks = use / o.bs;
	qd = o.qd < blk.depth ? o.qd : blk.depth;
	if (qd < o.qd)
		fprintf(stderr, "vioblk: queue depth capped at %u (queue of %u entries%s)\n",
			qd, blk.rq.vq.num, blk.indirect ? "" : ", no INDIRECT_DESC");
	reqs = calloc(qd, sizeof(*reqs));
	if (!reqs) {
		ret = EX_DEVICE;
		goto out_close;
	}
	for (unsigned int i = 0; i < qd; i++) {
		reqs[i].buf = gd_alloc(o.bs, 4096);
		if (!reqs[i].buf) {
			fprintf(stderr, "vioblk: out of shared memory\n");
			ret = EX_DEVICE;
			goto out_close;
		}
	}
	gd_blk_set_poll(&blk, o.poll);
	tool_catch_stop_signals();
	if (o.mode == M_VERIFY)
		ret = run_verify(&blk, &o, reqs, qd, nblocks);
	else
		ret = run_bench(&blk, &o, reqs, qd, nblocks);
out_close:
	fflush(stdout);
	gd_blk_destroy(&blk);
	gd_vu_close(&vt);
	free(reqs);
	return ret;
}

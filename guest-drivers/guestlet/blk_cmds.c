// SPDX-License-Identifier: MIT
/*
 * guestlet's PCI and virtio-blk commands (CPL3): pci-list, blk-info,
 * blk-fill, blk-crc, blk-verify, blk-bench and the blk-evil cases that poke
 * vmm's virtio-pci transport with out-of-order or invalid register writes.
 *
 * Security model: arguments come from the command line (checked strictly,
 * exit 2 on anything unexpected); everything from the device goes through
 * the virtio-pci transport and blk driver checks.  blk-evil deliberately
 * writes bad values to the device and only reads back what it answers.
 */
#include <linux/errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>

#include <guest-drivers/blk.h>
#include <guest-drivers/hist.h>
#include <guest-drivers/virtio_pci.h>
#include "internal.h"

#define MAX_DEVS	4
#define CHUNK_SECTORS	128		/* 64 KiB per fill/crc request */
#define VERIFY_BS	4096u
#define VERIFY_MAX_BLOCKS (1u << 18)	/* 1 GiB of 4 KiB blocks */
#define MAX_QD		256
#define STALL_SECS	10		/* no completion this long: give up */
#define TICK_COUNT	6250000		/* watchdog tick: 100 ms on KVM's 1 GHz bus */

/* --- arguments: key=value words --------------------------------------------- */

struct arg {
	const char *key;
	u64 max;
	u64 val;
	bool set;
	bool is_word;		/* value is a word (rw=, case=), kept in word/wlen */
	const char *word;
	size_t wlen;
};

static void parse_args(const char *cmd, const char *s, size_t len, struct arg *a,
		       unsigned int n)
{
	while (len) {
		size_t w = 0, k;
		unsigned int i;

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (!len)
			break;
		while (w < len && s[w] != ' ' && s[w] != '\t')
			w++;
		for (k = 0; k < w && s[k] != '='; k++)
			;
		for (i = 0; i < n; i++) {
			size_t kl = gl_strlen(a[i].key);

			if (k == kl && k < w && !memcmp(s, a[i].key, kl))
				break;
		}
		if (i == n)
			gd_die(GL_EXIT_USAGE, "%s: bad argument '%.*s'", cmd, (int)w, s);
		if (a[i].is_word) {
			a[i].word = s + k + 1;
			a[i].wlen = w - k - 1;
		} else if (gl_parse_u64(s + k + 1, w - k - 1, a[i].max, &a[i].val)) {
			gd_die(GL_EXIT_USAGE, "%s: bad value '%.*s' (want %s=0..%llu)", cmd,
			       (int)w, s, a[i].key, (unsigned long long)a[i].max);
		}
		a[i].set = true;
		s += w;
		len -= w;
	}
}

static bool word_is(const struct arg *a, const char *lit)
{
	size_t n = gl_strlen(lit);

	return a->set && a->wlen == n && !memcmp(a->word, lit, n);
}

static void need(const char *cmd, const struct arg *a)
{
	if (!a->set)
		gd_die(GL_EXIT_USAGE, "%s: %s= is required", cmd, a->key);
}

/* --- pci-list ------------------------------------------------------------------ */

static void cmd_pci_list(const char *args, size_t len)
{
	struct gd_pci_dev devs[GD_PCI_MAX_DEVS];
	int n;

	if (len)
		gd_die(GL_EXIT_USAGE, "pci-list: unexpected argument '%.*s'", (int)len, args);
	n = gd_pci_scan(devs, GD_PCI_MAX_DEVS);
	for (int i = 0; i < n && i < GD_PCI_MAX_DEVS; i++) {
		struct gd_pci_dev *d = &devs[i];

		gd_printf("pci %02x:%02x.%u %04x:%04x class %06x", d->bus, d->dev, d->fn,
			  d->vendor, d->device, d->class_code);
		if (d->vendor == GD_VPCI_VENDOR && d->device >= GD_VPCI_DEVICE_BASE &&
		    d->device <= GD_VPCI_DEVICE_BASE + 0x3f) {
			struct gd_vpci v;
			int r = gd_vpci_probe(&v, d);
			u16 type = d->device - GD_VPCI_DEVICE_BASE;

			if (r)
				gd_printf(" virtio-%s probe error %d", gd_virtio_type_name(type), r);
			else
				gd_printf(" virtio-%s bar0 0x%llx queues %u msix %u devcfg %u",
					  gd_virtio_type_name(type),
					  (unsigned long long)gd_pci_bar_addr(d, 0, NULL),
					  v.t.ops->num_queues(&v.t), v.msix_size, v.devcfg_len);
		}
		gd_putc('\n');
	}
	gd_printf("pci: %d device%s\n", n, n == 1 ? "" : "s");
}

/* --- the blk device ---------------------------------------------------------------- */

struct gl_blk {
	bool ready;
	struct gd_vpci vpci;
	struct gd_blk blk;
};

static struct gl_blk gl_blks[MAX_DEVS];

/* The dev=K-th virtio-blk device, set up once and reused by later commands. */
static struct gl_blk *blk_get(const char *cmd, u64 dev)
{
	struct gl_blk *g = &gl_blks[dev];
	int r;

	if (g->ready && !g->blk.broken)
		return g;
	r = gd_vpci_find(&g->vpci, VIRTIO_ID_BLOCK, (unsigned int)dev);
	if (r)
		gd_die(1, "%s: no virtio-blk device %llu (%d)", cmd, (unsigned long long)dev, r);
	r = gd_vpci_setup_msix(&g->vpci, 2);
	if (r)
		gd_die(1, "%s: MSI-X setup failed (%d)", cmd, r);
	r = gd_blk_init(&g->blk, &g->vpci.t, NULL);
	if (r)
		gd_die(1, "%s: virtio-blk init failed (%d), device status 0x%x", cmd, r,
		       g->vpci.t.ops->get_status(&g->vpci.t));
	g->ready = true;
	return g;
}

/*
 * A periodic LAPIC timer on a count-only vector while a blk loop runs, so a
 * halted wait ends now and then even if the device never interrupts again
 * (a back-end that died without the VMM noticing).
 */
static void watchdog_start(void)
{
	static int vec = -1;

	if (vec < 0)
		vec = gd_irq_alloc_vector(NULL, NULL);
	if (vec >= 0) {
		gd_lapic_enable();
		gd_lapic_timer_periodic((unsigned int)vec, TICK_COUNT);
	}
}

static void watchdog_stop(void)
{
	gd_lapic_timer_stop();
}

/* True (and remembers the count) if the config-change vector fired since *seen. */
static bool config_irq_changed(struct gl_blk *g, u64 *seen)
{
	int vec = g->vpci.cpu_vector[0];
	u64 c = vec >= 0 ? gd_irq_count((unsigned int)vec) : 0;

	if (c == *seen)
		return false;
	*seen = c;
	return true;
}

/* Nothing completed for STALL_SECS with requests in flight: say so and exit 1. */
static void stall_check(const char *cmd, struct gl_blk *g, u64 last_progress)
{
	u64 limit = (u64)gd_cycles_khz() * 1000 * STALL_SECS;

	if (!g->blk.inflight || !limit || gd_cycles() - last_progress < limit)
		return;
	watchdog_stop();
	gd_die(1, "%s: no completion for %u s with %u request%s in flight (device status "
	       "0x%02x): the back-end stopped answering", cmd, STALL_SECS, g->blk.inflight,
	       g->blk.inflight == 1 ? "" : "s", g->vpci.t.ops->get_status(&g->vpci.t));
}

static void *dma_or_die(const char *cmd, size_t n)
{
	void *p = gd_alloc(n, 4096);

	if (!p)
		gd_die(1, "%s: out of memory (%zu bytes)", cmd, n);
	return p;
}

static const char *st_str(int st)
{
	switch (st) {
	case VIRTIO_BLK_S_OK: return "ok";
	case VIRTIO_BLK_S_IOERR: return "IOERR";
	case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
	case GD_BLK_S_SHORT: return "short";
	case GD_BLK_S_BADSTATUS: return "bad status";
	}
	return st < 0 ? "driver error" : "?";
}

static void cmd_blk_info(const char *args, size_t len)
{
	struct arg a[] = { { .key = "dev", .max = MAX_DEVS - 1 } };
	struct gl_blk *g;

	parse_args("blk-info", args, len, a, ARRAY_SIZE(a));
	g = blk_get("blk-info", a[0].val);
	gd_printf("blk-info: dev %llu capacity %llu sectors blk_size %u ro %d flush %d "
		  "discard %d write_zeroes %d indirect %d event_idx %d queue %u depth %u "
		  "features 0x%llx\n", (unsigned long long)a[0].val,
		  (unsigned long long)g->blk.capacity, g->blk.blk_size, g->blk.ro,
		  g->blk.flush, g->blk.discard, g->blk.write_zeroes, g->blk.indirect,
		  g->blk.event_idx, g->blk.rq.vq.num, g->blk.depth,
		  (unsigned long long)g->blk.vdev.features);
}

/* Sectors [lba, lba+n) in chunks through one buffer: fill (write) or crc (read). */
static void fill_or_crc(const char *cmd, bool fill, const char *args, size_t len)
{
	struct arg a[] = {
		{ .key = "lba", .max = ~0ull >> 9 },
		{ .key = "n", .max = ~0ull >> 9 },
		{ .key = "byte", .max = 255 },
		{ .key = "dev", .max = MAX_DEVS - 1 },
	};
	struct gl_blk *g;
	u64 lba, left;
	u8 *buf;
	u32 crc = 0;

	parse_args(cmd, args, len, a, ARRAY_SIZE(a));
	if (!fill && a[2].set)
		gd_die(GL_EXIT_USAGE, "%s: bad argument 'byte=' (want lba=, n=, dev=)", cmd);
	need(cmd, &a[0]);
	need(cmd, &a[1]);
	if (fill)
		need(cmd, &a[2]);
	g = blk_get(cmd, a[3].val);
	lba = a[0].val;
	left = a[1].val;
	if (lba > g->blk.capacity || left > g->blk.capacity - lba)
		gd_die(1, "%s: sectors %llu+%llu past the disk end (%llu sectors)", cmd,
		       (unsigned long long)lba, (unsigned long long)left,
		       (unsigned long long)g->blk.capacity);
	buf = dma_or_die(cmd, CHUNK_SECTORS * GD_BLK_SECTOR);
	if (fill)
		memset(buf, (int)a[2].val, CHUNK_SECTORS * GD_BLK_SECTOR);
	gd_blk_set_poll(&g->blk, true);
	while (left) {
		u32 n = left < CHUNK_SECTORS ? (u32)left : CHUNK_SECTORS;
		struct gd_blk_io io = {
			.type = fill ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			.sector = lba, .buf = buf, .len = n * GD_BLK_SECTOR,
		};
		int st = gd_blk_sync(&g->blk, &io);

		if (st != VIRTIO_BLK_S_OK)
			gd_die(1, "%s: sector %llu: %s (%d)", cmd, (unsigned long long)lba,
			       st_str(st), st);
		if (!fill)
			crc = gd_crc32(crc, buf, io.len);
		lba += n;
		left -= n;
	}
	if (fill)
		gd_printf("blk-fill: %llu sectors of 0x%02x at %llu\n",
			  (unsigned long long)a[1].val, (unsigned int)a[2].val,
			  (unsigned long long)a[0].val);
	else
		gd_printf("crc32=%08x\n", crc);
}

static void cmd_blk_fill(const char *args, size_t len)
{
	fill_or_crc("blk-fill", true, args, len);
}

static void cmd_blk_crc(const char *args, size_t len)
{
	fill_or_crc("blk-crc", false, args, len);
}

/* --- write-zeroes / discard / flush / id ------------------------------------------------- */

static void zero_or_discard(const char *cmd, bool zero, const char *args, size_t len)
{
	struct arg a[] = {
		{ .key = "lba", .max = ~0ull >> 9 },
		{ .key = "n", .max = ~0ull >> 9 },
		{ .key = "dev", .max = MAX_DEVS - 1 },
		{ .key = "unmap", .max = 1 },
	};
	struct gl_blk *g;
	u64 lba, left, reqs = 0;
	u32 max;

	parse_args(cmd, args, len, a, zero ? 4 : 3);
	need(cmd, &a[0]);
	need(cmd, &a[1]);
	g = blk_get(cmd, a[2].val);
	if (zero ? !g->blk.write_zeroes : !g->blk.discard)
		gd_die(1, "%s: the device does not offer %s", cmd,
		       zero ? "WRITE_ZEROES" : "DISCARD");
	lba = a[0].val;
	left = a[1].val;
	if (lba > g->blk.capacity || left > g->blk.capacity - lba)
		gd_die(1, "%s: sectors %llu+%llu past the disk end (%llu sectors)", cmd,
		       (unsigned long long)lba, (unsigned long long)left,
		       (unsigned long long)g->blk.capacity);
	max = zero ? g->blk.max_write_zeroes_sectors : g->blk.max_discard_sectors;
	if (!max)
		max = 1u << 22;
	gd_blk_set_poll(&g->blk, true);
	while (left) {
		u32 n = left < max ? (u32)left : max;
		struct gd_blk_io io = {
			.type = zero ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD,
			.flags = a[3].val ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0,
			.sector = lba, .len = n * GD_BLK_SECTOR,
		};
		int st = gd_blk_sync(&g->blk, &io);

		if (st != VIRTIO_BLK_S_OK)
			gd_die(1, "%s: sector %llu: %s (%d)", cmd, (unsigned long long)lba,
			       st_str(st), st);
		lba += n;
		left -= n;
		reqs++;
	}
	gd_printf("%s: %llu sectors at %llu in %llu request%s\n", cmd,
		  (unsigned long long)a[1].val, (unsigned long long)a[0].val,
		  (unsigned long long)reqs, reqs == 1 ? "" : "s");
}

static void cmd_blk_zero(const char *args, size_t len)
{
	zero_or_discard("blk-zero", true, args, len);
}

static void cmd_blk_discard(const char *args, size_t len)
{
	zero_or_discard("blk-discard", false, args, len);
}

static void cmd_blk_flush(const char *args, size_t len)
{
	struct arg a[] = { { .key = "dev", .max = MAX_DEVS - 1 } };
	struct gd_blk_io io = { .type = VIRTIO_BLK_T_FLUSH };
	struct gl_blk *g;
	int st;

	parse_args("blk-flush", args, len, a, ARRAY_SIZE(a));
	g = blk_get("blk-flush", a[0].val);
	if (!g->blk.flush)
		gd_die(1, "blk-flush: the device does not offer FLUSH");
	gd_blk_set_poll(&g->blk, true);
	st = gd_blk_sync(&g->blk, &io);
	if (st != VIRTIO_BLK_S_OK)
		gd_die(1, "blk-flush: %s (%d)", st_str(st), st);
	gd_printf("blk-flush: ok\n");
}

static void cmd_blk_id(const char *args, size_t len)
{
	struct arg a[] = { { .key = "dev", .max = MAX_DEVS - 1 } };
	struct gl_blk *g;
	struct gd_blk_io io = { .type = VIRTIO_BLK_T_GET_ID, .len = VIRTIO_BLK_ID_BYTES };
	char *s;
	int st;

	parse_args("blk-id", args, len, a, ARRAY_SIZE(a));
	g = blk_get("blk-id", a[0].val);
	s = dma_or_die("blk-id", VIRTIO_BLK_ID_BYTES);
	io.buf = s;
	gd_blk_set_poll(&g->blk, true);
	st = gd_blk_sync(&g->blk, &io);
	if (st != VIRTIO_BLK_S_OK)
		gd_die(1, "blk-id: %s (%d)", st_str(st), st);
	gd_puts("blk-id: serial=");
	/* device data: plain characters only, at most 20, NUL ends it early */
	for (int i = 0; i < VIRTIO_BLK_ID_BYTES && s[i]; i++)
		gd_putc(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	gd_putc('\n');
}

/* --- verify ------------------------------------------------------------------------- */

static void pattern(u64 *w, u64 blk, u64 seed)
{
	u64 x = seed ^ (blk * 0x9E3779B97F4A7C15ull) ^ 0x5bd1e995;

	w[0] = 0x6c74656c74736567ull;	/* "guestlet" */
	w[1] = blk;
	w[2] = seed;
	for (u32 i = 3; i < VERIFY_BS / 8; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545F4914F6CDD1Dull;
	}
}

struct vreq {
	u64 *buf;
	u64 block;
	u64 t0;
};

static void cmd_blk_verify(const char *args, size_t len)
{
	struct arg a[] = {
		{ .key = "secs", .max = 3600 },
		{ .key = "qd", .max = MAX_QD },
		{ .key = "dev", .max = MAX_DEVS - 1 },
		{ .key = "blocks", .max = VERIFY_MAX_BLOCKS },
	};
	static struct vreq reqs[MAX_QD];
	struct vreq *freel[MAX_QD];
	struct gd_blk_done done[MAX_QD];
	struct gl_blk *g;
	u64 nblocks, deadline, mismatches = 0, verified = 0, seed = gd_cycles(), progress;
	unsigned int qd, passes = 0;
	u32 *want;

	parse_args("blk-verify", args, len, a, ARRAY_SIZE(a));
	g = blk_get("blk-verify", a[2].val);
	nblocks = g->blk.capacity / (VERIFY_BS / GD_BLK_SECTOR);
	if (nblocks > VERIFY_MAX_BLOCKS)
		nblocks = VERIFY_MAX_BLOCKS;
	if (a[3].set && a[3].val && a[3].val < nblocks)
		nblocks = a[3].val;
	if (!nblocks)
		gd_die(1, "blk-verify: disk smaller than one %u-byte block", VERIFY_BS);
	if (g->blk.ro)
		gd_die(1, "blk-verify: the disk is read-only");
	qd = a[1].set && a[1].val ? (unsigned int)a[1].val : 16;
	if (qd > g->blk.depth)
		qd = g->blk.depth;
	want = gd_alloc(nblocks * sizeof(*want), 64);
	if (!want)
		gd_die(1, "blk-verify: out of memory for %llu checksums",
		       (unsigned long long)nblocks);
	for (unsigned int i = 0; i < qd; i++)
		reqs[i].buf = dma_or_die("blk-verify", VERIFY_BS);
	gd_blk_set_poll(&g->blk, true);
	deadline = gd_time_ns() + a[0].val * 1000000000ull;
	progress = gd_cycles();
	do {
		for (int pass = 0; pass < 2; pass++) {
			bool write = pass == 0;
			u64 next = 0, completed = 0;
			unsigned int nfree = qd;

			for (unsigned int i = 0; i < qd; i++)
				freel[i] = &reqs[i];
			while (completed < nblocks) {
				int n;

				while (nfree && next < nblocks) {
					struct vreq *r = freel[--nfree];
					struct gd_blk_io io = {
						.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
						.sector = next * (VERIFY_BS / GD_BLK_SECTOR),
						.buf = r->buf, .len = VERIFY_BS, .cookie = r,
					};

					r->block = next++;
					if (write) {
						pattern(r->buf, r->block, seed + passes);
						want[r->block] = gd_crc32(0, r->buf, VERIFY_BS);
					} else {
						memset(r->buf, 0, VERIFY_BS);
					}
					if (gd_blk_submit(&g->blk, &io))
						gd_die(1, "blk-verify: submit failed");
				}
				gd_blk_kick(&g->blk);
				for (u64 spins = 1; !(n = gd_blk_reap(&g->blk, done, qd)); spins++) {
					if (!(spins & 0xfffff)) {
						if (gd_blk_check(&g->blk)) {
							n = -EIO;
							break;
						}
						stall_check("blk-verify", g, progress);
					}
					gd_cpu_relax();
				}
				progress = gd_cycles();
				if (n < 0)
					gd_die(1, "blk-verify: device failed (status 0x%02x)",
					       g->vpci.t.ops->get_status(&g->vpci.t));
				for (int i = 0; i < n; i++) {
					struct vreq *r = done[i].cookie;
					u32 got;

					completed++;
					freel[nfree++] = r;
					if (done[i].status != VIRTIO_BLK_S_OK) {
						gd_printf("blk-verify: %s of block %llu failed: %s\n",
							  write ? "write" : "read",
							  (unsigned long long)r->block,
							  st_str(done[i].status));
						mismatches++;
						continue;
					}
					if (write)
						continue;
					got = gd_crc32(0, r->buf, VERIFY_BS);
					if (got != want[r->block]) {
						gd_printf("blk-verify: mismatch at block %llu: crc32 "
							  "%08x, want %08x (header: block %llu)\n",
							  (unsigned long long)r->block, got,
							  want[r->block],
							  (unsigned long long)r->buf[1]);
						mismatches++;
					} else {
						verified++;
					}
				}
			}
		}
		passes++;
	} while (!mismatches && gd_time_ns() < deadline);
	gd_printf("blk-verify: %llu blocks of %u bytes, %u pass%s, %llu verified, "
		  "%llu mismatches\n", (unsigned long long)nblocks, VERIFY_BS, passes,
		  passes == 1 ? "" : "es", (unsigned long long)verified,
		  (unsigned long long)mismatches);
	if (mismatches)
		gd_exit(1);
}

/* --- bench ------------------------------------------------------------------------- */

static struct gd_hist bench_hist;

static void cmd_blk_bench(const char *args, size_t len)
{
	struct arg a[] = {
		{ .key = "rw", .is_word = true },
		{ .key = "bs", .max = 1 << 20 },
		{ .key = "qd", .max = MAX_QD },
		{ .key = "secs", .max = 3600 },
		{ .key = "poll", .max = 1 },
		{ .key = "dev", .max = MAX_DEVS - 1 },
		{ .key = "wait", .is_word = true },
	};
	static struct vreq reqs[MAX_QD];
	struct gd_blk_done done[MAX_QD];
	struct gl_blk *g;
	bool write, poll, spin = false, waited = false;
	u64 cfg_seen = 0;
	u64 bs, nblocks, ios = 0, errors = 0, t0, t1, deadline, irq0, rng, spins = 0, progress;
	unsigned int qd;

	parse_args("blk-bench", args, len, a, ARRAY_SIZE(a));
	if (word_is(&a[0], "randread"))
		write = false;
	else if (word_is(&a[0], "randwrite"))
		write = true;
	else
		gd_die(GL_EXIT_USAGE, "blk-bench: rw=randread or rw=randwrite, not '%.*s'",
		       (int)a[0].wlen, a[0].word ? a[0].word : "");
	bs = a[1].set ? a[1].val : 4096;
	if (!bs || bs % GD_BLK_SECTOR)
		gd_die(GL_EXIT_USAGE, "blk-bench: bs=%llu is not a multiple of 512",
		       (unsigned long long)bs);
	qd = a[2].set && a[2].val ? (unsigned int)a[2].val : 1;
	poll = a[4].set ? a[4].val : true;
	if (a[6].set) {
		if (word_is(&a[6], "spin"))
			spin = true;
		else if (!word_is(&a[6], "halt"))
			gd_die(GL_EXIT_USAGE, "blk-bench: wait=halt or wait=spin, not '%.*s'",
			       (int)a[6].wlen, a[6].word);
	}
	g = blk_get("blk-bench", a[5].val);
	if (write && g->blk.ro)
		gd_die(1, "blk-bench: the disk is read-only");
	nblocks = g->blk.capacity / (bs / GD_BLK_SECTOR);
	if (!nblocks)
		gd_die(1, "blk-bench: disk smaller than bs");
	if (qd > g->blk.depth)
		qd = g->blk.depth;
	for (unsigned int i = 0; i < qd; i++) {
		reqs[i].buf = dma_or_die("blk-bench", bs);
		if (write)
			memset(reqs[i].buf, 0x5a ^ (int)i, bs);
	}
	memset(&bench_hist, 0, sizeof(bench_hist));
	gd_blk_set_poll(&g->blk, poll);
	rng = gd_cycles() | 1;
	irq0 = gd_blk_irq_count(&g->blk);
	g->blk.kicks = g->blk.notifies = g->blk.waits = 0;
	if (!poll)
		watchdog_start();
	if (spin && !poll) {
		/* interrupts on at CPL3 for the run; waits watch the count */
		gd_irq_enable();
		g->vpci.irq_spin = true;
	}
	/* The hot loop runs at CPL3; only gd_blk_wait (poll=0) enters CPL0. */
	t0 = gd_cycles();
	deadline = t0 + a[3].val * (u64)gd_cycles_khz() * 1000;
	if (!a[3].set || !a[3].val)
		deadline = t0 + (u64)gd_cycles_khz() * 1000;	/* 1 s */
	for (unsigned int i = 0; i < qd; i++) {
		struct vreq *r = &reqs[i];
		struct gd_blk_io io = { .type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
					.buf = r->buf, .len = (u32)bs, .cookie = r };

		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		r->block = rng % nblocks;
		io.sector = r->block * (bs / GD_BLK_SECTOR);
		r->t0 = gd_cycles();
		if (gd_blk_submit(&g->blk, &io))
			gd_die(1, "blk-bench: submit failed");
	}
	gd_blk_kick(&g->blk);
	progress = gd_cycles();
	for (;;) {
		int n = gd_blk_reap(&g->blk, done, qd);
		u64 now;
		bool more;

		if (n == 0) {
			/*
			 * Nothing completed: now and then while polling, and after
			 * every wait that ended without a completion (a config
			 * interrupt, or spurious), ask whether the device broke.
			 */
			/*
			 * Reading the status is a heavyweight exit: after a wait,
			 * only when the config vector fired (a device that breaks
			 * says so there) or nothing completed for a second.
			 */
			if (waited && !config_irq_changed(g, &cfg_seen) &&
			    gd_cycles() - progress < (u64)gd_cycles_khz() * 1000)
				;
			else if ((waited || !(++spins & 0xfffff)) && gd_blk_check(&g->blk))
				n = -EIO;
			else if (waited || !(spins & 0xfffff))
				stall_check("blk-bench", g, progress);
			if (n == 0 && !poll && gd_blk_wait(&g->blk))
				gd_die(1, "blk-bench: wait failed");
			waited = !poll;
			if (n == 0)
				continue;
		}
		waited = false;
		progress = gd_cycles();
		if (n < 0)
			gd_die(1, "blk-bench: device failed (status 0x%02x)",
			       g->vpci.t.ops->get_status(&g->vpci.t));
		now = gd_cycles();
		more = now < deadline;
		for (int i = 0; i < n; i++) {
			struct vreq *r = done[i].cookie;
			struct gd_blk_io io = { .type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
						.buf = r->buf, .len = (u32)bs, .cookie = r };

			gd_hist_add(&bench_hist, now - r->t0);
			ios++;
			if (done[i].status != VIRTIO_BLK_S_OK)
				errors++;
			if (!more)
				continue;
			rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
			r->block = rng % nblocks;
			io.sector = r->block * (bs / GD_BLK_SECTOR);
			r->t0 = now;
			gd_blk_submit(&g->blk, &io);
		}
		if (more)
			gd_blk_kick(&g->blk);
		else if (!g->blk.inflight)
			break;
	}
	t1 = gd_cycles();
	if (!poll)
		watchdog_stop();
	if (g->vpci.irq_spin) {
		g->vpci.irq_spin = false;
		gd_irq_disable();
	}
	{
		u64 ns = gd_cycles_to_ns(t1 - t0);

		gd_printf("{\"bench\":\"vm-blk-guest\",\"rw\":\"%s\",\"bs\":%llu,\"qd\":%u,"
			  "\"poll\":%d,\"wait\":\"%s\",\"secs\":%llu,\"iops\":%llu,\"p50_us\":%llu,\"p99_us\":%llu,"
			  "\"ios\":%llu,\"errors\":%llu,\"irqs\":%llu,\"kicks\":%llu,"
			  "\"notifies\":%llu,\"waits\":%llu,\"event_idx\":%d,\"indirect\":%d}\n",
			  write ? "randwrite" : "randread", (unsigned long long)bs, qd, poll,
			  poll ? "none" : spin ? "spin" : "halt",
			  (unsigned long long)(a[3].val ? a[3].val : 1),
			  (unsigned long long)(ns ? ios * 1000000000ull / ns : 0),
			  (unsigned long long)(gd_cycles_to_ns(gd_hist_pct(&bench_hist, 50)) / 1000),
			  (unsigned long long)(gd_cycles_to_ns(gd_hist_pct(&bench_hist, 99)) / 1000),
			  (unsigned long long)ios, (unsigned long long)errors,
			  (unsigned long long)(gd_blk_irq_count(&g->blk) - irq0),
			  (unsigned long long)g->blk.kicks, (unsigned long long)g->blk.notifies,
			  (unsigned long long)g->blk.waits, g->blk.event_idx, g->blk.indirect);
	}
	if (errors)
		gd_exit(1);
}

/* --- MSI-X masking: held pending while masked, delivered on unmask ----------------- */

static void cmd_blk_msix_mask(const char *args, size_t len)
{
	struct arg a[] = { { .key = "dev", .max = MAX_DEVS - 1 } };
	struct gd_blk_done d;
	struct gl_blk *g;
	struct gd_blk_io io;
	volatile u32 *ctrl;
	u64 irq0, irq_masked, t, limit;
	u32 pba_off, pba;
	u8 *buf;
	int n;

	parse_args("blk-msix-mask", args, len, a, ARRAY_SIZE(a));
	g = blk_get("blk-msix-mask", a[0].val);
	if (!g->vpci.msix_table || g->vpci.nr_vectors < 2)
		gd_die(1, "blk-msix-mask: no MSI-X entry for the queue");
	buf = dma_or_die("blk-msix-mask", 4096);
	ctrl = g->vpci.msix_table + 4 * 1 + 3;	/* entry 1: the request queue */
	pba_off = gd_pci_read32(&g->vpci.pci, g->vpci.msix_cap + PCI_MSIX_PBA);
	limit = (u64)gd_cycles_khz() * 1000 * 5;	/* 5 s */

	gd_blk_set_poll(&g->blk, false);	/* the device shall interrupt */
	(void)vq_drv_enable_cb(&g->blk.rq.vq);
	gd_mmio_write32(ctrl, 1);		/* mask */
	irq0 = gd_blk_irq_count(&g->blk);
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_IN, .buf = buf, .len = 4096 };
	if (gd_blk_submit(&g->blk, &io))
		gd_die(1, "blk-msix-mask: submit failed");
	gd_blk_kick(&g->blk);
	/* the completion shows up in the used ring; no interrupt may come */
	t = gd_cycles();
	while (!(n = gd_blk_reap(&g->blk, &d, 1)) && gd_cycles() - t < limit)
		gd_cpu_relax();
	if (n != 1 || d.status != VIRTIO_BLK_S_OK)
		gd_die(1, "blk-msix-mask: the request did not complete (%d)", n);
	/* the back-end's signal reaches vmm, which must hold it pending: wait for the bit */
	t = gd_cycles();
	do {
		volatile u32 *p = gd_mmio_map(gd_pci_bar_addr(&g->vpci.pci,
					pba_off & PCI_MSIX_PBA_BIR, NULL) + (pba_off & PCI_MSIX_PBA_OFFSET));

		pba = gd_mmio_read32(p);
	} while (!(pba & 2) && gd_cycles() - t < limit);
	irq_masked = gd_blk_irq_count(&g->blk) - irq0;
	gd_irq_enable();			/* take it when it comes */
	gd_mmio_write32(ctrl, 0);		/* unmask: the pending one is sent */
	t = gd_cycles();
	while (gd_blk_irq_count(&g->blk) == irq0 + irq_masked && gd_cycles() - t < limit)
		gd_cpu_relax();
	gd_irq_disable();
	gd_printf("blk-msix-mask: masked irqs=%llu pba=0x%x; unmasked irqs=%llu\n",
		  (unsigned long long)irq_masked, pba,
		  (unsigned long long)(gd_blk_irq_count(&g->blk) - irq0 - irq_masked));
}

/* --- evil: hostile register sequences against vmm's virtio-pci ------------------------ */

#define ECC(field) (&v->common->field)

static u8 ev_status(struct gd_vpci *v)
{
	return gd_mmio_read8(ECC(device_status));
}

static void ev_set_status(struct gd_vpci *v, u8 s)
{
	gd_mmio_write8(ECC(device_status), s);
}

/* reset, ACK, DRIVER, VERSION_1, FEATURES_OK; returns the status read back */
static u8 ev_negotiate(struct gd_vpci *v)
{
	ev_set_status(v, 0);
	ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	gd_mmio_write32(ECC(guest_feature_select), 1);
	gd_mmio_write32(ECC(guest_feature), 1);		/* bit 32: VERSION_1 */
	gd_mmio_write32(ECC(guest_feature_select), 0);
	gd_mmio_write32(ECC(guest_feature), 0);
	ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		      VIRTIO_CONFIG_S_FEATURES_OK);
	return ev_status(v);
}

static void ev_queue(struct gd_vpci *v, u16 q, u16 size, u64 desc, u64 avail, u64 used)
{
	gd_mmio_write16(ECC(queue_select), q);
	gd_mmio_write16(ECC(queue_size), size);
	gd_mmio_write32(ECC(queue_desc_lo), (u32)desc);
	gd_mmio_write32(ECC(queue_desc_hi), (u32)(desc >> 32));
	gd_mmio_write32(ECC(queue_avail_lo), (u32)avail);
	gd_mmio_write32(ECC(queue_avail_hi), (u32)(avail >> 32));
	gd_mmio_write32(ECC(queue_used_lo), (u32)used);
	gd_mmio_write32(ECC(queue_used_hi), (u32)(used >> 32));
}

static u16 ev_queue_enable(struct gd_vpci *v, u16 q)
{
	gd_mmio_write16(ECC(queue_select), q);
	gd_mmio_write16(ECC(queue_enable), 1);
	return gd_mmio_read16(ECC(queue_enable));
}

static u64 ev_queue_desc(struct gd_vpci *v, u16 q)
{
	gd_mmio_write16(ECC(queue_select), q);
	return gd_mmio_read32(ECC(queue_desc_lo)) |
	       (u64)gd_mmio_read32(ECC(queue_desc_hi)) << 32;
}

static void cmd_blk_evil(const char *args, size_t len)
{
	struct arg a[] = {
		{ .key = "case", .is_word = true },
		{ .key = "dev", .max = MAX_DEVS - 1 },
	};
	const u8 fok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK;
	struct gl_blk *g;
	struct gd_vpci *v;
	u8 *ring;
	u64 r, ring_gpa, ram_end = 0;
	u16 qsize, extra = 0;
	bool has_extra = false;
	const char *extra_name = "";

	parse_args("blk-evil", args, len, a, ARRAY_SIZE(a));
	need("blk-evil", &a[0]);
	g = &gl_blks[a[1].val];
	if (!g->ready) {
		if (gd_vpci_find(&g->vpci, VIRTIO_ID_BLOCK, (unsigned int)a[1].val))
			gd_die(1, "blk-evil: no virtio-blk device %llu",
			       (unsigned long long)a[1].val);
	}
	g->ready = false;	/* whatever happens, the next command re-initialises */
	v = &g->vpci;
	ring = dma_or_die("blk-evil", 16384);
	ring_gpa = gd_virt_to_phys(ring);
	for (u32 i = 0; i < gl_boot_info->nr_mem; i++) {
		u64 e = gl_boot_info->mem[i].gpa + gl_boot_info->mem[i].size;

		if (e > ram_end)
			ram_end = e;
	}
	if (ev_negotiate(v) != fok)
		gd_die(1, "blk-evil: the device refused plain VERSION_1 (status 0x%x)",
		       ev_status(v));
	gd_mmio_write16(ECC(queue_select), 0);
	qsize = gd_mmio_read16(ECC(queue_size));
	if (!qsize || qsize > 1024 || (qsize & (qsize - 1)))
		gd_die(1, "blk-evil: odd queue size %u", qsize);

	if (word_is(&a[0], "ring-outside-ram")) {
		/* descriptor table at the end of RAM: runs past it */
		ev_queue(v, 0, qsize, ram_end - 16, ring_gpa + 4096, ring_gpa + 8192);
		extra = ev_queue_enable(v, 0);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "ring-in-mmio")) {
		/* rings in the device's own BAR */
		r = gd_pci_bar_addr(&v->pci, 0, NULL);
		ev_queue(v, 0, qsize, r, r + 0x1000, r + 0x2000);
		extra = ev_queue_enable(v, 0);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "misaligned-ring")) {
		ev_queue(v, 0, qsize, ring_gpa + 8, ring_gpa + 4096 + 1, ring_gpa + 8192 + 2);
		extra = ev_queue_enable(v, 0);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "size-not-pow2")) {
		ev_queue(v, 0, qsize > 3 ? qsize - 1 : 3, ring_gpa, ring_gpa + 4096,
			 ring_gpa + 8192);
		extra = ev_queue_enable(v, 0);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "size-zero")) {
		ev_queue(v, 0, 0, ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		extra = ev_queue_enable(v, 0);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "size-too-big")) {
		ev_queue(v, 0, (u16)(qsize * 2), ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		extra = ev_queue_enable(v, 0);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "notify-bad-queue")) {
		/* a proper start, then doorbells of queues that do not exist */
		ev_queue(v, 0, 16, ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		ev_queue_enable(v, 0);
		ev_set_status(v, fok | VIRTIO_CONFIG_S_DRIVER_OK);
		for (u16 q = 1; q < 8 && (u32)q * v->notify_mult + 2 <= 0x1000; q++)
			gd_mmio_write16(v->notify + q * v->notify_mult, q);
		gd_mmio_write16(v->notify, 0xffff);	/* queue 0's doorbell, wrong index */
		gd_mmio_write16(ECC(queue_select), 200);
		extra = gd_mmio_read16(ECC(queue_size));
		has_extra = true;
		extra_name = "queue200_size";
	} else if (word_is(&a[0], "kick-before-driver-ok")) {
		ev_queue(v, 0, 16, ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		ev_queue_enable(v, 0);
		gd_mmio_write16(v->notify, 0);
	} else if (word_is(&a[0], "setup-after-driver-ok")) {
		ev_queue(v, 0, 16, ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		ev_queue_enable(v, 0);
		ev_set_status(v, fok | VIRTIO_CONFIG_S_DRIVER_OK);
		/* move the rings under the running queue (CVE-2026-5747 class) */
		ev_queue(v, 0, 8, ring_gpa + 12288, ring_gpa + 12288, ring_gpa + 12288);
		extra = ev_queue_desc(v, 0) == ring_gpa;
		has_extra = true;
		extra_name = "rings_unchanged";
	} else if (word_is(&a[0], "driver-ok-without-features-ok")) {
		ev_set_status(v, 0);
		ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE);
		ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
		ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			      VIRTIO_CONFIG_S_DRIVER_OK);
	} else if (word_is(&a[0], "features-after-features-ok")) {
		gd_mmio_write32(ECC(guest_feature_select), 1);
		gd_mmio_write32(ECC(guest_feature), 0x3);
		extra = gd_mmio_read32(ECC(guest_feature)) == 1;
		has_extra = true;
		extra_name = "features_unchanged";
	} else if (word_is(&a[0], "unoffered-feature")) {
		ev_set_status(v, 0);
		ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
		gd_mmio_write32(ECC(guest_feature_select), 1);
		gd_mmio_write32(ECC(guest_feature), 1 | (1u << 31));	/* bit 63 */
		ev_set_status(v, fok);
	} else if (word_is(&a[0], "clear-status-bit")) {
		ev_set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_FEATURES_OK);
	} else if (word_is(&a[0], "bad-msix-vector")) {
		gd_mmio_write16(ECC(queue_select), 0);
		gd_mmio_write16(ECC(queue_msix_vector), 0x7ff);
		extra = gd_mmio_read16(ECC(queue_msix_vector));
		has_extra = true;
		extra_name = "queue_msix_vector";
	} else if (word_is(&a[0], "wide-access")) {
		/* 8-byte accesses where the registers are 4 bytes wide */
		volatile u64 *e0 = (volatile u64 *)v->msix_table;

		ev_queue(v, 0, 16, ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		gd_mmio_write64(ECC(queue_desc_lo), 0x123456789abcdef0ull);
		(void)gd_mmio_read64(ECC(queue_desc_lo));
		if (e0) {
			gd_mmio_write64(e0, 0xfee00000deadbeefull);
			(void)gd_mmio_read64(e0);
		}
		extra = ev_queue_desc(v, 0) == ring_gpa;
		has_extra = true;
		extra_name = "desc_unchanged";
	} else if (word_is(&a[0], "queue-select-oob")) {
		/* set up and enable a queue that does not exist */
		ev_queue(v, 300, 16, ring_gpa, ring_gpa + 4096, ring_gpa + 8192);
		extra = ev_queue_enable(v, 300);
		has_extra = true;
		extra_name = "queue_enable";
	} else if (word_is(&a[0], "devcfg-past-end")) {
		/* device config writes and reads past its length, in its window */
		for (u32 o = v->devcfg_len; o < v->devcfg_len + 64; o++)
			gd_mmio_write8(v->devcfg + o, 0xa5);
		gd_mmio_write32(v->devcfg + v->devcfg_len - 2, 0x5a5a5a5a);
		extra = gd_mmio_read8(v->devcfg + v->devcfg_len + 4);
		has_extra = true;
		extra_name = "past_end_reads";
	} else {
		gd_die(GL_EXIT_USAGE, "blk-evil: unknown case '%.*s' (ring-outside-ram, "
		       "ring-in-mmio, misaligned-ring, size-not-pow2, size-zero, size-too-big, "
		       "notify-bad-queue, kick-before-driver-ok, setup-after-driver-ok, "
		       "driver-ok-without-features-ok, features-after-features-ok, "
		       "unoffered-feature, clear-status-bit, bad-msix-vector, wide-access, "
		       "queue-select-oob, devcfg-past-end)",
		       (int)a[0].wlen, a[0].word ? a[0].word : "");
	}
	{
		u8 s = ev_status(v);

		gd_printf("blk-evil: case=%.*s status=0x%02x needs_reset=%d", (int)a[0].wlen,
			  a[0].word, s, !!(s & VIRTIO_CONFIG_S_NEEDS_RESET));
		if (has_extra)
			gd_printf(" %s=0x%x", extra_name, extra);
		gd_putc('\n');
	}
	/* Leave the device reset: the VMM must accept a fresh start afterwards. */
	ev_set_status(v, 0);
	gd_printf("blk-evil: after reset status=0x%02x\n", ev_status(v));
}

void gl_cmd_pci_list(const char *args, size_t len)	{ cmd_pci_list(args, len); }
void gl_cmd_blk_info(const char *args, size_t len)	{ cmd_blk_info(args, len); }
void gl_cmd_blk_fill(const char *args, size_t len)	{ cmd_blk_fill(args, len); }
void gl_cmd_blk_crc(const char *args, size_t len)	{ cmd_blk_crc(args, len); }
void gl_cmd_blk_verify(const char *args, size_t len)	{ cmd_blk_verify(args, len); }
void gl_cmd_blk_bench(const char *args, size_t len)	{ cmd_blk_bench(args, len); }
void gl_cmd_blk_evil(const char *args, size_t len)	{ cmd_blk_evil(args, len); }
void gl_cmd_blk_msix_mask(const char *args, size_t len)	{ cmd_blk_msix_mask(args, len); }
void gl_cmd_blk_zero(const char *args, size_t len)	{ cmd_blk_zero(args, len); }
void gl_cmd_blk_discard(const char *args, size_t len)	{ cmd_blk_discard(args, len); }
void gl_cmd_blk_flush(const char *args, size_t len)	{ cmd_blk_flush(args, len); }
void gl_cmd_blk_id(const char *args, size_t len)	{ cmd_blk_id(args, len); }

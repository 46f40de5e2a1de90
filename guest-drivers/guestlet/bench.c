/* SPDX-License-Identifier: MIT */
/*
 * bench-exits: the cost of one guest -> host notification, three ways, from
 * CPL3 (where guestlet's drivers run):
 *   mmio-exit       MMIO write that exits to vmm (the emulated-I/O path)
 *   mmio-ioeventfd  MMIO write absorbed by an ioeventfd in KVM
 *   pio-ioeventfd   PIO write absorbed by an ioeventfd in KVM
 * Each doorbell is rung exactly n times (one 4-byte write each) so vmm's
 * --stats counts can be checked against n.  Timed with the TSC.
 *
 * Security model: parses only our own command line (see commands.c).
 */
#include "internal.h"

#define BENCH_N_DEFAULT	10000
#define BENCH_N_MAX	1000000000ULL

enum bench_mode { MMIO_EXIT, MMIO_IOEVENTFD, PIO_IOEVENTFD };

static const char *const bench_mode_names[] = {
	[MMIO_EXIT] = "mmio-exit",
	[MMIO_IOEVENTFD] = "mmio-ioeventfd",
	[PIO_IOEVENTFD] = "pio-ioeventfd",
};

/* Ring one doorbell n times; returns the TSC cycles it took. */
static u64 bench_run(enum bench_mode mode, u64 n)
{
	volatile void *mmio = gd_mmio_map(VP_TESTDEV_MMIO);
	volatile void *db_exit = (volatile char *)mmio + VP_TESTDEV_MMIO_EXIT;
	volatile void *db_efd = (volatile char *)mmio + VP_TESTDEV_MMIO_EVENTFD;
	u64 i, t0, t1;

	t0 = gd_cycles();
	switch (mode) {
	case MMIO_EXIT:
		for (i = 0; i < n; i++)
			gd_mmio_write32(db_exit, (u32)i);
		break;
	case MMIO_IOEVENTFD:
		for (i = 0; i < n; i++)
			gd_mmio_write32(db_efd, (u32)i);
		break;
	case PIO_IOEVENTFD:
		for (i = 0; i < n; i++)
			gd_outl(VP_PORT_TESTDEV, (u32)i);
		break;
	}
	t1 = gd_cycles();
	return t1 - t0;
}

void gl_cmd_bench_exits(const char *args, size_t len)
{
	u64 n = BENCH_N_DEFAULT;
	unsigned int m;

	while (len) {
		size_t w = 0;

		while (w < len && args[w] != ' ' && args[w] != '\t')
			w++;
		if (w > 2 && args[0] == 'n' && args[1] == '=') {
			if (gl_parse_u64(args + 2, w - 2, BENCH_N_MAX, &n) || !n)
				gd_die(GL_EXIT_USAGE, "bench-exits: bad count '%.*s' "
				       "(want n=1..%llu)", (int)(w - 2), args + 2,
				       BENCH_N_MAX);
		} else {
			gd_die(GL_EXIT_USAGE, "bench-exits: bad argument '%.*s' "
			       "(want n=N)", (int)w, args);
		}
		while (w < len && (args[w] == ' ' || args[w] == '\t'))
			w++;
		args += w;
		len -= w;
	}
	if (!gd_cycles_khz())
		gd_die(1, "bench-exits: the boot info gives no TSC frequency");

	for (m = 0; m < ARRAY_SIZE(bench_mode_names); m++) {
		u64 ns = gd_cycles_to_ns(bench_run(m, n));

		gd_printf("{\"bench\":\"exits\",\"mode\":\"%s\",\"n\":%llu,"
			  "\"ns_per_op\":%llu}\n", bench_mode_names[m], n,
			  (ns + n / 2) / n);
	}
}

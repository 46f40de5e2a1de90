/* SPDX-License-Identifier: MIT */
/*
 * What vioblk and vionet share: exit statuses, the clock, and bringing up
 * libvirtio-user (shared memory + vhost-user connection) with the same
 * messages for the same failures.
 */
#ifndef GD_TOOLS_TOOL_H
#define GD_TOOLS_TOOL_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <guest-drivers/virtio_user.h>

#define EX_OK		0
#define EX_FAIL		1	/* data/frame check failed, I/O error, device failure */
#define EX_USAGE	2
#define EX_CONNECT	3	/* socket missing, nobody listening, handshake failed */
#define EX_DEVICE	4	/* back-end refused features or is unusable, no memory */

/* SIGINT/SIGTERM: the first finishes the run and reports, the second stops waiting. */
static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (stop_flag < 2)
		stop_flag++;
}

static inline void tool_catch_stop_signals(void)
{
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
}

static inline u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/*
 * Shared memory of @mem bytes (@mem_flags: gd_vu_mem_init()'s), then connect
 * to @socket: EX_OK or the status to exit with.
 */
static inline int tool_connect(const char *prog, const char *socket, size_t mem,
			       unsigned int mem_flags, struct gd_vu_transport *vt)
{
	int ret = gd_vu_mem_init(mem, mem_flags);
	size_t pages = (mem + (2u << 20) - 1) >> 21;	/* as gd_vu_mem_init() rounds */

	if (ret == -ENOMEM && (mem_flags & GD_VU_MEM_HUGETLB)) {
		fprintf(stderr, "%s: --hugetlb: fewer than %zu default-size huge pages free "
			"(%zu MiB needed; reserve them in /proc/sys/vm/nr_hugepages)\n", prog,
			pages, pages * 2);
		return EX_DEVICE;
	}
	if (ret) {
		fprintf(stderr, "%s: cannot create shared memory%s: %s\n", prog,
			mem_flags & GD_VU_MEM_HUGETLB ? " on huge pages" : "", strerror(-ret));
		return EX_DEVICE;
	}
	if (access(socket, F_OK)) {
		fprintf(stderr, "%s: %s: %s (is the back-end running?)\n", prog, socket,
			strerror(errno));
		return EX_CONNECT;
	}
	ret = gd_vu_open(vt, socket, NULL);
	if (ret) {
		fprintf(stderr, "%s: cannot connect to the vhost-user back-end at %s: %s\n",
			prog, socket, strerror(-ret));
		return EX_CONNECT;
	}
	return EX_OK;
}

#endif

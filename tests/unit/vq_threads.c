// SPDX-License-Identifier: MIT
/*
 * Driver side and device side on two threads, each sleeping on an eventfd
 * when it has nothing to do, exactly as a notification-driven driver and
 * back-end would: the device sleeps only after vq_enable_notify() returned
 * false and the driver kicks only when vq_drv_kick_prepare() says so; the
 * driver sleeps only after vq_drv_enable_cb() returned false and the device
 * interrupts only when vq_should_notify() says so.  A lost wakeup in that
 * protocol (a missing barrier, a wrong event index) leaves both sides asleep:
 * a sleep lasting 20 s is reported as that failure rather than hanging.
 * Payloads are checked end to end, with and without EVENT_IDX.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vq_harness.h"

#define NREQ	200000
#define NUM	64
#define SLOTS	(NUM / 2)	/* two descriptors per request */

struct ctx {
	struct harness h;
	int kick_fd, call_fd;
	u8 *out[SLOTS], *in[SLOTS];
	unsigned long kicks, irqs, dev_sleeps, drv_sleeps;
};

static void wait_fd(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	eventfd_t v;
	int r;

	do
		r = poll(&p, 1, 20000);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "lost wakeup: %s never came\n", what);
		exit(1);
	}
	CHECK(r == 1);
	CHECK(eventfd_read(fd, &v) == 0);
}

static void *device(void *arg)
{
	struct ctx *c = arg;
	struct vq *vq = &c->h.dev;
	struct vq_req *req = malloc(sizeof(*req));
	unsigned long served = 0;

	CHECK(req);
	while (served < NREQ) {
		int r;

		vq_disable_notify(vq);
		while ((r = vq_pop(vq, req)) > 0) {
			u64 v;

			CHECK_EQ(req->nr_rd, 1);
			CHECK_EQ(req->nr_wr, 1);
			CHECK_EQ(req->rd_len, 8);
			memcpy(&v, req->rd[0].iov_base, 8);
			v = ~v;
			memcpy(req->wr[0].iov_base, &v, 8);
			CHECK_EQ(vq_push(vq, req->head, 8), 0);
			served++;
			/* Interrupt per push or per burst: alternate the two. */
			if ((served & 1) && vq_should_notify(vq)) {
				CHECK(eventfd_write(c->call_fd, 1) == 0);
				c->irqs++;
			}
		}
		CHECK_EQ(r, 0);
		if (vq_should_notify(vq)) {
			CHECK(eventfd_write(c->call_fd, 1) == 0);
			c->irqs++;
		}
		if (served >= NREQ)
			break;
		if (vq_enable_notify(vq))
			continue;	/* raced with the driver: more work */
		c->dev_sleeps++;
		wait_fd(c->kick_fd, "kick");
	}
	free(req);
	return NULL;
}

static void run(u64 features)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct vq_drv *d;
	unsigned long added = 0, done = 0;
	pthread_t th;
	int i;

	CHECK(c);
	h_mem_init(&c->h, 1 << 20);
	h_queue_init(&c->h, NUM, features);
	d = &c->h.drv;
	for (i = 0; i < SLOTS; i++) {
		c->out[i] = h_alloc(&c->h, 8, 8);
		c->in[i] = h_alloc(&c->h, 8, 8);
	}
	c->kick_fd = eventfd(0, EFD_CLOEXEC);
	c->call_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(c->kick_fd >= 0 && c->call_fd >= 0);
	CHECK(pthread_create(&th, NULL, device, c) == 0);

	vq_drv_disable_cb(d);
	while (done < NREQ) {
		bool progress = false;
		void *tok;
		u32 len;

		/* Add in bursts of 1..SLOTS, as room allows. */
		while (added < NREQ && vq_drv_num_free(d) >= 2) {
			unsigned int s = added % SLOTS;
			u64 v = added;
			struct vq_drv_sg sg[2] = {
				{ h_gpa(&c->h, c->out[s]), 8, false },
				{ h_gpa(&c->h, c->in[s]), 8, true },
			};

			memcpy(c->out[s], &v, 8);
			memset(c->in[s], 0, 8);
			CHECK(vq_drv_add(d, sg, 2, (void *)(uintptr_t)(s + 1)) >= 0);
			added++;
			progress = true;
			if (added % (1 + added % SLOTS) == 0)
				break;
		}
		if (vq_drv_kick_prepare(d)) {
			CHECK(eventfd_write(c->kick_fd, 1) == 0);
			c->kicks++;
		}
		while (vq_drv_get_used(d, &tok, &len) == 1) {
			unsigned int s = (unsigned int)(uintptr_t)tok - 1;
			u64 v, want;

			CHECK(s < SLOTS);
			CHECK_EQ(len, 8);
			memcpy(&v, c->in[s], 8);
			memcpy(&want, c->out[s], 8);
			CHECK(v == ~want);
			/* In order: a slot's request is the done-th one. */
			CHECK_EQ(want, done);
			done++;
			progress = true;
		}
		CHECK(!d->broken);
		if (progress || done >= NREQ)
			continue;
		/* Nothing to add, nothing back: sleep until an interrupt. */
		if (vq_drv_enable_cb(d)) {
			vq_drv_disable_cb(d);
			continue;
		}
		c->drv_sleeps++;
		wait_fd(c->call_fd, "interrupt");
		vq_drv_disable_cb(d);
	}
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(!vq_is_broken(&c->h.dev));
	printf("features %#llx: %d requests, %lu kicks, %lu interrupts, "
	       "device slept %lu, driver slept %lu\n", (unsigned long long)features,
	       NREQ, c->kicks, c->irqs, c->dev_sleeps, c->drv_sleeps);
	close(c->kick_fd);
	close(c->call_fd);
	h_fini(&c->h);
	free(c);
}

int main(void)
{
	run(0);
	run(1ull << VIRTIO_RING_F_EVENT_IDX);
	printf("vq_threads: ok\n");
	return 0;
}

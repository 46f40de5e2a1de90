// SPDX-License-Identifier: MIT
/*
 * perf/ring: the ceiling of the split ring itself.  The driver side
 * (virtio/vq_drv.c) and the device side (virtio/vq.c) run on two threads
 * (pinned to two CPUs when there are two) over one 256-entry ring in shared
 * memory, both polling, with single-descriptor chains.  The driver adds B
 * chains and publishes them with one vq_drv_kick_prepare() (which includes
 * the notification check a real driver does); the device pops and returns
 * them with vq_push_batch() in groups of B (a partial group when the ring runs
 * dry).  One JSON line per batch size:
 *	{"bench":"ring","batch":B,"mops":M,"ops":N}
 * where M is millions of requests completed end to end per second.
 *
 *	perf-ring [OPS [BATCH...]]   default OPS 4000000, batches 1 8 32
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio/mem.h>
#include <virtio/vq.h>
#include <virtio/vq_drv.h>

#define NUM	256
#define BUFSZ	64

struct bench {
	unsigned int batch;
	unsigned long ops;
	u8 *ram;		/* ring + buffers; gpa == hva (identity) */
	size_t ram_size;
	struct vq_mem mem;
	int cpu[2];
	pthread_barrier_t start;
	/* Each side's private state on its own cache lines. */
	struct vq_drv drv __attribute__((aligned(64)));
	struct vq_drv_slot slots[NUM];
	struct vq dev __attribute__((aligned(64)));
	volatile int dev_err __attribute__((aligned(64)));
};

/*
 * An idle poll: pause (less pressure on the line the other side is writing),
 * and after many idle polls in a row give the CPU away, so the bench still
 * moves when the two threads end up sharing one CPU.
 */
static void idle(unsigned int *spins)
{
	__builtin_ia32_pause();
	if (++*spins >= 4096) {
		*spins = 0;
		sched_yield();
	}
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *device_thread(void *arg)
{
	struct bench *b = arg;
	struct vq_req *req = malloc(sizeof(*req));
	struct vq_used used[NUM];
	unsigned long done = 0;
	unsigned int n = 0, spins = 0;

	pin(b->cpu[1]);
	if (!req) {
		b->dev_err = -ENOMEM;
		return NULL;
	}
	vq_disable_notify(&b->dev);
	pthread_barrier_wait(&b->start);
	while (done < b->ops) {
		int r = vq_pop(&b->dev, req);

		if (r == 1) {
			used[n].head = req->head;
			used[n].len = req->wr_len;
			if (++n < b->batch)
				continue;
		} else if (r < 0) {
			b->dev_err = r;
			break;
		}
		if (n == 0) {
			idle(&spins);
			continue;
		}
		spins = 0;
		if (n == 1)
			vq_push(&b->dev, used[0].head, used[0].len);
		else
			vq_push_batch(&b->dev, used, n);
		done += n;
		n = 0;
	}
	free(req);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int run(struct bench *b)
{
	struct vq_drv_cfg cfg = {
		.num = NUM,
		.slots = b->slots,
		.features = (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_F_VERSION_1),
	};
	struct vq_mem_region r = { .fd = -1 };
	unsigned long added = 0, reaped = 0;
	unsigned int spins = 0;
	u8 *bufs;
	pthread_t th;
	double t0, t1;
	int err;

	memset(b->ram, 0, b->ram_size);
	cfg.ring = b->ram;
	if (vq_drv_init(&b->drv, &cfg))
		return -EINVAL;
	bufs = b->ram + 16384;
	r.gpa = r.hva = (uintptr_t)b->ram;
	r.size = b->ram_size;
	vq_mem_init(&b->mem);
	if ((err = vq_mem_add_region(&b->mem, &r)))
		return err;
	vq_init(&b->dev, &b->mem);
	if ((err = vq_set_num(&b->dev, NUM)) ||
	    (err = vq_set_features(&b->dev, cfg.features)) ||
	    (err = vq_set_addr(&b->dev, vq_drv_desc_gpa(&b->drv), vq_drv_avail_gpa(&b->drv),
			       vq_drv_used_gpa(&b->drv))) ||
	    (err = vq_start(&b->dev)))
		return err;
	pthread_barrier_init(&b->start, NULL, 2);
	b->dev_err = 0;
	if (pthread_create(&th, NULL, device_thread, b))
		return -errno;
	pin(b->cpu[0]);
	vq_drv_disable_cb(&b->drv);
	pthread_barrier_wait(&b->start);

	t0 = now();
	while (reaped < b->ops && !b->dev_err) {
		void *tok;
		u32 len;

		while (added < b->ops && vq_drv_num_free(&b->drv) >= b->batch) {
			unsigned int i;

			for (i = 0; i < b->batch && added < b->ops; i++, added++) {
				unsigned int slot = added % NUM;
				struct vq_drv_sg sg = {
					.addr = (uintptr_t)(bufs + slot * BUFSZ),
					.len = BUFSZ,
					.write = true,
				};

				vq_drv_add(&b->drv, &sg, 1, bufs + slot * BUFSZ);
			}
			vq_drv_kick_prepare(&b->drv);	/* polling device: never kicked */
		}
		if (vq_drv_get_used(&b->drv, &tok, &len) != 1) {
			idle(&spins);
			continue;
		}
		spins = 0;
		reaped++;
		while (vq_drv_get_used(&b->drv, &tok, &len) == 1)
			reaped++;
	}
	t1 = now();
	pthread_join(th, NULL);
	pthread_barrier_destroy(&b->start);
	if (b->dev_err || b->drv.broken) {
		fprintf(stderr, "perf-ring: ring broken (device %d, driver %d)\n",
			b->dev_err, b->drv.err);
		return -EIO;
	}
	printf("{\"bench\":\"ring\",\"batch\":%u,\"mops\":%.2f,\"ops\":%lu}\n",
	       b->batch, b->ops / (t1 - t0) / 1e6, b->ops);
	fflush(stdout);
	return 0;
}

/* The first two CPUs we may run on, or -1 (no pinning) if fewer than two. */
static void pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int i, n = 0;

	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	if (n < 2)
		cpu[0] = cpu[1] = -1;
}

int main(int argc, char **argv)
{
	static const unsigned int def_batches[] = { 1, 8, 32 };
	struct bench *b;
	unsigned long ops = 4000000;
	int i, rc = 0;

	if (argc > 1)
		ops = strtoul(argv[1], NULL, 0);
	b = aligned_alloc(64, sizeof(*b));
	if (!b)
		return 1;
	memset(b, 0, sizeof(*b));
	b->ram_size = 16384 + NUM * BUFSZ;
	b->ram = aligned_alloc(4096, b->ram_size);
	if (!b->ram || ops == 0)
		return 1;
	pick_cpus(b->cpu);
	b->ops = ops;
	if (argc > 2) {
		for (i = 2; i < argc && !rc; i++) {
			b->batch = strtoul(argv[i], NULL, 0);
			if (b->batch == 0 || b->batch > NUM) {
				fprintf(stderr, "perf-ring: batch must be 1..%d\n", NUM);
				return 2;
			}
			rc = run(b);
		}
	} else {
		for (i = 0; i < (int)ARRAY_SIZE(def_batches) && !rc; i++) {
			b->batch = def_batches[i];
			rc = run(b);
		}
	}
	free(b->ram);
	free(b);
	return rc ? 1 : 0;
}

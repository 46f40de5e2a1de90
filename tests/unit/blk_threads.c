// SPDX-License-Identifier: MIT
/*
 * The threads engine really runs requests side by side.  Four reads go into
 * four pages of "guest memory" registered with userfaultfd and never touched:
 * each read's copy stops at its page's first touch and the kernel reports
 * the fault to us.  All four faults must be pending at once (four workers
 * blocked in preadv2 together; a serial engine would report one and wait)
 * before we fill any page; then every read completes with the file's bytes.
 * The sync engine is not run here: it would block in blk_queue_submit on the
 * first fault.  Exit 77 where userfaultfd is not allowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>
#include <linux/virtio_blk.h>

#include <vhost-user/blk.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
			__FILE__, __LINE__, #c);			\
		exit(1);						\
	}								\
} while (0)

#define NREQ	4
#define PAGE	4096u

static char path[64];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

struct req {
	struct virtio_blk_outhdr hdr;
	struct iovec out[1], in[2];
	u8 status;
	int done;
};

static void on_done(void *opaque, u16 head, u32 len, void *cookie)
{
	struct req *r = cookie;
	int *n = opaque;

	(void)head;
	(void)len;
	CHECK(!r->done);
	r->done = 1;
	(*n)++;
}

int main(void)
{
	static struct req rq[NREQ];
	static u8 file[NREQ * PAGE];
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct blk_queue_opts o = { .engine = BLK_ENGINE_THREADS, .depth = 8 };
	struct blk_disk *disk;
	struct blk_queue *q;
	uintptr_t seen[NREQ];
	u8 *ram;
	int fd, uffd, n = 0;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		printf("blk_threads: userfaultfd not available here (%s)\n", strerror(errno));
		return 77;
	}
	CHECK(ioctl(uffd, UFFDIO_API, &api) == 0);
	ram = mmap(NULL, NREQ * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ram != MAP_FAILED);
	reg = (struct uffdio_register){
		.range = { .start = (uintptr_t)ram, .len = NREQ * PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0);

	atexit(cleanup);
	strcpy(path, "/dev/shm/blk_threads.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	for (unsigned int i = 0; i < sizeof(file); i++)
		file[i] = (u8)(i * 7 + i / PAGE);
	CHECK(write(fd, file, sizeof(file)) == (ssize_t)sizeof(file));
	close(fd);
	CHECK(blk_disk_open(path, BLK_CACHE_WRITEBACK, false, &disk) == 0);
	CHECK(blk_queue_create(disk, &o, &q) == 0);

	for (unsigned int i = 0; i < NREQ; i++) {
		struct req *r = &rq[i];
		struct blk_req_in in = { r->out, 1, r->in, 2, (u16)i, r };

		r->hdr.type = cpu_to_le32(VIRTIO_BLK_T_IN);
		r->hdr.sector = cpu_to_le64(i * PAGE / 512);
		r->out[0] = (struct iovec){ &r->hdr, sizeof(r->hdr) };
		r->in[0] = (struct iovec){ ram + i * PAGE, PAGE };
		r->in[1] = (struct iovec){ &r->status, 1 };
		r->status = 0xee;
		CHECK(blk_queue_submit(q, &in) == 0);
	}
	CHECK(blk_queue_commit(q) == 0);

	/* Every read's fault, before we resolve any of them. */
	for (unsigned int k = 0; k < NREQ; k++) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg m;

		if (poll(&p, 1, 10000) != 1) {
			fprintf(stderr, "only %u of %u reads in flight at once\n", k, NREQ);
			exit(1);
		}
		CHECK(read(uffd, &m, sizeof(m)) == sizeof(m));
		CHECK(m.event == UFFD_EVENT_PAGEFAULT);
		seen[k] = (uintptr_t)m.arg.pagefault.address & ~(uintptr_t)(PAGE - 1);
		CHECK(seen[k] >= (uintptr_t)ram && seen[k] < (uintptr_t)ram + NREQ * PAGE);
		for (unsigned int j = 0; j < k; j++)
			CHECK(seen[j] != seen[k]);
	}
	printf("ok: %u reads blocked in the kernel at the same time\n", NREQ);
	/* Let them go: zero pages, which the reads then fill with file data. */
	for (unsigned int k = 0; k < NREQ; k++) {
		struct uffdio_zeropage z = { .range = { .start = seen[k], .len = PAGE } };

		CHECK(ioctl(uffd, UFFDIO_ZEROPAGE, &z) == 0);
	}
	while (n < NREQ) {
		int k = blk_queue_complete(q, on_done, &n);

		CHECK(k >= 0);
		if (!k)
			CHECK(blk_queue_drain(q, on_done, &n) == 0);
	}
	for (unsigned int i = 0; i < NREQ; i++) {
		CHECK(rq[i].status == VIRTIO_BLK_S_OK);
		CHECK(!memcmp(ram + i * PAGE, file + i * PAGE, PAGE));
	}
	printf("ok: all %u completed with the file's data\n", NREQ);
	blk_queue_destroy(q);
	blk_disk_close(disk);
	close(uffd);
	return 0;
}

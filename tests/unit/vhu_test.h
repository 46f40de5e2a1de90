/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the vhost-user tests: a dummy device, a back-end thread, a raw
 * hostile client, log capture and fd / mapping counters.
 */
#ifndef VHU_TEST_H
#define VHU_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <vhost-user/backend.h>
#include <vhost-user/frontend.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		exit(1);						\
	}								\
} while (0)
#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
			__FILE__, __LINE__, #a, #b, _a, _b);		\
		exit(1);						\
	}								\
} while (0)

/* --- log capture --------------------------------------------------------- */

static pthread_mutex_t t_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char t_last_log[512];
static unsigned long t_log_lines;

static inline void t_log_sink(const char *line, void *opaque)
{
	(void)opaque;
	pthread_mutex_lock(&t_log_lock);
	snprintf(t_last_log, sizeof(t_last_log), "%s", line);
	t_log_lines++;
	pthread_mutex_unlock(&t_log_lock);
	if (getenv("VHU_TEST_VERBOSE"))
		fprintf(stderr, "log: %s\n", line);
}

static inline void t_log_capture(void)
{
	vhu_set_log(t_log_sink, NULL);
}

/* Clear, so the next line can be checked; also refills the rate limit. */
static inline void t_log_reset(void)
{
	vhu_set_log(t_log_sink, NULL);
	pthread_mutex_lock(&t_log_lock);
	t_last_log[0] = 0;
	t_log_lines = 0;
	pthread_mutex_unlock(&t_log_lock);
}

static inline bool t_log_has(const char *s)
{
	bool r;

	pthread_mutex_lock(&t_log_lock);
	r = strstr(t_last_log, s) != NULL;
	pthread_mutex_unlock(&t_log_lock);
	return r;
}

/* --- leak counters ------------------------------------------------------- */

static inline int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

/*
 * Lines of /proc/self/maps.  Under ASan its allocator maps memory lazily, so
 * only the lines of memfd mappings (every mapping the library makes in these
 * tests: guest RAM, inflight regions) are counted there.
 */
static inline int t_count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
#if defined(__SANITIZE_ADDRESS__)
		if (!strstr(line, "memfd:"))
			continue;
#endif
		n++;
	}
	fclose(f);
	return n;
}

/* --- dummy device -------------------------------------------------------- */

#define T_NR_QUEUES	2
#define T_FEATURES	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX))
#define T_PROTO		((1ull << VHU_PROTOCOL_F_MQ) |			\
			 (1ull << VHU_PROTOCOL_F_REPLY_ACK) |		\
			 (1ull << VHU_PROTOCOL_F_CONFIG) |		\
			 (1ull << VHU_PROTOCOL_F_INFLIGHT_SHMFD) |	\
			 (1ull << VHU_PROTOCOL_F_RESET_DEVICE) |	\
			 (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

struct t_dev {
	u8 config[64];
	int fail_set_config;
	int starts, stops, disconnects;
	u16 stop_base[T_NR_QUEUES];	/* last_avail_idx a stop leaves, if set */
	bool stop_base_set[T_NR_QUEUES];
	volatile u32 sink;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static inline int t_get_config(struct vhu_dev *dev, u32 off, void *buf, u32 len)
{
	struct t_dev *t = vhu_dev_opaque(dev);

	if (off > sizeof(t->config) || len > sizeof(t->config) - off)
		return -EINVAL;
	memcpy(buf, t->config + off, len);
	return 0;
}

static inline int t_set_config(struct vhu_dev *dev, u32 off, const void *buf, u32 len,
			u32 flags)
{
	struct t_dev *t = vhu_dev_opaque(dev);

	(void)flags;
	if (t->fail_set_config)
		return -EIO;
	if (off > sizeof(t->config) || len > sizeof(t->config) - off)
		return -EINVAL;
	memcpy(t->config + off, buf, len);
	return 0;
}

/* Touch the last byte of every ring part: they must be mapped. */
static inline int t_queue_start(struct vhu_dev *dev, struct vhu_vq *vq)
{
	struct t_dev *t = vhu_dev_opaque(dev);
	bool evt = vq->features & (1ull << VIRTIO_RING_F_EVENT_IDX);

	CHECK(vq->desc && vq->avail && vq->used && vq->num);
	t->sink += READ_ONCE(vq->desc[vq->num - 1].len);
	t->sink += READ_ONCE(vq->avail->ring[vq->num - 1]);
	t->sink += READ_ONCE(vq->used->ring[vq->num - 1].len);
	if (evt) {
		t->sink += READ_ONCE(vq->avail->ring[vq->num]);	/* used_event */
		t->sink += READ_ONCE(*(u16 *)&vq->used->ring[vq->num]);	/* avail_event */
	}
	pthread_mutex_lock(&t->lock);
	t->starts++;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static inline void t_queue_stop(struct vhu_dev *dev, struct vhu_vq *vq)
{
	struct t_dev *t = vhu_dev_opaque(dev);

	if (vq->idx < T_NR_QUEUES && t->stop_base_set[vq->idx])
		vq->last_avail_idx = t->stop_base[vq->idx];
	pthread_mutex_lock(&t->lock);
	t->stops++;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static inline void t_disconnected(struct vhu_dev *dev)
{
	struct t_dev *t = vhu_dev_opaque(dev);

	pthread_mutex_lock(&t->lock);
	t->disconnects++;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static const struct vhu_dev_ops t_ops = {
	.name = "test",
	.features = T_FEATURES,
	.protocol_features = T_PROTO,
	.nr_queues = T_NR_QUEUES,
	.max_queue_size = 1024,
	.get_config = t_get_config,
	.set_config = t_set_config,
	.queue_start = t_queue_start,
	.queue_stop = t_queue_stop,
	.disconnected = t_disconnected,
};

static inline void t_dev_init(struct t_dev *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < sizeof(t->config); i++)
		t->config[i] = 0xa0 + i;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
}

/* Wait until *field reaches @n (the back-end thread bumps it). */
static inline void t_wait_count(struct t_dev *t, int *field, int n)
{
	pthread_mutex_lock(&t->lock);
	while (*field < n)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
}

/* --- temp socket path ---------------------------------------------------- */

struct t_path {
	char dir[64];
	char sock[128];
};

/* Removed at exit too, so a failing CHECK leaves no temp files behind. */
static struct t_path *t_paths[4];
static char t_extra_files[4][160];

static inline void t_path_cleanup(void)
{
	for (unsigned int i = 0; i < 4; i++)
		if (t_extra_files[i][0])
			unlink(t_extra_files[i]);
	for (unsigned int i = 0; i < 4; i++) {
		if (!t_paths[i])
			continue;
		unlink(t_paths[i]->sock);
		rmdir(t_paths[i]->dir);
	}
}

/* Also remove @file (inside a t_path dir) at exit. */
static inline void t_path_add_file(const char *file)
{
	for (unsigned int i = 0; i < 4; i++) {
		if (!t_extra_files[i][0]) {
			snprintf(t_extra_files[i], sizeof(t_extra_files[i]), "%s", file);
			return;
		}
	}
}

static inline void t_path_init(struct t_path *p)
{
	static bool registered;

	snprintf(p->dir, sizeof(p->dir), "/tmp/vhu-test.XXXXXX");
	CHECK(mkdtemp(p->dir));
	snprintf(p->sock, sizeof(p->sock), "%s/sock", p->dir);
	for (unsigned int i = 0; i < 4; i++) {
		if (!t_paths[i]) {
			t_paths[i] = p;
			break;
		}
	}
	if (!registered) {
		atexit(t_path_cleanup);
		registered = true;
	}
}

static inline void t_path_fini(struct t_path *p)
{
	unlink(p->sock);
	rmdir(p->dir);
	for (unsigned int i = 0; i < 4; i++)
		if (t_paths[i] == p)
			t_paths[i] = NULL;
}

/* --- back-end thread ----------------------------------------------------- */

struct t_server {
	struct vhu_dev *dev;
	pthread_t thread;
	int stop_fd;
};

static inline void *t_server_main(void *arg)
{
	struct t_server *s = arg;

	for (;;) {
		struct pollfd p[3];
		int n = 0, li = -1, ci = -1;

		p[n++] = (struct pollfd){ .fd = s->stop_fd, .events = POLLIN };
		if (vhu_dev_listen_fd(s->dev) >= 0) {
			li = n;
			p[n++] = (struct pollfd){ .fd = vhu_dev_listen_fd(s->dev),
						  .events = POLLIN };
		}
		if (vhu_dev_conn_fd(s->dev) >= 0) {
			ci = n;
			p[n++] = (struct pollfd){ .fd = vhu_dev_conn_fd(s->dev),
						  .events = POLLIN };
		}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (ci >= 0 && p[ci].revents)
			vhu_dev_dispatch(s->dev);
		if (li >= 0 && (p[li].revents & POLLIN))
			vhu_dev_accept(s->dev);
	}
	return NULL;
}

static inline void t_server_start(struct t_server *s, struct vhu_dev *dev)
{
	s->dev = dev;
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(s->stop_fd >= 0);
	CHECK(pthread_create(&s->thread, NULL, t_server_main, s) == 0);
}

static inline void t_server_stop(struct t_server *s)
{
	u64 one = 1;

	CHECK(write(s->stop_fd, &one, sizeof(one)) == sizeof(one));
	pthread_join(s->thread, NULL);
	close(s->stop_fd);
}

/* --- guest memory -------------------------------------------------------- */

struct t_ram {
	int fd;
	void *hva;
	u64 size;
	u64 gpa;
};

static inline void t_ram_init(struct t_ram *r, u64 gpa, u64 size)
{
	r->fd = memfd_create("t-ram", MFD_CLOEXEC);
	CHECK(r->fd >= 0);
	CHECK(ftruncate(r->fd, size) == 0);
	r->hva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	CHECK(r->hva != MAP_FAILED);
	r->size = size;
	r->gpa = gpa;
}

static inline void t_ram_fini(struct t_ram *r)
{
	munmap(r->hva, r->size);
	close(r->fd);
}

static inline void t_ram_table(const struct t_ram *r, struct vq_mem *m)
{
	struct vq_mem_region reg = {
		.gpa = r->gpa, .size = r->size, .hva = (u64)(uintptr_t)r->hva,
		.fd = r->fd,
	};

	vq_mem_init(m);
	CHECK(vq_mem_add_region(m, &reg) == 0);
}

/* --- raw client ---------------------------------------------------------- */

static inline int t_raw_connect(struct vhu_dev *dev, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	strcpy(sa.sun_path, path);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK_EQ(vhu_dev_accept(dev), 0);
	return fd;
}

static inline void t_raw_send_fds(int fd, u32 req, u32 flags, const void *payload,
			   u32 size, const int *fds, unsigned int nr_fds)
{
	struct vhu_msg_hdr h = { .request = req, .flags = flags, .size = size };
	char buf[sizeof(h) + 512];
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = { buf, sizeof(h) + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	CHECK(size <= 512 && nr_fds <= 16);
	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	if (nr_fds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
	}
	CHECK(sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len);
}

static inline void t_raw_send(int fd, u32 req, const void *payload, u32 size)
{
	t_raw_send_fds(fd, req, VHU_VERSION, payload, size, NULL, 0);
}

/* Send raw bytes, then end the stream (EOF after them). */
static inline void t_raw_send_bytes_eof(int fd, const void *buf, size_t len)
{
	CHECK(send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len);
	CHECK(shutdown(fd, SHUT_WR) == 0);
}

/* Nothing is waiting to be read on @fd (no unexpected reply). */
static inline void t_raw_no_reply(int fd)
{
	char c;

	CHECK(recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
}

/* Receive one reply of @size payload bytes (no fds expected). */
static inline void t_raw_reply(int fd, u32 req, void *payload, u32 size)
{
	struct vhu_msg_hdr h;
	char buf[512];

	CHECK(recv(fd, &h, sizeof(h), MSG_WAITALL) == sizeof(h));
	CHECK_EQ(h.request, req);
	CHECK_EQ(h.flags, VHU_VERSION | VHU_FLAG_REPLY);
	CHECK_EQ(h.size, size);
	CHECK(size <= sizeof(buf));
	if (size)
		CHECK(recv(fd, buf, size, MSG_WAITALL) == (ssize_t)size);
	if (payload)
		memcpy(payload, buf, size);
}

/* Receive one reply of @size payload bytes carrying exactly one fd. */
static inline int t_raw_reply_fd(int fd, u32 req, void *payload, u32 size)
{
	struct vhu_msg_hdr h;
	char buf[512];
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	int rfd;

	CHECK(recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL) == sizeof(h));
	c = CMSG_FIRSTHDR(&mh);
	CHECK(c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)));
	memcpy(&rfd, CMSG_DATA(c), sizeof(int));
	CHECK_EQ(h.request, req);
	CHECK_EQ(h.flags, VHU_VERSION | VHU_FLAG_REPLY);
	CHECK_EQ(h.size, size);
	CHECK(size <= sizeof(buf));
	if (size)
		CHECK(recv(fd, buf, size, MSG_WAITALL) == (ssize_t)size);
	if (payload)
		memcpy(payload, buf, size);
	return rfd;
}

/* Negotiate protocol features @proto on a raw connection. */
static inline void t_raw_negotiate(struct vhu_dev *dev, int fd, u64 proto)
{
	u64 v;

	t_raw_send(fd, VHU_REQ_GET_FEATURES, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_reply(fd, VHU_REQ_GET_FEATURES, &v, 8);
	CHECK(v & (1ull << VHU_F_PROTOCOL_FEATURES));
	t_raw_send(fd, VHU_REQ_SET_PROTOCOL_FEATURES, &proto, 8);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
}

/*
 * The back-end must drop the connection on what @fd just sent: dispatch
 * returns < 0, the client sees EOF, and (when @name) a log line names it.
 */
static inline void t_raw_expect_drop(struct vhu_dev *dev, int fd, const char *name)
{
	char c;

	CHECK(vhu_dev_dispatch(dev) < 0);
	CHECK_EQ(vhu_dev_conn_fd(dev), -1);
	if (name && !t_log_has(name)) {
		fprintf(stderr, "log line \"%s\" does not name %s\n", t_last_log, name);
		exit(1);
	}
	/* Replies the back-end sent before dropping, then EOF. */
	for (;;) {
		ssize_t r = recv(fd, &c, 1, 0);

		/* closed with our bytes unread: the kernel says ECONNRESET */
		CHECK(r >= 0 || errno == ECONNRESET);
		if (r <= 0)
			break;
	}
	close(fd);
}

/* A fresh connection still works: GET_FEATURES answers. */
static inline void t_raw_check_alive(struct vhu_dev *dev, const char *path)
{
	int fd = t_raw_connect(dev, path);
	u64 v;

	t_raw_send(fd, VHU_REQ_GET_FEATURES, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_reply(fd, VHU_REQ_GET_FEATURES, &v, 8);
	CHECK(v & (1ull << VHU_F_PROTOCOL_FEATURES));
	CHECK(v & (1ull << VIRTIO_F_VERSION_1));
	close(fd);
	CHECK(vhu_dev_dispatch(dev) < 0);	/* EOF */
}

/*
 * Run a hostile scenario once with the log checked, then @reps more times,
 * and check that no fd or mapping leaked and the device still serves.
 * @fn connects (t_raw_connect), sends, and returns the client fd.
 */
typedef int t_scenario_fn(struct vhu_dev *dev, const char *path, void *arg);

static inline void t_hostile(struct vhu_dev *dev, const char *path, const char *what,
		      const char *name, t_scenario_fn *fn, void *arg, int reps)
{
	int fds0, maps0, fd;

	t_log_reset();
	fd = fn(dev, path, arg);
	t_raw_expect_drop(dev, fd, name);
	fds0 = t_count_fds();
	maps0 = t_count_maps();
	for (int i = 0; i < reps; i++) {
		fd = fn(dev, path, arg);
		t_raw_expect_drop(dev, fd, NULL);
	}
	CHECK_EQ(t_count_fds(), fds0);
	CHECK_EQ(t_count_maps(), maps0);
	t_raw_check_alive(dev, path);
	fprintf(stderr, "ok: %s (%d reps)\n", what, reps + 1);
}

/*
 * A generic hostile scenario: optionally negotiate protocol features, then
 * send one message with @nfds copies of t_attach_fd.
 */
static int t_attach_fd = -1;

struct t_msg {
	u32 req;
	u32 size;
	union vhu_payload p;
	unsigned int nfds;
	u64 proto;		/* negotiate these first (0: don't) */
	u32 flags;		/* 0: VHU_VERSION */
};

static inline int t_send_msg(struct vhu_dev *dev, const char *path, void *arg)
{
	const struct t_msg *m = arg;
	int fd = t_raw_connect(dev, path);
	int fds[16];

	for (unsigned int i = 0; i < 16; i++)
		fds[i] = t_attach_fd;
	if (m->proto)
		t_raw_negotiate(dev, fd, m->proto);
	t_raw_send_fds(fd, m->req, m->flags ? m->flags : VHU_VERSION, &m->p,
		       m->size, fds, m->nfds);
	return fd;
}

#endif

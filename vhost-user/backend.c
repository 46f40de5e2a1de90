// SPDX-License-Identifier: MIT
/*
 * vhost-user back-end: the one request table and the message handlers.
 *
 * Security model: the front-end is hostile.  Every message is checked before
 * any field is used: the request must be in the table, the header version
 * must be 1, the payload size must be within the request's bounds (checked
 * before reading the payload), the request's protocol feature must have been
 * negotiated, and the number of fds must be exactly what the request carries.
 * Any violation closes every fd the message brought, logs one (rate-limited)
 * line naming the request, and drops the connection; the device is then back
 * to "no front-end" and can accept the next one.  Indices are compared as the
 * full u32 (never truncated first), memory regions are checked for size 0,
 * wrapping sums and their fd's size before mmap, and ring addresses are
 * translated through the memory table for the whole ring.  The inflight region
 * is shared with the front-end and re-read defensively (heads checked against
 * the queue size, walks bounded).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/vhost.h>

#include <vhost-user/backend.h>
#include "internal.h"

struct vhu_map {
	void *base;
	size_t len;
};

struct vhu_dev {
	const struct vhu_dev_ops *ops;
	void *opaque;
	const char *name;
	int listen_fd;
	char *path;
	int conn_fd;
	int mem_fault;		/* set by the SIGBUS guard (guard.c) */
	u64 features_offered;
	u64 proto_offered;
	u64 features;		/* acked by SET_FEATURES */
	u64 proto;		/* acked by SET_PROTOCOL_FEATURES */
	u16 max_queue_size;
	unsigned int nr_queues;
	struct vq_mem mem;
	struct vhu_map maps[VQ_MEM_MAX_REGIONS];	/* parallel to mem.regions */
	void *inflight_map;
	size_t inflight_map_len;
	void *inflight_base;	/* queue 0's struct vhu_inflight_split */
	u16 inflight_nq;
	u16 inflight_qsz;
	bool *inflight_checked;	/* per queue: restored since the region came */
	struct vhu_vq *vqs;
};

#define BE_SUPPORTED_PROTO					\
	((1ull << VHU_PROTOCOL_F_MQ) |				\
	 (1ull << VHU_PROTOCOL_F_REPLY_ACK) |			\
	 (1ull << VHU_PROTOCOL_F_CONFIG) |			\
	 (1ull << VHU_PROTOCOL_F_INFLIGHT_SHMFD) |		\
	 (1ull << VHU_PROTOCOL_F_RESET_DEVICE) |		\
	 (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

#define dev_log(dev, fmt, ...) \
	vhu_log("vhost-user %s: " fmt, (dev)->name, ##__VA_ARGS__)

/* Log a protocol violation by @msg and return -EPROTO (connection dropped). */
#define violation(dev, msg, fmt, ...)					\
	(dev_log(dev, "%s: " fmt "; dropping connection",		\
		 vhu_request_name((msg)->hdr.request), ##__VA_ARGS__), -EPROTO)

static bool has_proto(const struct vhu_dev *dev, unsigned int bit)
{
	return dev->proto & (1ull << bit);
}

/* --- memory -------------------------------------------------------------- */

static void map_release(struct vhu_map *m)
{
	if (m->base) {
		vhu_guard_del(m->base);
		munmap(m->base, m->len);
	}
	m->base = NULL;
	m->len = 0;
}

/*
 * mmap [off, off + size) of @fd.  The mapping starts at the aligned-down
 * offset (hugetlbfs wants huge-page alignment: st_blksize).  *why is set on
 * failure.
 */
static int fd_map(struct vhu_dev *dev, int fd, u64 off, u64 size, struct vhu_map *map,
		  u64 *hva, const char **why)
{
	struct stat st;
	u64 align = (u64)sysconf(_SC_PAGESIZE), moff, delta, len;
	void *p;

	if (size == 0) {
		*why = "size 0";
		return -EINVAL;
	}
	if (size > UINT64_MAX - off) {
		*why = "offset + size wraps";
		return -EOVERFLOW;
	}
	if (fstat(fd, &st) < 0) {
		*why = "fstat failed";
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		if (off + size > (u64)st.st_size) {
			*why = "range past the end of the fd";
			return -EINVAL;
		}
		if (st.st_blksize > 0 && (u64)st.st_blksize > align &&
		    (u64)st.st_blksize <= (1ull << 30) &&
		    !(st.st_blksize & (st.st_blksize - 1)))
			align = st.st_blksize;
	}
	moff = off & ~(align - 1);
	delta = off - moff;
	if (size > SIZE_MAX - delta - align) {
		*why = "size too large";
		return -EOVERFLOW;
	}
	len = (size + delta + align - 1) & ~(align - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, (off_t)moff);
	if (p == MAP_FAILED) {
		*why = "mmap failed";
		return -errno;
	}
	if (vhu_guard_add(p, len, &dev->conn_fd, &dev->mem_fault))
		dev_log(dev, "SIGBUS guard full: a %llu-byte mapping goes unguarded",
			(unsigned long long)len);
	map->base = p;
	map->len = len;
	*hva = (u64)(uintptr_t)p + delta;
	return 0;
}

/* Validate and map one region from the wire into @out / @map. */
static int region_map(struct vhu_dev *dev, const struct vhu_mem_region *w, int fd,
		      struct vq_mem_region *out, struct vhu_map *map,
		      const char **why)
{
	u64 gpa = w->guest_phys_addr, size = w->memory_size;
	u64 ua = w->userspace_addr, off = w->mmap_offset, hva;
	int r;

	if (size == 0) {
		*why = "size 0";
		return -EINVAL;
	}
	if (size > UINT64_MAX - gpa) {
		*why = "guest address + size wraps";
		return -EOVERFLOW;
	}
	if (size > UINT64_MAX - ua) {
		*why = "user address + size wraps";
		return -EOVERFLOW;
	}
	r = fd_map(dev, fd, off, size, map, &hva, why);
	if (r)
		return r;
	*out = (struct vq_mem_region){
		.gpa = gpa, .size = size, .hva = hva, .uaddr = ua,
		.mmap_offset = off, .fd = -1,
	};
	return 0;
}

static void mem_release(struct vhu_dev *dev)
{
	for (unsigned int i = 0; i < dev->mem.nr; i++)
		map_release(&dev->maps[i]);
	vq_mem_init(&dev->mem);
}

/* --- inflight ------------------------------------------------------------ */

static void inflight_release(struct vhu_dev *dev)
{
	if (dev->inflight_map) {
		vhu_guard_del(dev->inflight_map);
		munmap(dev->inflight_map, dev->inflight_map_len);
	}
	dev->inflight_map = NULL;
	dev->inflight_map_len = 0;
	dev->inflight_base = NULL;
	dev->inflight_nq = dev->inflight_qsz = 0;
	memset(dev->inflight_checked, 0, dev->nr_queues * sizeof(bool));
}

struct resub {
	u64 counter;
	u16 head;
};

/* Descending counter: vhu_vq_inflight_resubmit() pops from the end. */
static int resub_cmp(const void *a, const void *b)
{
	const struct resub *x = a, *y = b;

	return x->counter < y->counter ? 1 : x->counter > y->counter ? -1 : 0;
}

/*
 * First start of a queue with this inflight region: either initialise a fresh
 * region or, when a previous back-end used it, finish its last used batch and
 * collect the heads it never completed (vhost-user.rst, "Inflight I/O
 * tracking", split virtqueue).  Returns 0 or -errno.
 */
static int inflight_restore(struct vhu_dev *dev, struct vhu_vq *vq)
{
	struct vhu_inflight_split *f = vq->inflight;
	u16 used_idx = le16_to_cpu((le16)READ_ONCE(vq->used->idx));
	u16 fused, head, n;
	struct resub *list;
	u64 maxc = 0;
	unsigned int i, nr = 0;

	free(vq->resubmit);
	vq->resubmit = NULL;
	vq->nr_resubmit = 0;
	if (READ_ONCE(f->version) == 0) {
		f->features = dev->features;
		f->desc_num = vq->num;
		f->last_batch_head = 0;
		f->used_idx = used_idx;
		/* the fields above are written before version says "in use" */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(f->version, 1);
		vq->inflight_counter = 1;
		return 0;
	}
	fused = READ_ONCE(f->used_idx);
	if (fused != used_idx) {
		/* The last batch reached the used ring; its entries are done. */
		n = used_idx - fused;
		head = READ_ONCE(f->last_batch_head);
		for (i = 0; i < n && i < vq->num && head < vq->num; i++) {
			WRITE_ONCE(f->desc[head].inflight, 0);
			head = READ_ONCE(f->desc[head].next);
		}
		WRITE_ONCE(f->used_idx, used_idx);
	}
	list = calloc(vq->num, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (i = 0; i < vq->num; i++) {
		u64 c;

		if (READ_ONCE(f->desc[i].inflight) != 1)
			continue;
		c = READ_ONCE(f->desc[i].counter);
		list[nr].counter = c;
		list[nr].head = i;
		nr++;
		if (c > maxc)
			maxc = c;
	}
	vq->inflight_counter = maxc + 1;
	if (nr) {
		qsort(list, nr, sizeof(*list), resub_cmp);
		vq->resubmit = malloc(nr * sizeof(u16));
		if (!vq->resubmit) {
			free(list);
			return -ENOMEM;
		}
		for (i = 0; i < nr; i++)
			vq->resubmit[i] = list[i].head;
	}
	free(list);
	vq->nr_resubmit = nr;
	/* Every head taken and not completed is still in flight. */
	vq->last_avail_idx = used_idx + nr;
	return 0;
}

void vhu_vq_inflight_get(struct vhu_vq *vq, u16 head)
{
	struct vhu_inflight_split *f = vq->inflight;

	if (!f || head >= vq->num)
		return;
	f->desc[head].counter = vq->inflight_counter++;
	/* counter is written before the entry is marked in flight */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(f->desc[head].inflight, 1);
}

void vhu_vq_inflight_pre_put(struct vhu_vq *vq, u16 head)
{
	struct vhu_inflight_split *f = vq->inflight;

	if (!f || head >= vq->num)
		return;
	f->desc[head].next = f->last_batch_head;
	/* the link is written before the batch head moves to it */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(f->last_batch_head, head);
}

void vhu_vq_inflight_post_put(struct vhu_vq *vq, u16 head)
{
	struct vhu_inflight_split *f = vq->inflight;

	if (!f || head >= vq->num)
		return;
	/* the caller's used->idx store is ordered before this clear */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(f->desc[head].inflight, 0);
}

void vhu_vq_inflight_set_used_idx(struct vhu_vq *vq, u16 used_idx)
{
	struct vhu_inflight_split *f = vq->inflight;

	if (!f)
		return;
	/* the batch's inflight clears are ordered before used_idx */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(f->used_idx, used_idx);
}

int vhu_vq_inflight_resubmit(struct vhu_vq *vq, u16 *head)
{
	if (!vq->nr_resubmit)
		return 0;
	*head = vq->resubmit[--vq->nr_resubmit];
	if (!vq->nr_resubmit) {
		free(vq->resubmit);
		vq->resubmit = NULL;
	}
	return 1;
}

/* --- queues -------------------------------------------------------------- */

static void vq_stop(struct vhu_dev *dev, struct vhu_vq *vq)
{
	if (!vq->started)
		return;
	if (dev->ops->queue_stop)
		dev->ops->queue_stop(dev, vq);
	vq->started = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->inflight = NULL;	/* the region may be unmapped next */
}

static void stop_all(struct vhu_dev *dev)
{
	for (unsigned int i = 0; i < dev->nr_queues; i++)
		vq_stop(dev, &dev->vqs[i]);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Back to the state of a fresh connection (the queue must be stopped). */
static void vq_reset(struct vhu_vq *vq)
{
	unsigned int idx = vq->idx;
	void *priv = vq->priv;

	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	free(vq->resubmit);
	memset(vq, 0, sizeof(*vq));
	vq->idx = idx;
	vq->priv = priv;
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

/* Translate [ua, ua + size) as one contiguous, aligned host range. */
static void *ring_map(struct vhu_dev *dev, u64 ua, u64 size, u64 align)
{
	u64 len = size;
	void *p = vq_mem_translate_uaddr(&dev->mem, ua, &len);

	if (!p || len != size || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

/*
 * Start @vq if it is ready and not started.  Returns 0 (started, or not
 * ready yet) or 1 when it is ready but cannot start (logged).
 */
static int vq_update(struct vhu_dev *dev, struct vhu_vq *vq)
{
	bool enabled = vq->enabled ||
		       !(dev->features & (1ull << VHU_F_PROTOCOL_FEATURES));
	bool evt = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	u64 num = vq->num;
	int r;

	if (vq->started)
		return 0;
	if (!vq->num_set || !vq->addr_set || !vq->kick_set || !enabled ||
	    !dev->mem.nr)
		return 0;
	vq->desc = ring_map(dev, vq->desc_uaddr, 16 * num, 16);
	vq->avail = ring_map(dev, vq->avail_uaddr, 4 + 2 * num + (evt ? 2 : 0), 2);
	vq->used = ring_map(dev, vq->used_uaddr, 4 + 8 * num + (evt ? 2 : 0), 4);
	if (!vq->desc || !vq->avail || !vq->used) {
		dev_log(dev, "queue %u: ring not inside one memory region", vq->idx);
		goto fail;
	}
	vq->features = dev->features;
	vq->mem = &dev->mem;
	vq->inflight = NULL;
	if (dev->inflight_base && vq->idx < dev->inflight_nq) {
		if (vq->num > dev->inflight_qsz) {
			dev_log(dev, "queue %u: size %u above inflight queue size %u",
				vq->idx, vq->num, dev->inflight_qsz);
			goto fail;
		}
		vq->inflight = (void *)((char *)dev->inflight_base +
			vq->idx * vhu_inflight_queue_size(dev->inflight_qsz));
		if (!dev->inflight_checked[vq->idx]) {
			if (inflight_restore(dev, vq)) {
				dev_log(dev, "queue %u: inflight restore failed", vq->idx);
				goto fail;
			}
			dev->inflight_checked[vq->idx] = true;
		}
	}
	if (dev->ops->queue_start) {
		r = dev->ops->queue_start(dev, vq);
		if (r) {
			dev_log(dev, "queue %u: device failed to start it (%d)",
				vq->idx, r);
			goto fail;
		}
	}
	vq->started = true;
	return 0;
fail:
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->inflight = NULL;
	return 1;
}

static int update_all(struct vhu_dev *dev)
{
	int ret = 0;

	for (unsigned int i = 0; i < dev->nr_queues; i++)
		ret |= vq_update(dev, &dev->vqs[i]);
	return ret;
}

/* Everything a connection (or a device reset) set up goes away. */
static void reset_state(struct vhu_dev *dev)
{
	stop_all(dev);
	for (unsigned int i = 0; i < dev->nr_queues; i++)
		vq_reset(&dev->vqs[i]);
	mem_release(dev);
	inflight_release(dev);
	dev->features = 0;
}

/* --- replies ------------------------------------------------------------- */

static int reply(struct vhu_dev *dev, const struct vhu_msg *msg,
		 const void *payload, u32 size, const int *fds, unsigned int nr)
{
	struct vhu_msg_hdr h = {
		.request = msg->hdr.request,
		.flags = VHU_VERSION | VHU_FLAG_REPLY,
		.size = size,
	};
	int r = vhu_send_msg(dev->conn_fd, &h, payload, fds, nr);

	if (r)
		return violation(dev, msg, "sending the reply failed (%s)",
				 strerror(-r));
	return 0;
}

static int reply_u64(struct vhu_dev *dev, const struct vhu_msg *msg, u64 v)
{
	return reply(dev, msg, &v, sizeof(v), NULL, 0);
}

/* Take fd i out of @msg (the dispatcher closes whatever is left). */
static int take_fd(struct vhu_msg *msg, unsigned int i)
{
	int fd = msg->fds[i];

	msg->fds[i] = -1;
	return fd;
}

/* A vring index from a u32 field: compared whole, never truncated. */
static struct vhu_vq *vq_get(struct vhu_dev *dev, u64 idx)
{
	return idx < dev->nr_queues ? &dev->vqs[idx] : NULL;
}

/* --- handlers ------------------------------------------------------------ */

static int h_get_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	return reply_u64(dev, msg, dev->features_offered);
}

static int h_set_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	u64 f = msg->payload.u64;

	if (f & ~dev->features_offered)
		return violation(dev, msg, "features 0x%llx not offered",
				 (unsigned long long)(f & ~dev->features_offered));
	stop_all(dev);
	dev->features = f;
	if (dev->ops->set_features && dev->ops->set_features(dev, f)) {
		dev_log(dev, "device refused features 0x%llx", (unsigned long long)f);
		return 1;
	}
	return update_all(dev);
}

static int h_set_owner(struct vhu_dev *dev, struct vhu_msg *msg)
{
	(void)dev;
	(void)msg;
	return 0;
}

static int h_reset(struct vhu_dev *dev, struct vhu_msg *msg)
{
	(void)msg;
	reset_state(dev);
	return 0;
}

static int h_set_mem_table(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_mem_table *t = &msg->payload.mem;
	u32 n = t->nregions;
	struct vq_mem mem;
	struct vhu_map maps[VHU_MEM_BASELINE_REGIONS] = { 0 };
	const char *why = NULL;
	unsigned int i;
	int r = 0;

	/* nregions 1..8 and the fd count were checked by the dispatcher */
	if (msg->hdr.size < 8 + n * sizeof(struct vhu_mem_region))
		return violation(dev, msg, "%u regions in %u bytes", n, msg->hdr.size);
	vq_mem_init(&mem);
	for (i = 0; i < n; i++) {
		struct vq_mem_region reg;

		r = region_map(dev, &t->regions[i], msg->fds[i], &reg, &maps[i], &why);
		if (r)
			break;
		r = vq_mem_add_region(&mem, &reg);
		if (r) {
			why = "overlaps another region";
			map_release(&maps[i]);
			break;
		}
	}
	if (r) {
		unsigned int bad = i;

		while (i--)
			map_release(&maps[i]);
		return violation(dev, msg, "region %u: %s (%s)", bad, why,
				 strerror(-r));
	}
	stop_all(dev);
	mem_release(dev);
	dev->mem = mem;
	for (i = 0; i < n; i++)
		dev->maps[i] = maps[i];
	return update_all(dev);
}

static int h_set_log_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_log *l = &msg->payload.log;

	if (l->mmap_size > UINT64_MAX - l->mmap_offset)
		return violation(dev, msg, "mmap_size + mmap_offset wraps");
	return violation(dev, msg, "dirty logging is not supported");
}

static int h_set_log_fd(struct vhu_dev *dev, struct vhu_msg *msg)
{
	return violation(dev, msg, "dirty logging is not supported");
}

static int h_set_vring_num(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_vq *vq = vq_get(dev, msg->payload.state.index);
	u32 num = msg->payload.state.num;

	if (!vq)
		return violation(dev, msg, "vring index %u out of range",
				 msg->payload.state.index);
	if (num == 0 || num > dev->max_queue_size || (num & (num - 1)))
		return violation(dev, msg, "queue %u: bad size %u", vq->idx, num);
	vq_stop(dev, vq);
	vq->num = num;
	vq->num_set = true;
	return vq_update(dev, vq);
}

static int h_set_vring_addr(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhost_vring_addr *a = &msg->payload.addr;
	struct vhu_vq *vq = vq_get(dev, a->index);

	if (!vq)
		return violation(dev, msg, "vring index %u out of range", a->index);
	if (a->flags)
		return violation(dev, msg, "queue %u: flags 0x%x (no logging)",
				 vq->idx, a->flags);
	if ((a->desc_user_addr & 15) || (a->avail_user_addr & 1) ||
	    (a->used_user_addr & 3))
		return violation(dev, msg, "queue %u: misaligned ring", vq->idx);
	vq_stop(dev, vq);
	vq->desc_uaddr = a->desc_user_addr;
	vq->avail_uaddr = a->avail_user_addr;
	vq->used_uaddr = a->used_user_addr;
	vq->log_gpa = a->log_guest_addr;
	vq->addr_flags = a->flags;
	vq->addr_set = true;
	return vq_update(dev, vq);
}

static int h_set_vring_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_vq *vq = vq_get(dev, msg->payload.state.index);
	u32 base = msg->payload.state.num;

	if (!vq)
		return violation(dev, msg, "vring index %u out of range",
				 msg->payload.state.index);
	if (base > 0xffff)
		return violation(dev, msg, "queue %u: base %u above 16 bits",
				 vq->idx, base);
	vq_stop(dev, vq);
	vq->last_avail_idx = base;
	return vq_update(dev, vq);
}

static int h_get_vring_base(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_vq *vq = vq_get(dev, msg->payload.state.index);
	struct vhost_vring_state s;

	if (!vq)
		return violation(dev, msg, "vring index %u out of range",
				 msg->payload.state.index);
	vq_stop(dev, vq);
	/* The ring is stopped until a new kick arrives. */
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	vq->kick_set = false;
	s.index = vq->idx;
	s.num = vq->last_avail_idx;
	return reply(dev, msg, &s, sizeof(s), NULL, 0);
}

static int h_set_vring_fd(struct vhu_dev *dev, struct vhu_msg *msg)
{
	u64 v = msg->payload.u64;
	struct vhu_vq *vq;
	int fd, *slot;

	if (v & ~(VHU_VRING_IDX_MASK | VHU_VRING_NOFD))
		return violation(dev, msg, "reserved bits set in 0x%llx",
				 (unsigned long long)v);
	vq = vq_get(dev, v & VHU_VRING_IDX_MASK);
	if (!vq)
		return violation(dev, msg, "vring index %llu out of range",
				 (unsigned long long)(v & VHU_VRING_IDX_MASK));
	fd = (v & VHU_VRING_NOFD) ? -1 : take_fd(msg, 0);
	switch (msg->hdr.request) {
	case VHU_REQ_SET_VRING_KICK:
		slot = &vq->kick_fd;
		break;
	case VHU_REQ_SET_VRING_CALL:
		slot = &vq->call_fd;
		break;
	default:
		slot = &vq->err_fd;
		break;
	}
	vq_stop(dev, vq);
	close_fd(slot);
	*slot = fd;
	if (msg->hdr.request == VHU_REQ_SET_VRING_KICK)
		vq->kick_set = true;
	return vq_update(dev, vq);
}

static int h_get_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	return reply_u64(dev, msg, dev->proto_offered);
}

static int h_set_protocol_features(struct vhu_dev *dev, struct vhu_msg *msg)
{
	u64 p = msg->payload.u64;

	if (p & ~dev->proto_offered)
		return violation(dev, msg, "protocol features 0x%llx not offered",
				 (unsigned long long)(p & ~dev->proto_offered));
	dev->proto = p;
	return 0;
}

static int h_get_queue_num(struct vhu_dev *dev, struct vhu_msg *msg)
{
	return reply_u64(dev, msg, dev->nr_queues);
}

static int h_set_vring_enable(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_vq *vq = vq_get(dev, msg->payload.state.index);
	u32 en = msg->payload.state.num;

	if (!vq)
		return violation(dev, msg, "vring index %u out of range",
				 msg->payload.state.index);
	if (en > 1)
		return violation(dev, msg, "queue %u: enable value %u", vq->idx, en);
	if (!en)
		vq_stop(dev, vq);
	vq->enabled = en;
	return vq_update(dev, vq);
}

static int check_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_config *c = &msg->payload.config;

	if (c->size > VHU_MAX_CONFIG_SIZE ||
	    msg->hdr.size != VHU_CONFIG_HDR_SIZE + c->size)
		return violation(dev, msg, "config size %u in a %u-byte payload",
				 c->size, msg->hdr.size);
	if (c->offset > VHU_MAX_CONFIG_SIZE - c->size)
		return violation(dev, msg, "config offset %u + size %u too large",
				 c->offset, c->size);
	return 0;
}

static int h_get_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_config *c = &msg->payload.config;
	int r = check_config(dev, msg);

	if (r)
		return r;
	memset(c->region, 0, c->size);
	if (!dev->ops->get_config ||
	    dev->ops->get_config(dev, c->offset, c->region, c->size))
		return reply(dev, msg, NULL, 0, NULL, 0);	/* spec: failure */
	return reply(dev, msg, c, VHU_CONFIG_HDR_SIZE + c->size, NULL, 0);
}

static int h_set_config(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_config *c = &msg->payload.config;
	int r = check_config(dev, msg);

	if (r)
		return r;
	if (c->flags > VHU_SET_CONFIG_MIGRATION)
		return violation(dev, msg, "flags 0x%x", c->flags);
	if (!dev->ops->set_config ||
	    dev->ops->set_config(dev, c->offset, c->region, c->size, c->flags))
		return 1;
	return 0;
}

static int check_inflight(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_inflight *in = &msg->payload.inflight;
	u16 q = in->queue_size;

	if (in->num_queues == 0 || in->num_queues > dev->nr_queues)
		return violation(dev, msg, "num_queues %u (device has %u)",
				 in->num_queues, dev->nr_queues);
	if (q == 0 || q > dev->max_queue_size || (q & (q - 1)))
		return violation(dev, msg, "queue_size %u", q);
	return 0;
}

static int install_inflight(struct vhu_dev *dev, struct vhu_map *map, u64 hva,
			    u16 nq, u16 qsz)
{
	stop_all(dev);
	inflight_release(dev);
	dev->inflight_map = map->base;
	dev->inflight_map_len = map->len;
	dev->inflight_base = (void *)(uintptr_t)hva;
	dev->inflight_nq = nq;
	dev->inflight_qsz = qsz;
	return update_all(dev);
}

static int h_get_inflight_fd(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vhu_inflight in = msg->payload.inflight;
	struct vhu_map map;
	const char *why = NULL;
	u64 size, hva;
	int fd, r;

	r = check_inflight(dev, msg);
	if (r)
		return r;
	size = in.num_queues * vhu_inflight_queue_size(in.queue_size);
	fd = memfd_create("vhost-user-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return violation(dev, msg, "memfd_create failed (%s)", strerror(errno));
	if (ftruncate(fd, size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		r = -errno;
		close(fd);
		return violation(dev, msg, "sizing the region failed (%s)",
				 strerror(-r));
	}
	r = fd_map(dev, fd, 0, size, &map, &hva, &why);
	if (r) {
		close(fd);
		return violation(dev, msg, "%s (%s)", why, strerror(-r));
	}
	install_inflight(dev, &map, hva, in.num_queues, in.queue_size);
	in.mmap_size = size;
	in.mmap_offset = 0;
	in.padding = 0;
	r = reply(dev, msg, &in, sizeof(in), &fd, 1);
	close(fd);
	return r;
}

static int h_set_inflight_fd(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_inflight *in = &msg->payload.inflight;
	struct vhu_map map;
	const char *why = NULL;
	u64 hva;
	int r;

	r = check_inflight(dev, msg);
	if (r)
		return r;
	if (in->mmap_size < in->num_queues * vhu_inflight_queue_size(in->queue_size))
		return violation(dev, msg, "mmap_size %llu too small for %u x %u",
				 (unsigned long long)in->mmap_size,
				 in->num_queues, in->queue_size);
	/* We hand out offset 0; anything else must keep the structs aligned. */
	if (in->mmap_offset % VHU_INFLIGHT_ALIGN)
		return violation(dev, msg, "mmap_offset %llu not %u-byte aligned",
				 (unsigned long long)in->mmap_offset,
				 VHU_INFLIGHT_ALIGN);
	r = fd_map(dev, msg->fds[0], in->mmap_offset, in->mmap_size, &map, &hva, &why);
	if (r)
		return violation(dev, msg, "%s (%s)", why, strerror(-r));
	return install_inflight(dev, &map, hva, in->num_queues, in->queue_size);
}

static int h_get_max_mem_slots(struct vhu_dev *dev, struct vhu_msg *msg)
{
	return reply_u64(dev, msg, VQ_MEM_MAX_REGIONS);
}

static int h_add_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg)
{
	struct vq_mem_region reg;
	struct vhu_map map;
	const char *why = NULL;
	int r;

	if (dev->mem.nr >= VQ_MEM_MAX_REGIONS)
		return violation(dev, msg, "all %u slots in use", VQ_MEM_MAX_REGIONS);
	r = region_map(dev, &msg->payload.mem_reg.region, msg->fds[0], &reg, &map, &why);
	if (r)
		return violation(dev, msg, "%s (%s)", why, strerror(-r));
	stop_all(dev);
	r = vq_mem_add_region(&dev->mem, &reg);
	if (r) {
		map_release(&map);
		update_all(dev);
		return violation(dev, msg, "region overlaps another (%s)",
				 strerror(-r));
	}
	dev->maps[dev->mem.nr - 1] = map;
	return update_all(dev);
}

static int h_rem_mem_reg(struct vhu_dev *dev, struct vhu_msg *msg)
{
	const struct vhu_mem_region *w = &msg->payload.mem_reg.region;
	unsigned int i;

	for (i = 0; i < dev->mem.nr; i++) {
		const struct vq_mem_region *r = &dev->mem.regions[i];

		if (r->gpa == w->guest_phys_addr && r->size == w->memory_size &&
		    r->uaddr == w->userspace_addr)
			break;
	}
	if (i == dev->mem.nr) {
		dev_log(dev, "REM_MEM_REG: no region at gpa 0x%llx",
			(unsigned long long)w->guest_phys_addr);
		return 1;
	}
	stop_all(dev);
	map_release(&dev->maps[i]);
	for (; i + 1 < dev->mem.nr; i++) {
		dev->mem.regions[i] = dev->mem.regions[i + 1];
		dev->maps[i] = dev->maps[i + 1];
	}
	dev->mem.nr--;
	dev->maps[dev->mem.nr] = (struct vhu_map){ 0 };
	update_all(dev);
	return 0;
}

/* --- the request table --------------------------------------------------- */

#define U64_SZ		sizeof(u64)
#define STATE_SZ	sizeof(struct vhost_vring_state)
#define P(f)		VHU_PROTOCOL_F_##f
#define NOP		VHU_NO_PROTO_FEATURE

static const struct vhu_req_info req_table[VHU_REQ_MAX] = {
#define R(req, lo, hi, nfds, feat, rep, fn)				\
	[VHU_REQ_##req] = { .name = #req, .min_size = (lo), .max_size = (hi), \
			    .fds = (nfds), .proto_feature = (feat),	\
			    .has_reply = (rep), .handle = (fn) }
	R(GET_FEATURES, 0, 0, VHU_FDS_NONE, NOP, true, h_get_features),
	R(SET_FEATURES, U64_SZ, U64_SZ, VHU_FDS_NONE, NOP, false, h_set_features),
	R(SET_OWNER, 0, 0, VHU_FDS_NONE, NOP, false, h_set_owner),
	R(RESET_OWNER, 0, 0, VHU_FDS_NONE, NOP, false, h_reset),
	R(SET_MEM_TABLE, 8, sizeof(struct vhu_mem_table), VHU_FDS_REGIONS, NOP,
	  false, h_set_mem_table),
	R(SET_LOG_BASE, sizeof(struct vhu_log), sizeof(struct vhu_log),
	  VHU_FDS_ONE, NOP, false, h_set_log_base),
	R(SET_LOG_FD, 0, 0, VHU_FDS_ONE, NOP, false, h_set_log_fd),
	R(SET_VRING_NUM, STATE_SZ, STATE_SZ, VHU_FDS_NONE, NOP, false,
	  h_set_vring_num),
	R(SET_VRING_ADDR, sizeof(struct vhost_vring_addr),
	  sizeof(struct vhost_vring_addr), VHU_FDS_NONE, NOP, false,
	  h_set_vring_addr),
	R(SET_VRING_BASE, STATE_SZ, STATE_SZ, VHU_FDS_NONE, NOP, false,
	  h_set_vring_base),
	R(GET_VRING_BASE, STATE_SZ, STATE_SZ, VHU_FDS_NONE, NOP, true,
	  h_get_vring_base),
	R(SET_VRING_KICK, U64_SZ, U64_SZ, VHU_FDS_VRING, NOP, false, h_set_vring_fd),
	R(SET_VRING_CALL, U64_SZ, U64_SZ, VHU_FDS_VRING, NOP, false, h_set_vring_fd),
	R(SET_VRING_ERR, U64_SZ, U64_SZ, VHU_FDS_VRING, NOP, false, h_set_vring_fd),
	R(GET_PROTOCOL_FEATURES, 0, 0, VHU_FDS_NONE, NOP, true,
	  h_get_protocol_features),
	R(SET_PROTOCOL_FEATURES, U64_SZ, U64_SZ, VHU_FDS_NONE, NOP, false,
	  h_set_protocol_features),
	R(GET_QUEUE_NUM, 0, 0, VHU_FDS_NONE, P(MQ), true, h_get_queue_num),
	R(SET_VRING_ENABLE, STATE_SZ, STATE_SZ, VHU_FDS_NONE, NOP, false,
	  h_set_vring_enable),
	R(GET_CONFIG, VHU_CONFIG_HDR_SIZE, sizeof(struct vhu_config),
	  VHU_FDS_NONE, P(CONFIG), true, h_get_config),
	R(SET_CONFIG, VHU_CONFIG_HDR_SIZE, sizeof(struct vhu_config),
	  VHU_FDS_NONE, P(CONFIG), false, h_set_config),
	R(GET_INFLIGHT_FD, VHU_INFLIGHT_MIN_SIZE, sizeof(struct vhu_inflight),
	  VHU_FDS_NONE, P(INFLIGHT_SHMFD), true, h_get_inflight_fd),
	R(SET_INFLIGHT_FD, VHU_INFLIGHT_MIN_SIZE, sizeof(struct vhu_inflight),
	  VHU_FDS_ONE, P(INFLIGHT_SHMFD), false, h_set_inflight_fd),
	R(RESET_DEVICE, 0, 0, VHU_FDS_NONE, P(RESET_DEVICE), false, h_reset),
	R(GET_MAX_MEM_SLOTS, 0, 0, VHU_FDS_NONE, P(CONFIGURE_MEM_SLOTS), true,
	  h_get_max_mem_slots),
	R(ADD_MEM_REG, sizeof(struct vhu_mem_reg), sizeof(struct vhu_mem_reg),
	  VHU_FDS_ONE, P(CONFIGURE_MEM_SLOTS), false, h_add_mem_reg),
	R(REM_MEM_REG, sizeof(struct vhu_mem_reg), sizeof(struct vhu_mem_reg),
	  VHU_FDS_OPT, P(CONFIGURE_MEM_SLOTS), false, h_rem_mem_reg),
#undef R
};

static const char *const other_names[VHU_REQ_MAX] = {
	[VHU_REQ_SEND_RARP] = "SEND_RARP",
	[VHU_REQ_NET_SET_MTU] = "NET_SET_MTU",
	[VHU_REQ_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHU_REQ_IOTLB_MSG] = "IOTLB_MSG",
	[VHU_REQ_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHU_REQ_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VHU_REQ_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VHU_REQ_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VHU_REQ_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VHU_REQ_POSTCOPY_END] = "POSTCOPY_END",
	[VHU_REQ_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VHU_REQ_VRING_KICK] = "VRING_KICK",
	[VHU_REQ_SET_STATUS] = "SET_STATUS",
	[VHU_REQ_GET_STATUS] = "GET_STATUS",
};

const struct vhu_req_info *vhu_req_info(u32 request)
{
	if (request >= VHU_REQ_MAX || !req_table[request].handle)
		return NULL;
	return &req_table[request];
}

const char *vhu_request_name(u32 request)
{
	if (request >= VHU_REQ_MAX)
		return "UNKNOWN";
	if (req_table[request].name)
		return req_table[request].name;
	return other_names[request] ? other_names[request] : "UNKNOWN";
}

/* --- dispatch ------------------------------------------------------------ */

/* How many fds @msg must carry; -1 if the payload makes that invalid. */
static int fds_expected(const struct vhu_req_info *info, const struct vhu_msg *msg,
			unsigned int *lo, unsigned int *hi)
{
	switch (info->fds) {
	case VHU_FDS_ONE:
		*lo = *hi = 1;
		return 0;
	case VHU_FDS_OPT:
		*lo = 0;
		*hi = 1;
		return 0;
	case VHU_FDS_VRING:
		*lo = *hi = (msg->payload.u64 & VHU_VRING_NOFD) ? 0 : 1;
		return 0;
	case VHU_FDS_REGIONS:
		if (msg->payload.mem.nregions == 0 ||
		    msg->payload.mem.nregions > VHU_MEM_BASELINE_REGIONS)
			return -1;
		*lo = *hi = msg->payload.mem.nregions;
		return 0;
	default:
		*lo = *hi = 0;
		return 0;
	}
}

/* Receive and handle one message: 1 handled, 0 nothing pending, <0 drop. */
static int dispatch_one(struct vhu_dev *dev)
{
	struct vhu_msg msg;
	const struct vhu_req_info *info;
	const char *name;
	unsigned int lo, hi;
	bool ack;
	int r;

	memset(&msg.hdr, 0, sizeof(msg.hdr));
	memset(&msg.payload, 0, sizeof(msg.payload));
	msg.nr_fds = 0;
	r = vhu_recv_bytes(dev->conn_fd, &msg.hdr, sizeof(msg.hdr), &msg, true);
	if (r == -EAGAIN)
		return 0;
	if (r == -ECONNRESET)
		goto out;
	name = vhu_request_name(msg.hdr.request);
	if (r) {
		dev_log(dev, "receiving a message header (request %u, %s) failed (%s); dropping connection",
			msg.hdr.request, name, strerror(-r));
		goto out;
	}
	r = -EPROTO;
	info = vhu_req_info(msg.hdr.request);
	if (!info) {
		dev_log(dev, "unsupported request %u (%s); dropping connection",
			msg.hdr.request, name);
		goto out;
	}
	if ((msg.hdr.flags & VHU_VERSION_MASK) != VHU_VERSION ||
	    (msg.hdr.flags & VHU_FLAG_REPLY)) {
		dev_log(dev, "%s: bad flags 0x%x; dropping connection", name,
			msg.hdr.flags);
		goto out;
	}
	if (msg.hdr.size < info->min_size || msg.hdr.size > info->max_size) {
		dev_log(dev, "%s: payload size %u not in [%u, %u]; dropping connection",
			name, msg.hdr.size, info->min_size, info->max_size);
		goto out;
	}
	r = vhu_recv_bytes(dev->conn_fd, &msg.payload, msg.hdr.size, &msg, false);
	if (r) {
		dev_log(dev, "%s: truncated payload (%s); dropping connection", name,
			strerror(-r));
		r = r == -ECONNRESET ? -EPROTO : r;
		goto out;
	}
	r = -EPROTO;
	if (info->proto_feature != VHU_NO_PROTO_FEATURE &&
	    !has_proto(dev, info->proto_feature)) {
		dev_log(dev, "%s: protocol feature %u not negotiated; dropping connection",
			name, info->proto_feature);
		goto out;
	}
	if (fds_expected(info, &msg, &lo, &hi)) {
		dev_log(dev, "%s: %u regions; dropping connection", name,
			msg.payload.mem.nregions);
		goto out;
	}
	if (msg.nr_fds < lo || msg.nr_fds > hi) {
		dev_log(dev, "%s: %u fds, expected %u; dropping connection", name,
			msg.nr_fds, hi);
		goto out;
	}
	/* as negotiated when the request arrived (not by this request) */
	ack = !info->has_reply && (msg.hdr.flags & VHU_FLAG_NEED_REPLY) &&
	      has_proto(dev, VHU_PROTOCOL_F_REPLY_ACK);
	r = info->handle(dev, &msg);
	vhu_msg_close_fds(&msg);
	if (r < 0)
		return r;
	if (ack) {
		int rr = reply_u64(dev, &msg, r ? 1 : 0);

		if (rr)
			return rr;
	}
	return 1;
out:
	vhu_msg_close_fds(&msg);
	return r;
}

int vhu_dev_dispatch(struct vhu_dev *dev)
{
	int r;

	if (dev->conn_fd < 0)
		return -ENOTCONN;
	do
		r = dispatch_one(dev);
	while (r > 0);
	if (r < 0)
		vhu_dev_disconnect(dev);
	return r;
}

/* --- device and connection ----------------------------------------------- */

int vhu_dev_new(const struct vhu_dev_ops *ops, void *opaque, struct vhu_dev **out)
{
	struct vhu_dev *dev;
	unsigned int mq = ops->max_queue_size ? ops->max_queue_size :
						VHU_MAX_QUEUE_SIZE;

	if (!ops->nr_queues || ops->nr_queues > VHU_MAX_QUEUES ||
	    mq > VHU_MAX_QUEUE_SIZE || (mq & (mq - 1)) ||
	    (ops->features & (1ull << VIRTIO_F_RING_PACKED)))
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->vqs = calloc(ops->nr_queues, sizeof(*dev->vqs));
	dev->inflight_checked = calloc(ops->nr_queues, sizeof(bool));
	if (!dev->vqs || !dev->inflight_checked) {
		free(dev->vqs);
		free(dev->inflight_checked);
		free(dev);
		return -ENOMEM;
	}
	dev->ops = ops;
	dev->opaque = opaque;
	dev->name = ops->name ? ops->name : "device";
	dev->listen_fd = dev->conn_fd = -1;
	dev->nr_queues = ops->nr_queues;
	dev->max_queue_size = mq;
	dev->features_offered = (ops->features & ~(1ull << VHOST_F_LOG_ALL)) |
				(1ull << VHU_F_PROTOCOL_FEATURES);
	dev->proto_offered = ops->protocol_features & BE_SUPPORTED_PROTO;
	if (!ops->get_config)
		dev->proto_offered &= ~(1ull << VHU_PROTOCOL_F_CONFIG);
	vq_mem_init(&dev->mem);
	for (unsigned int i = 0; i < dev->nr_queues; i++) {
		dev->vqs[i].idx = i;
		dev->vqs[i].kick_fd = dev->vqs[i].call_fd = dev->vqs[i].err_fd = -1;
	}
	*out = dev;
	return 0;
}

void vhu_dev_disconnect(struct vhu_dev *dev)
{
	if (dev->conn_fd < 0)
		return;
	if (__atomic_exchange_n(&dev->mem_fault, 0, __ATOMIC_ACQ_REL))
		dev_log(dev, "the front-end shrank a guest memory file under our mapping "
			"(SIGBUS caught; the mapping was replaced by zero pages); dropping connection");
	reset_state(dev);
	dev->proto = 0;
	close_fd(&dev->conn_fd);
	if (dev->ops->disconnected)
		dev->ops->disconnected(dev);
}

void vhu_dev_free(struct vhu_dev *dev)
{
	if (!dev)
		return;
	vhu_dev_disconnect(dev);
	if (dev->listen_fd >= 0) {
		close(dev->listen_fd);
		if (dev->path)
			unlink(dev->path);
	}
	free(dev->path);
	free(dev->vqs);
	free(dev->inflight_checked);
	free(dev);
}

void *vhu_dev_opaque(struct vhu_dev *dev)
{
	return dev->opaque;
}

int vhu_dev_listen(struct vhu_dev *dev, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (dev->listen_fd >= 0)
		return -EBUSY;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* A socket file: stale unless someone still accepts on it. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (r == 0)
			return -EADDRINUSE;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	dev->path = strdup(path);
	if (!dev->path) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	dev->listen_fd = fd;
	return 0;
}

int vhu_dev_listen_fd(struct vhu_dev *dev)
{
	return dev->listen_fd;
}

int vhu_dev_accept(struct vhu_dev *dev)
{
	int fd, r;

	if (dev->listen_fd < 0)
		return -EINVAL;
	fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
	if (dev->conn_fd >= 0) {
		dev_log(dev, "a front-end is already connected; refusing another");
		close(fd);
		return -EBUSY;
	}
	r = vhu_sock_setup(fd, VHU_MSG_TIMEOUT_MS);
	if (r) {
		close(fd);
		return r;
	}
	dev->conn_fd = fd;
	return 0;
}

int vhu_dev_set_conn_fd(struct vhu_dev *dev, int fd)
{
	int r;

	if (dev->conn_fd >= 0)
		return -EBUSY;
	r = vhu_sock_setup(fd, VHU_MSG_TIMEOUT_MS);
	if (r)
		return r;
	dev->conn_fd = fd;
	return 0;
}

int vhu_dev_conn_fd(struct vhu_dev *dev)
{
	return dev->conn_fd;
}

struct vhu_vq *vhu_dev_vq(struct vhu_dev *dev, unsigned int idx)
{
	return idx < dev->nr_queues ? &dev->vqs[idx] : NULL;
}

u64 vhu_dev_features(struct vhu_dev *dev)
{
	return dev->features;
}

u64 vhu_dev_protocol_features(struct vhu_dev *dev)
{
	return dev->proto;
}

const struct vq_mem *vhu_dev_mem(struct vhu_dev *dev)
{
	return &dev->mem;
}

// SPDX-License-Identifier: MIT
/*
 * Modern virtio-pci transport with MSI-X (virtio 1.2, 4.1).
 *
 * Security model: every register access comes from the guest.  Offsets and
 * sizes are checked against each structure; a queue index is checked against
 * nr_queues before use; ring addresses, sizes and alignment are checked when
 * the queue is enabled (not trusted later); writes the spec forbids at that
 * point (queue setup after enable or DRIVER_OK, features after FEATURES_OK) are
 * ignored; what cannot be ignored puts the device in NEEDS_RESET.  Nothing the
 * guest writes can make vmm touch memory outside guest RAM or its own tables.
 *
 * BAR 0 layout (32 KiB, 64-bit memory BAR):
 *   0x0000 common configuration      0x3000 notify doorbells (4 bytes per queue)
 *   0x1000 ISR status                0x4000 MSI-X table
 *   0x2000 device configuration      0x6000 MSI-X pending bit array
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include <kvm/kvm.h>
#include <virtio/mem.h>
#include "virtio_pci.h"

#define BAR_SIZE	0x8000
#define OFF_COMMON	0x0000
#define OFF_ISR		0x1000
#define OFF_DEVCFG	0x2000
#define OFF_NOTIFY	0x3000
#define OFF_MSIX	0x4000
#define OFF_PBA		0x6000
#define NOTIFY_MULT	4
#define COMMON_LEN	0x40	/* through queue_notify_data/queue_reset (1.2) */

#define MSIX_CTRL_MASKED 1u
#define VIRTIO_PCI_ISR_QUEUE 0x1	/* not in the uapi header */

/* Transport feature bits a guest may see; everything else is the device's. */
#define TRANSPORT_FEATURES ((1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
			    (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
			    (1ULL << VIRTIO_F_VERSION_1))
#define DEVICE_FEATURES_MASK ((1ULL << 24) - 1)

#define vpci_log(d, fmt, ...) fprintf(stderr, "vmm: %s: " fmt "\n", (d)->name, ##__VA_ARGS__)

static void deliver(struct vmm_virtio_dev *d, u16 vector, u8 isr_bit);

/* --- interrupts ----------------------------------------------------------- */

static bool vector_live(struct vmm_virtio_dev *d, u16 v)
{
	return d->msix_enabled && !d->msix_fmask && v < d->nr_vectors &&
	       !(d->msix[v].ctrl & MSIX_CTRL_MASKED);
}

static u64 msix_addr(const struct vmm_virtio_dev *d, u16 v)
{
	return (u64)d->msix[v].addr_hi << 32 | d->msix[v].addr_lo;
}

/* The GSI that carries vector @v, created or updated to its current message. */
static int vector_gsi(struct vmm_virtio_dev *d, u16 v)
{
	struct kvm_vm *vm = d->host->vm;
	int gsi = d->vec_gsi[v];

	if (gsi < 0) {
		gsi = kvm_msi_route_add(vm, msix_addr(d, v), d->msix[v].data);
		if (gsi < 0)
			return gsi;
		d->vec_gsi[v] = gsi;
		return gsi;
	}
	return kvm_msi_route_set(vm, gsi, msix_addr(d, v), d->msix[v].data) ? -1 : gsi;
}

static void call_ready(void *opaque, int fd, unsigned int events);
static void drain_call(struct vmm_virtio_dev *d, struct vpci_queue *q);

/*
 * Decide how queue @q's completions reach the guest: straight through KVM
 * (irqfd on the vector's GSI) when the vector is live and irqfd is on, else
 * through vmm's I/O thread (which injects, holds it pending while masked, or
 * raises INTx).  Called with d->lock held whenever any input to that changes.
 */
static void queue_route(struct vmm_virtio_dev *d, struct vpci_queue *q)
{
	int want = -1;

	if (q->call_fd < 0)
		return;
	if (d->host->use_irqfd && q->started && vector_live(d, q->msix_vector))
		want = vector_gsi(d, q->msix_vector);
	if (q->irqfd_gsi != want) {
		if (q->irqfd_gsi >= 0)
			kvm_irqfd_del(d->host->vm, q->irqfd_gsi, q->call_fd);
		q->irqfd_gsi = -1;
		if (want >= 0 && kvm_irqfd_add(d->host->vm, want, q->call_fd) == 0)
			q->irqfd_gsi = want;
	}
	if ((q->irqfd_gsi < 0) != q->watched) {
		if (q->watched) {
			vmm_ev_del(d->host->ev, &q->call_watch);
			q->watched = false;
		} else if (vmm_ev_add(d->host->ev, &q->call_watch, EPOLLIN) == 0) {
			q->watched = true;
		}
	}
	/* An event may have arrived while it was switched: look once more. */
	if (q->watched)
		drain_call(d, q);
}

static void route_all(struct vmm_virtio_dev *d)
{
	for (unsigned int i = 0; i < d->nr_queues; i++)
		queue_route(d, &d->q[i]);
}

static void set_intx(struct vmm_virtio_dev *d, bool level)
{
	if (d->intx_level == level)
		return;
	d->intx_level = level;
	kvm_irq_line(d->host->vm, d->pci.cfg[PCI_INTERRUPT_LINE], level);
}

/* Inject vector @vector (MSI-X) or raise INTx with @isr_bit.  d->lock held. */
static void deliver(struct vmm_virtio_dev *d, u16 vector, u8 isr_bit)
{
	if (!d->msix_enabled) {
		if (d->pci.cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8))
			return;
		d->isr |= isr_bit;
		set_intx(d, true);
		d->stats.irq_vmm++;
		return;
	}
	if (vector >= d->nr_vectors)
		return;		/* VIRTIO_MSI_NO_VECTOR or out of range: no interrupt */
	if (!vector_live(d, vector)) {
		d->pba[vector / 64] |= 1ULL << (vector % 64);
		d->stats.irq_masked++;
		return;
	}
	kvm_signal_msi(d->host->vm, msix_addr(d, vector), d->msix[vector].data);
	d->stats.irq_vmm++;
}

/* Deliver what was held pending for vectors that are live now. */
static void flush_pending(struct vmm_virtio_dev *d)
{
	for (u16 v = 0; v < d->nr_vectors; v++) {
		if (!(d->pba[v / 64] & (1ULL << (v % 64))) || !vector_live(d, v))
			continue;
		d->pba[v / 64] &= ~(1ULL << (v % 64));
		kvm_signal_msi(d->host->vm, msix_addr(d, v), d->msix[v].data);
		d->stats.irq_vmm++;
	}
}

/* Consume a pending completion signal on a call fd vmm watches.  d->lock held. */
static void drain_call(struct vmm_virtio_dev *d, struct vpci_queue *q)
{
	u64 cnt;

	if (read(q->call_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		deliver(d, q->msix_vector, VIRTIO_PCI_ISR_QUEUE);
}

/* I/O thread: the back-end signalled a queue whose call fd is not an irqfd. */
static void call_ready(void *opaque, int fd, unsigned int events)
{
	struct vpci_queue *q = opaque;
	struct vmm_virtio_dev *d = q->dev;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&d->lock);
	if (q->watched)
		drain_call(d, q);
	pthread_mutex_unlock(&d->lock);
}

void vmm_virtio_pci_fail(struct vmm_virtio_dev *d, const char *why)
{
	if (!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		vpci_log(d, "device needs reset: %s", why);
		d->stats.needs_reset++;
	}
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	d->config_gen++;
	if (d->status & VIRTIO_CONFIG_S_DRIVER_OK)
		deliver(d, d->msix_config, VIRTIO_PCI_ISR_CONFIG);
}

/* --- back-end start/stop ------------------------------------------------ */

static u64 notify_addr(struct vmm_virtio_dev *d, unsigned int qi)
{
	return d->pci.bar_addr[0] ? d->pci.bar_addr[0] + OFF_NOTIFY + NOTIFY_MULT * qi : 0;
}

static void queue_bind_ioeventfd(struct vmm_virtio_dev *d, unsigned int qi)
{
	struct vpci_queue *q = &d->q[qi];
	u64 addr = q->started && d->host->use_ioeventfd ? notify_addr(d, qi) : 0;

	if (addr == q->ioeventfd_addr)
		return;
	if (q->ioeventfd_addr)
		kvm_ioeventfd_del(d->host->vm, q->ioeventfd_addr, 2, false, q->kick_fd);
	q->ioeventfd_addr = 0;
	/* Drivers write the 16-bit queue index (no NOTIFICATION_DATA offered). */
	if (addr && kvm_ioeventfd_add(d->host->vm, addr, 2, false, q->kick_fd) == 0)
		q->ioeventfd_addr = addr;
}

static void be_failed(struct vmm_virtio_dev *d, const char *what, int err)
{
	char why[160];

	if (err == -ENOTCONN || err == -EPIPE || err == -ECONNRESET)
		d->be_dead = true;
	snprintf(why, sizeof(why), "back-end %s failed: %s", what, strerror(-err));
	vmm_virtio_pci_fail(d, why);
}

static void queue_stop(struct vmm_virtio_dev *d, unsigned int qi)
{
	struct vpci_queue *q = &d->q[qi];
	unsigned int base;

	if (!q->started)
		return;
	q->started = false;
	queue_bind_ioeventfd(d, qi);
	queue_route(d, q);
	if (q->local) {
		vmm_ev_del(d->host->ev, &q->kick_watch);
		vq_stop(&q->vq);
		q->local = false;
	} else if (!d->be_dead) {
		d->be->ops->get_vring_base(d->be, qi, &base);
	}
}

/* I/O thread: the driver kicked a queue vmm serves itself. */
static void local_kick_ready(void *opaque, int fd, unsigned int events)
{
	struct vpci_queue *q = opaque;
	struct vmm_virtio_dev *d = q->dev;
	u64 cnt;

	(void)events;
	if (read(fd, &cnt, sizeof(cnt)) < 0)
		(void)cnt;	/* spurious wake-up: nothing to drain */
	pthread_mutex_lock(&d->lock);
	if (q->local && q->started && !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	    d->type == VIRTIO_ID_NET)
		vmm_net_ctrl(d, q);
	pthread_mutex_unlock(&d->lock);
}

void vmm_virtio_pci_local_notify(struct vmm_virtio_dev *d, struct vpci_queue *q)
{
	u64 one = 1;

	(void)d;
	/* the call fd is the queue's irqfd, or watched by the I/O thread */
	if (vq_should_notify(&q->vq) && write(q->call_fd, &one, sizeof(one)) < 0)
		(void)one;
}

/* Hand queue @qi to vmm itself (vmm_net_ctrl) instead of the back-end. */
static int local_start(struct vmm_virtio_dev *d, unsigned int qi)
{
	struct vpci_queue *q = &d->q[qi];
	int ret;

	vq_init(&q->vq, &d->mem);
	ret = vq_set_num(&q->vq, q->size);
	if (!ret)
		ret = vq_set_features(&q->vq, d->drv_features);
	if (!ret)
		ret = vq_set_addr(&q->vq, q->desc, q->avail, q->used);
	if (!ret)
		ret = vq_start(&q->vq);
	if (!ret) {
		q->kick_watch = (struct vmm_ev_watch){ .fd = q->kick_fd, .fn = local_kick_ready,
						       .opaque = q };
		ret = vmm_ev_add(d->host->ev, &q->kick_watch, EPOLLIN);
	}
	if (ret) {
		vmm_virtio_pci_fail(d, "cannot set up the control queue");
		return ret;
	}
	q->local = true;
	return 0;
}

/* Which queue vmm serves itself: a net device's control queue, or none (-1). */
static int local_queue(const struct vmm_virtio_dev *d)
{
	if (d->type != VIRTIO_ID_NET || !(d->drv_features & (1ULL << VIRTIO_NET_F_CTRL_VQ)))
		return -1;
	return (d->drv_features & (1ULL << VIRTIO_NET_F_MQ)) ? 2 * d->net_max_pairs : 2;
}

int vmm_virtio_pci_set_active(struct vmm_virtio_dev *d, unsigned int n)
{
	const struct vhost_ops *ops = d->be->ops;
	int ret;

	if (!ops->set_vring_enable)
		return 0;
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct vpci_queue *q = &d->q[i];

		if (!q->started || q->local)
			continue;
		ret = ops->set_vring_enable(d->be, i, i < n);
		if (ret) {
			be_failed(d, "SET_VRING_ENABLE", ret);
			return ret;
		}
	}
	return 0;
}

static int dev_start(struct vmm_virtio_dev *d)
{
	const struct vhost_ops *ops = d->be->ops;
	struct vq_mem mem;
	int ret, ctrl = local_queue(d);
	/* With MQ only the first pair runs until the driver asks for more. */
	unsigned int active = d->nr_queues;

	if (d->be_dead)
		return -ENOTCONN;
	ret = ops->set_features(d->be, d->drv_features);
	if (ret) {
		be_failed(d, "SET_FEATURES", ret);
		return ret;
	}
	kvm_vm_mem_table(d->host->vm, &mem);
	d->mem = mem;
	if (d->type == VIRTIO_ID_NET && (d->drv_features & (1ULL << VIRTIO_NET_F_MQ))) {
		d->net_pairs = 1;
		active = 2;
	}
	ret = ops->set_mem_table(d->be, &mem);
	if (ret) {
		be_failed(d, "SET_MEM_TABLE", ret);
		return ret;
	}
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct vpci_queue *q = &d->q[i];
		struct vhost_vring_gpas a = { .desc = q->desc, .avail = q->avail, .used = q->used };
		const char *what = "SET_VRING_NUM";

		if (!q->enabled)
			continue;
		if ((int)i == ctrl) {
			if (local_start(d, i))
				return -EIO;
			q->started = true;
			queue_bind_ioeventfd(d, i);
			queue_route(d, q);
			continue;
		}
		ret = ops->set_vring_num(d->be, i, q->size);
		if (!ret && (what = "SET_VRING_ADDR"))
			ret = ops->set_vring_addr(d->be, i, &a);
		if (!ret && (what = "SET_VRING_BASE"))
			ret = ops->set_vring_base(d->be, i, 0);
		if (!ret && (what = "SET_VRING_CALL"))
			ret = ops->set_vring_call(d->be, i, q->call_fd);
		if (!ret && (what = "SET_VRING_KICK"))
			ret = ops->set_vring_kick(d->be, i, q->kick_fd);
		if (!ret && ops->set_vring_enable && (what = "SET_VRING_ENABLE"))
			ret = ops->set_vring_enable(d->be, i, i < active);
		if (ret) {
			be_failed(d, what, ret);
			return ret;
		}
		q->started = true;
		queue_bind_ioeventfd(d, i);
		queue_route(d, q);
	}
	return 0;
}

static void queue_reset_state(struct vpci_queue *q)
{
	q->size = q->max_size;
	q->msix_vector = VIRTIO_MSI_NO_VECTOR;
	q->enabled = false;
	q->desc = q->avail = q->used = 0;
}

static void dev_reset(struct vmm_virtio_dev *d)
{
	u64 cnt;

	for (unsigned int i = 0; i < d->nr_queues; i++) {
		queue_stop(d, i);
		queue_reset_state(&d->q[i]);
		/* drop stale kicks and completions of the old incarnation */
		if (read(d->q[i].kick_fd, &cnt, sizeof(cnt)) < 0)
			(void)cnt;
		if (read(d->q[i].call_fd, &cnt, sizeof(cnt)) < 0)
			(void)cnt;
	}
	if (!d->be_dead && d->be->ops->reset)
		d->be->ops->reset(d->be);
	d->status = 0;
	d->drv_features = 0;
	d->dfselect = d->gfselect = 0;
	d->queue_select = 0;
	d->msix_config = VIRTIO_MSI_NO_VECTOR;
	d->isr = 0;
	set_intx(d, false);
}

/* --- common configuration ------------------------------------------------- */

static bool queue_rings_ok(struct vmm_virtio_dev *d, struct vpci_queue *q, const char **why)
{
	struct vq_mem mem;
	u64 n = q->size;

	kvm_vm_mem_table(d->host->vm, &mem);
	if (!n || n > q->max_size || (n & (n - 1))) {
		*why = "queue size is not a power of two up to the maximum";
		return false;
	}
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3)) {
		*why = "misaligned ring (descriptor table 16, driver area 2, device area 4)";
		return false;
	}
	if (!vq_mem_range_ok(&mem, q->desc, 16 * n) ||
	    !vq_mem_range_ok(&mem, q->avail, 6 + 2 * n) ||
	    !vq_mem_range_ok(&mem, q->used, 6 + 8 * n)) {
		*why = "ring outside guest RAM";
		return false;
	}
	return true;
}

static void status_write(struct vmm_virtio_dev *d, u8 v)
{
	u8 old = d->status;

	if (v == 0) {
		dev_reset(d);
		return;
	}
	if ((old & ~v) & ~VIRTIO_CONFIG_S_NEEDS_RESET) {
		/* The driver must never clear a bit but by writing 0: ignore it. */
		return;
	}
	d->status = v | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/* Refuse features we never offered, and legacy (no VERSION_1) drivers. */
		if ((d->drv_features & ~d->dev_features) ||
		    !(d->drv_features & (1ULL << VIRTIO_F_VERSION_1)))
			d->status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			vmm_virtio_pci_fail(d, "DRIVER_OK without FEATURES_OK");
			return;
		}
		if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET)
			return;
		dev_start(d);
	}
}

static void common_read(struct vmm_virtio_dev *d, u64 off, u8 *data, u32 len)
{
	struct virtio_pci_common_cfg c;
	u8 buf[COMMON_LEN];
	struct vpci_queue *q = d->queue_select < d->nr_queues ? &d->q[d->queue_select] : NULL;

	memset(&c, 0, sizeof(c));
	c.device_feature_select = cpu_to_le32(d->dfselect);
	c.device_feature = cpu_to_le32(d->dfselect < 2 ?
				       (u32)(d->dev_features >> (32 * d->dfselect)) : 0);
	c.guest_feature_select = cpu_to_le32(d->gfselect);
	c.guest_feature = cpu_to_le32(d->gfselect < 2 ?
				      (u32)(d->drv_features >> (32 * d->gfselect)) : 0);
	c.msix_config = cpu_to_le16(d->msix_config);
	c.num_queues = cpu_to_le16((u16)d->nr_queues);
	c.device_status = d->status;
	c.config_generation = d->config_gen;
	c.queue_select = cpu_to_le16(d->queue_select);
	if (q) {
		c.queue_size = cpu_to_le16(q->size);
		c.queue_msix_vector = cpu_to_le16(q->msix_vector);
		c.queue_enable = cpu_to_le16(q->enabled);
		c.queue_notify_off = cpu_to_le16(d->queue_select);
		c.queue_desc_lo = cpu_to_le32((u32)q->desc);
		c.queue_desc_hi = cpu_to_le32((u32)(q->desc >> 32));
		c.queue_avail_lo = cpu_to_le32((u32)q->avail);
		c.queue_avail_hi = cpu_to_le32((u32)(q->avail >> 32));
		c.queue_used_lo = cpu_to_le32((u32)q->used);
		c.queue_used_hi = cpu_to_le32((u32)(q->used >> 32));
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &c, sizeof(c));
	if (off < sizeof(buf) && len <= sizeof(buf) - off)
		memcpy(data, buf + off, len);
	else
		memset(data, 0, len);
}

static void set_lo(u64 *v, u32 x) { *v = (*v & ~0xffffffffULL) | x; }
static void set_hi(u64 *v, u32 x) { *v = (*v & 0xffffffffULL) | (u64)x << 32; }

#define F(field) offsetof(struct virtio_pci_common_cfg, field)

static void common_write(struct vmm_virtio_dev *d, u64 off, const u8 *data, u32 len)
{
	struct vpci_queue *q = d->queue_select < d->nr_queues ? &d->q[d->queue_select] : NULL;
	bool q_locked = !q || q->enabled || (d->status & VIRTIO_CONFIG_S_DRIVER_OK);
	u32 v = 0;

	memcpy(&v, data, len > 4 ? 4 : len);
	v = le32_to_cpu(v);

	switch (off) {
	case F(device_feature_select):
		if (len == 4)
			d->dfselect = v;
		return;
	case F(guest_feature_select):
		if (len == 4)
			d->gfselect = v;
		return;
	case F(guest_feature):
		/* Features are frozen once FEATURES_OK is set. */
		if (len != 4 || (d->status & VIRTIO_CONFIG_S_FEATURES_OK) || d->gfselect > 1)
			return;
		if (d->gfselect)
			set_hi(&d->drv_features, v);
		else
			set_lo(&d->drv_features, v);
		return;
	case F(msix_config):
		if (len == 2)
			d->msix_config = (u16)v < d->nr_vectors ? (u16)v : VIRTIO_MSI_NO_VECTOR;
		return;
	case F(device_status):
		if (len == 1)
			status_write(d, (u8)v);
		return;
	case F(queue_select):
		if (len == 2)
			d->queue_select = (u16)v;
		return;
	case F(queue_msix_vector):
		/* A vector may be changed at any time; out of range reads back NO_VECTOR. */
		if (len == 2 && q) {
			q->msix_vector = (u16)v < d->nr_vectors ? (u16)v : VIRTIO_MSI_NO_VECTOR;
			queue_route(d, q);
		}
		return;
	}
	/* The rest is queue setup: only for an existing, not yet enabled queue. */
	if (q_locked)
		return;
	switch (off) {
	case F(queue_size):
		if (len == 2)
			q->size = (u16)v;
		return;
	case F(queue_enable): {
		const char *why;

		if (len != 2 || v != 1)
			return;	/* writing 0 is not allowed; queue_reset is not offered */
		if (!queue_rings_ok(d, q, &why)) {
			char msg[128];

			snprintf(msg, sizeof(msg), "queue %u: %s", d->queue_select, why);
			vmm_virtio_pci_fail(d, msg);
			return;
		}
		q->enabled = true;
		return;
	}
	case F(queue_desc_lo): if (len == 4) set_lo(&q->desc, v); return;
	case F(queue_desc_hi): if (len == 4) set_hi(&q->desc, v); return;
	case F(queue_avail_lo): if (len == 4) set_lo(&q->avail, v); return;
	case F(queue_avail_hi): if (len == 4) set_hi(&q->avail, v); return;
	case F(queue_used_lo): if (len == 4) set_lo(&q->used, v); return;
	case F(queue_used_hi): if (len == 4) set_hi(&q->used, v); return;
	}
}

#undef F

/* --- BAR 0 ---------------------------------------------------------------- */

static void msix_table_io(struct vmm_virtio_dev *d, u64 off, u8 *data, u32 len, bool is_write)
{
	u64 v = off / 16;
	u32 field = (off % 16) / 4, val;
	u32 *words;

	if (v >= d->nr_vectors || len != 4 || (off & 3)) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	words = &d->msix[v].addr_lo;
	if (!is_write) {
		memcpy(data, &words[field], 4);
		return;
	}
	memcpy(&val, data, 4);
	if (field == 3)
		val &= MSIX_CTRL_MASKED;
	if (words[field] == val)
		return;
	words[field] = val;
	if (field < 3 && d->vec_gsi[v] >= 0)
		kvm_msi_route_set(d->host->vm, d->vec_gsi[v], msix_addr(d, (u16)v),
				  d->msix[v].data);
	if (field == 3) {
		route_all(d);
		flush_pending(d);
	}
}

static void bar_io(struct vmm_pci_dev *pd, int bar, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_virtio_dev *d = container_of(pd, struct vmm_virtio_dev, pci);
	u8 *p = data;

	if (bar != 0)
		return;
	pthread_mutex_lock(&d->lock);
	if (off >= OFF_NOTIFY && off < OFF_NOTIFY + 0x1000) {
		u64 qi = (off - OFF_NOTIFY) / NOTIFY_MULT;

		if (!is_write) {
			memset(data, 0, len);
		} else if (qi < d->nr_queues && d->q[qi].started) {
			/* the heavyweight path: ioeventfd off, or an odd-sized write */
			u64 one = 1;

			d->stats.notify_exits++;
			if (write(d->q[qi].kick_fd, &one, sizeof(one)) < 0)
				(void)one;
		} else {
			/* before DRIVER_OK, a queue that does not exist, or not enabled */
			d->stats.notify_ignored++;
		}
	} else if (off < OFF_COMMON + COMMON_LEN) {
		if (is_write)
			common_write(d, off - OFF_COMMON, p, len);
		else
			common_read(d, off - OFF_COMMON, p, len);
	} else if (off == OFF_ISR) {
		if (!is_write) {
			/* read-to-clear, and it deasserts INTx */
			memset(data, 0, len);
			p[0] = d->isr;
			d->isr = 0;
			set_intx(d, false);
		}
	} else if (off >= OFF_DEVCFG && off < OFF_DEVCFG + VPCI_CONFIG_MAX) {
		u64 o = off - OFF_DEVCFG;

		if (o + len > d->config_len) {
			if (!is_write)
				memset(data, 0, len);
		} else if (is_write) {
			if (d->be_dead || d->be->ops->set_config(d->be, (u32)o, data, len) == 0)
				memcpy(&d->config[o], data, len);
		} else {
			memcpy(data, &d->config[o], len);
		}
	} else if (off >= OFF_MSIX && off < OFF_PBA) {
		msix_table_io(d, off - OFF_MSIX, p, len, is_write);
	} else if (off >= OFF_PBA && off < OFF_PBA + 16 && !is_write) {
		u64 o = off - OFF_PBA;

		memcpy(data, (u8 *)d->pba + o, o + len <= 16 ? len : 16 - o);
	} else if (!is_write) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&d->lock);
}

static void bar_moved(struct vmm_pci_dev *pd, int bar, u64 old_addr, u64 new_addr)
{
	struct vmm_virtio_dev *d = container_of(pd, struct vmm_virtio_dev, pci);

	(void)old_addr;
	(void)new_addr;
	if (bar != 0)
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nr_queues; i++)
		queue_bind_ioeventfd(d, i);
	pthread_mutex_unlock(&d->lock);
}

/* --- PCI config space: MSI-X control and the PCI_CFG access window ------- */

static void cfg_written(struct vmm_pci_dev *pd, u32 off, u32 len)
{
	struct vmm_virtio_dev *d = container_of(pd, struct vmm_virtio_dev, pci);
	u32 ctrl = d->msix_cap + PCI_MSIX_FLAGS;
	u32 data = d->pcicfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	pthread_mutex_lock(&d->lock);
	if (off <= ctrl + 1 && off + len > ctrl) {
		u16 flags = vmm_pci_cfg16(pd, ctrl);

		d->msix_enabled = flags & PCI_MSIX_FLAGS_ENABLE;
		d->msix_fmask = flags & PCI_MSIX_FLAGS_MASKALL;
		route_all(d);
		flush_pending(d);
	}
	pthread_mutex_unlock(&d->lock);
	if (off < data + 4 && off + len > data) {
		struct virtio_pci_cfg_cap *c = (void *)&pd->cfg[d->pcicfg_cap];
		u32 l = le32_to_cpu(c->cap.length), o = le32_to_cpu(c->cap.offset);

		if (c->cap.bar == 0 && (l == 1 || l == 2 || l == 4) && o < BAR_SIZE &&
		    l <= BAR_SIZE - o)
			bar_io(pd, 0, o, c->pci_cfg_data, l, true);
	}
}

static void cfg_reading(struct vmm_pci_dev *pd, u32 off, u32 len)
{
	struct vmm_virtio_dev *d = container_of(pd, struct vmm_virtio_dev, pci);
	u32 data = d->pcicfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	if (off < data + 4 && off + len > data) {
		struct virtio_pci_cfg_cap *c = (void *)&pd->cfg[d->pcicfg_cap];
		u32 l = le32_to_cpu(c->cap.length), o = le32_to_cpu(c->cap.offset);

		memset(c->pci_cfg_data, 0, 4);
		if (c->cap.bar == 0 && (l == 1 || l == 2 || l == 4) && o < BAR_SIZE &&
		    l <= BAR_SIZE - o)
			bar_io(pd, 0, o, c->pci_cfg_data, l, false);
	}
}

static const struct vmm_pci_dev_ops vpci_ops = {
	.bar_io = bar_io,
	.cfg_written = cfg_written,
	.cfg_reading = cfg_reading,
	.bar_moved = bar_moved,
};

static void add_virtio_cap(struct vmm_virtio_dev *d, u8 type, u32 off, u32 len)
{
	struct virtio_pci_notify_cap c = {
		.cap = {
			.cap_vndr = PCI_CAP_ID_VNDR,
			.cap_len = sizeof(struct virtio_pci_cap),
			.cfg_type = type,
			.bar = 0,
			.offset = cpu_to_le32(off),
			.length = cpu_to_le32(len),
		},
		.notify_off_multiplier = cpu_to_le32(NOTIFY_MULT),
	};

	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		c.cap.cap_len = sizeof(c);
	vmm_pci_dev_add_cap(&d->pci, &c, c.cap.cap_len);
}

/* I/O thread: the back-end's connection hung up. */
static void be_hangup(void *opaque, int fd, unsigned int events)
{
	struct vmm_virtio_dev *d = opaque;

	(void)events;
	vmm_ev_del(d->host->ev, &d->be_watch);
	(void)fd;
	pthread_mutex_lock(&d->lock);
	d->be_dead = true;
	vmm_virtio_pci_fail(d, "back-end disconnected");
	pthread_mutex_unlock(&d->lock);
}

int vmm_virtio_pci_create(struct vmm_virtio_dev *d, struct vmm_virtio_host *host,
			  const char *name, u16 type, struct vhost_dev *be,
			  unsigned int nr_queues, u16 queue_size)
{
	u32 class_code = type == VIRTIO_ID_NET ? 0x020000 : type == VIRTIO_ID_BLOCK ? 0x018000 :
			 0xff0000;
	struct {
		u8 id, next;
		le16 flags;
		le32 table, pba;
	} __attribute__((packed)) msix;
	struct virtio_pci_cfg_cap pcicfg;
	u64 features;
	u8 off;
	int ret;

	memset(d, 0, sizeof(*d));
	d->host = host;
	d->be = be;
	d->type = type;
	snprintf(d->name, sizeof(d->name), "%s", name);
	pthread_mutex_init(&d->lock, NULL);
	for (unsigned int i = 0; i < VPCI_MAX_QUEUES; i++)
		d->q[i].kick_fd = d->q[i].call_fd = -1;
	if (!queue_size || (queue_size & (queue_size - 1)) || queue_size > 32768)
		return -EINVAL;

	ret = be->ops->get_features(be, &features);
	if (ret)
		return ret;
	d->config_len = type == VIRTIO_ID_BLOCK ? 60 : type == VIRTIO_ID_NET ? 24 : 0;
	if (d->config_len && be->ops->get_config) {
		ret = be->ops->get_config(be, 0, d->config, d->config_len);
		if (ret)
			return ret;
	}
	if (type == VIRTIO_ID_NET) {
		/*
		 * The control queue is vmm's to serve (in vhost-user it is the
		 * front-end's), and vmm does the one command MQ needs (vmm/net_ctrl.c):
		 * CTRL_VQ and MQ are offered together, as the back-end does, or not
		 * at all.  The other control features stay off.  Queues: a pair per
		 * max_virtqueue_pairs, then the control queue.
		 */
		const u64 ctrl = (1ULL << VIRTIO_NET_F_CTRL_VQ) | (1ULL << VIRTIO_NET_F_MQ);
		u16 pairs = (u16)(d->config[8] | d->config[9] << 8);

		features &= ~((1ULL << VIRTIO_NET_F_CTRL_RX) | (1ULL << VIRTIO_NET_F_CTRL_VLAN) |
			      (1ULL << VIRTIO_NET_F_CTRL_RX_EXTRA) |
			      (1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE) |
			      (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR));
		if ((features & ctrl) != ctrl || pairs < 1 || 2U * pairs + 1 > VPCI_MAX_QUEUES)
			features &= ~ctrl;
		d->net_max_pairs = (features & ctrl) ? pairs : 1;
		nr_queues = 2U * d->net_max_pairs + ((features & ctrl) ? 1 : 0);
		if (features & ctrl) {
			d->req = malloc(sizeof(*d->req));
			if (!d->req)
				return -ENOMEM;
		}
	}
	d->dev_features = (features & (DEVICE_FEATURES_MASK | TRANSPORT_FEATURES)) |
			  (1ULL << VIRTIO_F_VERSION_1);
	if (!nr_queues || nr_queues > VPCI_MAX_QUEUES)
		return -EINVAL;
	d->nr_queues = nr_queues;
	d->nr_vectors = nr_queues + 1;
	d->msix_config = VIRTIO_MSI_NO_VECTOR;
	for (unsigned int v = 0; v < VPCI_MAX_VECTORS; v++) {
		d->vec_gsi[v] = -1;
		d->msix[v].ctrl = MSIX_CTRL_MASKED;
	}
	for (unsigned int i = 0; i < nr_queues; i++) {
		struct vpci_queue *q = &d->q[i];

		q->max_size = queue_size;
		queue_reset_state(q);
		q->irqfd_gsi = -1;
		q->dev = d;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0 || q->call_fd < 0)
			return -errno;
		q->call_watch = (struct vmm_ev_watch){ .fd = q->call_fd, .fn = call_ready,
						       .opaque = q };
	}

	vmm_pci_dev_init(&d->pci, &vpci_ops, 0x1af4, 0x1040 + type, class_code, 1,
			 0x1af4, 0x1100);
	vmm_pci_dev_add_bar64(&d->pci, 0, BAR_SIZE);
	add_virtio_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, OFF_COMMON, COMMON_LEN);
	add_virtio_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, OFF_NOTIFY, NOTIFY_MULT * nr_queues);
	add_virtio_cap(d, VIRTIO_PCI_CAP_ISR_CFG, OFF_ISR, 1);
	if (d->config_len)
		add_virtio_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, OFF_DEVCFG, d->config_len);
	memset(&pcicfg, 0, sizeof(pcicfg));
	pcicfg.cap.cap_vndr = PCI_CAP_ID_VNDR;
	pcicfg.cap.cap_len = sizeof(pcicfg);
	pcicfg.cap.cfg_type = VIRTIO_PCI_CAP_PCI_CFG;
	off = vmm_pci_dev_add_cap(&d->pci, &pcicfg, sizeof(pcicfg));
	d->pcicfg_cap = off;
	/* bar, offset, length and the data window are the driver's to write */
	d->pci.wmask[off + offsetof(struct virtio_pci_cap, bar)] = 0xff;
	memset(&d->pci.wmask[off + offsetof(struct virtio_pci_cap, offset)], 0xff, 8);
	memset(&d->pci.wmask[off + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)], 0xff, 4);

	msix = (typeof(msix)){
		.id = PCI_CAP_ID_MSIX,
		.flags = cpu_to_le16((u16)(d->nr_vectors - 1)),
		.table = cpu_to_le32(OFF_MSIX | 0),
		.pba = cpu_to_le32(OFF_PBA | 0),
	};
	off = vmm_pci_dev_add_cap(&d->pci, &msix, sizeof(msix));
	d->msix_cap = off;
	d->pci.wmask[off + PCI_MSIX_FLAGS + 1] =
		(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;

	ret = vmm_pci_bus_add(host->bus, &d->pci);
	if (ret < 0)
		return ret;
	if (be->ops->conn_fd && be->ops->conn_fd(be) >= 0) {
		d->be_watch = (struct vmm_ev_watch){ .fd = be->ops->conn_fd(be), .fn = be_hangup,
						     .opaque = d };
		vmm_ev_add(host->ev, &d->be_watch, EPOLLRDHUP);
	}
	return 0;
}

void vmm_virtio_pci_destroy(struct vmm_virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct vpci_queue *q = &d->q[i];

		if (q->ioeventfd_addr)
			kvm_ioeventfd_del(d->host->vm, q->ioeventfd_addr, 2, false, q->kick_fd);
		if (q->irqfd_gsi >= 0)
			kvm_irqfd_del(d->host->vm, q->irqfd_gsi, q->call_fd);
		if (q->watched)
			vmm_ev_del(d->host->ev, &q->call_watch);
		if (q->local)
			vmm_ev_del(d->host->ev, &q->kick_watch);
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
	}
	free(d->req);
	d->req = NULL;
	pthread_mutex_unlock(&d->lock);
}

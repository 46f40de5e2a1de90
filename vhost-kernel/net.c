// SPDX-License-Identifier: MIT
/*
 * vhost-kernel virtio-net: struct vhost_ops over /dev/vhost-net ioctls, a tap
 * as the back end of both queues.
 *
 * vhost-net runs the split rings itself (a kernel worker per device, woken by
 * the kick eventfd, signalling the call eventfd, which KVM turns into an
 * interrupt through an irqfd).  It takes the ring features (VERSION_1,
 * MRG_RXBUF, EVENT_IDX, INDIRECT_DESC); the net header comes from the tap
 * (IFF_VNET_HDR, TUNSETVNETHDRSZ), and the checksum and segmentation offloads
 * are the tap's (TUNSETOFFLOAD), set from the features the guest accepted.
 * A queue runs while it has a back end (VHOST_NET_SET_BACKEND with the tap
 * fd) and stops when the back end is taken away (fd -1), which is how enable,
 * disable, get_vring_base and reset are done.
 *
 * Multi-queue, as QEMU's vhost=on,queues=N: one vhost-net device (and so one
 * kernel worker) per queue pair, each with its own queue of a multi-queue tap
 * (IFF_MULTI_QUEUE); queue 2i and 2i+1 are pair i's RX and TX, its vhost
 * indexes 0 and 1.  The control queue that turns pairs on and off is the
 * VMM's (vmm/net_ctrl.c), which then enables or disables queues here.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <vhost-kernel/net.h>
#include <virtio/mem.h>

#define F(b)		(1ULL << (b))

/* What vhost-net itself implements (the rest it refuses with EOPNOTSUPP). */
#define VHOST_RING_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | \
			     F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))
/* The tap's offloads, offered when it takes TUNSETOFFLOAD. */
#define TAP_OFFLOAD_FEATURES (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | \
			      F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) | \
			      F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))

struct vhk_pair {
	int vhost_fd;		/* its own vhost-net device */
	int tap_fd;		/* its own queue of the tap */
	bool running[2];	/* RX, TX have the tap as back end */
	unsigned int num[2];
};

struct vhk_net {
	struct vhost_dev dev;
	unsigned int nr_pairs;
	struct vhk_pair pair[VHK_NET_MAX_PAIRS];
	char tap[IFNAMSIZ];
	u64 vhost_features;	/* VHOST_GET_FEATURES */
	u64 acked;		/* what the guest accepted */
	bool tap_offloads;
	u8 mac[6];
	u16 mtu;
	struct vq_mem mem;
};

static struct vhk_net *to_net(struct vhost_dev *d)
{
	return (struct vhk_net *)d;
}

u64 vhk_net_offer(u64 vhost_features, bool tap_offloads, unsigned int pairs)
{
	u64 f = (vhost_features & VHOST_RING_FEATURES) | F(VIRTIO_NET_F_MAC) |
		F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MTU);

	if (tap_offloads)
		f |= TAP_OFFLOAD_FEATURES;
	if (pairs > 1)
		f |= F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ);	/* the VMM serves it */
	return f;
}

/* The pair queue @idx belongs to, or NULL; *@i is its vhost index (0 RX, 1 TX). */
static struct vhk_pair *pair_of(struct vhk_net *n, unsigned int idx, unsigned int *i)
{
	if (idx >= 2 * n->nr_pairs)
		return NULL;
	*i = idx & 1;
	return &n->pair[idx / 2];
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* Attach (fd = the pair's tap queue) or detach (fd = -1) queue @idx's back end. */
static int set_backend(struct vhk_net *n, unsigned int idx, bool run)
{
	unsigned int i;
	struct vhk_pair *p = pair_of(n, idx, &i);
	struct vhost_vring_file f;
	int ret;

	if (!p)
		return -EINVAL;
	if (p->running[i] == run)
		return 0;
	f = (struct vhost_vring_file){ .index = i, .fd = run ? p->tap_fd : -1 };
	ret = xioctl(p->vhost_fd, VHOST_NET_SET_BACKEND, &f);
	if (!ret)
		p->running[i] = run;
	return ret;
}

static int net_get_features(struct vhost_dev *d, u64 *features)
{
	struct vhk_net *n = to_net(d);

	*features = vhk_net_offer(n->vhost_features, n->tap_offloads, n->nr_pairs);
	return 0;
}

static int net_set_features(struct vhost_dev *d, u64 features)
{
	struct vhk_net *n = to_net(d);
	u64 vf = features & n->vhost_features & VHOST_RING_FEATURES;
	int hdr = (features & (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF))) ?
		  (int)sizeof(struct virtio_net_hdr_mrg_rxbuf) : (int)sizeof(struct virtio_net_hdr);
	unsigned int off = 0, p;
	int ret;

	if (features & ~vhk_net_offer(n->vhost_features, n->tap_offloads, n->nr_pairs))
		return -EINVAL;
	for (p = 0; p < n->nr_pairs; p++) {
		ret = xioctl(n->pair[p].vhost_fd, VHOST_SET_FEATURES, &vf);
		if (ret)
			return ret;
		if (ioctl(n->pair[p].tap_fd, TUNSETVNETHDRSZ, &hdr) < 0)
			return -errno;
	}
	/* What the tap may hand the guest: only what the guest said it takes. */
	if (features & F(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (features & F(VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (features & F(VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	if (n->tap_offloads && ioctl(n->pair[0].tap_fd, TUNSETOFFLOAD, off) < 0)
		return -errno;	/* the tap's offloads are the device's, not per queue */
	n->acked = features;
	return 0;
}

static int net_set_owner(struct vhost_dev *d)
{
	(void)d;	/* done once at create: an fd has one owner for its life */
	return 0;
}

static int net_set_mem_table(struct vhost_dev *d, const struct vq_mem *mem)
{
	struct vhk_net *n = to_net(d);
	struct vhost_memory *vm;
	unsigned int i;
	int ret;

	if (mem->nr > VQ_MEM_MAX_REGIONS)
		return -EINVAL;
	vm = calloc(1, sizeof(*vm) + mem->nr * sizeof(vm->regions[0]));
	if (!vm)
		return -ENOMEM;
	vm->nregions = mem->nr;
	for (i = 0; i < mem->nr; i++) {
		vm->regions[i].guest_phys_addr = mem->regions[i].gpa;
		vm->regions[i].memory_size = mem->regions[i].size;
		vm->regions[i].userspace_addr = mem->regions[i].hva;
	}
	for (i = 0, ret = 0; i < n->nr_pairs && !ret; i++)
		ret = xioctl(n->pair[i].vhost_fd, VHOST_SET_MEM_TABLE, vm);
	free(vm);
	if (!ret)
		n->mem = *mem;
	return ret;
}

static int net_set_vring_num(struct vhost_dev *d, unsigned int idx, unsigned int num)
{
	unsigned int i;
	struct vhk_pair *p = pair_of(to_net(d), idx, &i);
	struct vhost_vring_state s = { .num = num };
	int ret;

	if (!p)
		return -EINVAL;
	s.index = i;
	ret = xioctl(p->vhost_fd, VHOST_SET_VRING_NUM, &s);
	if (!ret)
		p->num[i] = num;
	return ret;
}

static int net_set_vring_addr(struct vhost_dev *d, unsigned int idx,
			      const struct vhost_vring_gpas *addr)
{
	struct vhk_net *n = to_net(d);
	unsigned int i;
	struct vhk_pair *p = pair_of(n, idx, &i);
	struct vhost_vring_addr a = { .flags = addr->flags, .log_guest_addr = addr->log };
	u64 hva[3];

	if (!p || !p->num[i])
		return -EINVAL;
	if (vq_mem_split_ring_hvas(&n->mem, addr->desc, addr->avail, addr->used, p->num[i],
				   n->acked & F(VIRTIO_RING_F_EVENT_IDX), hva))
		return -EFAULT;
	a.index = i;
	a.desc_user_addr = hva[0];
	a.avail_user_addr = hva[1];
	a.used_user_addr = hva[2];
	return xioctl(p->vhost_fd, VHOST_SET_VRING_ADDR, &a);
}

static int net_set_vring_base(struct vhost_dev *d, unsigned int idx, unsigned int base)
{
	unsigned int i;
	struct vhk_pair *p = pair_of(to_net(d), idx, &i);
	struct vhost_vring_state s = { .num = base };

	if (!p)
		return -EINVAL;
	s.index = i;
	return xioctl(p->vhost_fd, VHOST_SET_VRING_BASE, &s);
}

static int net_get_vring_base(struct vhost_dev *d, unsigned int idx, unsigned int *base)
{
	struct vhk_net *n = to_net(d);
	unsigned int i;
	struct vhk_pair *p = pair_of(n, idx, &i);
	struct vhost_vring_state s = { 0 };
	int ret;

	if (!p)
		return -EINVAL;
	s.index = i;
	ret = set_backend(n, idx, false);	/* stop the queue first */
	if (!ret)
		ret = xioctl(p->vhost_fd, VHOST_GET_VRING_BASE, &s);
	if (!ret)
		*base = s.num;
	return ret;
}

static int set_vring_fd(struct vhk_net *n, unsigned long req, unsigned int idx, int fd)
{
	unsigned int i;
	struct vhk_pair *p = pair_of(n, idx, &i);
	struct vhost_vring_file f = { .fd = fd };

	if (!p)
		return -EINVAL;
	f.index = i;
	return xioctl(p->vhost_fd, req, &f);
}

static int net_set_vring_kick(struct vhost_dev *d, unsigned int idx, int fd)
{
	return set_vring_fd(to_net(d), VHOST_SET_VRING_KICK, idx, fd);
}

static int net_set_vring_call(struct vhost_dev *d, unsigned int idx, int fd)
{
	return set_vring_fd(to_net(d), VHOST_SET_VRING_CALL, idx, fd);
}

static int net_set_vring_err(struct vhost_dev *d, unsigned int idx, int fd)
{
	return set_vring_fd(to_net(d), VHOST_SET_VRING_ERR, idx, fd);
}

static int net_set_vring_enable(struct vhost_dev *d, unsigned int idx, bool enable)
{
	return set_backend(to_net(d), idx, enable);
}

static int net_get_config(struct vhost_dev *d, u32 offset, void *buf, u32 len)
{
	struct vhk_net *n = to_net(d);
	struct virtio_net_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, n->mac, 6);
	c.status = VIRTIO_NET_S_LINK_UP;	/* little-endian host */
	c.max_virtqueue_pairs = (u16)n->nr_pairs;
	c.mtu = n->mtu;
	if ((u64)offset + len > sizeof(c))
		return -EINVAL;
	memcpy(buf, (u8 *)&c + offset, len);
	return 0;
}

static int net_set_config(struct vhost_dev *d, u32 offset, const void *buf, u32 len)
{
	(void)d; (void)offset; (void)buf; (void)len;
	return -ENOTSUP;	/* virtio-net's config is read-only to the driver */
}

static int net_reset(struct vhost_dev *d)
{
	struct vhk_net *n = to_net(d);
	unsigned int i;
	int ret = 0, r;

	for (i = 0; i < 2 * n->nr_pairs; i++) {
		r = set_backend(n, i, false);
		if (r && !ret)
			ret = r;
		n->pair[i / 2].num[i & 1] = 0;
	}
	n->acked = 0;
	return ret;
}

static void net_destroy(struct vhost_dev *d)
{
	struct vhk_net *n = to_net(d);

	net_reset(d);
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		close(n->pair[i].vhost_fd);
		close(n->pair[i].tap_fd);
	}
	free(n);
}

static const struct vhost_ops vhk_net_ops = {
	.name = "vhost-net",
	.get_features = net_get_features,
	.set_features = net_set_features,
	.set_owner = net_set_owner,
	.set_mem_table = net_set_mem_table,
	.set_vring_num = net_set_vring_num,
	.set_vring_addr = net_set_vring_addr,
	.set_vring_base = net_set_vring_base,
	.get_vring_base = net_get_vring_base,
	.set_vring_kick = net_set_vring_kick,
	.set_vring_call = net_set_vring_call,
	.set_vring_err = net_set_vring_err,
	.set_vring_enable = net_set_vring_enable,
	.get_config = net_get_config,
	.set_config = net_set_config,
	.reset = net_reset,
	.destroy = net_destroy,
	.conn_fd = NULL,
};

#define fail(ret, ...) do { snprintf(err, errlen, __VA_ARGS__); rc = (ret); goto out; } while (0)

/*
 * Open (or create) the tap with a virtio-net header, one queue per pair
 * (IFF_MULTI_QUEUE when more than one); bring it up, read its MTU.
 */
static int tap_open(struct vhk_net *n, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s = -1, rc = 0;

	for (unsigned int p = 0; p < n->nr_pairs; p++) {
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0)
			fail(-errno, "tap=%s: cannot open /dev/net/tun: %s", name, strerror(errno));
		n->pair[p].tap_fd = fd;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
				(n->nr_pairs > 1 ? IFF_MULTI_QUEUE : 0);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0)
			fail(-errno, "tap=%s: TUNSETIFF (queue %u): %s%s", name, p, strerror(errno),
			     errno == EBUSY ? " (another program holds it)" :
			     errno == EPERM ? " (needs CAP_NET_ADMIN, or a tap owned by this user)" :
			     errno == EINVAL ? " (an existing tap made without, or with, multi-queue?)" :
			     "");
	}
	snprintf(n->tap, sizeof(n->tap), "%s", ifr.ifr_name);
	/* Offloads are optional: a tap that refuses them gets plain frames. */
	n->tap_offloads = ioctl(n->pair[0].tap_fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail(-errno, "tap=%s: socket: %s", name, strerror(errno));
	n->mtu = 1500;
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 && ifr.ifr_mtu <= 65535)
		n->mtu = (u16)ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (!(ifr.ifr_flags & IFF_UP) &&
	     (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)))
		fail(-errno, "tap=%s: cannot bring the link up: %s", name, strerror(errno));
out:
	if (s >= 0)
		close(s);
	return rc;
}

static void close_all(struct vhk_net *n)
{
	for (unsigned int p = 0; p < VHK_NET_MAX_PAIRS; p++) {
		if (n->pair[p].vhost_fd >= 0)
			close(n->pair[p].vhost_fd);
		if (n->pair[p].tap_fd >= 0)
			close(n->pair[p].tap_fd);
	}
}

int vhk_net_create(const struct vhk_net_conf *conf, struct vhost_dev **out,
		   char *err, size_t errlen)
{
	const char *path = conf->vhost_path ? conf->vhost_path : "/dev/vhost-net";
	unsigned int pairs = conf->pairs ? conf->pairs : 1;
	struct vhk_net *n;
	int rc = 0;

	*out = NULL;
	if (!conf->tap || !*conf->tap || strlen(conf->tap) >= IFNAMSIZ) {
		snprintf(err, errlen, "tap=%s: interface name empty or longer than %d",
			 conf->tap ? conf->tap : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (pairs > VHK_NET_MAX_PAIRS) {
		snprintf(err, errlen, "queues=%u: at most %d pairs", pairs, VHK_NET_MAX_PAIRS);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int p = 0; p < VHK_NET_MAX_PAIRS; p++)
		n->pair[p].vhost_fd = n->pair[p].tap_fd = -1;
	n->nr_pairs = pairs;
	/* One vhost-net device per pair, each owned by this process. */
	for (unsigned int p = 0; p < pairs; p++) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			fail(-errno, "cannot open %s: %s%s", path, strerror(errno),
			     errno == ENOENT ? " (load the vhost_net module: modprobe vhost_net)" : "");
		n->pair[p].vhost_fd = fd;
		if (ioctl(fd, VHOST_SET_OWNER, NULL) < 0)
			fail(-errno, "%s: VHOST_SET_OWNER: %s", path, strerror(errno));
		if (ioctl(fd, VHOST_GET_FEATURES, &n->vhost_features) < 0)
			fail(-errno, "%s: VHOST_GET_FEATURES: %s", path, strerror(errno));
	}
	if (!(n->vhost_features & F(VIRTIO_F_VERSION_1)))
		fail(-ENOTSUP, "%s: this kernel's vhost-net lacks VIRTIO_F_VERSION_1", path);
	rc = tap_open(n, conf->tap, err, errlen);
	if (rc)
		goto out;
	if (conf->has_mac) {
		memcpy(n->mac, conf->mac, 6);
	} else {
		/* locally administered, unicast; differs per process */
		u32 r = (u32)getpid() * 2654435761u;

		n->mac[0] = 0x52; n->mac[1] = 0x54; n->mac[2] = 0x00;
		n->mac[3] = (u8)(r >> 16); n->mac[4] = (u8)(r >> 8); n->mac[5] = (u8)r;
	}
	vq_mem_init(&n->mem);
	n->dev.ops = &vhk_net_ops;
	n->dev.nr_queues = 2 * pairs;
	n->dev.features = vhk_net_offer(n->vhost_features, n->tap_offloads, pairs);
	*out = &n->dev;
	return 0;
out:
	close_all(n);
	free(n);
	return rc;
}

// SPDX-License-Identifier: MIT
/*
 * vhost-kernel virtio-net: the features it offers (vhost-net's ring features,
 * never vhost's own control bits; the tap's offloads only when the tap takes
 * them) and each set-up failure a host can produce, each a one-line error
 * that says what to do.  The data path needs /dev/vhost-net, which this host
 * lacks; lab_linux_net runs it with a Linux guest in the lab.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <vhost-kernel/net.h>
#include "check.h"

#define F(b) (1ULL << (b))

static void expect_fail(const struct vhk_net_conf *c, int want_ret, const char *want)
{
	struct vhost_dev *d = (struct vhost_dev *)1;
	char err[256] = "";
	int r = vhk_net_create(c, &d, err, sizeof(err));

	CHECK(r == want_ret);
	CHECK(d == NULL);
	if (!strstr(err, want)) {
		fprintf(stderr, "  error '%s' does not mention '%s'\n", err, want);
		failures++;
	}
}

int main(void)
{
	/* What a 6.1 kernel's vhost-net reports (VHOST_NET_FEATURES). */
	u64 vhost = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
		    F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |
		    F(VIRTIO_F_ANY_LAYOUT) | F(VHOST_F_LOG_ALL) | F(VHOST_NET_F_VIRTIO_NET_HDR) |
		    F(VIRTIO_F_ACCESS_PLATFORM);
	u64 o = vhk_net_offer(vhost, false, 1), ot = vhk_net_offer(vhost, true, 1);
	u64 om = vhk_net_offer(vhost, true, 2);

	CHECK(o & F(VIRTIO_F_VERSION_1) && o & F(VIRTIO_NET_F_MRG_RXBUF) &&
	      o & F(VIRTIO_RING_F_EVENT_IDX) && o & F(VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(o & F(VIRTIO_NET_F_MAC) && o & F(VIRTIO_NET_F_STATUS) && o & F(VIRTIO_NET_F_MTU));
	/* vhost's own bits and an IOMMU the VMM does not have are never offered */
	CHECK(!(o & (F(VHOST_F_LOG_ALL) | F(VHOST_NET_F_VIRTIO_NET_HDR) |
		     F(VIRTIO_F_ACCESS_PLATFORM) | F(VIRTIO_F_ANY_LAYOUT))));
	/* one pair: no MQ, no CTRL_VQ; more: both (the VMM serves the control queue) */
	CHECK(!(ot & (F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_VQ))));
	CHECK((om & (F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_VQ))) ==
	      (F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_VQ)));
	CHECK((om & ~(F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_VQ))) == ot);
	CHECK(!(o & (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
		     F(VIRTIO_NET_F_GUEST_TSO4))));
	CHECK(ot & F(VIRTIO_NET_F_CSUM) && ot & F(VIRTIO_NET_F_GUEST_CSUM) &&
	      ot & F(VIRTIO_NET_F_HOST_TSO4) && ot & F(VIRTIO_NET_F_GUEST_TSO6));
	/* a vhost without MRG_RXBUF: not offered */
	CHECK(!(vhk_net_offer(vhost & ~F(VIRTIO_NET_F_MRG_RXBUF), true, 1) &
		F(VIRTIO_NET_F_MRG_RXBUF)));

	expect_fail(&(struct vhk_net_conf){ .tap = "" }, -EINVAL, "interface name empty");
	expect_fail(&(struct vhk_net_conf){ .tap = "a-very-long-tap-name" }, -EINVAL,
		    "longer than 15");
	expect_fail(&(struct vhk_net_conf){ .tap = "vp0", .pairs = 9 }, -EINVAL, "at most 8 pairs");
	expect_fail(&(struct vhk_net_conf){ .tap = "vp0", .vhost_path = "/nonexistent/vhost-net" },
		    -ENOENT, "modprobe vhost_net");
	/* an fd that is not vhost: the first ioctl fails and says which */
	expect_fail(&(struct vhk_net_conf){ .tap = "vp0", .vhost_path = "/dev/null" },
		    -ENOTTY, "/dev/null: VHOST_SET_OWNER");
	/* the second pair's device fails the same way: the first is closed again */
	expect_fail(&(struct vhk_net_conf){ .tap = "vp0", .vhost_path = "/dev/null", .pairs = 2 },
		    -ENOTTY, "/dev/null: VHOST_SET_OWNER");

	return check_exit("vhk_net");
}

/* SPDX-License-Identifier: MIT */
/*
 * vhost-kernel: a virtio-net device whose queues the host kernel's vhost-net
 * serves (/dev/vhost-net), packets to and from a tap interface.  It is a
 * struct vhost_ops (virtio/vhost_ops.h) like the vhost-user front-end, done
 * with ioctls: the VMM's transport programs it the same way, and the data
 * path (ioeventfd kick -> vhost worker -> irqfd call) never leaves the kernel.
 *
 * What vhost-net has no notion of is ours: the device config (MAC, link up,
 * MTU) and the tap's offloads, which follow the features the guest accepts.
 */
#ifndef VHOST_KERNEL_NET_H
#define VHOST_KERNEL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <virtio/types.h>
#include <virtio/vhost_ops.h>

#define VHK_NET_MAX_PAIRS	8

struct vhk_net_conf {
	const char *tap;	/* interface name; created if missing, then set up */
	unsigned int pairs;	/* queue pairs (0 = 1): a vhost-net device and a
				 * tap queue each, IFF_MULTI_QUEUE when > 1 */
	const char *vhost_path;	/* NULL: /dev/vhost-net */
	u8 mac[6];		/* reported in the config space */
	bool has_mac;		/* else a locally administered MAC is made up */
};

/*
 * Open the tap and /dev/vhost-net, take ownership and read vhost's features.
 * On failure returns -errno with one line in @err (naming the tap or the
 * device and what to do, e.g. "modprobe vhost_net").
 */
int vhk_net_create(const struct vhk_net_conf *conf, struct vhost_dev **out,
		   char *err, size_t errlen);

/*
 * The features a virtio-net device over vhost-net and a tap can offer; with
 * more than one pair, MQ and CTRL_VQ (whose queue the VMM serves).
 */
u64 vhk_net_offer(u64 vhost_features, bool tap_offloads, unsigned int pairs);

#endif

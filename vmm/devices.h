/* SPDX-License-Identifier: MIT */
/*
 * vmm's virtio devices: each is the virtio-pci transport plus a struct
 * vhost_dev back-end, built from --disk / --vhost-user options.
 */
#ifndef VMM_DEVICES_H
#define VMM_DEVICES_H

#include <stdio.h>

#include "virtio_pci.h"
#include "vmm.h"

struct blk_server;

struct vmm_device {
	struct vmm_virtio_dev vdev;
	struct vhost_dev *be;
	const struct vmm_dev_opts *opts;
	struct blk_server *inproc;	/* --disk: the back-end running in vmm */
	char name[16];
};

struct vmm_devices {
	unsigned int nr;
	struct vmm_device dev[VMM_MAX_DEVICES];
};

/* Create every device of @o on @host's bus; 0 or -errno with one line in @err. */
int vmm_devices_create(struct vmm_devices *ds, struct vmm_virtio_host *host,
		       const struct vmm_opts *o, char *err, size_t errlen);
void vmm_devices_destroy(struct vmm_devices *ds);
/* ,"devices":[{...},...] for the --stats line */
void vmm_devices_stats_json(struct vmm_devices *ds, FILE *f);

/* disk_inproc.c: --disk, the vhost-user-blk server on vmm's own threads */
int vmm_disk_inproc_create(struct vmm_device *dev, char *err, size_t errlen);
void vmm_disk_inproc_destroy(struct vmm_device *dev);
void vmm_disk_inproc_stats(struct vmm_device *dev, u64 *kicks, u64 *calls);

#endif

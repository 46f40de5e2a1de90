// SPDX-License-Identifier: MIT
/* vmm's virtio devices (see devices.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_ids.h>

#include <vhost-kernel/net.h>
#include <vhost-user/frontend.h>
#include "devices.h"

/* A back-end that is still starting (socket not there or not listening yet)
 * gets this long before vmm gives up. */
#define VHOST_USER_CONNECT_WAIT_MS 2000

static int create_vhost_user(struct vmm_device *dev, char *err, size_t errlen)
{
	int ret, waited = 0;

	for (;;) {
		ret = vhu_fe_connect(dev->opts->path, NULL, &dev->be);
		if ((ret != -ECONNREFUSED && ret != -ENOENT) || waited >= VHOST_USER_CONNECT_WAIT_MS)
			break;
		usleep(50 * 1000);
		waited += 50;
	}
	if (!ret && waited)
		fprintf(stderr, "vmm: --vhost-user=%s: back-end answered after %d ms\n",
			dev->opts->arg, waited);

	if (ret)
		snprintf(err, errlen, "--vhost-user=%s: cannot connect to the back-end: %s",
			 dev->opts->arg, strerror(-ret));
	return ret;
}

static int create_vhost_net(struct vmm_device *dev, char *err, size_t errlen)
{
	struct vhk_net_conf c = { .tap = dev->opts->path, .has_mac = dev->opts->has_mac,
				  .pairs = dev->opts->queues };
	char why[256];
	int ret;

	memcpy(c.mac, dev->opts->mac, 6);
	ret = vhk_net_create(&c, &dev->be, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "--net %s: %s", dev->opts->arg, why);
	return ret;
}

int vmm_devices_create(struct vmm_devices *ds, struct vmm_virtio_host *host,
		       const struct vmm_opts *o, char *err, size_t errlen)
{
	unsigned int blk = 0, net = 0;
	int ret;

	memset(ds, 0, sizeof(*ds));
	for (unsigned int i = 0; i < o->nr_devs; i++) {
		struct vmm_device *dev = &ds->dev[i];
		bool is_net = !strcmp(o->devs[i].type, "net");
		unsigned int nq;

		dev->opts = &o->devs[i];
		if (is_net)
			snprintf(dev->name, sizeof(dev->name), "net%u", net++);
		else
			snprintf(dev->name, sizeof(dev->name), "blk%u", blk++);
		ret = dev->opts->kind == VMM_DEV_DISK ? vmm_disk_inproc_create(dev, err, errlen) :
		      dev->opts->kind == VMM_DEV_NET_TAP ? create_vhost_net(dev, err, errlen) :
		      create_vhost_user(dev, err, errlen);
		if (ret)
			return ret;
		ds->nr = i + 1;
		nq = dev->be->nr_queues ? dev->be->nr_queues : 1;
		if (nq > VPCI_MAX_QUEUES)
			nq = VPCI_MAX_QUEUES;
		/* A net device's queues follow its features and config (virtio_pci.c). */
		if (is_net)
			nq = 0;
		ret = vmm_virtio_pci_create(&dev->vdev, host, dev->name,
					    is_net ? VIRTIO_ID_NET : VIRTIO_ID_BLOCK, dev->be,
					    nq, (u16)dev->opts->queue_size);
		if (ret) {
			snprintf(err, errlen, "%s (%s): cannot create the virtio-pci device: %s",
				 dev->name, dev->opts->arg, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void vmm_devices_destroy(struct vmm_devices *ds)
{
	for (unsigned int i = 0; i < ds->nr; i++) {
		struct vmm_device *dev = &ds->dev[i];

		vmm_virtio_pci_destroy(&dev->vdev);
		if (dev->be && dev->be->ops->destroy)
			dev->be->ops->destroy(dev->be);
		if (dev->inproc)
			vmm_disk_inproc_destroy(dev);
	}
	ds->nr = 0;
}

void vmm_devices_stats_json(struct vmm_devices *ds, FILE *f)
{
	fputs(",\"devices\":[", f);
	for (unsigned int i = 0; i < ds->nr; i++) {
		struct vmm_device *dev = &ds->dev[i];
		struct vmm_virtio_stats *s = &dev->vdev.stats;

		u64 kicks = 0, calls = 0;

		if (dev->inproc)
			vmm_disk_inproc_stats(dev, &kicks, &calls);
		fprintf(f, "%s{\"name\":\"%s\",\"backend\":\"%s\",\"notify_exits\":%llu,"
			"\"notify_ignored\":%llu,\"irq_vmm\":%llu,\"irq_masked\":%llu,"
			"\"irqfd\":%s,\"ioeventfd\":%s,\"needs_reset\":%llu,\"status\":%u",
			i ? "," : "", dev->name,
			dev->opts->kind == VMM_DEV_DISK ? "inproc" :
			dev->opts->kind == VMM_DEV_NET_TAP ? "vhost-net" : "vhost-user",
			(unsigned long long)s->notify_exits, (unsigned long long)s->notify_ignored,
			(unsigned long long)s->irq_vmm, (unsigned long long)s->irq_masked,
			dev->vdev.host->use_irqfd ? "true" : "false",
			dev->vdev.host->use_ioeventfd ? "true" : "false",
			(unsigned long long)s->needs_reset, dev->vdev.status);
		/* Only an in-process back-end can tell what it saw. */
		if (dev->inproc)
			fprintf(f, ",\"backend_kicks\":%llu,\"backend_calls\":%llu",
				(unsigned long long)kicks, (unsigned long long)calls);
		fputc('}', f);
	}
	fputc(']', f);
}

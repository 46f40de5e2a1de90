/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio-pci transport (virtio 1.2 section 4.1) with MSI-X.  A
 * device is this transport plus a struct vhost_dev back-end; the transport never
 * looks at the back-end's queues' contents (the one queue it serves itself is a
 * net device's control queue, vmm/net_ctrl.c).  Each queue's notify doorbell is bound to an
 * ioeventfd the back-end waits on, and each queue's MSI-X vector is an irqfd, so
 * in steady state no notification or completion passes through vmm.  With
 * ioeventfd or irqfd turned off, the same events take a heavyweight exit or a
 * trip through vmm's I/O thread instead (the old emulated I/O path).
 */
#ifndef VMM_VIRTIO_PCI_H
#define VMM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <virtio/types.h>
#include <virtio/vhost_ops.h>
#include <virtio/vq.h>

#include "evloop.h"
#include "pci.h"

#define VPCI_MAX_QUEUES		64
#define VPCI_MAX_VECTORS	(VPCI_MAX_QUEUES + 1)
#define VPCI_CONFIG_MAX		256

struct kvm_vm;

struct vmm_virtio_host {
	struct kvm_vm *vm;
	struct vmm_evloop *ev;
	struct vmm_pci_bus *bus;
	bool use_ioeventfd;
	bool use_irqfd;
};

struct vpci_queue {
	u16 size;
	u16 max_size;
	u16 msix_vector;
	bool enabled;		/* queue_enable written 1 */
	bool started;		/* handed to the back-end */
	u64 desc, avail, used;
	int kick_fd;		/* guest -> back-end */
	int call_fd;		/* back-end -> guest */
	u64 ioeventfd_addr;	/* 0 when no ioeventfd is bound */
	int irqfd_gsi;		/* -1 when call_fd is not an irqfd */
	bool watched;		/* call_fd in vmm's I/O thread */
	struct vmm_ev_watch call_watch;
	/* A queue vmm serves itself (a net control queue), not the back-end. */
	bool local;
	struct vq vq;		/* its device side */
	struct vmm_ev_watch kick_watch;
	void *dev;
};

struct vmm_virtio_dev;
/*
 * Serve a local queue: pop, handle, push, then vmm_virtio_pci_local_notify().
 * Called on vmm's I/O thread with the device lock held.
 */
typedef void (*vpci_local_fn)(struct vmm_virtio_dev *d, struct vpci_queue *q);

struct vpci_msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

struct vmm_virtio_stats {
	u64 notify_exits;	/* doorbells that took a heavyweight exit to vmm */
	u64 notify_ignored;	/* doorbells for a queue that is not live */
	u64 irq_vmm;		/* interrupts vmm injected itself */
	u64 irq_masked;		/* interrupts held pending while masked */
	u64 needs_reset;	/* times the device entered NEEDS_RESET */
};

struct vmm_virtio_dev {
	struct vmm_pci_dev pci;
	struct vmm_virtio_host *host;
	char name[32];
	u16 type;		/* VIRTIO_ID_* */
	struct vhost_dev *be;
	pthread_mutex_t lock;

	u64 dev_features, drv_features;
	u32 dfselect, gfselect;
	u16 msix_config, queue_select;
	u8 status, config_gen, isr;
	bool intx_level;
	bool be_dead;		/* back-end gone: every later start fails */
	unsigned int nr_queues;
	struct vpci_queue q[VPCI_MAX_QUEUES];

	u8 config[VPCI_CONFIG_MAX];
	u32 config_len;

	unsigned int nr_vectors;
	struct vpci_msix_entry msix[VPCI_MAX_VECTORS];
	int vec_gsi[VPCI_MAX_VECTORS];
	u64 pba[2];
	u8 msix_cap, pcicfg_cap;
	bool msix_enabled, msix_fmask;

	struct vmm_ev_watch be_watch;
	struct vmm_virtio_stats stats;

	/* virtio-net: MQ and the control queue vmm serves (vmm/net_ctrl.c) */
	u16 net_max_pairs;	/* pairs the back-end offers (config max_virtqueue_pairs) */
	u16 net_pairs;		/* pairs the driver has asked for */
	struct vq_mem mem;	/* guest RAM, for local queues */
	struct vq_req *req;	/* scratch for local queues */
};

/*
 * Create a virtio-pci device of @type (VIRTIO_ID_BLOCK, VIRTIO_ID_NET) over
 * back-end @be with @nr_queues queues of at most @queue_size entries, and put
 * it on the bus.  The back-end's features and config are read now.  A net
 * device's queue count comes from those (pairs, control queue): pass 0.
 */
int vmm_virtio_pci_create(struct vmm_virtio_dev *d, struct vmm_virtio_host *host,
			  const char *name, u16 type, struct vhost_dev *be,
			  unsigned int nr_queues, u16 queue_size);
void vmm_virtio_pci_destroy(struct vmm_virtio_dev *d);

/* Mark the device broken (NEEDS_RESET + config interrupt), logging @why once. */
void vmm_virtio_pci_fail(struct vmm_virtio_dev *d, const char *why);

/* Interrupt for a local queue if its ring wants one.  Device lock held. */
void vmm_virtio_pci_local_notify(struct vmm_virtio_dev *d, struct vpci_queue *q);

/*
 * Tell the back-end which queues carry traffic: the first @n (a net device's
 * active pairs times two); the rest are disabled.  Device lock held.  0 or
 * the back-end's error (the device is then marked broken).
 */
int vmm_virtio_pci_set_active(struct vmm_virtio_dev *d, unsigned int n);

/* virtio-net control queue commands (vmm/net_ctrl.c). */
void vmm_net_ctrl(struct vmm_virtio_dev *d, struct vpci_queue *q);

#endif

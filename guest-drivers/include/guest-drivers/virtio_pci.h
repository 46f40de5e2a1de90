/* SPDX-License-Identifier: MIT */
/*
 * Modern virtio-pci transport (virtio 1.2, 4.1) for bare-metal guest-drivers
 * builds (guestlet): finds devices on PCI bus 0 (vendor 0x1af4, device
 * 0x1040 + virtio type), parses the virtio vendor capabilities and the MSI-X
 * capability, maps BAR regions through the identity map and implements the
 * struct gd_virtio_transport ops with MMIO.
 *
 * Interrupts: gd_vpci_setup_msix() gives every MSI-X table entry a
 * count-only CPU vector (gd_irq_alloc_vector(NULL, NULL)), so the CPL0 side
 * of an interrupt is 7 instructions; irq_count() is gd_irq_count() of the
 * queue's vector and irq_wait() halts in gd_wait_for_irq() (call with
 * interrupts disabled, as guestlet's CPL3 code runs), or, with irq_spin set
 * and interrupts enabled, spins until the count moves.
 */
#ifndef GUEST_DRIVERS_VIRTIO_PCI_H
#define GUEST_DRIVERS_VIRTIO_PCI_H

#include <linux/virtio_pci.h>
#include <guest-drivers/pci.h>
#include <guest-drivers/virtio.h>

#define GD_VPCI_VENDOR		0x1af4
#define GD_VPCI_DEVICE_BASE	0x1040
#define GD_VPCI_MAX_QUEUES	16
#define GD_VPCI_MAX_VECTORS	(GD_VPCI_MAX_QUEUES + 1)

struct gd_vpci {
	struct gd_virtio_transport t;
	struct gd_pci_dev pci;
	u16 type;			/* virtio device id */
	volatile struct virtio_pci_common_cfg *common;
	volatile u8 *isr;
	volatile u8 *devcfg;		/* NULL if the device has none */
	u32 devcfg_len;
	volatile u8 *notify;
	u32 notify_len;
	u32 notify_mult;
	u8 msix_cap;			/* 0: no MSI-X */
	u16 msix_size;			/* table entries */
	volatile u32 *msix_table;
	unsigned int nr_vectors;	/* entries programmed */
	int cpu_vector[GD_VPCI_MAX_VECTORS];	/* per MSI-X entry, -1 none */
	u16 queue_vector[GD_VPCI_MAX_QUEUES];	/* MSI-X entry per queue */
	volatile le16 *queue_notify[GD_VPCI_MAX_QUEUES];
	/*
	 * irq_wait() spins at CPL3 watching gd_irq_count() instead of halting
	 * through the CPL0 door.  Only with interrupts enabled (gd_irq_enable),
	 * or the count never moves.
	 */
	bool irq_spin;
};

/*
 * Parse the capabilities of @d and map them.  0, -ENODEV (not a modern
 * virtio-pci device, or a required capability is missing), -EFAULT (a
 * capability points outside its BAR or the identity map).
 */
int gd_vpci_probe(struct gd_vpci *v, const struct gd_pci_dev *d);

/*
 * Scan bus 0 and probe the @index-th (0-based) virtio device of @type.
 * -ENOENT if there are fewer.
 */
int gd_vpci_find(struct gd_vpci *v, u16 type, unsigned int index);

/*
 * Allocate count-only CPU vectors for the first @n MSI-X entries (capped at
 * the table size), program and unmask them, enable the local APIC and MSI-X.
 * 0, -ENODEV (no MSI-X), -ENOSPC (no free vector).
 */
int gd_vpci_setup_msix(struct gd_vpci *v, unsigned int n);

/* The CPU vector behind MSI-X entry @entry, or -1. */
int gd_vpci_cpu_vector(const struct gd_vpci *v, unsigned int entry);

/* Name of a virtio device type for listings ("blk", "net", ...) or "?". */
const char *gd_virtio_type_name(u16 type);

#endif

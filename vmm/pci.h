/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0 with configuration mechanism #1, and the PCI device model the
 * virtio-pci transport builds on: a 256-byte configuration space image with a
 * per-byte writable mask, memory BARs, a capability list.
 */
#ifndef VMM_PCI_H
#define VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <virtio/types.h>

#define VMM_PCI_MAX_SLOTS	32
#define VMM_PCI_NR_BARS		6

struct kvm_vm;
struct vmm_pci_dev;

struct vmm_pci_dev_ops {
	/* Guest access to [off, off+len) of memory BAR @bar. */
	void (*bar_io)(struct vmm_pci_dev *d, int bar, u64 off, void *data, u32 len,
		       bool is_write);
	/* Called after a config write was applied (bytes [off, off+len)). */
	void (*cfg_written)(struct vmm_pci_dev *d, u32 off, u32 len);
	/* Called before a config read, to refresh dynamic fields. */
	void (*cfg_reading)(struct vmm_pci_dev *d, u32 off, u32 len);
	/* A BAR's decoded address changed (0 = no longer decoded). */
	void (*bar_moved)(struct vmm_pci_dev *d, int bar, u64 old_addr, u64 new_addr);
};

struct vmm_pci_bar {
	u64 size;		/* power of two, 0 = unused */
	bool is64;
};

struct vmm_pci_dev {
	const struct vmm_pci_dev_ops *ops;
	u8 cfg[256];
	u8 wmask[256];		/* bits the guest may change */
	struct vmm_pci_bar bar[VMM_PCI_NR_BARS];
	u64 bar_addr[VMM_PCI_NR_BARS];	/* decoded address, 0 when decoding is off */
	u8 cap_next;		/* where the next capability goes */
	u8 *cap_last_next;	/* "next" field of the last capability */
	int slot;
};

struct vmm_pci_bus {
	struct kvm_vm *vm;
	pthread_mutex_t lock;	/* config space and BAR routing */
	u32 config_addr;	/* port 0xcf8 */
	struct vmm_pci_dev *slots[VMM_PCI_MAX_SLOTS];
	struct vmm_pci_dev host_bridge;
	u64 next_mmio64;	/* allocation cursor for BARs */
};

int vmm_pci_bus_init(struct vmm_pci_bus *bus, struct kvm_vm *vm);

/* Fill the header of a type-0 function. */
void vmm_pci_dev_init(struct vmm_pci_dev *d, const struct vmm_pci_dev_ops *ops,
		      u16 vendor, u16 device, u32 class_code, u8 revision,
		      u16 subsys_vendor, u16 subsys_id);
/* Declare a 64-bit memory BAR of @size bytes (a power of two, >= 4 KiB). */
void vmm_pci_dev_add_bar64(struct vmm_pci_dev *d, int bar, u64 size);
/* Append a capability; returns its offset in config space, 0 if full. */
u8 vmm_pci_dev_add_cap(struct vmm_pci_dev *d, const void *cap, u8 len);

/* Put @d on the bus (next free slot), assign its BARs, enable decoding. */
int vmm_pci_bus_add(struct vmm_pci_bus *bus, struct vmm_pci_dev *d);

static inline u16 vmm_pci_cfg16(const struct vmm_pci_dev *d, u32 off)
{
	return (u16)(d->cfg[off] | d->cfg[off + 1] << 8);
}

static inline void vmm_pci_set16(struct vmm_pci_dev *d, u32 off, u16 v)
{
	d->cfg[off] = (u8)v;
	d->cfg[off + 1] = (u8)(v >> 8);
}

static inline void vmm_pci_set32(struct vmm_pci_dev *d, u32 off, u32 v)
{
	vmm_pci_set16(d, off, (u16)v);
	vmm_pci_set16(d, off + 2, (u16)(v >> 16));
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * PCI for bare-metal guest-drivers builds (guestlet): configuration
 * mechanism #1 (ports 0xcf8/0xcfc), a scan of bus 0, BAR and capability
 * helpers.  Config space comes from the VMM and is treated as untrusted input
 * (capability walks are bounded, BAR addresses are range-checked by users).
 */
#ifndef GUEST_DRIVERS_PCI_H
#define GUEST_DRIVERS_PCI_H

#include <stdbool.h>
#include <guest-drivers/platform.h>

#define GD_PCI_MAX_DEVS	64

struct gd_pci_dev {
	u8 bus, dev, fn;
	u16 vendor, device;
	u32 class_code;		/* class << 16 | subclass << 8 | prog-if */
	u8 header_type;
};

u32 gd_pci_read32(const struct gd_pci_dev *d, u8 off);
u16 gd_pci_read16(const struct gd_pci_dev *d, u8 off);
u8 gd_pci_read8(const struct gd_pci_dev *d, u8 off);
void gd_pci_write32(const struct gd_pci_dev *d, u8 off, u32 v);
void gd_pci_write16(const struct gd_pci_dev *d, u8 off, u16 v);
void gd_pci_write8(const struct gd_pci_dev *d, u8 off, u8 v);

/*
 * Walk bus 0 (every slot; functions 1-7 only of multi-function devices).
 * Fills at most @max entries; returns the number of devices found (which
 * may exceed @max).
 */
int gd_pci_scan(struct gd_pci_dev *devs, int max);

/*
 * Address of memory BAR @bar (64-bit BARs take two slots), 0 if it is not a
 * memory BAR, unassigned, or @bar is out of range.  *is64 (may be NULL) says
 * whether it is 64-bit.
 */
u64 gd_pci_bar_addr(const struct gd_pci_dev *d, unsigned int bar, bool *is64);

/*
 * Offset of the first capability with @id after @after (0: from the start of
 * the list), or 0 if none.  At most 48 steps (a looping list ends the walk).
 */
u8 gd_pci_find_cap(const struct gd_pci_dev *d, u8 id, u8 after);

/* Enable memory decoding and bus mastering. */
void gd_pci_enable(const struct gd_pci_dev *d);

#endif

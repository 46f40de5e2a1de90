// SPDX-License-Identifier: MIT
/*
 * PCI configuration mechanism #1 and a bus-0 scan (bare metal: guestlet).
 *
 * Security model: configuration space is written by the VMM and not trusted:
 * the capability walk is bounded (48 steps, pointers below 0x40 end it), a
 * missing function reads all-ones and is skipped, and BAR values are only
 * returned, never dereferenced here.
 */
#include <linux/pci_regs.h>
#include <guest-drivers/pci.h>
#include <vmm/guest_abi.h>

static void cfg_addr(const struct gd_pci_dev *d, u8 off)
{
	gd_outl(VP_PCI_CONFIG_ADDR, 0x80000000u | (u32)d->bus << 16 | (u32)d->dev << 11 |
		(u32)d->fn << 8 | (off & 0xfc));
}

u32 gd_pci_read32(const struct gd_pci_dev *d, u8 off)
{
	cfg_addr(d, off);
	return gd_inl(VP_PCI_CONFIG_DATA);
}

u16 gd_pci_read16(const struct gd_pci_dev *d, u8 off)
{
	cfg_addr(d, off);
	return gd_inw(VP_PCI_CONFIG_DATA + (off & 2));
}

u8 gd_pci_read8(const struct gd_pci_dev *d, u8 off)
{
	cfg_addr(d, off);
	return gd_inb(VP_PCI_CONFIG_DATA + (off & 3));
}

void gd_pci_write32(const struct gd_pci_dev *d, u8 off, u32 v)
{
	cfg_addr(d, off);
	gd_outl(VP_PCI_CONFIG_DATA, v);
}

void gd_pci_write16(const struct gd_pci_dev *d, u8 off, u16 v)
{
	cfg_addr(d, off);
	gd_outw(VP_PCI_CONFIG_DATA + (off & 2), v);
}

void gd_pci_write8(const struct gd_pci_dev *d, u8 off, u8 v)
{
	cfg_addr(d, off);
	gd_outb(VP_PCI_CONFIG_DATA + (off & 3), v);
}

static bool probe(struct gd_pci_dev *d, u8 dev, u8 fn)
{
	u32 id, cls;

	*d = (struct gd_pci_dev){ .bus = 0, .dev = dev, .fn = fn };
	id = gd_pci_read32(d, PCI_VENDOR_ID);
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return false;
	cls = gd_pci_read32(d, PCI_CLASS_REVISION);
	d->vendor = (u16)id;
	d->device = (u16)(id >> 16);
	d->class_code = cls >> 8;
	d->header_type = gd_pci_read8(d, PCI_HEADER_TYPE);
	return true;
}

int gd_pci_scan(struct gd_pci_dev *devs, int max)
{
	struct gd_pci_dev d;
	int n = 0;

	for (u8 dev = 0; dev < 32; dev++) {
		for (u8 fn = 0; fn < 8; fn++) {
			if (!probe(&d, dev, fn)) {
				if (fn == 0)
					break;
				continue;
			}
			if (n < max)
				devs[n] = d;
			n++;
			if (fn == 0 && !(d.header_type & 0x80))
				break;	/* single-function device */
		}
	}
	return n;
}

u64 gd_pci_bar_addr(const struct gd_pci_dev *d, unsigned int bar, bool *is64)
{
	u32 lo, hi = 0;
	bool wide;

	if (bar >= 6 || (d->header_type & 0x7f) != PCI_HEADER_TYPE_NORMAL)
		return 0;
	lo = gd_pci_read32(d, PCI_BASE_ADDRESS_0 + 4 * bar);
	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return 0;
	wide = (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (wide) {
		if (bar == 5)
			return 0;
		hi = gd_pci_read32(d, PCI_BASE_ADDRESS_0 + 4 * (bar + 1));
	}
	if (is64)
		*is64 = wide;
	return ((u64)hi << 32 | lo) & ~0xfull;
}

u8 gd_pci_find_cap(const struct gd_pci_dev *d, u8 id, u8 after)
{
	u8 pos;

	if (!(gd_pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = after ? gd_pci_read8(d, after + PCI_CAP_LIST_NEXT) :
		      gd_pci_read8(d, PCI_CAPABILITY_LIST);
	for (int steps = 0; steps < 48 && pos >= 0x40; steps++) {
		pos &= ~3;
		if (gd_pci_read8(d, pos + PCI_CAP_LIST_ID) == id)
			return pos;
		pos = gd_pci_read8(d, pos + PCI_CAP_LIST_NEXT);
	}
	return 0;
}

void gd_pci_enable(const struct gd_pci_dev *d)
{
	u16 cmd = gd_pci_read16(d, PCI_COMMAND);

	gd_pci_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

// SPDX-License-Identifier: MIT
/*
 * PCI bus 0: configuration mechanism #1 (ports 0xcf8/0xcfc), a host bridge,
 * memory BARs routed from two MMIO windows.
 *
 * Security model: every guest access is bounded: config offsets are masked to
 * the 256-byte space and writes only change bits in the device's writable mask;
 * BAR sizes are powers of two so address decoding cannot overflow; accesses to
 * unclaimed space read all-ones and writes are dropped.
 */
#include <errno.h>
#include <string.h>
#include <linux/pci_regs.h>

#include <kvm/kvm.h>
#include <vmm/guest_abi.h>
#include "pci.h"

void vmm_pci_dev_init(struct vmm_pci_dev *d, const struct vmm_pci_dev_ops *ops,
		      u16 vendor, u16 device, u32 class_code, u8 revision,
		      u16 subsys_vendor, u16 subsys_id)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->slot = -1;
	vmm_pci_set16(d, PCI_VENDOR_ID, vendor);
	vmm_pci_set16(d, PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION_ID] = revision;
	d->cfg[PCI_CLASS_PROG] = (u8)class_code;
	vmm_pci_set16(d, PCI_CLASS_DEVICE, (u16)(class_code >> 8));
	d->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	vmm_pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	vmm_pci_set16(d, PCI_SUBSYSTEM_ID, subsys_id);
	d->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
	/* command: memory space, bus master, INTx disable; interrupt line is scratch */
	d->wmask[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	d->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->cap_next = 0x40;
}

void vmm_pci_dev_add_bar64(struct vmm_pci_dev *d, int bar, u64 size)
{
	u32 off = PCI_BASE_ADDRESS_0 + 4 * bar;
	u64 mask = ~(size - 1);

	d->bar[bar].size = size;
	d->bar[bar].is64 = true;
	d->cfg[off] = PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64;
	/* writable: the address bits above the size, in both dwords */
	for (int i = 0; i < 8; i++)
		d->wmask[off + i] = (u8)(mask >> (8 * i));
	d->wmask[off] &= 0xf0;	/* the low nibble is the BAR type */
}

u8 vmm_pci_dev_add_cap(struct vmm_pci_dev *d, const void *cap, u8 len)
{
	u8 off = d->cap_next;

	if (len < 2 || off + len > 256)
		return 0;
	memcpy(&d->cfg[off], cap, len);
	d->cfg[off + 1] = 0;	/* end of list until another is added */
	if (d->cap_last_next)
		*d->cap_last_next = off;
	else
		d->cfg[PCI_CAPABILITY_LIST] = off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_last_next = &d->cfg[off + 1];
	d->cap_next = (u8)((off + len + 3) & ~3);
	return off;
}

static u64 bar_cfg_addr(const struct vmm_pci_dev *d, int bar)
{
	u32 off = PCI_BASE_ADDRESS_0 + 4 * bar;
	u64 lo = (u64)d->cfg[off] | (u64)d->cfg[off + 1] << 8 | (u64)d->cfg[off + 2] << 16 |
		 (u64)d->cfg[off + 3] << 24;
	u64 hi = (u64)d->cfg[off + 4] | (u64)d->cfg[off + 5] << 8 |
		 (u64)d->cfg[off + 6] << 16 | (u64)d->cfg[off + 7] << 24;

	return ((hi << 32) | lo) & ~0xfULL;
}

/* Recompute what each BAR decodes after a BAR or command register change. */
static void update_bars(struct vmm_pci_dev *d)
{
	bool mem_on = d->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY;

	for (int i = 0; i < VMM_PCI_NR_BARS; i++) {
		u64 addr;

		if (!d->bar[i].size)
			continue;
		addr = mem_on ? bar_cfg_addr(d, i) : 0;
		/* A BAR being sized (all ones) or at 0 decodes nothing. */
		if (addr + d->bar[i].size < addr || addr == 0)
			addr = 0;
		if (addr != d->bar_addr[i]) {
			u64 old = d->bar_addr[i];

			d->bar_addr[i] = addr;
			if (d->ops && d->ops->bar_moved)
				d->ops->bar_moved(d, i, old, addr);
		}
	}
}

static void cfg_access(struct vmm_pci_bus *bus, u32 addr, u32 port_off, u8 *data,
		       u32 len, bool is_write)
{
	unsigned int slot = (addr >> 11) & 31, fn = (addr >> 8) & 7, busnr = (addr >> 16) & 0xff;
	u32 off = (addr & 0xfc) + port_off;
	struct vmm_pci_dev *d;

	d = (!(addr & 0x80000000u) || busnr || fn) ? NULL : bus->slots[slot];
	if (!d || off + len > 256) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		if (d->ops && d->ops->cfg_reading)
			d->ops->cfg_reading(d, off, len);
		memcpy(data, &d->cfg[off], len);
		return;
	}
	for (u32 i = 0; i < len; i++)
		d->cfg[off + i] = (d->cfg[off + i] & ~d->wmask[off + i]) |
				  (data[i] & d->wmask[off + i]);
	if (off < PCI_BASE_ADDRESS_0 + 4 * VMM_PCI_NR_BARS && off + len > PCI_COMMAND)
		update_bars(d);
	if (d->ops && d->ops->cfg_written)
		d->ops->cfg_written(d, off, len);
}

static void pci_addr_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_pci_bus *bus = opaque;

	/* Only full dword accesses to 0xcf8 are configuration mechanism #1. */
	if (off != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write)
		memcpy(&bus->config_addr, data, 4);
	else
		memcpy(data, &bus->config_addr, 4);
	pthread_mutex_unlock(&bus->lock);
}

static void pci_data_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_pci_bus *bus = opaque;

	pthread_mutex_lock(&bus->lock);
	cfg_access(bus, bus->config_addr, (u32)off, data, len, is_write);
	pthread_mutex_unlock(&bus->lock);
}

static void pci_mmio(void *opaque, u64 off, void *data, u32 len, bool is_write, u64 base)
{
	struct vmm_pci_bus *bus = opaque;
	u64 addr = base + off;

	for (int s = 0; s < VMM_PCI_MAX_SLOTS; s++) {
		struct vmm_pci_dev *d = bus->slots[s];

		if (!d)
			continue;
		for (int b = 0; b < VMM_PCI_NR_BARS; b++) {
			u64 a = d->bar_addr[b];

			if (a && addr >= a && addr - a < d->bar[b].size &&
			    len <= d->bar[b].size - (addr - a)) {
				d->ops->bar_io(d, b, addr - a, data, len, is_write);
				return;
			}
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
}

static void pci_mmio32(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	pci_mmio(opaque, off, data, len, is_write, VP_PCI_MMIO32_BASE);
}

static void pci_mmio64(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	pci_mmio(opaque, off, data, len, is_write, VP_PCI_MMIO64_BASE);
}

int vmm_pci_bus_init(struct vmm_pci_bus *bus, struct kvm_vm *vm)
{
	int ret;

	memset(bus, 0, sizeof(*bus));
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	bus->next_mmio64 = VP_PCI_MMIO64_BASE;
	/* 00:00.0 host bridge, so scanners find a familiar bus 0 */
	vmm_pci_dev_init(&bus->host_bridge, NULL, 0x8086, 0x1237, 0x060000, 0x02, 0, 0);
	bus->host_bridge.cfg[PCI_INTERRUPT_PIN] = 0;
	bus->host_bridge.slot = 0;
	bus->slots[0] = &bus->host_bridge;

	ret = kvm_vm_add_pio(vm, VP_PCI_CONFIG_ADDR, 4, pci_addr_io, bus);
	if (!ret)
		ret = kvm_vm_add_pio(vm, VP_PCI_CONFIG_DATA, 4, pci_data_io, bus);
	if (!ret)
		ret = kvm_vm_add_mmio(vm, VP_PCI_MMIO32_BASE, VP_PCI_MMIO32_SIZE, pci_mmio32, bus);
	if (!ret)
		ret = kvm_vm_add_mmio(vm, VP_PCI_MMIO64_BASE, VP_PCI_MMIO64_SIZE, pci_mmio64, bus);
	return ret;
}

int vmm_pci_bus_add(struct vmm_pci_bus *bus, struct vmm_pci_dev *d)
{
	int slot;

	for (slot = 1; slot < VMM_PCI_MAX_SLOTS && bus->slots[slot]; slot++)
		;
	if (slot == VMM_PCI_MAX_SLOTS)
		return -ENOSPC;
	for (int b = 0; b < VMM_PCI_NR_BARS; b++) {
		u64 size = d->bar[b].size, addr;
		u32 off = PCI_BASE_ADDRESS_0 + 4 * b;

		if (!size)
			continue;
		addr = (bus->next_mmio64 + size - 1) & ~(size - 1);
		if (addr + size > VP_PCI_MMIO64_BASE + VP_PCI_MMIO64_SIZE)
			return -ENOSPC;
		bus->next_mmio64 = addr + size;
		vmm_pci_set32(d, off, (u32)addr | d->cfg[off]);
		vmm_pci_set32(d, off + 4, (u32)(addr >> 32));
	}
	d->slot = slot;
	d->cfg[PCI_INTERRUPT_LINE] = (u8)VP_PCI_INTX_PIN(slot);
	d->cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
	pthread_mutex_lock(&bus->lock);
	bus->slots[slot] = d;
	update_bars(d);
	pthread_mutex_unlock(&bus->lock);
	return slot;
}

// SPDX-License-Identifier: MIT
/*
 * Modern virtio-pci transport for bare metal (guestlet).
 *
 * Security model: the VMM's configuration space and BAR registers are input.
 * Capabilities are found with a bounded walk; each one's BAR index, offset and
 * length are checked (no overflow, the BAR assigned, the region inside the
 * identity map and, for the notify area, every queue's doorbell inside the
 * capability's length) before any pointer is made from them.  Register values
 * the device returns (queue sizes, notify offsets, status) are range-checked
 * by the callers in core.c or here.
 *
 * Access widths follow the spec (4.1.3.1): 8/16/32-bit fields with accesses
 * of exactly that width; 64-bit ring addresses as two 32-bit writes.
 */
#include <linux/errno.h>
#include <linux/pci_regs.h>
#include <guest-drivers/cpu.h>
#include <guest-drivers/virtio_pci.h>
#include <vmm/guest_abi.h>

#define RESET_SPINS	1000	/* reads; each is an exit to the VMM */
#define GEN_RETRIES	16
#define SPIN_WAIT_MS	100	/* irq_spin waits end after this at the latest */

#define CC(field) (&v->common->field)

static struct gd_vpci *to_vpci(struct gd_virtio_transport *t)
{
	return container_of(t, struct gd_vpci, t);
}

static u64 vp_get_features(struct gd_virtio_transport *t)
{
	struct gd_vpci *v = to_vpci(t);
	u64 f;

	gd_mmio_write32(CC(device_feature_select), 0);
	f = le32_to_cpu(gd_mmio_read32(CC(device_feature)));
	gd_mmio_write32(CC(device_feature_select), 1);
	f |= (u64)le32_to_cpu(gd_mmio_read32(CC(device_feature))) << 32;
	return f;
}

static void vp_set_features(struct gd_virtio_transport *t, u64 f)
{
	struct gd_vpci *v = to_vpci(t);

	gd_mmio_write32(CC(guest_feature_select), 0);
	gd_mmio_write32(CC(guest_feature), cpu_to_le32((u32)f));
	gd_mmio_write32(CC(guest_feature_select), 1);
	gd_mmio_write32(CC(guest_feature), cpu_to_le32((u32)(f >> 32)));
}

static u8 vp_get_status(struct gd_virtio_transport *t)
{
	return gd_mmio_read8(&to_vpci(t)->common->device_status);
}

static void vp_set_status(struct gd_virtio_transport *t, u8 s)
{
	struct gd_vpci *v = to_vpci(t);

	gd_mmio_write8(CC(device_status), s);
	if (s == VIRTIO_CONFIG_S_ACKNOWLEDGE && v->nr_vectors) {
		/*
		 * Config changes (NEEDS_RESET above all) on MSI-X entry 0, so a
		 * driver halted waiting for a queue interrupt wakes up when the
		 * device breaks.  A reset forgot it; set it on every (re)start.
		 */
		gd_mmio_write16(CC(msix_config), cpu_to_le16(0));
	}
	if (s)
		return;
	/* A reset is complete when the status reads back 0 (4.1.4.3.2). */
	for (unsigned int i = 0; i < RESET_SPINS; i++) {
		if (gd_mmio_read8(CC(device_status)) == 0)
			return;
		gd_cpu_relax();
	}
}

static unsigned int vp_num_queues(struct gd_virtio_transport *t)
{
	struct gd_vpci *v = to_vpci(t);

	return le16_to_cpu(gd_mmio_read16(CC(num_queues)));
}

static unsigned int vp_queue_max_size(struct gd_virtio_transport *t, unsigned int q)
{
	struct gd_vpci *v = to_vpci(t);

	if (q >= GD_VPCI_MAX_QUEUES || q >= vp_num_queues(t))
		return 0;
	gd_mmio_write16(CC(queue_select), cpu_to_le16((u16)q));
	return le16_to_cpu(gd_mmio_read16(CC(queue_size)));
}

static void write64(volatile le32 *lo, volatile le32 *hi, u64 val)
{
	gd_mmio_write32(lo, cpu_to_le32((u32)val));
	gd_mmio_write32(hi, cpu_to_le32((u32)(val >> 32)));
}

static int vp_queue_setup(struct gd_virtio_transport *t, unsigned int q, unsigned int num,
			  u64 desc, u64 avail, u64 used, u16 vector)
{
	struct gd_vpci *v = to_vpci(t);
	u64 noff;

	if (q >= GD_VPCI_MAX_QUEUES)
		return -ENOENT;
	gd_mmio_write16(CC(queue_select), cpu_to_le16((u16)q));
	gd_mmio_write16(CC(queue_size), cpu_to_le16((u16)num));
	write64(CC(queue_desc_lo), CC(queue_desc_hi), desc);
	write64(CC(queue_avail_lo), CC(queue_avail_hi), avail);
	write64(CC(queue_used_lo), CC(queue_used_hi), used);
	if (vector != GD_VIRTIO_NO_VECTOR &&
	    (vector >= v->nr_vectors || v->cpu_vector[vector] < 0))
		vector = GD_VIRTIO_NO_VECTOR;	/* no such MSI-X entry set up */
	gd_mmio_write16(CC(queue_msix_vector), cpu_to_le16(vector));
	if (le16_to_cpu(gd_mmio_read16(CC(queue_msix_vector))) != vector)
		return -EBUSY;		/* the device could not take the vector */
	v->queue_vector[q] = vector;
	/* This queue's doorbell must lie inside the notify capability. */
	noff = (u64)le16_to_cpu(gd_mmio_read16(CC(queue_notify_off))) * v->notify_mult;
	if (noff + 2 > v->notify_len)
		return -EFAULT;
	v->queue_notify[q] = (volatile le16 *)(v->notify + noff);
	return 0;
}

static int vp_queue_enable(struct gd_virtio_transport *t, unsigned int q)
{
	struct gd_vpci *v = to_vpci(t);

	if (q >= GD_VPCI_MAX_QUEUES)
		return -ENOENT;
	gd_mmio_write16(CC(queue_select), cpu_to_le16((u16)q));
	gd_mmio_write16(CC(queue_enable), cpu_to_le16(1));
	/* vmm refuses bad rings here (NEEDS_RESET); read back to know. */
	return gd_mmio_read16(CC(queue_enable)) ? 0 : -EIO;
}

static void vp_notify(struct gd_virtio_transport *t, unsigned int q)
{
	struct gd_vpci *v = to_vpci(t);

	/* A 2-byte write of the queue index: what vmm's ioeventfd matches. */
	if (q < GD_VPCI_MAX_QUEUES && v->queue_notify[q])
		gd_mmio_write16(v->queue_notify[q], cpu_to_le16((u16)q));
}

static void cfg_copy(struct gd_vpci *v, u32 off, u8 *buf, u32 len)
{
	u32 i = 0;

	/* 32-bit reads where aligned (fewer exits), bytes at the edges. */
	while (i < len) {
		if (!((off + i) & 3) && len - i >= 4) {
			u32 w = gd_mmio_read32(v->devcfg + off + i);

			buf[i] = (u8)w;
			buf[i + 1] = (u8)(w >> 8);
			buf[i + 2] = (u8)(w >> 16);
			buf[i + 3] = (u8)(w >> 24);
			i += 4;
		} else {
			buf[i] = gd_mmio_read8(v->devcfg + off + i);
			i++;
		}
	}
}

static int vp_config_read(struct gd_virtio_transport *t, u32 off, void *buf, u32 len)
{
	struct gd_vpci *v = to_vpci(t);

	if (!v->devcfg || off > v->devcfg_len || len > v->devcfg_len - off)
		return -EINVAL;
	/* A consistent snapshot: the generation must not move while we read. */
	for (unsigned int tries = 0; tries < GEN_RETRIES; tries++) {
		u8 g0 = gd_mmio_read8(CC(config_generation)), g1;

		cfg_copy(v, off, buf, len);
		g1 = gd_mmio_read8(CC(config_generation));
		if (g0 == g1)
			return 0;
	}
	return -EAGAIN;
}

static int vp_config_write(struct gd_virtio_transport *t, u32 off, const void *buf, u32 len)
{
	struct gd_vpci *v = to_vpci(t);
	const u8 *p = buf;

	if (!v->devcfg || off > v->devcfg_len || len > v->devcfg_len - off)
		return -EINVAL;
	for (u32 i = 0; i < len; i++)
		gd_mmio_write8(v->devcfg + off + i, p[i]);
	return 0;
}

static u8 vp_isr_read(struct gd_virtio_transport *t)
{
	return gd_mmio_read8(to_vpci(t)->isr);
}

static int queue_cpu_vector(struct gd_vpci *v, unsigned int q)
{
	u16 e;

	if (q >= GD_VPCI_MAX_QUEUES)
		return -1;
	e = v->queue_vector[q];
	return e < v->nr_vectors ? v->cpu_vector[e] : -1;
}

static u64 vp_irq_count(struct gd_virtio_transport *t, unsigned int q)
{
	int vec = queue_cpu_vector(to_vpci(t), q);

	return vec < 0 ? 0 : gd_irq_count((unsigned int)vec);
}

static void vp_irq_wait(struct gd_virtio_transport *t, unsigned int q, u64 seen)
{
	int vec = queue_cpu_vector(to_vpci(t), q);

	if (vec < 0)
		return;
	if (to_vpci(t)->irq_spin) {
		/*
		 * The count-only vectors' CPL0 path bumps the counts; we watch
		 * the queue's and the config vector (a device that breaks says
		 * so there).
		 */
		int cvec = to_vpci(t)->cpu_vector[0];
		u64 c0 = cvec >= 0 ? gd_irq_count((unsigned int)cvec) : 0;
		u64 end = gd_cycles() + (u64)gd_cycles_khz() * SPIN_WAIT_MS;

		/* ...and give up after a while so the caller can look around */
		while (gd_irq_count((unsigned int)vec) == seen &&
		       (cvec < 0 || gd_irq_count((unsigned int)cvec) == c0) &&
		       gd_cycles() < end)
			gd_cpu_relax();
		return;
	}
	/*
	 * Interrupts are off here (guestlet's CPL3 default): one that arrived
	 * after the caller read @seen is pending in the LAPIC and ends the
	 * halt at once, so no wakeup is lost.
	 */
	if (gd_irq_count((unsigned int)vec) == seen)
		gd_wait_for_irq();
}

static const struct gd_virtio_transport_ops vp_ops = {
	.name = "virtio-pci",
	.get_features = vp_get_features,
	.set_features = vp_set_features,
	.get_status = vp_get_status,
	.set_status = vp_set_status,
	.num_queues = vp_num_queues,
	.queue_max_size = vp_queue_max_size,
	.queue_setup = vp_queue_setup,
	.queue_enable = vp_queue_enable,
	.notify = vp_notify,
	.config_read = vp_config_read,
	.config_write = vp_config_write,
	.isr_read = vp_isr_read,
	.irq_count = vp_irq_count,
	.irq_wait = vp_irq_wait,
};

/* Map @len bytes at @off of BAR @bar; NULL if that is not a sane region. */
static volatile void *map_bar(const struct gd_pci_dev *d, u8 bar, u32 off, u32 len)
{
	u64 base, addr;

	if (bar >= 6)
		return NULL;
	base = gd_pci_bar_addr(d, bar, NULL);
	if (!base)
		return NULL;
	addr = base + off;
	if (addr < base || addr > VP_IDENT_MAP_BYTES || len > VP_IDENT_MAP_BYTES - addr)
		return NULL;
	return gd_mmio_map(addr);
}

int gd_vpci_probe(struct gd_vpci *v, const struct gd_pci_dev *d)
{
	u8 pos = 0;

	__builtin_memset(v, 0, sizeof(*v));
	v->t.ops = &vp_ops;
	v->pci = *d;
	for (unsigned int i = 0; i < GD_VPCI_MAX_VECTORS; i++)
		v->cpu_vector[i] = -1;
	for (unsigned int i = 0; i < GD_VPCI_MAX_QUEUES; i++)
		v->queue_vector[i] = GD_VIRTIO_NO_VECTOR;
	if (d->vendor != GD_VPCI_VENDOR || d->device < GD_VPCI_DEVICE_BASE ||
	    d->device > GD_VPCI_DEVICE_BASE + 0x3f)
		return -ENODEV;
	v->type = d->device - GD_VPCI_DEVICE_BASE;
	gd_pci_enable(d);

	while ((pos = gd_pci_find_cap(d, PCI_CAP_ID_VNDR, pos))) {
		u8 type = gd_pci_read8(d, pos + offsetof(struct virtio_pci_cap, cfg_type));
		u8 bar = gd_pci_read8(d, pos + offsetof(struct virtio_pci_cap, bar));
		u32 off = gd_pci_read32(d, pos + offsetof(struct virtio_pci_cap, offset));
		u32 len = gd_pci_read32(d, pos + offsetof(struct virtio_pci_cap, length));
		volatile void *p;

		if (type == VIRTIO_PCI_CAP_PCI_CFG)
			continue;	/* the config-space window: not used */
		p = map_bar(d, bar, off, len);
		if (!p)
			continue;	/* unusable; a later one of the type may do */
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!v->common && len >= sizeof(struct virtio_pci_common_cfg))
				v->common = p;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!v->notify && len >= 2) {
				v->notify = p;
				v->notify_len = len;
				v->notify_mult = gd_pci_read32(d, pos +
					offsetof(struct virtio_pci_notify_cap,
						 notify_off_multiplier));
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!v->isr && len >= 1)
				v->isr = p;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!v->devcfg) {
				v->devcfg = p;
				v->devcfg_len = len;
			}
			break;
		}
	}
	if (!v->common || !v->notify || !v->isr)
		return -ENODEV;

	pos = gd_pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	if (pos) {
		u16 ctrl = gd_pci_read16(d, pos + PCI_MSIX_FLAGS);
		u32 tbl = gd_pci_read32(d, pos + PCI_MSIX_TABLE);
		u16 n = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;

		v->msix_table = map_bar(d, tbl & PCI_MSIX_TABLE_BIR,
					tbl & PCI_MSIX_TABLE_OFFSET, 16u * n);
		if (v->msix_table) {
			v->msix_cap = pos;
			v->msix_size = n;
		}
	}
	return 0;
}

int gd_vpci_find(struct gd_vpci *v, u16 type, unsigned int index)
{
	struct gd_pci_dev devs[GD_PCI_MAX_DEVS];
	int n = gd_pci_scan(devs, GD_PCI_MAX_DEVS);

	if (n > GD_PCI_MAX_DEVS)
		n = GD_PCI_MAX_DEVS;
	for (int i = 0; i < n; i++) {
		if (devs[i].vendor != GD_VPCI_VENDOR ||
		    devs[i].device != GD_VPCI_DEVICE_BASE + type)
			continue;
		if (index--)
			continue;
		return gd_vpci_probe(v, &devs[i]);
	}
	return -ENOENT;
}

int gd_vpci_setup_msix(struct gd_vpci *v, unsigned int n)
{
	const struct gd_pci_dev *d = &v->pci;
	u16 ctrl;

	if (!v->msix_cap)
		return -ENODEV;
	if (n > v->msix_size)
		n = v->msix_size;
	if (n > GD_VPCI_MAX_VECTORS)
		n = GD_VPCI_MAX_VECTORS;
	gd_lapic_enable();
	for (unsigned int i = v->nr_vectors; i < n; i++) {
		volatile u32 *e = v->msix_table + 4 * i;
		int vec = gd_irq_alloc_vector(NULL, NULL);	/* count-only */
		u64 addr = gd_msi_address();

		if (vec < 0)
			return -ENOSPC;
		v->cpu_vector[i] = vec;
		gd_mmio_write32(&e[0], (u32)addr);
		gd_mmio_write32(&e[1], (u32)(addr >> 32));
		gd_mmio_write32(&e[2], gd_msi_data((unsigned int)vec));
		gd_mmio_write32(&e[3], 0);	/* unmask */
		v->nr_vectors = i + 1;
	}
	ctrl = gd_pci_read16(d, v->msix_cap + PCI_MSIX_FLAGS);
	ctrl = (ctrl | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL;
	gd_pci_write16(d, v->msix_cap + PCI_MSIX_FLAGS, ctrl);
	return 0;
}

int gd_vpci_cpu_vector(const struct gd_vpci *v, unsigned int entry)
{
	return entry < v->nr_vectors ? v->cpu_vector[entry] : -1;
}

const char *gd_virtio_type_name(u16 type)
{
	switch (type) {
	case 1: return "net";
	case 2: return "blk";
	case 3: return "console";
	case 4: return "rng";
	case 9: return "9p";
	case 16: return "gpu";
	case 19: return "vsock";
	}
	return "?";
}

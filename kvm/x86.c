// SPDX-License-Identifier: MIT
/*
 * x86-64 boot state: a flat GDT, identity-mapped page tables with 2 MiB pages,
 * long mode at CPL0, CPUID and an enabled LAPIC.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "internal.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_AM		(1ULL << 18)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_PS		(1ULL << 7)

#define GDT_CODE64	0x00af9a000000ffffULL	/* present, DPL0, exec/read, L=1, G=1 */
#define GDT_DATA	0x00cf92000000ffffULL	/* present, DPL0, read/write, D/B=1, G=1 */

#define APIC_SPIV	0xF0
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_MODE_EXTINT (7 << 8)
#define APIC_MODE_NMI	(4 << 8)

u64 kvm_x86_page_tables_size(const struct kvm_x86_boot *b)
{
	/* PML4 + PDPT + one page directory per GiB */
	return (2 + b->ident_map_bytes / (1ULL << 30)) * 4096;
}

static int write_page_tables(struct kvm_vm *vm, const struct kvm_x86_boot *b)
{
	u64 gibs = b->ident_map_bytes >> 30, size = kvm_x86_page_tables_size(b), i, j;
	u64 *pml4, *pdpt, *pd;

	if (!gibs || gibs > 512 || b->ident_map_bytes & ((1ULL << 30) - 1))
		return -EINVAL;
	pml4 = kvm_vm_gpa_to_hva(vm, b->page_tables_gpa, size);
	if (!pml4 || (b->page_tables_gpa & 4095))
		return -EFAULT;
	memset(pml4, 0, size);
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pml4[0] = (b->page_tables_gpa + 4096) | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < gibs; i++) {
		pdpt[i] = (b->page_tables_gpa + (2 + i) * 4096) | PTE_P | PTE_RW | PTE_US;
		for (j = 0; j < 512; j++)
			pd[i * 512 + j] = ((i << 30) + (j << 21)) | PTE_P | PTE_RW | PTE_US | PTE_PS;
	}
	return 0;
}

/* A GDT with the code and data descriptors at the given selectors; its limit. */
static int write_gdt(struct kvm_vm *vm, u64 gpa, u16 cs, u16 ds, u16 *limit)
{
	unsigned int n = (cs > ds ? cs : ds) / 8 + 1;
	u64 *gdt;

	if ((cs | ds) & 7 || !cs || !ds || cs == ds || n > 16)
		return -EINVAL;
	gdt = kvm_vm_gpa_to_hva(vm, gpa, n * 8);
	if (!gdt)
		return -EFAULT;
	memset(gdt, 0, n * 8);
	gdt[cs / 8] = GDT_CODE64;
	gdt[ds / 8] = GDT_DATA;
	*limit = (u16)(n * 8 - 1);
	return 0;
}

static int enable_lapic(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic_state la;
	u32 *reg;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &la) < 0)
		return -errno;
	reg = (u32 *)(la.regs + APIC_SPIV);
	*reg = 0x1FF;			/* software enable, spurious vector 0xff */
	reg = (u32 *)(la.regs + APIC_LVT_LINT0);
	*reg = APIC_MODE_EXTINT;	/* legacy PIC through LINT0 */
	reg = (u32 *)(la.regs + APIC_LVT_LINT1);
	*reg = APIC_MODE_NMI;
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &la) < 0 ? -errno : 0;
}

int kvm_vcpu_setup_long_mode(struct kvm_vcpu *vcpu, const struct kvm_x86_boot *b)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	u16 cs = b->cs ? b->cs : 0x08, ds = b->ds ? b->ds : 0x10, gdt_limit = 0;
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = cs, .type = 11,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = ds, .type = 3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	int ret;

	ret = write_gdt(vcpu->vm, b->gdt_gpa, cs, ds, &gdt_limit);
	if (!ret)
		ret = write_page_tables(vcpu->vm, b);
	if (ret) {
		kvm_seterr(vcpu->err, "boot GDT/page tables do not fit in guest RAM");
		return ret;
	}
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		goto err;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = b->page_tables_gpa;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	sregs.gdt.base = b->gdt_gpa;
	sregs.gdt.limit = gdt_limit;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		goto err;
	memset(&regs, 0, sizeof(regs));
	regs.rip = b->rip;
	regs.rsp = b->rsp;
	regs.rdi = b->rdi;
	regs.rsi = b->rsi;
	regs.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		goto err;
	ret = enable_lapic(vcpu);
	if (ret) {
		kvm_seterr(vcpu->err, "KVM_SET_LAPIC: %s", strerror(-ret));
		return ret;
	}
	return 0;
err:
	ret = -errno;
	kvm_seterr(vcpu->err, "setting up long mode: %s", strerror(errno));
	return ret;
}

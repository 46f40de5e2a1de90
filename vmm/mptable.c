// SPDX-License-Identifier: MIT
/*
 * An Intel MultiProcessor Specification 1.4 table, how a guest without ACPI
 * learns its CPUs and interrupt wiring (Linux finds it by scanning the BIOS
 * area for "_MP_").  It lists one processor per vCPU (APIC ID = vCPU id, the
 * first the bootstrap processor), KVM's in-kernel IOAPIC at 0xfec00000 with
 * ID nr_cpus, the ISA IRQs 0-15 (but 2, the cascade) wired straight to the
 * IOAPIC pins of the same number, each PCI slot's INTA to pin 16 + (slot & 7)
 * (VP_PCI_INTX_PIN), and the local APICs' LINT0 as ExtINT and LINT1 as NMI.
 * That is exactly what vmm's GSI routing does (kvm/vm.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "vmm.h"

#define MP_FLOAT_LEN		16
#define MP_HEADER_LEN		44
#define MP_PROC_LEN		20
#define MP_ENTRY_LEN		8
#define MP_SPEC_REV		4
#define MP_LAPIC_ADDR		0xfee00000U
#define MP_IOAPIC_ADDR		0xfec00000U
#define MP_LAPIC_VERSION	0x14
#define MP_IOAPIC_VERSION	0x11
#define MP_BUS_PCI		0
#define MP_BUS_ISA		1
#define MP_PCI_SLOTS		32

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IOINTR, MP_LINTR };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
#define MP_PROC_EN		0x01
#define MP_PROC_BP		0x02
#define MP_IRQ_ACTIVE_LOW_LEVEL	0x0f	/* polarity 3 (low), trigger 3 (level) */

static u8 *entry8(u8 *p, u8 type, u8 a, u16 flags, u8 bus, u8 irq, u8 dst, u8 pin)
{
	p[0] = type;
	p[1] = a;
	vmm_put16(p + 2, flags);
	p[4] = bus;
	p[5] = irq;
	p[6] = dst;
	p[7] = pin;
	return p + MP_ENTRY_LEN;
}

size_t vmm_mptable_size(unsigned int nr_cpus)
{
	return MP_FLOAT_LEN + MP_HEADER_LEN + nr_cpus * MP_PROC_LEN +
	       (2 + 1 + 15 + MP_PCI_SLOTS + 2) * MP_ENTRY_LEN;
}

int vmm_mptable_write(u8 *low_ram, u64 low_size, unsigned int nr_cpus)
{
	u8 *fp = low_ram + VMM_MPTABLE_GPA, *hdr = fp + MP_FLOAT_LEN, *p;
	u8 ioapic_id = (u8)nr_cpus;
	unsigned int i, n = 0;

	if (!nr_cpus || nr_cpus > 254 ||
	    VMM_MPTABLE_GPA + vmm_mptable_size(nr_cpus) > VMM_MPTABLE_END || low_size < VMM_MPTABLE_END)
		return -EINVAL;
	memset(fp, 0, vmm_mptable_size(nr_cpus));

	p = hdr + MP_HEADER_LEN;
	for (i = 0; i < nr_cpus; i++, n++) {
		p[0] = MP_PROCESSOR;
		p[1] = (u8)i;					/* local APIC ID */
		p[2] = MP_LAPIC_VERSION;
		p[3] = MP_PROC_EN | (i == 0 ? MP_PROC_BP : 0);
		vmm_put32(p + 4, 0x600);				/* family 6 */
		vmm_put32(p + 8, (1U << 0) | (1U << 9));		/* FPU, APIC */
		p += MP_PROC_LEN;
	}
	memcpy(p, "\x01\x00PCI   ", 8);			/* bus 0 */
	p += MP_ENTRY_LEN;
	memcpy(p, "\x01\x01ISA   ", 8);			/* bus 1 */
	p += MP_ENTRY_LEN;
	p[0] = MP_IOAPIC;
	p[1] = ioapic_id;
	p[2] = MP_IOAPIC_VERSION;
	p[3] = 1;					/* enabled */
	vmm_put32(p + 4, MP_IOAPIC_ADDR);
	p += MP_ENTRY_LEN;
	n += 3;
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;			/* the 8259 cascade */
		p = entry8(p, MP_IOINTR, MP_INT, 0, MP_BUS_ISA, (u8)i, ioapic_id, (u8)i);
		n++;
	}
	for (i = 0; i < MP_PCI_SLOTS; i++, n++)
		p = entry8(p, MP_IOINTR, MP_INT, MP_IRQ_ACTIVE_LOW_LEVEL, MP_BUS_PCI,
			   (u8)(i << 2), ioapic_id, (u8)VP_PCI_INTX_PIN(i));
	p = entry8(p, MP_LINTR, MP_EXTINT, 0, MP_BUS_ISA, 0, 0xff, 0);
	p = entry8(p, MP_LINTR, MP_NMI, 0, MP_BUS_ISA, 0, 0xff, 1);
	n += 2;

	memcpy(hdr, "PCMP", 4);
	vmm_put16(hdr + 4, (u16)(p - hdr));
	hdr[6] = MP_SPEC_REV;
	memcpy(hdr + 8, "VIOPLANE", 8);
	memcpy(hdr + 16, "vmm         ", 12);
	vmm_put16(hdr + 34, (u16)n);
	vmm_put32(hdr + 36, MP_LAPIC_ADDR);
	hdr[7] = vmm_checksum(hdr, (size_t)(p - hdr));

	memcpy(fp, "_MP_", 4);
	vmm_put32(fp + 4, (u32)(VMM_MPTABLE_GPA + MP_FLOAT_LEN));
	fp[8] = 1;					/* length in 16-byte units */
	fp[9] = MP_SPEC_REV;
	fp[10] = vmm_checksum(fp, MP_FLOAT_LEN);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * ACPI tables for a Linux guest: what it needs to find its CPUs, its
 * interrupt wiring and the PCI host bridge, and to power the machine off.
 *
 *   RSDP  at VMM_ACPI_GPA, in the BIOS area Linux scans (0xe0000-0xfffff)
 *   XSDT  -> FADT, MADT
 *   FADT  full (not hardware-reduced) ACPI, so the PIC, PIT, RTC and i8042
 *         reset stay as they are without ACPI; SMI_CMD 0 (always in ACPI
 *         mode); PM1a event and control blocks at VMM_ACPI_PM1_EVT/CNT
 *         (vmm/pc.c), SCI on IRQ 9; no PM timer, GPE blocks, VGA or i8042;
 *         a FACS (it holds the global lock ACPICA looks for)
 *   MADT  one local APIC per vCPU (ID = vCPU id), KVM's IOAPIC (ID nr_cpus,
 *         GSI base 0), LINT1 as NMI; ISA IRQs identity-mapped, as the
 *         default with no overrides says and as vmm's GSI routing does
 *   DSDT  \_S5 (SLP_TYP VMM_ACPI_S5_TYP: writing it with SLP_EN to PM1a
 *         control ends vmm with status 0), and \_SB.PCI0: a PNP0A03 host
 *         bridge for bus 0 with vmm's windows in _CRS (config ports, I/O
 *         outside them, the 32-bit and the 64-bit MMIO windows) and a _PRT
 *         routing each slot's INTA to IOAPIC pin VP_PCI_INTX_PIN(slot)
 * These say the same as the MP table (vmm/mptable.c), which stays for
 * kernels without ACPI; Linux prefers the MADT when both are there.
 *
 * The AML is generated: each object with a PkgLength is written body first,
 * then its opcode and length are put in front (aml_wrap()).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "vmm.h"

#define OEM_ID			"VIOPLN"	/* 6 bytes */
#define OEM_TABLE_ID		"VIOPLANE"	/* 8 bytes */
#define CREATOR_ID		"VPLN"
#define HDR_LEN			36
#define RSDP_LEN		36
#define FACS_LEN		64
#define FADT_LEN		276		/* revision 6 */
#define MADT_LAPIC_ADDR		0xfee00000U
#define MADT_IOAPIC_ADDR	0xfec00000U
#define PCI_SLOTS		32

/* FADT flags */
#define FADT_WBINVD		(1U << 0)
#define FADT_C1_SUPPORTED	(1U << 2)
#define FADT_POWER_BUTTON	(1U << 4)	/* set: no fixed-feature power button */
#define FADT_SLEEP_BUTTON	(1U << 5)	/* set: no fixed-feature sleep button */
#define FADT_FIXED_RTC		(1U << 6)	/* set: RTC wake status not in PM1 */
#define BOOT_ARCH_NO_VGA	(1U << 2)	/* IAPC_BOOT_ARCH; no LEGACY_DEVICES, no 8042 */

/* AML opcodes */
#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE		0x0a
#define AML_WORD		0x0b
#define AML_DWORD		0x0c
#define AML_QWORD		0x0e
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_ROOT		0x5c
#define AML_EXT			0x5b
#define AML_DEVICE		0x82		/* after AML_EXT */

struct aml {
	u8 *p;
	size_t n, cap;
	bool full;		/* something did not fit: the table is not written */
};

static void aml_bytes(struct aml *a, const void *b, size_t n)
{
	if (a->full || n > a->cap - a->n) {
		a->full = true;
		return;
	}
	memcpy(a->p + a->n, b, n);
	a->n += n;
}

static void aml_byte(struct aml *a, u8 b)
{
	aml_bytes(a, &b, 1);
}

static void aml_int(struct aml *a, u64 v)
{
	u8 b[9];

	if (v <= 1) {
		aml_byte(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffff ? 4 : 8;

	b[0] = n == 1 ? AML_BYTE : n == 2 ? AML_WORD : n == 4 ? AML_DWORD : AML_QWORD;
	vmm_put64(b + 1, v);		/* little-endian: the first n bytes are v */
	aml_bytes(a, b, 1 + n);
}

/* Name(SEG, ...): the value follows. */
static void aml_name(struct aml *a, const char seg[4])
{
	aml_byte(a, AML_NAME);
	aml_bytes(a, seg, 4);
}

/*
 * Put @op (1 or 2 bytes) and a PkgLength in front of the body written since
 * @start.  The length counts itself: 1 byte up to 63, 2 up to 4095, 3 above.
 */
static void aml_wrap(struct aml *a, size_t start, const u8 *op, size_t oplen)
{
	size_t body = a->n - start, k = body + 1 <= 0x3f ? 1 : body + 2 <= 0xfff ? 2 : 3;
	size_t len = body + k;
	u8 hdr[5];

	if (a->full)
		return;
	if (oplen + k > a->cap - a->n || len > 0xfffff) {
		a->full = true;
		return;
	}
	memcpy(hdr, op, oplen);
	if (k == 1) {
		hdr[oplen] = (u8)len;
	} else {
		hdr[oplen] = (u8)((k - 1) << 6 | (len & 0xf));
		hdr[oplen + 1] = (u8)(len >> 4);
		if (k == 3)
			hdr[oplen + 2] = (u8)(len >> 12);
	}
	memmove(a->p + start + oplen + k, a->p + start, body);
	memcpy(a->p + start, hdr, oplen + k);
	a->n += oplen + k;
}

static void aml_wrap1(struct aml *a, size_t start, u8 op)
{
	aml_wrap(a, start, &op, 1);
}

/* Word address space descriptor: I/O (type 1) or bus numbers (type 2). */
static void res_word(struct aml *a, u8 type, u8 type_flags, u16 min, u16 max)
{
	u8 d[16] = { 0x88, 13, 0, type, 0x0c /* min, max fixed; producer */, type_flags };

	vmm_put16(d + 8, min);
	vmm_put16(d + 10, max);
	vmm_put16(d + 14, (u16)(max - min + 1));
	aml_bytes(a, d, sizeof(d));
}

/* DWord / QWord memory range descriptors, read-write, non-cacheable. */
static void res_mem32(struct aml *a, u32 min, u32 len)
{
	u8 d[26] = { 0x87, 23, 0, 0, 0x0c, 0x01 };

	vmm_put32(d + 10, min);
	vmm_put32(d + 14, min + len - 1);
	vmm_put32(d + 22, len);
	aml_bytes(a, d, sizeof(d));
}

static void res_mem64(struct aml *a, u64 min, u64 len)
{
	u8 d[46] = { 0x8a, 43, 0, 0, 0x0c, 0x01 };

	vmm_put64(d + 14, min);
	vmm_put64(d + 22, min + len - 1);
	vmm_put64(d + 38, len);
	aml_bytes(a, d, sizeof(d));
}

static void dsdt_body(struct aml *a)
{
	/* IO(Decode16, 0xcf8, 0xcf8, 1, 8): the configuration ports themselves */
	static const u8 cfg_io[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	u8 crs_bytes[256];
	struct aml crs = { .p = crs_bytes, .cap = sizeof(crs_bytes) };
	size_t s, scope, dev, prt;
	unsigned int slot;

	/* Name(_S5_, Package(4) { S5, S5, 0, 0 }) */
	aml_name(a, "_S5_");
	s = a->n;
	aml_byte(a, 4);
	aml_int(a, VMM_ACPI_S5_TYP);
	aml_int(a, VMM_ACPI_S5_TYP);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_wrap1(a, s, AML_PACKAGE);

	scope = a->n;
	aml_byte(a, AML_ROOT);
	aml_bytes(a, "_SB_", 4);
	dev = a->n;
	aml_bytes(a, "PCI0", 4);
	aml_name(a, "_HID");
	aml_byte(a, AML_DWORD);
	aml_bytes(a, (const u8[]){ 0x41, 0xd0, 0x0a, 0x03 }, 4);	/* EisaId("PNP0A03") */
	aml_name(a, "_UID");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);

	aml_name(a, "_CRS");
	res_word(&crs, 2, 0, 0, 0);				/* bus 0 */
	aml_bytes(&crs, cfg_io, sizeof(cfg_io));
	res_word(&crs, 1, 3, 0x0000, 0x0cf7);			/* I/O below the config ports */
	res_word(&crs, 1, 3, 0x0d00, 0xffff);			/* and above them */
	res_mem32(&crs, (u32)VP_PCI_MMIO32_BASE, (u32)VP_PCI_MMIO32_SIZE);
	res_mem64(&crs, VP_PCI_MMIO64_BASE, VP_PCI_MMIO64_SIZE);
	aml_bytes(&crs, (const u8[]){ 0x79, 0x00 }, 2);	/* end tag, checksum 0 */
	a->full |= crs.full;
	s = a->n;
	aml_int(a, crs.n);					/* BufferSize */
	aml_bytes(a, crs.p, crs.n);
	aml_wrap1(a, s, AML_BUFFER);

	/* _PRT: Package { Package { slot << 16 | 0xffff, pin A, 0, GSI }, ... } */
	aml_name(a, "_PRT");
	prt = a->n;
	aml_byte(a, PCI_SLOTS - 1);
	for (slot = 1; slot < PCI_SLOTS; slot++) {
		s = a->n;
		aml_byte(a, 4);
		aml_int(a, (u64)slot << 16 | 0xffff);
		aml_int(a, 0);
		aml_int(a, 0);
		aml_int(a, VP_PCI_INTX_PIN(slot));
		aml_wrap1(a, s, AML_PACKAGE);
	}
	aml_wrap1(a, prt, AML_PACKAGE);

	aml_wrap(a, dev, (const u8[]){ AML_EXT, AML_DEVICE }, 2);
	aml_wrap1(a, scope, AML_SCOPE);
}

static void header(u8 *t, const char sig[4], u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	vmm_put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	vmm_put32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	vmm_put32(t + 32, 1);
}

static void seal(u8 *t)
{
	u32 len = (u32)(t[4] | t[5] << 8 | t[6] << 16 | (u32)t[7] << 24);

	t[9] = 0;
	t[9] = vmm_checksum(t, len);
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

/* Where each table goes for @nr_cpus, and their total size (SIZE_MAX: the AML does not build). */
struct layout {
	u64 facs, xsdt, fadt, madt, dsdt;
	size_t madt_len, size;
};

static void acpi_layout(unsigned int nr_cpus, struct layout *l)
{
	u8 scratch[4096];
	struct aml a = { .p = scratch, .cap = sizeof(scratch) };

	dsdt_body(&a);
	l->facs = VMM_ACPI_GPA + FACS_LEN;	/* 64-byte aligned, after the RSDP */
	l->xsdt = l->facs + FACS_LEN;
	l->fadt = l->xsdt + align16(HDR_LEN + 2 * 8);
	l->madt = l->fadt + align16(FADT_LEN);
	l->madt_len = HDR_LEN + 8 + 8 * (size_t)nr_cpus + 12 + 6;
	l->dsdt = l->madt + align16(l->madt_len);
	l->size = a.full ? SIZE_MAX : l->dsdt + HDR_LEN + a.n - VMM_ACPI_GPA;
}

size_t vmm_acpi_size(unsigned int nr_cpus)
{
	struct layout l;

	acpi_layout(nr_cpus, &l);
	return l.size;
}

int vmm_acpi_write(u8 *low_ram, u64 low_size, unsigned int nr_cpus)
{
	u64 base = VMM_ACPI_GPA;
	struct layout l;
	u8 *t, *e;
	unsigned int i;
	struct aml a;

	acpi_layout(nr_cpus, &l);
	if (nr_cpus < 1 || nr_cpus > 254 || l.size == SIZE_MAX ||
	    VMM_ACPI_GPA + l.size > VMM_ACPI_END || low_size < VMM_ACPI_END)
		return -EINVAL;
	memset(low_ram + VMM_ACPI_GPA, 0, VMM_ACPI_END - VMM_ACPI_GPA);

	/* DSDT */
	t = low_ram + l.dsdt;
	a = (struct aml){ .p = t + HDR_LEN, .cap = VMM_ACPI_END - l.dsdt - HDR_LEN };
	dsdt_body(&a);
	if (a.full)
		return -EINVAL;
	header(t, "DSDT", (u32)(HDR_LEN + a.n), 2);
	seal(t);

	/* MADT */
	t = low_ram + l.madt;
	header(t, "APIC", (u32)l.madt_len, 4);
	vmm_put32(t + 36, MADT_LAPIC_ADDR);
	vmm_put32(t + 40, 1);				/* PCAT_COMPAT: 8259s present */
	e = t + 44;
	for (i = 0; i < nr_cpus; i++, e += 8) {		/* processor local APIC */
		e[0] = 0;
		e[1] = 8;
		e[2] = (u8)i;				/* ACPI processor UID */
		e[3] = (u8)i;				/* APIC ID */
		vmm_put32(e + 4, 1);			/* enabled */
	}
	e[0] = 1;					/* IOAPIC */
	e[1] = 12;
	e[2] = (u8)nr_cpus;
	vmm_put32(e + 4, MADT_IOAPIC_ADDR);
	vmm_put32(e + 8, 0);				/* GSI base */
	e += 12;
	e[0] = 4;					/* local APIC NMI */
	e[1] = 6;
	e[2] = 0xff;					/* all processors */
	vmm_put16(e + 3, 0);				/* flags: bus defaults */
	e[5] = 1;					/* LINT1 */
	seal(t);

	/* FACS: no checksum, no waking vector */
	t = low_ram + l.facs;
	memcpy(t, "FACS", 4);
	vmm_put32(t + 4, FACS_LEN);
	t[32] = 2;					/* version */

	/* FADT */
	t = low_ram + l.fadt;
	header(t, "FACP", FADT_LEN, 6);
	vmm_put32(t + 36, (u32)l.facs);
	vmm_put32(t + 40, (u32)l.dsdt);
	vmm_put16(t + 46, VMM_ACPI_SCI_IRQ);
	vmm_put32(t + 56, VMM_ACPI_PM1_EVT);		/* PM1a_EVT_BLK */
	vmm_put32(t + 64, VMM_ACPI_PM1_CNT);		/* PM1a_CNT_BLK */
	t[88] = 4;					/* PM1_EVT_LEN */
	t[89] = 2;					/* PM1_CNT_LEN */
	vmm_put16(t + 96, 101);				/* P_LVL2_LAT: no C2 */
	vmm_put16(t + 98, 1001);			/* P_LVL3_LAT: no C3 */
	vmm_put16(t + 109, BOOT_ARCH_NO_VGA);
	vmm_put32(t + 112, FADT_WBINVD | FADT_C1_SUPPORTED | FADT_POWER_BUTTON |
			   FADT_SLEEP_BUTTON | FADT_FIXED_RTC);
	vmm_put64(t + 132, l.facs);			/* X_FIRMWARE_CTRL */
	vmm_put64(t + 140, l.dsdt);			/* X_DSDT */
	seal(t);

	/* XSDT */
	t = low_ram + l.xsdt;
	header(t, "XSDT", HDR_LEN + 2 * 8, 1);
	vmm_put64(t + 36, l.fadt);
	vmm_put64(t + 44, l.madt);
	seal(t);

	/* RSDP (ACPI 2.0+): the first 20 bytes sum to 0, and all 36 */
	t = low_ram + base;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2;					/* revision */
	vmm_put32(t + 16, 0);				/* no RSDT: the XSDT only */
	vmm_put32(t + 20, RSDP_LEN);
	vmm_put64(t + 24, l.xsdt);
	t[8] = vmm_checksum(t, 20);
	t[32] = vmm_checksum(t, RSDP_LEN);
	return 0;
}

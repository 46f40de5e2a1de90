// SPDX-License-Identifier: MIT
/*
 * vmm's ACPI tables, read the way a guest reads them: the RSDP found by
 * Linux's scan of the BIOS area, every checksum and length, the XSDT's
 * tables, the FADT's PM1 blocks, SCI and FACS, one enabled local APIC per
 * vCPU and the IOAPIC in the MADT, and the DSDT's AML decoded by a small
 * independent parser: \_S5, and \_SB.PCI0 with its _HID, the _CRS windows
 * vmm's PCI bus uses and a _PRT entry per slot on the pins vmm routes.  The
 * MP table can be written next to them.  Sizes it cannot take are refused.
 *
 *   vmm_acpi --dump DIR   writes the tables vmm gives a 2-vCPU guest as
 *                         DIR/{dsdt,facp,apic,xsdt,facs}.dat (for iasl)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "../../vmm/vmm.h"
#include "check.h"


#define LOW	(1ULL << 20)

static unsigned int get16(const u8 *p) { return p[0] | p[1] << 8; }
static unsigned int get32(const u8 *p) { return get16(p) | (unsigned int)get16(p + 2) << 16; }
static unsigned long long get64(const u8 *p)
{
	return get32(p) | (unsigned long long)get32(p + 4) << 32;
}

static u8 sum(const u8 *p, size_t n)
{
	u8 s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* A table at @gpa with signature @sig, a good checksum and a sane length. */
static const u8 *table(const u8 *ram, unsigned long long gpa, const char *sig)
{
	const u8 *t;

	CHECK(gpa >= VMM_ACPI_GPA && gpa + 36 <= VMM_ACPI_END);
	if (gpa < VMM_ACPI_GPA || gpa + 36 > VMM_ACPI_END)
		return NULL;
	t = ram + gpa;
	CHECK(!memcmp(t, sig, 4));
	CHECK(get32(t + 4) >= 36 && gpa + get32(t + 4) <= VMM_ACPI_END);
	if (gpa + get32(t + 4) > VMM_ACPI_END)
		return NULL;
	CHECK(sum(t, get32(t + 4)) == 0);
	CHECK(!memcmp(t + 10, "VIOPLN", 6));
	return t;
}

/* --- a minimal AML reader for what the DSDT may contain ---------------------- */

struct rd {
	const u8 *p, *end;
	bool bad;
};

struct found {
	unsigned long long s5_typ;
	unsigned int s5_elems;
	unsigned long long hid;
	bool have_uid, have_crs;
	unsigned int prt_entries, prt_ok;
	unsigned long long win64_min, win64_len, win32_min, win32_len;
	unsigned int bus_min, bus_max, io_windows;
	bool crs_end;
};

static unsigned int rd_byte(struct rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

/* PkgLength: the end of the object it starts (it counts itself). */
static const u8 *rd_pkglen(struct rd *r)
{
	const u8 *start = r->p;
	unsigned int b0 = rd_byte(r), k = b0 >> 6, i;
	unsigned long len = k ? (b0 & 0x0f) : (b0 & 0x3f);

	for (i = 0; i < k; i++)
		len |= (unsigned long)rd_byte(r) << (4 + 8 * i);
	if (r->bad || len > (unsigned long)(r->end - start)) {
		r->bad = true;
		return r->end;
	}
	return start + len;
}

static unsigned long long rd_int(struct rd *r)
{
	unsigned int op = rd_byte(r), n = 0, i;
	unsigned long long v = 0;

	switch (op) {
	case 0x00: return 0;
	case 0x01: return 1;
	case 0xff: return ~0ULL;
	case 0x0a: n = 1; break;
	case 0x0b: n = 2; break;
	case 0x0c: n = 4; break;
	case 0x0e: n = 8; break;
	default: r->bad = true; return 0;
	}
	for (i = 0; i < n; i++)
		v |= (unsigned long long)rd_byte(r) << (8 * i);
	return v;
}

static void rd_seg(struct rd *r, char seg[5])
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		seg[i] = (char)rd_byte(r);
	seg[4] = 0;
}

static void parse_crs(const u8 *b, size_t n, struct found *f)
{
	const u8 *p = b, *end = b + n;

	while (p < end) {
		unsigned int len;

		if (p[0] == 0x79) {		/* end tag */
			f->crs_end = p + 2 == end;
			return;
		}
		if (!(p[0] & 0x80)) {		/* small: IO */
			len = p[0] & 7;
			CHECK(p[0] >> 3 == 0x08 && len == 7);
			p += 1 + len;
			continue;
		}
		if (end - p < 3)
			break;
		len = get16(p + 1);
		if ((size_t)(end - p) < 3 + len)
			break;
		if (p[0] == 0x88 && p[3] == 2) {
			f->bus_min = get16(p + 8);
			f->bus_max = get16(p + 10);
		} else if (p[0] == 0x88 && p[3] == 1) {
			f->io_windows++;
		} else if (p[0] == 0x87 && p[3] == 0) {
			f->win32_min = get32(p + 10);
			f->win32_len = get32(p + 22);
			CHECK(get32(p + 14) == get32(p + 10) + get32(p + 22) - 1);
		} else if (p[0] == 0x8a && p[3] == 0) {
			f->win64_min = get64(p + 14);
			f->win64_len = get64(p + 38);
			CHECK(get64(p + 22) == get64(p + 14) + get64(p + 38) - 1);
		} else {
			CHECK(!"unexpected resource descriptor");
		}
		p += 3 + len;
	}
	CHECK(!"_CRS has no end tag");
}

/* The value of Name(@name, ...); records what the checks need. */
static void rd_data(struct rd *r, const char *name, struct found *f)
{
	unsigned int op = r->p < r->end ? *r->p : 0, n, i;
	const u8 *end;

	if (op == 0x12) {			/* Package */
		r->p++;
		end = rd_pkglen(r);
		n = rd_byte(r);
		if (!strcmp(name, "_S5_")) {
			f->s5_elems = n;
			f->s5_typ = rd_int(r);
			r->p = end;
			return;
		}
		if (!strcmp(name, "_PRT")) {
			for (i = 0; i < n && !r->bad; i++) {
				const u8 *e;
				unsigned long long addr, pin, src, gsi;

				CHECK(rd_byte(r) == 0x12);
				e = rd_pkglen(r);
				CHECK(rd_byte(r) == 4);
				addr = rd_int(r);
				pin = rd_int(r);
				src = rd_int(r);
				gsi = rd_int(r);
				CHECK(r->p == e);
				r->p = e;
				f->prt_entries++;
				if ((addr & 0xffff) == 0xffff && pin == 0 && src == 0 &&
				    addr >> 16 == i + 1 && gsi == VP_PCI_INTX_PIN(i + 1))
					f->prt_ok++;
			}
		}
		CHECK(r->p == end);
		r->p = end;
		return;
	}
	if (op == 0x11) {			/* Buffer */
		unsigned long long size;

		r->p++;
		end = rd_pkglen(r);
		size = rd_int(r);
		CHECK(!r->bad && size == (unsigned long long)(end - r->p));
		if (!strcmp(name, "_CRS") && !r->bad && size == (unsigned long long)(end - r->p)) {
			f->have_crs = true;
			parse_crs(r->p, size, f);
		}
		r->p = end;
		return;
	}
	if (!strcmp(name, "_HID"))
		f->hid = rd_int(r);
	else if (!strcmp(name, "_UID"))
		f->have_uid = rd_int(r) == 0;
	else
		(void)rd_int(r);
}

static void rd_terms(struct rd *r, const char *path, struct found *f)
{
	while (r->p < r->end && !r->bad) {
		unsigned int op = rd_byte(r);
		char seg[5], sub[64];
		struct rd in;

		if (op == 0x08) {			/* Name */
			rd_seg(r, seg);
			rd_data(r, seg, f);
			if (!strcmp(path, "\\") && strcmp(seg, "_S5_"))
				CHECK(!"unexpected name at the root");
		} else if (op == 0x10) {		/* Scope */
			in.end = rd_pkglen(r);
			CHECK(rd_byte(r) == '\\');
			rd_seg(r, seg);
			snprintf(sub, sizeof(sub), "\\%s", seg);
			in.p = r->p;
			in.bad = false;
			rd_terms(&in, sub, f);
			r->bad |= in.bad;
			r->p = in.end;
		} else if (op == 0x5b && r->p < r->end && *r->p == 0x82) {	/* Device */
			r->p++;
			in.end = rd_pkglen(r);
			rd_seg(r, seg);
			snprintf(sub, sizeof(sub), "%s.%s", path, seg);
			CHECK(!strcmp(sub, "\\_SB_.PCI0"));
			in.p = r->p;
			in.bad = false;
			rd_terms(&in, sub, f);
			r->bad |= in.bad;
			r->p = in.end;
		} else {
			r->bad = true;
		}
	}
}

static void check_tables(const u8 *ram, unsigned int ncpu)
{
	const u8 *rsdp = NULL, *xsdt, *fadt, *madt, *dsdt, *facs, *e, *end;
	unsigned long long a;
	unsigned int lapics = 0, ioapics = 0, nmis = 0;
	struct found f = { 0 };
	struct rd r;

	/* Linux: 16-byte steps through 0xe0000-0xfffff, "RSD PTR ", 20-byte sum. */
	for (a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(ram + a, "RSD PTR ", 8) && sum(ram + a, 20) == 0) {
			rsdp = ram + a;
			break;
		}
	CHECK(rsdp != NULL);
	if (!rsdp)
		return;
	CHECK(rsdp[15] == 2 && get32(rsdp + 20) == 36 && sum(rsdp, 36) == 0);
	xsdt = table(ram, get64(rsdp + 24), "XSDT");
	if (!xsdt)
		return;
	CHECK(get32(xsdt + 4) == 36 + 2 * 8);
	fadt = table(ram, get64(xsdt + 36), "FACP");
	madt = table(ram, get64(xsdt + 44), "APIC");
	if (!fadt || !madt)
		return;

	/* FADT: full ACPI, PM1a blocks, SCI, the FACS and DSDT twice over. */
	CHECK(get32(fadt + 4) == 276 && fadt[8] == 6);
	CHECK(get16(fadt + 46) == VMM_ACPI_SCI_IRQ && get32(fadt + 48) == 0);	/* no SMI_CMD */
	CHECK(get32(fadt + 56) == VMM_ACPI_PM1_EVT && fadt[88] == 4);
	CHECK(get32(fadt + 64) == VMM_ACPI_PM1_CNT && fadt[89] == 2);
	CHECK(get32(fadt + 76) == 0 && get32(fadt + 80) == 0);		/* no PM timer, GPE0 */
	CHECK(!(get32(fadt + 112) & (1U << 20)));			/* not HW-reduced */
	CHECK(!(get16(fadt + 109) & 2));				/* no i8042 */
	CHECK(get32(fadt + 36) == get64(fadt + 132) && get32(fadt + 40) == get64(fadt + 140));
	facs = ram + get32(fadt + 36);
	CHECK(!memcmp(facs, "FACS", 4) && get32(facs + 4) == 64 && !(get32(fadt + 36) & 63));
	CHECK(get32(fadt + 36) >= VMM_ACPI_GPA && get32(fadt + 36) + 64 <= VMM_ACPI_END);
	dsdt = table(ram, get32(fadt + 40), "DSDT");
	if (!dsdt)
		return;

	/* MADT: a local APIC per vCPU, the IOAPIC with ID ncpu, LINT1 NMI. */
	CHECK(get32(madt + 36) == 0xfee00000 && (get32(madt + 40) & 1));
	e = madt + 44;
	end = madt + get32(madt + 4);
	while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
		switch (e[0]) {
		case 0:
			CHECK(e[1] == 8 && e[2] == lapics && e[3] == lapics && get32(e + 4) == 1);
			lapics++;
			break;
		case 1:
			CHECK(e[1] == 12 && e[2] == ncpu && get32(e + 4) == 0xfec00000 &&
			      get32(e + 8) == 0);
			ioapics++;
			break;
		case 4:
			CHECK(e[1] == 6 && e[2] == 0xff && e[5] == 1);
			nmis++;
			break;
		default:
			CHECK(!"unexpected MADT entry");
		}
		e += e[1];
	}
	CHECK(e == end);
	CHECK(lapics == ncpu && ioapics == 1 && nmis == 1);

	/* DSDT: decoded, every length consistent, what Linux looks up there. */
	r = (struct rd){ dsdt + 36, dsdt + get32(dsdt + 4), false };
	rd_terms(&r, "\\", &f);
	CHECK(!r.bad && r.p == r.end);
	CHECK(f.s5_elems == 4 && f.s5_typ == VMM_ACPI_S5_TYP);
	CHECK(f.hid == 0x030ad041);			/* EisaId("PNP0A03") */
	CHECK(f.have_uid && f.have_crs && f.crs_end);
	CHECK(f.bus_min == 0 && f.bus_max == 0 && f.io_windows == 2);
	CHECK(f.win32_min == VP_PCI_MMIO32_BASE && f.win32_len == VP_PCI_MMIO32_SIZE);
	CHECK(f.win64_min == VP_PCI_MMIO64_BASE && f.win64_len == VP_PCI_MMIO64_SIZE);
	CHECK(f.prt_entries == 31 && f.prt_ok == 31);
}

static void test_write(void)
{
	static const unsigned int cpus[] = { 1, 2, 8 };
	u8 *ram = calloc(1, LOW);
	unsigned int i;

	CHECK(ram != NULL);
	if (!ram)
		return;
	for (i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		memset(ram, 0x5a, LOW);
		CHECK(vmm_acpi_size(cpus[i]) <= VMM_ACPI_END - VMM_ACPI_GPA);
		CHECK(vmm_acpi_write(ram, LOW, cpus[i]) == 0);
		/* The MP table is written after them and leaves them alone. */
		CHECK(vmm_mptable_write(ram, LOW, cpus[i]) == 0);
		check_tables(ram, cpus[i]);
		CHECK(ram[VMM_ACPI_GPA - 1] == 0x5a);	/* nothing below the area */
	}
	CHECK(vmm_acpi_write(ram, VMM_ACPI_GPA + 4096, 1) == -EINVAL);	/* RAM ends in them */
	CHECK(vmm_acpi_write(ram, LOW, 0) == -EINVAL);
	CHECK(vmm_acpi_write(ram, LOW, 255) == -EINVAL);	/* 255 is the broadcast ID */
	free(ram);
}

static int dump(const char *dir)
{
	static const struct { const char *file; int which; } out[] = {
		{ "xsdt", 0 }, { "facp", 1 }, { "apic", 2 }, { "dsdt", 3 }, { "facs", 4 },
	};
	u8 *ram = calloc(1, LOW);
	const u8 *t[5];
	unsigned int i;
	char path[4096];

	if (!ram || vmm_acpi_write(ram, LOW, 2))
		return 1;
	t[0] = ram + get64(ram + VMM_ACPI_GPA + 24);
	t[1] = ram + get64(t[0] + 36);
	t[2] = ram + get64(t[0] + 44);
	t[3] = ram + get32(t[1] + 40);
	t[4] = ram + get32(t[1] + 36);
	for (i = 0; i < 5; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s.dat", dir, out[i].file);
		fp = fopen(path, "wb");
		if (!fp || fwrite(t[out[i].which], 1, get32(t[out[i].which] + 4), fp) !=
			   get32(t[out[i].which] + 4) || fclose(fp)) {
			perror(path);
			return 1;
		}
	}
	free(ram);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(argv[2]);
	test_write();
	return check_exit("vmm_acpi");
}

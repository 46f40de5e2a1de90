// SPDX-License-Identifier: MIT
/*
 * vmm's MP table: where Linux looks for it, both checksums, one enabled
 * processor per vCPU with vCPU 0 the bootstrap one, the IOAPIC, the ISA IRQs
 * on the IOAPIC pins of the same number (not the cascade), PCI INTA pins as
 * vmm routes them, LINT0/LINT1; and the sizes it refuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "../../vmm/vmm.h"
#include "check.h"


static unsigned int get16(const u8 *p) { return p[0] | p[1] << 8; }
static unsigned int get32(const u8 *p) { return get16(p) | get16(p + 2) << 16; }

static u8 sum(const u8 *p, size_t n)
{
	u8 s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void check_table(u8 *ram, unsigned int ncpu)
{
	const u8 *fp = ram + VMM_MPTABLE_GPA, *hdr, *p, *end;
	unsigned int procs = 0, ioapics = 0, isa = 0, pci = 0, lint = 0, buses = 0, n, i;
	int ioapic_id = -1;

	CHECK(memcmp(fp, "_MP_", 4) == 0 && fp[8] == 1 && fp[9] == 4);
	CHECK(sum(fp, 16) == 0);
	CHECK(get32(fp + 4) >= VMM_MPTABLE_GPA && get32(fp + 4) < VMM_MPTABLE_END);
	hdr = ram + get32(fp + 4);
	CHECK(memcmp(hdr, "PCMP", 4) == 0 && hdr[6] == 4);
	CHECK(sum(hdr, get16(hdr + 4)) == 0);
	CHECK(get32(hdr + 36) == 0xfee00000);
	CHECK(16 + get16(hdr + 4) == vmm_mptable_size(ncpu));
	n = get16(hdr + 34);
	p = hdr + 44;
	end = hdr + get16(hdr + 4);
	for (i = 0; i < n && p < end; i++) {
		switch (p[0]) {
		case 0:
			CHECK(p[1] == procs && (p[3] & 1));
			CHECK(!!(p[3] & 2) == (procs == 0));
			procs++;
			p += 20;
			continue;
		case 1:
			buses++;
			break;
		case 2:
			ioapics++;
			ioapic_id = p[1];
			CHECK(get32(p + 4) == 0xfec00000 && (p[3] & 1));
			break;
		case 3:
			CHECK(p[6] == ioapic_id);
			if (p[4] == 1) {		/* ISA */
				CHECK(p[5] != 2 && p[7] == p[5] && p[5] < 16);
				isa++;
			} else {
				CHECK(p[4] == 0 && (p[5] & 3) == 0 &&
				      p[7] == VP_PCI_INTX_PIN(p[5] >> 2));
				pci++;
			}
			break;
		case 4:
			CHECK(p[6] == 0xff && p[7] == lint);
			CHECK(p[1] == (lint == 0 ? 3 : 1));	/* ExtINT, NMI */
			lint++;
			break;
		default:
			CHECK(!"unknown entry type");
			return;
		}
		p += 8;
	}
	CHECK(i == n && p == end);
	CHECK(procs == ncpu && buses == 2 && ioapics == 1 && ioapic_id == (int)ncpu);
	CHECK(isa == 15 && pci == 32 && lint == 2);
}

int main(void)
{
	u64 size = 2 << 20;
	u8 *ram = calloc(1, size);

	if (!ram)
		abort();
	for (unsigned int n = 1; n <= VMM_MAX_CPUS; n++) {
		memset(ram, 0, size);
		CHECK(vmm_mptable_write(ram, size, n) == 0);
		check_table(ram, n);
	}
	CHECK(vmm_mptable_write(ram, size, 0) == -EINVAL);
	CHECK(vmm_mptable_write(ram, size, 255) == -EINVAL);
	CHECK(vmm_mptable_write(ram, VMM_MPTABLE_END - 1, 1) == -EINVAL);
	free(ram);
	return check_exit("vmm_mptable");
}

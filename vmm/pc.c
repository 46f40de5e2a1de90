// SPDX-License-Identifier: MIT
/*
 * The PC platform devices a Linux guest uses, reduced to what it needs:
 *  - the i8042 keyboard controller's reset line (port 0x64, command 0xfe),
 *    which is how Linux reboots a PC: vmm ends with status 0;
 *  - the ACPI PM1a event and control registers the FADT points at
 *    (vmm/acpi.c): always in ACPI mode (SCI_EN reads 1), no event ever
 *    pending; SLP_EN with the DSDT's S5 sleep type is Linux's `poweroff`:
 *    vmm ends with status 0.  Other sleep states are not offered;
 *  - the MC146818 CMOS RTC (ports 0x70/0x71), whose clock reads the host's
 *    UTC time at start, with the update-in-progress bit clear and the
 *    "valid RAM and time" bit set, so the probe and clock reads finish.
 * Everything else (the PIC, the PIT, the LAPIC and IOAPIC) is KVM's in-kernel.
 */
#include <string.h>
#include <time.h>

#include <kvm/kvm.h>
#include "vmm.h"

#define I8042_CMD	0x64
#define I8042_RESET	0xfe
#define PM1_SCI_EN	0x0001
#define PM1_SLP_TYP(v)	(((v) >> 10) & 7)
#define PM1_SLP_EN	0x2000		/* write-only */
#define PM1_CNT_OFF	4		/* in pc->pm1[] */
#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WDAY	0x06
#define RTC_MDAY	0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32
#define REG_A_DEFAULT	0x26	/* 32.768 kHz base, 1024 Hz rate, UIP clear */
#define REG_B_24H	0x02	/* 24-hour mode, BCD */
#define REG_D_VRT	0x80	/* valid RAM and time */

static void i8042_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_pc *pc = opaque;

	(void)off;	/* registered on the command port only */
	if (!is_write) {
		memset(data, 0, len);	/* status: no data, input buffer empty */
		return;
	}
	if (len == 1 && *(u8 *)data == I8042_RESET) {
		pc->resets++;
		kvm_vm_request_stop(pc->vm, 0);
	}
}

static void acpi_pm_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_pc *pc = opaque;
	u8 *v = data;
	u16 cnt;
	u32 i;

	if (off >= sizeof(pc->pm1) || len > sizeof(pc->pm1) - off) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		for (i = 0; i < len; i++)	/* status: nothing ever pending */
			v[i] = off + i < 2 ? 0 : pc->pm1[off + i];
		if (off <= PM1_CNT_OFF && off + len > PM1_CNT_OFF)
			v[PM1_CNT_OFF - off] |= PM1_SCI_EN;
		return;
	}
	for (i = 0; i < len; i++)
		if (off + i >= 2)		/* status bits are write-1-to-clear */
			pc->pm1[off + i] = v[i];
	if (off + len <= PM1_CNT_OFF)
		return;
	cnt = (u16)(pc->pm1[PM1_CNT_OFF] | pc->pm1[PM1_CNT_OFF + 1] << 8);
	if (!(cnt & PM1_SLP_EN))
		return;
	pc->pm1[PM1_CNT_OFF + 1] &= (u8)~(PM1_SLP_EN >> 8);
	if (PM1_SLP_TYP(cnt) == VMM_ACPI_S5_TYP) {
		pc->poweroffs++;
		kvm_vm_request_stop(pc->vm, 0);
	}
}

static u8 bcd(int v)
{
	return (u8)((v / 10) << 4 | v % 10);
}

static void cmos_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_pc *pc = opaque;
	u8 *v = data;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (off == 0) {		/* index; bit 7 is the NMI mask, which we ignore */
		if (is_write)
			pc->cmos_index = *v & 0x7f;
		else
			*v = 0xff;
		return;
	}
	if (is_write) {
		if (pc->cmos_index != RTC_REG_C && pc->cmos_index != RTC_REG_D)
			pc->cmos[pc->cmos_index] = *v;
		return;
	}
	*v = pc->cmos[pc->cmos_index];
	if (pc->cmos_index == RTC_REG_C)
		pc->cmos[RTC_REG_C] = 0;	/* interrupt flags clear on read */
}

int vmm_pc_init(struct vmm_pc *pc, struct kvm_vm *vm)
{
	time_t now = time(NULL);
	struct tm tm;
	int ret;

	memset(pc, 0, sizeof(*pc));
	pc->vm = vm;
	gmtime_r(&now, &tm);
	pc->cmos[RTC_SECONDS] = bcd(tm.tm_sec);
	pc->cmos[RTC_MINUTES] = bcd(tm.tm_min);
	pc->cmos[RTC_HOURS] = bcd(tm.tm_hour);
	pc->cmos[RTC_WDAY] = bcd(tm.tm_wday + 1);
	pc->cmos[RTC_MDAY] = bcd(tm.tm_mday);
	pc->cmos[RTC_MONTH] = bcd(tm.tm_mon + 1);
	pc->cmos[RTC_YEAR] = bcd(tm.tm_year % 100);
	pc->cmos[RTC_CENTURY] = bcd(19 + tm.tm_year / 100);
	pc->cmos[RTC_REG_A] = REG_A_DEFAULT;
	pc->cmos[RTC_REG_B] = REG_B_24H;
	pc->cmos[RTC_REG_D] = REG_D_VRT;

	ret = kvm_vm_add_pio(vm, I8042_CMD, 1, i8042_io, pc);
	if (!ret)
		ret = kvm_vm_add_pio(vm, CMOS_INDEX, 2, cmos_io, pc);
	if (!ret)
		ret = kvm_vm_add_pio(vm, VMM_ACPI_PM1_EVT, sizeof(pc->pm1), acpi_pm_io, pc);
	return ret;
}

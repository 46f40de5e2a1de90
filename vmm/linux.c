// SPDX-License-Identifier: MIT
/*
 * Linux kernel loader: the x86 boot protocol's 64-bit entry
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"), for the two
 * forms a kernel comes in.
 *
 * bzImage: the protected-mode part of the image goes to 1 MiB and is entered
 * at its startup_64 (load address + 0x200) in long mode, RSI = the zero page.
 * The decompressor moves itself to its preferred address, so the kernel needs
 * RAM up to pref_address + init_size.
 *
 * vmlinux: the uncompressed ELF a kernel build leaves, what Firecracker boots.
 * Its PT_LOAD segments go to their physical addresses (16 MiB up for a
 * default x86-64 build) and it is entered at its ELF entry, which is
 * phys_startup_64: the same startup_64 contract (long mode, identity-mapped,
 * RSI = the zero page), minus the decompressor.  It has no setup header, so
 * vmm writes the fields a boot loader owns into the zero page itself.  It is
 * told from a bare ELF guest by the "Linux" ELF notes every kernel carries.
 *
 * In both cases the initrd goes as high in low RAM as the kernel allows, and
 * no BIOS runs: the memory map is handed over in the zero page's e820 table.
 *
 * Security model: the image and the initrd are untrusted files named on the
 * command line.  Every header field is checked before it is used, every
 * offset against the file length, every placement against guest RAM, and all
 * sums are done in 64 bits from 32-bit fields, so nothing overflows.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "vmm.h"

/* Offsets into the zero page (struct boot_params) and the setup header. */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define HDR_START		0x1f1	/* setup_sects: the setup header begins here */
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200	/* 2-byte short jump over the header */
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define HDR_END_MIN		0x264	/* the fields above are all there from 2.12 on */
#define BP_HDR_END_MAX		0x290	/* where boot_params puts the next member */
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128

#define HDR_MAGIC_VALUE		0x53726448U	/* "HdrS" */
#define BOOT_FLAG_VALUE		0xaa55
#define PROTO_MIN		0x020c		/* 2.12: xloadflags */
#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01
#define E820_RAM		1
#define E820_RESERVED		2
#define EBDA_START		0x9fc00ULL	/* the BIOS area a PC leaves below 1 MiB */
/* What a vmlinux cannot say for itself: x86's COMMAND_LINE_SIZE less the NUL,
 * and the boot protocol's default initrd_addr_max. */
#define VMLINUX_CMDLINE_MAX	2047
#define VMLINUX_INITRD_MAX	0x7fffffffU
#define VMLINUX_ALIGN		0x1000000U	/* CONFIG_PHYSICAL_ALIGN's default */

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return rd16(p) | (u32)rd16(p + 2) << 16; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

#define fail(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

static bool is_bzimage(const void *buf, size_t len)
{
	const u8 *p = buf;

	return len >= HDR_MAGIC + 4 && rd32(p + HDR_MAGIC) == HDR_MAGIC_VALUE;
}

static bool is_vmlinux(const void *buf, size_t len)
{
	return vmm_elf_has_note(buf, len, "Linux");
}

bool vmm_linux_is_kernel(const void *buf, size_t len)
{
	return is_bzimage(buf, len) || is_vmlinux(buf, len);
}

static int parse_vmlinux(const void *buf, size_t len, struct vmm_linux *lk, char *err,
			 size_t errlen)
{
	/* Everything a kernel could be placed in; vmm_linux_plan() checks --mem. */
	const struct vmm_ram_layout low = {
		.nr = 1, .range = { { 0, VP_LOW_RAM_TOP } }, .reserved_end = VP_GUEST_LOAD_MIN,
	};
	char why[200];

	if (vmm_elf_parse(buf, len, &low, VMM_ELF_PHYS_ENTRY, &lk->elf, why, sizeof(why)))
		fail("vmlinux: %s", why);
	lk->kind = VMM_LINUX_VMLINUX;
	lk->cmdline_max = VMLINUX_CMDLINE_MAX;
	lk->initrd_addr_max = VMLINUX_INITRD_MAX;
	return 0;
}

int vmm_linux_parse(const void *buf, size_t len, struct vmm_linux *lk, char *err, size_t errlen)
{
	const u8 *p = buf;
	u32 sects;
	u64 hdr_end;

	memset(lk, 0, sizeof(*lk));
	if (!is_bzimage(buf, len)) {
		if (is_vmlinux(buf, len))
			return parse_vmlinux(buf, len, lk, err, errlen);
		fail("not a Linux kernel (neither a bzImage's \"HdrS\" setup header nor "
		     "a vmlinux's \"Linux\" ELF note)");
	}
	lk->kind = VMM_LINUX_BZIMAGE;
	if (len < HDR_END_MIN)	/* every field read below lies before this */
		fail("truncated bzImage (%zu bytes, the setup header alone is 0x%x)", len,
		     HDR_END_MIN);
	if (rd16(p + HDR_BOOT_FLAG) != BOOT_FLAG_VALUE)
		fail("bzImage boot flag is 0x%04x, not 0xaa55", rd16(p + HDR_BOOT_FLAG));
	lk->version = rd16(p + HDR_VERSION);
	if (lk->version < PROTO_MIN)
		fail("boot protocol %u.%02u is too old, need 2.12 or later (Linux 3.8+)",
		     lk->version >> 8, lk->version & 0xff);
	/* The jump at 0x200 lands just past the header: that is its length. */
	hdr_end = HDR_JUMP + 2 + (u64)p[HDR_JUMP + 1];
	if (p[HDR_JUMP] != 0xeb || hdr_end < HDR_END_MIN || hdr_end > BP_HDR_END_MAX)
		fail("malformed setup header (ends at 0x%llx)", (unsigned long long)hdr_end);
	if (hdr_end > len)
		fail("truncated bzImage (%zu bytes, setup header ends at 0x%llx)", len,
		     (unsigned long long)hdr_end);
	lk->hdr_len = (u32)(hdr_end - HDR_START);
	if (!(rd16(p + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		fail("kernel has no 64-bit entry point (xloadflags 0x%x): a 64-bit x86 kernel is needed",
		     rd16(p + HDR_XLOADFLAGS));
	sects = p[HDR_START] ? p[HDR_START] : 4;
	lk->setup_size = (sects + 1) * 512;
	if (lk->setup_size >= len)
		fail("truncated bzImage: %zu bytes, but the setup code alone is %u", len,
		     lk->setup_size);
	lk->kernel_len = len - lk->setup_size;
	lk->cmdline_max = rd32(p + HDR_CMDLINE_SIZE);
	lk->initrd_addr_max = rd32(p + HDR_INITRD_ADDR_MAX);
	lk->pref_address = rd64(p + HDR_PREF_ADDRESS);
	lk->init_size = rd32(p + HDR_INIT_SIZE);
	if (lk->pref_address > VP_LOW_RAM_TOP)
		fail("kernel wants to run at 0x%llx, above the %lluM of low RAM vmm has",
		     (unsigned long long)lk->pref_address, VP_LOW_RAM_TOP >> 20);
	return 0;
}

/*
 * Where the kernel's RAM needs end: a bzImage's file at 1 MiB, then the
 * decompressed image; a vmlinux's last segment.
 */
static u64 kernel_end(const struct vmm_linux *lk)
{
	u64 file_end = VMM_LINUX_LOAD_GPA + lk->kernel_len, run_end, end = 0;
	unsigned int i;

	if (lk->kind == VMM_LINUX_VMLINUX) {
		for (i = 0; i < lk->elf.nr_segments; i++)
			if (lk->elf.seg[i].gpa + lk->elf.seg[i].memsz > end)
				end = lk->elf.seg[i].gpa + lk->elf.seg[i].memsz;
		return end;
	}
	run_end = (lk->pref_address > VMM_LINUX_LOAD_GPA ? lk->pref_address
							 : VMM_LINUX_LOAD_GPA) + lk->init_size;
	return file_end > run_end ? file_end : run_end;
}

static void e820_add(u8 *bp, u64 addr, u64 size, u32 type)
{
	u8 n = bp[BP_E820_ENTRIES];
	u8 *e = bp + BP_E820_TABLE + 20 * n;

	vmm_put64(e, addr);
	vmm_put64(e + 8, size);
	vmm_put32(e + 16, type);
	bp[BP_E820_ENTRIES] = n + 1;
}

int vmm_linux_plan(const struct vmm_linux *lk, size_t initrd_len, const char *cmdline,
		   const struct vmm_ram_layout *l, u64 *initrd_gpa, char *err, size_t errlen)
{
	u64 low_end = l->range[0].size, need = kernel_end(lk), top;
	size_t cmdlen = strlen(cmdline);

	*initrd_gpa = 0;
	if (l->nr < 1 || l->range[0].gpa != 0)
		fail("internal error: no low RAM range");
	if (cmdlen > VP_CMDLINE_MAX || (lk->cmdline_max && cmdlen > lk->cmdline_max))
		fail("--cmdline is %zu bytes, this kernel takes at most %u", cmdlen,
		     lk->cmdline_max && lk->cmdline_max < VP_CMDLINE_MAX ? lk->cmdline_max
									   : VP_CMDLINE_MAX);
	if (need > low_end)
		fail("this kernel needs at least %lluM of guest RAM to %s "
		     "(--mem is %lluM)", (need + (1 << 20) - 1) >> 20,
		     lk->kind == VMM_LINUX_VMLINUX ? "load" : "unpack itself",
		     (unsigned long long)(low_end >> 20));
	if (initrd_len) {
		top = low_end;
		if (lk->initrd_addr_max && (u64)lk->initrd_addr_max + 1 < top)
			top = (u64)lk->initrd_addr_max + 1;
		if (initrd_len > top || ((top - initrd_len) & ~4095ULL) < need)
			fail("the initrd (%zuK) does not fit in guest RAM above the kernel "
			     "(which needs up to %lluM); use a larger --mem",
			     initrd_len >> 10, (unsigned long long)((need + (1 << 20) - 1) >> 20));
		*initrd_gpa = (top - initrd_len) & ~4095ULL;
	}
	return 0;
}

int vmm_linux_load(const void *image, const struct vmm_linux *lk, const void *initrd,
		   size_t initrd_len, const char *cmdline, const struct vmm_ram_layout *l,
		   u8 *low_ram, struct vmm_linux_entry *entry, char *err, size_t errlen)
{
	u64 low_end = l->range[0].size, initrd_gpa;
	size_t cmdlen = strlen(cmdline);
	unsigned int i;
	u8 *bp;
	int ret;

	ret = vmm_linux_plan(lk, initrd_len, cmdline, l, &initrd_gpa, err, errlen);
	if (ret)
		return ret;
	if (initrd_len)
		memcpy(low_ram + initrd_gpa, initrd, initrd_len);

	bp = low_ram + VMM_LINUX_ZERO_PAGE_GPA;
	memset(bp, 0, 4096);
	if (lk->kind == VMM_LINUX_VMLINUX) {
		/* plan() checked every segment's end against low RAM. */
		for (i = 0; i < lk->elf.nr_segments; i++) {
			const struct vmm_elf_segment *sg = &lk->elf.seg[i];

			memcpy(low_ram + sg->gpa, (const u8 *)image + sg->file_offset, sg->filesz);
			memset(low_ram + sg->gpa + sg->filesz, 0, sg->memsz - sg->filesz);
		}
		/* No setup header to copy: the fields a boot loader provides. */
		vmm_put16(bp + HDR_BOOT_FLAG, BOOT_FLAG_VALUE);
		vmm_put32(bp + HDR_MAGIC, HDR_MAGIC_VALUE);
		vmm_put32(bp + HDR_KERNEL_ALIGNMENT, VMLINUX_ALIGN);
		vmm_put32(bp + HDR_CMDLINE_SIZE, lk->cmdline_max);
		bp[HDR_LOADFLAGS] = LOADED_HIGH;
		entry->rip = lk->elf.entry;		/* phys_startup_64 */
	} else {
		memcpy(low_ram + VMM_LINUX_LOAD_GPA, (const u8 *)image + lk->setup_size,
		       lk->kernel_len);
		memcpy(bp + HDR_START, (const u8 *)image + HDR_START, lk->hdr_len);
		bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
		vmm_put16(bp + HDR_HEAP_END_PTR, 0xfe00);
		entry->rip = VMM_LINUX_LOAD_GPA + 0x200;	/* startup_64 */
	}
	bp[HDR_TYPE_OF_LOADER] = 0xff;		/* "undefined" boot loader */

	memset(low_ram + VP_CMDLINE_GPA, 0, VP_CMDLINE_MAX + 1);
	memcpy(low_ram + VP_CMDLINE_GPA, cmdline, cmdlen);
	vmm_put32(bp + HDR_CMD_LINE_PTR, (u32)VP_CMDLINE_GPA);
	vmm_put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	vmm_put32(bp + HDR_RAMDISK_IMAGE, (u32)initrd_gpa);
	vmm_put32(bp + HDR_RAMDISK_SIZE, (u32)initrd_len);
	vmm_put32(bp + BP_EXT_RAMDISK_IMAGE, 0);
	vmm_put32(bp + BP_EXT_RAMDISK_SIZE, 0);

	/*
	 * The memory map a PC BIOS would report: RAM below the EBDA, the legacy
	 * hole up to 1 MiB reserved, then RAM to the 32-bit PCI window and above
	 * 4 GiB.  The boot GDT, page tables, zero page and command line sit in the
	 * first range; Linux copies what it needs before it reuses those pages.
	 */
	e820_add(bp, 0, EBDA_START, E820_RAM);
	e820_add(bp, EBDA_START, VMM_LINUX_LOAD_GPA - EBDA_START, E820_RESERVED);
	e820_add(bp, VMM_LINUX_LOAD_GPA, low_end - VMM_LINUX_LOAD_GPA, E820_RAM);
	for (i = 1; i < l->nr && bp[BP_E820_ENTRIES] < BP_E820_MAX; i++)
		e820_add(bp, l->range[i].gpa, l->range[i].size, E820_RAM);

	entry->rsi = VMM_LINUX_ZERO_PAGE_GPA;
	entry->initrd_gpa = initrd_gpa;
	return 0;
}

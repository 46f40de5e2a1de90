// SPDX-License-Identifier: MIT
/*
 * vmm's Linux loader: a well-formed bzImage header or vmlinux ELF is accepted
 * and the zero page, command line, kernel, initrd and e820 map land where the
 * 64-bit boot protocol says; every malformed header and every placement that
 * does not fit is refused with one line, before anything is written to guest
 * RAM.  If /boot holds a real kernel, its header is parsed too.
 */
#include <elf.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "../../vmm/vmm.h"
#include "check.h"


#define IMG_SETUP_SECTS	3
#define IMG_SETUP	((IMG_SETUP_SECTS + 1) * 512)
#define IMG_KERNEL	8192
#define IMG_LEN		(IMG_SETUP + IMG_KERNEL)
#define MiB		(1ULL << 20)

static unsigned char img[IMG_LEN];

static void put16(unsigned char *p, unsigned int v) { p[0] = v; p[1] = v >> 8; }
static void put32(unsigned char *p, unsigned int v) { put16(p, v); put16(p + 2, v >> 16); }
static unsigned int get16(const unsigned char *p) { return p[0] | p[1] << 8; }
static unsigned int get32(const unsigned char *p) { return get16(p) | get16(p + 2) << 16; }
static void put64le(unsigned char *p, unsigned long long v)
{
	put32(p, (unsigned int)v);
	put32(p + 4, (unsigned int)(v >> 32));
}
static unsigned long long get64(const unsigned char *p)
{
	return get32(p) | (unsigned long long)get32(p + 4) << 32;
}

/* A bzImage as Linux 6.1 builds it, with a recognisable kernel body. */
static void make_image(void)
{
	unsigned int i;

	memset(img, 0, sizeof(img));
	img[0x1f1] = IMG_SETUP_SECTS;
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;			/* jmp over the header to 0x26c */
	img[0x201] = 0x6a;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01;			/* LOADED_HIGH */
	put32(img + 0x22c, 0x7fffffff);	/* initrd_addr_max */
	put32(img + 0x230, 0x200000);		/* kernel_alignment */
	put16(img + 0x236, 0x0003);		/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put32(img + 0x238, 2047);		/* cmdline_size */
	put32(img + 0x258, 0x1000000);		/* pref_address: 16 MiB */
	put32(img + 0x260, 0x2000000);		/* init_size: 32 MiB */
	for (i = 0; i < IMG_KERNEL; i++)
		img[IMG_SETUP + i] = (unsigned char)(i * 7 + 1);
}

static void expect_bad_header(size_t len, const char *want)
{
	struct vmm_linux lk;
	char err[256] = "";
	int r = vmm_linux_parse(img, len, &lk, err, sizeof(err));

	CHECK(r == -EINVAL);
	if (!strstr(err, want)) {
		fprintf(stderr, "  error '%s' does not mention '%s'\n", err, want);
		failures++;
	}
	make_image();
}

static void test_headers(void)
{
	struct vmm_linux lk;
	char err[256] = "";

	make_image();
	CHECK(vmm_linux_is_kernel(img, sizeof(img)));
	CHECK(!vmm_linux_is_kernel(img, 0x205));
	CHECK(vmm_linux_parse(img, sizeof(img), &lk, err, sizeof(err)) == 0);
	CHECK(lk.version == 0x020f);
	CHECK(lk.setup_size == IMG_SETUP);
	CHECK(lk.kernel_len == IMG_KERNEL);
	CHECK(lk.hdr_len == 0x26c - 0x1f1);
	CHECK(lk.cmdline_max == 2047);
	CHECK(lk.pref_address == 0x1000000 && lk.init_size == 0x2000000);

	memcpy(img + 0x202, "HdrX", 4);
	expect_bad_header(sizeof(img), "not a Linux kernel");
	put16(img + 0x1fe, 0x1234);
	expect_bad_header(sizeof(img), "boot flag");
	put16(img + 0x206, 0x020b);
	expect_bad_header(sizeof(img), "too old");
	img[0x200] = 0x90;
	expect_bad_header(sizeof(img), "malformed setup header");
	img[0x201] = 0x10;			/* header would end before init_size */
	expect_bad_header(sizeof(img), "malformed setup header");
	img[0x201] = 0xff;			/* past where boot_params' header ends */
	expect_bad_header(sizeof(img), "malformed setup header");
	expect_bad_header(0x240, "truncated bzImage");
	expect_bad_header(0x207, "truncated bzImage");	/* magic, then the end: found by fuzzing */
	put16(img + 0x236, 0x0002);
	expect_bad_header(sizeof(img), "no 64-bit entry");
	img[0x1f1] = 200;			/* setup code longer than the file */
	expect_bad_header(sizeof(img), "truncated bzImage");
	expect_bad_header(IMG_SETUP, "truncated bzImage");
	put32(img + 0x25c, 1);			/* pref_address above 4 GiB */
	expect_bad_header(sizeof(img), "wants to run at");

	/* setup_sects 0 means 4, as old loaders assumed */
	img[0x1f1] = 0;
	CHECK(vmm_linux_parse(img, sizeof(img), &lk, err, sizeof(err)) == 0);
	CHECK(lk.setup_size == 5 * 512 && lk.kernel_len == IMG_LEN - 5 * 512);
	make_image();
}

static void test_load(void)
{
	static const char initrd[] = "initrd-bytes";
	struct vmm_ram_layout l;
	struct vmm_linux_entry e;
	struct vmm_linux lk;
	unsigned char *ram, *bp, *e820;
	char err[256] = "", cmd[4096];
	u64 size = 128 * MiB, ird;

	make_image();
	CHECK(vmm_linux_parse(img, sizeof(img), &lk, err, sizeof(err)) == 0);
	ram = calloc(1, size);
	if (!ram)
		abort();
	vmm_ram_layout(size, &l);
	CHECK(vmm_linux_load(img, &lk, initrd, sizeof(initrd), "console=ttyS0", &l, ram,
			     &e, err, sizeof(err)) == 0);
	CHECK(e.rip == 0x100200 && e.rsi == VMM_LINUX_ZERO_PAGE_GPA);
	CHECK(memcmp(ram + 0x100000, img + IMG_SETUP, IMG_KERNEL) == 0);
	CHECK(strcmp((char *)ram + VP_CMDLINE_GPA, "console=ttyS0") == 0);
	bp = ram + VMM_LINUX_ZERO_PAGE_GPA;
	CHECK(memcmp(bp + 0x202, "HdrS", 4) == 0);	/* the header was copied */
	CHECK(bp[0x210] == 0xff);			/* type_of_loader */
	CHECK((bp[0x211] & 0x81) == 0x81);		/* LOADED_HIGH | CAN_USE_HEAP */
	CHECK(get32(bp + 0x228) == VP_CMDLINE_GPA);
	ird = get32(bp + 0x218);
	CHECK(ird == e.initrd_gpa && get32(bp + 0x21c) == sizeof(initrd));
	CHECK(ird % 4096 == 0 && ird + sizeof(initrd) <= size && ird + 4096 > size - sizeof(initrd));
	CHECK(ird >= 0x1000000 + 0x2000000);		/* above the unpacked kernel */
	CHECK(memcmp(ram + ird, initrd, sizeof(initrd)) == 0);
	/* e820: RAM below the EBDA, the legacy hole reserved, RAM from 1 MiB */
	CHECK(bp[0x1e8] == 3);
	e820 = bp + 0x2d0;
	CHECK(get64(e820) == 0 && get64(e820 + 8) == 0x9fc00 && get32(e820 + 16) == 1);
	CHECK(get64(e820 + 20) == 0x9fc00 && get64(e820 + 28) == 0x100000 - 0x9fc00 &&
	      get32(e820 + 36) == 2);
	CHECK(get64(e820 + 40) == 0x100000 && get64(e820 + 48) == size - 0x100000 &&
	      get32(e820 + 56) == 1);
	free(ram);

	/* RAM above the 32-bit PCI window is the fourth entry (no RAM touched here) */
	vmm_ram_layout(4ULL << 30, &l);
	CHECK(l.nr == 2);

	/* Too little RAM for the unpacked kernel, or for the initrd above it. */
	size = 40 * MiB;
	ram = calloc(1, size);
	if (!ram)
		abort();
	vmm_ram_layout(size, &l);
	CHECK(vmm_linux_load(img, &lk, NULL, 0, "", &l, ram, &e, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "needs at least 48M") != NULL);
	free(ram);
	size = 48 * MiB + 4096;
	ram = calloc(1, size);
	if (!ram)
		abort();
	vmm_ram_layout(size, &l);
	CHECK(vmm_linux_load(img, &lk, NULL, 0, "", &l, ram, &e, err, sizeof(err)) == 0);
	CHECK(e.initrd_gpa == 0 && get32(ram + VMM_LINUX_ZERO_PAGE_GPA + 0x21c) == 0);
	memset(ram, 0, size);
	CHECK(vmm_linux_load(img, &lk, initrd, 8192, "", &l, ram, &e, err,
			     sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "initrd (8K) does not fit") != NULL);
	CHECK(ram[0x100000] == 0 && ram[VMM_LINUX_ZERO_PAGE_GPA + 0x202] == 0);	/* untouched */
	/* initrd_addr_max caps the placement */
	put32(img + 0x22c, 0x2ffffff);	/* 48 MiB - 1: the initrd must end below it */
	CHECK(vmm_linux_parse(img, sizeof(img), &lk, err, sizeof(err)) == 0);
	CHECK(vmm_linux_load(img, &lk, initrd, 100, "", &l, ram, &e, err, sizeof(err)) == -EINVAL);
	make_image();
	CHECK(vmm_linux_parse(img, sizeof(img), &lk, err, sizeof(err)) == 0);

	/* The kernel's own command line limit, and vmm's buffer */
	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	cmd[2048] = 0;
	CHECK(vmm_linux_load(img, &lk, NULL, 0, cmd, &l, ram, &e, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "at most 2047") != NULL);
	cmd[2048] = 'x';
	cmd[2047] = 0;
	CHECK(vmm_linux_load(img, &lk, NULL, 0, cmd, &l, ram, &e, err, sizeof(err)) == 0);
	CHECK(strlen((char *)ram + VP_CMDLINE_GPA) == 2047);
	free(ram);
}

/* --- vmlinux ------------------------------------------------------------------ */

#define VML_TEXT_PA	0x1000000ULL		/* 16 MiB, like an x86-64 defconfig */
#define VML_TEXT_VA	0xffffffff81000000ULL
#define VML_DATA_PA	0x1200000ULL
#define VML_DATA_MEM	0x3000ULL		/* 0x100 bytes in the file, the rest bss */
#define VML_ENTRY	(VML_TEXT_PA + 0x40)
#define VML_TEXT_OFF	0x1000
#define VML_DATA_OFF	0x2000
#define VML_NOTE_OFF	0x3000
#define VML_LEN		0x3100

static unsigned char vml[VML_LEN];

static void put_note(unsigned char *p, const char *name, unsigned int type, unsigned int descsz)
{
	unsigned int n = strlen(name) + 1;

	put32(p, n);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + 12, name, n);
}

/* A vmlinux as the kernel build leaves it: text, data+bss, the notes. */
static void make_vmlinux(void)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = VML_ENTRY, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3,
	};
	Elf64_Phdr ph[3] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = VML_TEXT_OFF,
		  .p_vaddr = VML_TEXT_VA, .p_paddr = VML_TEXT_PA, .p_filesz = 0x1000,
		  .p_memsz = 0x1000, .p_align = 0x200000 },
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = VML_DATA_OFF,
		  .p_vaddr = VML_TEXT_VA + 0x200000, .p_paddr = VML_DATA_PA, .p_filesz = 0x100,
		  .p_memsz = VML_DATA_MEM, .p_align = 0x200000 },
		{ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = VML_NOTE_OFF,
		  .p_vaddr = VML_TEXT_VA + 0x800, .p_paddr = VML_TEXT_PA + 0x800, .p_filesz = 0x54,
		  .p_align = 4 },
	};
	unsigned int i;

	memset(vml, 0, sizeof(vml));
	memcpy(vml, &eh, sizeof(eh));
	memcpy(vml + sizeof(eh), ph, sizeof(ph));
	for (i = 0; i < 0x1000; i++)
		vml[VML_TEXT_OFF + i] = (unsigned char)(i * 5 + 3);
	memset(vml + VML_DATA_OFF, 0x5d, 0x100);
	/* "GNU" build id (20 bytes), then the "Linux" version note. */
	put_note(vml + VML_NOTE_OFF, "GNU", 3, 20);
	put_note(vml + VML_NOTE_OFF + 0x24, "Linux", 0x100, 15);
	memcpy(vml + VML_NOTE_OFF + 0x24 + 20, "6.1.0-56-amd64", 15);
}

static void expect_bad_vmlinux(u64 mem, size_t initrd_len, const char *want)
{
	struct vmm_ram_layout l;
	struct vmm_linux lk;
	char err[256] = "";
	u64 gpa;
	int r = vmm_linux_parse(vml, sizeof(vml), &lk, err, sizeof(err));

	if (!r) {
		vmm_ram_layout(mem, &l);
		r = vmm_linux_plan(&lk, initrd_len, "", &l, &gpa, err, sizeof(err));
	}
	CHECK(r == -EINVAL);
	if (!strstr(err, want)) {
		fprintf(stderr, "  vmlinux error '%s' does not mention '%s'\n", err, want);
		failures++;
	}
	make_vmlinux();
}

static void test_vmlinux(void)
{
	static const char initrd[] = "vmlinux-initrd";
	struct vmm_ram_layout l;
	struct vmm_linux_entry e;
	struct vmm_linux lk;
	unsigned char *ram, *bp;
	char err[256] = "";
	u64 size = 64 * MiB, ird;
	unsigned int i;
	Elf64_Phdr ph;

	make_vmlinux();
	CHECK(vmm_linux_is_kernel(vml, sizeof(vml)));
	CHECK(vmm_linux_parse(vml, sizeof(vml), &lk, err, sizeof(err)) == 0);
	CHECK(lk.kind == VMM_LINUX_VMLINUX);
	CHECK(lk.cmdline_max == 2047);
	CHECK(lk.elf.nr_segments == 2 && lk.elf.entry == VML_ENTRY);

	vmm_ram_layout(size, &l);
	ram = malloc(size);
	CHECK(ram != NULL);
	if (!ram)
		return;
	memset(ram, 0xaa, size);	/* bss must come out zero, not stale */
	CHECK(vmm_linux_load(vml, &lk, initrd, sizeof(initrd), "console=ttyS0", &l, ram, &e,
			     err, sizeof(err)) == 0);
	CHECK(e.rip == VML_ENTRY);	/* phys_startup_64, not the virtual address */
	CHECK(e.rsi == VMM_LINUX_ZERO_PAGE_GPA);
	CHECK(!memcmp(ram + VML_TEXT_PA, vml + VML_TEXT_OFF, 0x1000));
	CHECK(!memcmp(ram + VML_DATA_PA, vml + VML_DATA_OFF, 0x100));
	for (i = 0x100; i < VML_DATA_MEM; i++)
		if (ram[VML_DATA_PA + i]) {
			fprintf(stderr, "  bss byte 0x%x is 0x%02x\n", i, ram[VML_DATA_PA + i]);
			failures++;
			break;
		}
	CHECK(ram[VML_DATA_PA + VML_DATA_MEM] == 0xaa);	/* and nothing past it */
	bp = ram + VMM_LINUX_ZERO_PAGE_GPA;
	CHECK(get16(bp + 0x1fe) == 0xaa55);
	CHECK(!memcmp(bp + 0x202, "HdrS", 4));
	CHECK(bp[0x210] == 0xff);			/* type_of_loader */
	CHECK(bp[0x211] & 0x01);			/* LOADED_HIGH */
	CHECK(get32(bp + 0x228) == VP_CMDLINE_GPA);
	CHECK(!strcmp((char *)ram + VP_CMDLINE_GPA, "console=ttyS0"));
	CHECK(get32(bp + 0x238) == 2047);
	ird = get32(bp + 0x218);
	CHECK(ird == e.initrd_gpa && get32(bp + 0x21c) == sizeof(initrd));
	CHECK(ird >= VML_DATA_PA + VML_DATA_MEM && ird + sizeof(initrd) <= size && !(ird & 4095));
	CHECK(!memcmp(ram + ird, initrd, sizeof(initrd)));
	CHECK(bp[0x1e8] == 3);				/* e820: low, hole, RAM from 1 MiB */
	CHECK(get64(bp + 0x2d0 + 2 * 20) == VMM_LINUX_LOAD_GPA &&
	      get64(bp + 0x2d0 + 2 * 20 + 8) == size - VMM_LINUX_LOAD_GPA);
	free(ram);

	/* The kernel's notes are what make an ELF a kernel. */
	memcpy(vml + VML_NOTE_OFF + 0x24 + 12, "Linus", 5);
	CHECK(!vmm_linux_is_kernel(vml, sizeof(vml)));
	expect_bad_vmlinux(size, 0, "not a Linux kernel");
	put32(vml + VML_NOTE_OFF + 4, 0xfffffff0);	/* first note's desc runs off the end */
	CHECK(!vmm_linux_is_kernel(vml, sizeof(vml)));
	make_vmlinux();
	put32(vml + VML_NOTE_OFF, 0xffffffff);		/* name length wraps when padded */
	CHECK(!vmm_linux_is_kernel(vml, sizeof(vml)));
	make_vmlinux();
	memcpy(&ph, vml + sizeof(Elf64_Ehdr) + 2 * sizeof(ph), sizeof(ph));
	ph.p_filesz = VML_LEN;				/* note segment past the file */
	memcpy(vml + sizeof(Elf64_Ehdr) + 2 * sizeof(ph), &ph, sizeof(ph));
	CHECK(!vmm_linux_is_kernel(vml, sizeof(vml)));
	make_vmlinux();
	CHECK(!vmm_linux_is_kernel(vml, 0x3050));	/* file ends inside the notes */
	CHECK(vmm_linux_is_kernel(vml, 0x3054));

	/* Bad segments and entries: the ELF checks, said to be about a vmlinux. */
	put64le(vml + 24, VML_TEXT_VA);			/* e_entry virtual */
	expect_bad_vmlinux(size, 0, "vmlinux: ELF entry point 0xffffffff81000000 is not in an executable segment");
	put64le(vml + 24, VML_DATA_PA);			/* in the data segment */
	expect_bad_vmlinux(size, 0, "not in an executable segment");
	put64le(vml + sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_paddr), 0x80000);
	put64le(vml + 24, 0x80000);
	expect_bad_vmlinux(size, 0, "overlaps the boot area");
	put64le(vml + sizeof(Elf64_Ehdr) + sizeof(ph) + offsetof(Elf64_Phdr, p_paddr),
		0xbfffff00ULL);				/* data runs into the PCI hole */
	expect_bad_vmlinux(size, 0, "outside guest RAM");
	put64le(vml + sizeof(Elf64_Ehdr) + sizeof(ph) + offsetof(Elf64_Phdr, p_filesz), 0x4000);
	expect_bad_vmlinux(size, 0, "larger than memory size");

	/* Placement: RAM to load it, room for the initrd above it. */
	expect_bad_vmlinux(16 * MiB, 0, "needs at least 19M of guest RAM to load");
	expect_bad_vmlinux(20 * MiB, 2 * MiB, "does not fit");
}

/* The kernel this machine would boot in the lab, if there is one. */
static void test_real_kernel(void)
{
	struct vmm_linux lk;
	char err[256] = "";
	glob_t g;
	size_t i;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "rb");
		static unsigned char buf[64 << 20];
		size_t n;

		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (vmm_linux_parse(buf, n, &lk, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", g.gl_pathv[i], err);
			failures++;
			continue;
		}
		printf("%s: protocol %u.%02u, %llu bytes of kernel, runs at 0x%llx in %u MiB, "
		       "command line up to %u bytes\n", g.gl_pathv[i], lk.version >> 8,
		       lk.version & 0xff, (unsigned long long)lk.kernel_len,
		       (unsigned long long)lk.pref_address, lk.init_size >> 20, lk.cmdline_max);
	}
	globfree(&g);
}

int main(void)
{
	test_headers();
	test_load();
	test_vmlinux();
	test_real_kernel();
	return check_exit("vmm_linux");
}

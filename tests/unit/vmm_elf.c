// SPDX-License-Identifier: MIT
/*
 * vmm's ELF64 loader: a well-formed image is accepted and described exactly;
 * every malformed one is refused with one line naming the problem.
 */
#include <elf.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "../../vmm/vmm.h"
#include "check.h"


struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	unsigned char code[256];
};

/* A minimal valid guest: one RX segment at 1 MiB, one RW segment with bss. */
static void make_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = 0x100010;
	im->eh.e_phoff = offsetof(struct image, ph);
	im->eh.e_ehsize = sizeof(Elf64_Ehdr);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 3;
	im->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = offsetof(struct image, code), .p_vaddr = 0x100000,
		.p_paddr = 0x100000, .p_filesz = 128, .p_memsz = 128 };
	im->ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0, .p_filesz = 4 };
	im->ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
		.p_offset = offsetof(struct image, code) + 128, .p_vaddr = 0x200000,
		.p_paddr = 0x200000, .p_filesz = 128, .p_memsz = 0x10000 };
}

static struct vmm_ram_layout layout;

static void expect_bad(const struct image *im, size_t len, const char *want)
{
	struct vmm_elf elf;
	char err[256] = "";
	int r = vmm_elf_parse(im, len, &layout, 0, &elf, err, sizeof(err));

	if (r != -EINVAL || !strstr(err, want) || strchr(err, '\n')) {
		fprintf(stderr, "want error containing '%s', got %d '%s'\n", want, r, err);
		failures++;
	}
}

int main(void)
{
	struct image im;
	struct vmm_elf elf;
	char err[256];

	vmm_ram_layout(16ULL << 20, &layout);

	make_image(&im);
	CHECK(vmm_elf_parse(&im, sizeof(im), &layout, 0, &elf, err, sizeof(err)) == 0);
	CHECK(elf.entry == 0x100010 && elf.nr_segments == 2);
	CHECK(elf.seg[0].gpa == 0x100000 && elf.seg[0].filesz == 128 && elf.seg[0].memsz == 128 &&
	      elf.seg[0].file_offset == offsetof(struct image, code));
	CHECK(elf.seg[1].gpa == 0x200000 && elf.seg[1].memsz == 0x10000);

	expect_bad(&im, 3, "not an ELF file");
	make_image(&im); im.eh.e_ident[1] = 'X';
	expect_bad(&im, sizeof(im), "not an ELF file");
	make_image(&im);
	expect_bad(&im, 40, "truncated ELF header");
	make_image(&im); im.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_bad(&im, sizeof(im), "32-bit");
	make_image(&im); im.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_bad(&im, sizeof(im), "big-endian");
	make_image(&im); im.eh.e_machine = EM_AARCH64;
	expect_bad(&im, sizeof(im), "need x86-64");
	make_image(&im); im.eh.e_type = ET_DYN;
	expect_bad(&im, sizeof(im), "ET_EXEC");
	make_image(&im); im.eh.e_phnum = 0;
	expect_bad(&im, sizeof(im), "no program headers");
	make_image(&im); im.eh.e_phentsize = 10;
	expect_bad(&im, sizeof(im), "program header size");
	make_image(&im);
	expect_bad(&im, offsetof(struct image, ph) + 10, "program headers past the end");
	make_image(&im); im.eh.e_phoff = ~0ULL - 8;
	expect_bad(&im, sizeof(im), "program headers past the end");
	make_image(&im);
	expect_bad(&im, offsetof(struct image, code) + 100, "segment 0 runs past the end");
	make_image(&im); im.ph[0].p_offset = ~0ULL;
	expect_bad(&im, sizeof(im), "runs past the end");
	make_image(&im); im.ph[0].p_filesz = 256;
	expect_bad(&im, sizeof(im), "larger than memory size");
	make_image(&im); im.ph[2].p_paddr = 0x8000;
	expect_bad(&im, sizeof(im), "overlaps the boot area");
	make_image(&im); im.ph[2].p_paddr = 0xF0000; im.ph[2].p_memsz = 0x20000;
	expect_bad(&im, sizeof(im), "overlaps the boot area");
	make_image(&im); im.ph[2].p_paddr = 15ULL << 20; im.ph[2].p_memsz = 2ULL << 20;
	expect_bad(&im, sizeof(im), "outside guest RAM");
	make_image(&im); im.ph[2].p_paddr = 0xC0000000ULL;
	expect_bad(&im, sizeof(im), "outside guest RAM");
	make_image(&im); im.ph[2].p_paddr = ~0ULL - 0x100; im.ph[2].p_memsz = 0x1000;
	expect_bad(&im, sizeof(im), "wraps");
	make_image(&im); im.ph[0].p_type = PT_NULL; im.ph[2].p_type = PT_NULL;
	expect_bad(&im, sizeof(im), "no loadable");
	make_image(&im); im.eh.e_entry = 0x200000;	/* in the RW segment */
	expect_bad(&im, sizeof(im), "entry point");
	make_image(&im); im.eh.e_entry = 0x500000;
	expect_bad(&im, sizeof(im), "entry point");

	/* RAM above 3 GiB moves to 4 GiB: a segment there is accepted. */
	vmm_ram_layout(4ULL << 30, &layout);
	CHECK(layout.nr == 2 && layout.range[0].size == 3ULL << 30 &&
	      layout.range[1].gpa == 4ULL << 30 && layout.range[1].size == 1ULL << 30);
	make_image(&im); im.ph[2].p_paddr = 4ULL << 30;
	CHECK(vmm_elf_parse(&im, sizeof(im), &layout, 0, &elf, err, sizeof(err)) == 0);
	make_image(&im); im.ph[2].p_paddr = (3ULL << 30) - 0x1000;	/* straddles the hole */
	expect_bad(&im, sizeof(im), "outside guest RAM");

	return check_exit("vmm_elf");
}

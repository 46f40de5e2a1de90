// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: vmm's Linux loader (bzImage or vmlinux ELF) on hostile
 * images.  Each input is a kernel image; its last two bytes pick the guest RAM size (2..257 MiB)
 * and the initrd length.  Whatever the header says, parsing and placement
 * must never read outside the image or write outside guest RAM (ASan), and an
 * accepted image must land where the boot protocol says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "../../vmm/vmm.h"

#define RAM_MAX (257ULL << 20)

static u8 *ram;
static u8 initrd[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_ram_layout l;
	struct vmm_linux_entry e;
	struct vmm_linux lk;
	char err[256];
	size_t initrd_len;
	u64 mem, gpa;

	if (size < 2)
		return 0;
	if (!ram && !(ram = malloc(RAM_MAX)))
		abort();
	mem = (2ULL + data[size - 2]) << 20;
	initrd_len = (size_t)data[size - 1] * 4096;
	vmm_ram_layout(mem, &l);
	if (vmm_linux_parse(data, size, &lk, err, sizeof(err)))
		return 0;
	if (lk.kind == VMM_LINUX_BZIMAGE &&
	    (lk.setup_size + lk.kernel_len != size || lk.hdr_len > 0x290 - 0x1f1))
		abort();
	if (lk.kind != VMM_LINUX_BZIMAGE && lk.kind != VMM_LINUX_VMLINUX)
		abort();
	if (vmm_linux_plan(&lk, initrd_len, "console=ttyS0", &l, &gpa, err, sizeof(err)))
		return 0;
	if (vmm_linux_load(data, &lk, initrd, initrd_len, "console=ttyS0", &l, ram, &e, err,
			   sizeof(err)))
		abort();	/* plan said it fits */
	if (e.initrd_gpa != gpa || (initrd_len && gpa + initrd_len > mem))
		abort();
	if (lk.kind == VMM_LINUX_BZIMAGE &&
	    (e.rip != VMM_LINUX_LOAD_GPA + 0x200 ||
	     (initrd_len && gpa < VMM_LINUX_LOAD_GPA + lk.kernel_len)))
		abort();
	if (lk.kind == VMM_LINUX_VMLINUX) {
		unsigned int i;
		bool in_x = false;

		for (i = 0; i < lk.elf.nr_segments; i++) {
			const struct vmm_elf_segment *sg = &lk.elf.seg[i];

			if (sg->gpa < VP_GUEST_LOAD_MIN || sg->gpa + sg->memsz > mem ||
			    (initrd_len && gpa < sg->gpa + sg->memsz))
				abort();
			in_x |= e.rip >= sg->gpa && e.rip - sg->gpa < sg->memsz;
		}
		if (!in_x)
			abort();
	}
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * ELF64 guest image validation.
 *
 * Security model: the image is untrusted input from the command line.  Every
 * header field is checked before it is used; offsets and sizes are compared
 * without overflow; nothing is read outside [buf, buf+len) and no segment may
 * land outside guest RAM or on the VMM's boot area.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vmm/guest_abi.h>
#include "vmm.h"

void vmm_ram_layout(u64 mem, struct vmm_ram_layout *l)
{
	u64 low = mem < VP_LOW_RAM_TOP ? mem : VP_LOW_RAM_TOP;

	memset(l, 0, sizeof(*l));
	l->range[0].gpa = 0;
	l->range[0].size = low;
	l->nr = 1;
	if (mem > low) {
		l->range[1].gpa = VP_HIGH_RAM_BASE;
		l->range[1].size = mem - low;
		l->nr = 2;
	}
	l->reserved_end = VP_GUEST_LOAD_MIN;
}

/* [gpa, gpa+size) inside one RAM range?  size may be 0. */
static bool in_ram(const struct vmm_ram_layout *l, u64 gpa, u64 size)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (gpa >= l->range[i].gpa && gpa - l->range[i].gpa <= l->range[i].size &&
		    size <= l->range[i].size - (gpa - l->range[i].gpa))
			return true;
	return false;
}

#define fail(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

int vmm_elf_parse(const void *buf, size_t len, const struct vmm_ram_layout *l,
		  unsigned int flags, struct vmm_elf *elf, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	Elf64_Ehdr eh;
	unsigned int i;
	bool entry_ok = false;

	memset(elf, 0, sizeof(*elf));
	if (len < SELFMAG || memcmp(p, ELFMAG, SELFMAG))
		fail("not an ELF file");
	if (len < EI_NIDENT)
		fail("truncated ELF header (%zu bytes)", len);
	if (p[EI_CLASS] != ELFCLASS64)
		fail("%s ELF, need a 64-bit (ELFCLASS64) image",
		     p[EI_CLASS] == ELFCLASS32 ? "32-bit" : "unknown-class");
	if (p[EI_DATA] != ELFDATA2LSB)
		fail("big-endian ELF, need little-endian x86-64");
	if (len < sizeof(eh))
		fail("truncated ELF header (%zu of %zu bytes)", len, sizeof(eh));
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_machine != EM_X86_64)
		fail("ELF for machine %u, need x86-64 (%u)", eh.e_machine, EM_X86_64);
	if (eh.e_type != ET_EXEC)
		fail("ELF type %u, need an executable (ET_EXEC) linked at a fixed address",
		     eh.e_type);
	if (eh.e_phnum == 0)
		fail("ELF has no program headers");
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		fail("ELF program header size %u, expected %zu", eh.e_phentsize,
		     sizeof(Elf64_Phdr));
	if (eh.e_phoff > len || (u64)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		fail("truncated ELF: program headers past the end of the file");

	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		struct vmm_elf_segment *s;

		memcpy(&ph, p + eh.e_phoff + (u64)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (elf->nr_segments == VMM_ELF_MAX_SEGMENTS)
			fail("ELF has more than %d loadable segments", VMM_ELF_MAX_SEGMENTS);
		if (ph.p_filesz > ph.p_memsz)
			fail("ELF segment %u: file size 0x%llx larger than memory size 0x%llx", i,
			     (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			fail("truncated ELF: segment %u runs past the end of the file", i);
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			fail("ELF segment %u: address 0x%llx + size 0x%llx wraps", i,
			     (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
		if (ph.p_paddr < l->reserved_end)
			fail("ELF segment %u at 0x%llx-0x%llx overlaps the boot area below 0x%llx",
			     i, (unsigned long long)ph.p_paddr,
			     (unsigned long long)(ph.p_paddr + ph.p_memsz),
			     (unsigned long long)l->reserved_end);
		if (!in_ram(l, ph.p_paddr, ph.p_memsz))
			fail("ELF segment %u at 0x%llx-0x%llx is outside guest RAM (try a larger --mem)",
			     i, (unsigned long long)ph.p_paddr,
			     (unsigned long long)(ph.p_paddr + ph.p_memsz));
		s = &elf->seg[elf->nr_segments++];
		s->file_offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->gpa = ph.p_paddr;
		s->memsz = ph.p_memsz;
		if (!(ph.p_flags & PF_X))
			continue;
		if (flags & VMM_ELF_PHYS_ENTRY) {
			if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz)
				entry_ok = true;
		} else if (eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz &&
			   ph.p_vaddr == ph.p_paddr) {
			/* A virtual address; the boot map is the identity. */
			entry_ok = true;
		}
	}
	if (!elf->nr_segments)
		fail("ELF has no loadable (PT_LOAD) segment");
	if (!entry_ok)
		fail("ELF entry point 0x%llx is not in an executable%s segment",
		     (unsigned long long)eh.e_entry,
		     flags & VMM_ELF_PHYS_ENTRY ? "" : ", identity-mapped");
	elf->entry = eh.e_entry;
	return 0;
}

/* An x86-64 ELF64 header with program headers inside the buffer, or NULL. */
static const Elf64_Ehdr *elf_header(const void *buf, size_t len, Elf64_Ehdr *eh)
{
	const unsigned char *p = buf;

	if (len < sizeof(*eh) || memcmp(p, ELFMAG, SELFMAG) || p[EI_CLASS] != ELFCLASS64 ||
	    p[EI_DATA] != ELFDATA2LSB)
		return NULL;
	memcpy(eh, p, sizeof(*eh));
	if (eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > len || (u64)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return NULL;
	return eh;
}

bool vmm_elf_has_note(const void *buf, size_t len, const char *name)
{
	const unsigned char *p = buf;
	u64 namesz = strlen(name) + 1;
	Elf64_Ehdr eh;
	unsigned int i;

	if (!elf_header(buf, len, &eh))
		return false;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		u64 off, end;

		memcpy(&ph, p + eh.e_phoff + (u64)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			continue;
		/* Each note: namesz, descsz, type, then name and desc padded to 4. */
		off = ph.p_offset;
		end = ph.p_offset + ph.p_filesz;
		while (end - off >= sizeof(Elf64_Nhdr)) {
			Elf64_Nhdr nh;
			u64 n, d;

			memcpy(&nh, p + off, sizeof(nh));
			off += sizeof(nh);
			n = ((u64)nh.n_namesz + 3) & ~3ULL;
			d = ((u64)nh.n_descsz + 3) & ~3ULL;
			if (n > end - off || d > end - off - n)
				break;
			if (nh.n_namesz == namesz && !memcmp(p + off, name, namesz))
				return true;
			off += n + d;
		}
	}
	return false;
}

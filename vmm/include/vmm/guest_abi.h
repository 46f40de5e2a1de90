/* SPDX-License-Identifier: MIT */
/*
 * The contract between `vmm` and a bare ELF guest such as guestlet.
 *
 * Entry: 64-bit long mode, CPL0, paging on with an identity map of the first
 * VP_IDENT_MAP_BYTES of guest physical space (2 MiB pages, P|RW|US: the guest
 * may use it from CPL3 as it is), interrupts off (RFLAGS = 0x2), flat code
 * selector 0x08 and data selector 0x10 from the VMM's boot GDT, RIP = ELF
 * e_entry, RDI = VP_BOOT_INFO_GPA, RSP = VP_BOOT_STACK_TOP.  CR4 has PAE,
 * OSFXSR and OSXMMEXCPT set, so SSE may be used once the guest wants it.
 *
 * Guest physical layout (everything below VP_GUEST_LOAD_MIN belongs to the VMM;
 * a PT_LOAD segment that overlaps it or runs past RAM is refused):
 *   0x001000  boot GDT
 *   0x008000  struct vp_boot_info
 *   0x009000  command line, NUL-terminated (at most VP_CMDLINE_MAX bytes + NUL)
 *   0x010000  boot page tables (PML4, PDPT, page directories)
 *   0x090000  top of the boot stack (grows down, 64 KiB)
 *   0x100000  first byte a guest image may occupy
 * RAM is [0, min(mem, VP_LOW_RAM_TOP)); anything above that lives at 4 GiB.
 *
 * I/O ports:
 *   0x3f8-0x3ff  16550-style serial port (COM1); THR writes go to vmm's stdout
 *   0x501        debug exit: a write of V (1, 2 or 4 bytes) ends vmm with status V & 0xff
 *   0x510        notification test device, PIO doorbell bound to an ioeventfd (4 bytes)
 * MMIO:
 *   VP_TESTDEV_MMIO  notification test device page:
 *                    +0x0 doorbell bound to an ioeventfd, +0x8 doorbell that exits to vmm
 * The test device exists for perf/exits; vmm counts each doorbell and reports the
 * counts with --stats.
 *
 * PCI: configuration mechanism #1 on ports 0xcf8/0xcfc, bus 0 only, a host
 * bridge at 00:00.0 and virtio-pci devices from 00:01.0 on.  vmm assigns BARs
 * before the guest starts (memory decoding enabled): 64-bit memory BARs from
 * VP_PCI_MMIO64_BASE.  A guest may move a BAR anywhere in either window.
 * Legacy INTx of slot S is IOAPIC pin VP_PCI_INTX_PIN(S); MSI-X is the normal way.
 */
#ifndef VMM_GUEST_ABI_H
#define VMM_GUEST_ABI_H

#include <linux/types.h>

#define VP_BOOT_GDT_GPA		0x1000ULL
#define VP_BOOT_INFO_GPA	0x8000ULL
#define VP_CMDLINE_GPA		0x9000ULL
#define VP_CMDLINE_MAX		4095
#define VP_PAGE_TABLES_GPA	0x10000ULL
#define VP_BOOT_STACK_TOP	0x90000ULL
#define VP_GUEST_LOAD_MIN	0x100000ULL

#define VP_LOW_RAM_TOP		0xC0000000ULL	/* 3 GiB: 32-bit MMIO hole above */
#define VP_HIGH_RAM_BASE	0x100000000ULL	/* 4 GiB */
#define VP_IDENT_MAP_BYTES	(64ULL << 30)	/* identity-mapped at entry */

#define VP_BOOT_CS		0x08
#define VP_BOOT_DS		0x10

#define VP_PORT_SERIAL		0x3f8
#define VP_PORT_DEBUG_EXIT	0x501
#define VP_PORT_TESTDEV		0x510
#define VP_TESTDEV_MMIO		0xFEB00000ULL
#define VP_TESTDEV_MMIO_EVENTFD	0x0
#define VP_TESTDEV_MMIO_EXIT	0x8

#define VP_PCI_CONFIG_ADDR	0xcf8
#define VP_PCI_CONFIG_DATA	0xcfc
#define VP_PCI_MMIO32_BASE	0xC0000000ULL	/* 32-bit window */
#define VP_PCI_MMIO32_SIZE	0x3E000000ULL	/* up to 0xfe000000 */
#define VP_PCI_MMIO64_BASE	0xC00000000ULL	/* 48 GiB, inside the boot identity map */
#define VP_PCI_MMIO64_SIZE	0x400000000ULL	/* 16 GiB */
#define VP_PCI_INTX_PIN(slot)	(16 + ((slot) & 7))

#define VP_BOOT_MAGIC		0x504f4956U	/* the bytes "VIOP" */
#define VP_BOOT_VERSION		1
#define VP_BOOT_MAX_REGIONS	4

struct vp_mem_range {
	__u64 gpa;
	__u64 size;
};

struct vp_boot_info {
	__u32 magic;		/* VP_BOOT_MAGIC */
	__u32 version;		/* VP_BOOT_VERSION */
	__u64 mem_size;		/* total guest RAM in bytes */
	__u64 cmdline_gpa;	/* VP_CMDLINE_GPA */
	__u32 cmdline_len;	/* bytes, without the NUL */
	__u32 tsc_khz;		/* guest TSC frequency, 0 if unknown */
	__u32 nr_cpus;
	__u32 nr_mem;		/* entries used in mem[] */
	struct vp_mem_range mem[VP_BOOT_MAX_REGIONS];
};

#endif

// SPDX-License-Identifier: MIT
/*
 * vmm-exit: for a Linux guest of vmm.  `vmm-exit N` ends the virtual machine
 * at once and vmm exits with status N (0-255), through the debug-exit port
 * (0x501, see vmm/include/vmm/guest_abi.h).  A script in the guest's initramfs
 * uses it to hand its result to the host; needs root (ioperm).  Built static so
 * it runs from any initramfs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

#include <vmm/guest_abi.h>

int main(int argc, char **argv)
{
	unsigned long v;
	char *end;

	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: vmm-exit STATUS\n"
			"End this vmm guest now; vmm exits with STATUS (0-255).\n");
		return argc == 2 ? 0 : 2;
	}
	errno = 0;
	v = strtoul(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || argv[1][0] == '-' || v > 255) {
		fprintf(stderr, "vmm-exit: '%s' is not a status from 0 to 255\n", argv[1]);
		return 2;
	}
	if (ioperm(VP_PORT_DEBUG_EXIT, 1, 1) < 0) {
		fprintf(stderr, "vmm-exit: ioperm(0x%x): %s\n", VP_PORT_DEBUG_EXIT,
			strerror(errno));
		return 1;
	}
	outb((unsigned char)v, VP_PORT_DEBUG_EXIT);
	/* Not under vmm (or the port is something else): say so. */
	fprintf(stderr, "vmm-exit: still running: is this a vmm guest?\n");
	return 1;
}

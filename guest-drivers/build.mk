# guest-drivers: freestanding guest code.
#
# guestlet, the bare guest vmm boots (vmm --kernel build/guestlet), is built
# with its own compiler flags and rules, not the host CFLAGS: it is a
# freestanding x86-64 ELF linked at VP_GUEST_LOAD_MIN, and SAN=1 or any other
# host flag must not reach it.  Objects go to $(OBJ)/guest/.

GUEST_CC	?= gcc
GUEST_CFLAGS	:= -std=gnu11 -ffreestanding -nostdlib -static -fno-pie -no-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-O2 -g -Wall -Wextra -Werror -MMD -MP \
	-Ivirtio/include -Ivmm/include -Iguest-drivers/include
GUEST_LDFLAGS	:= -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack \
	-T guest-drivers/guestlet/guestlet.ld
GUEST_OBJ	:= $(OBJ)/guest

guestlet-objs += guestlet/entry.o
guestlet-objs += guestlet/cpu.o
guestlet-objs += guestlet/platform.o
guestlet-objs += guestlet/printf.o
guestlet-objs += guestlet/lib.o
guestlet-objs += guestlet/commands.o
guestlet-objs += guestlet/bench.o
guestlet-objs += guestlet/blk_cmds.o
guestlet-objs += virtio/core.o
guestlet-objs += virtio/blk.o
guestlet-objs += virtio/crc32.o
guestlet-objs += pci/pci.o
guestlet-objs += pci/virtio_pci.o
guestlet-objs += vq_drv.o

EXTRA_TARGETS += $(BUILD)/guestlet

# Rebuild the guest when its own flags change (independent of the host stamp).
GUEST_FLAGS_STAMP := $(GUEST_OBJ)/.flags
GUEST_FLAGS_NOW := $(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS)
$(shell mkdir -p $(GUEST_OBJ); [ "$$(cat $(GUEST_FLAGS_STAMP) 2>/dev/null)" = "$(GUEST_FLAGS_NOW)" ] || \
	echo "$(GUEST_FLAGS_NOW)" > $(GUEST_FLAGS_STAMP))

$(GUEST_OBJ)/%.o: guest-drivers/%.c $(GUEST_FLAGS_STAMP)
	$(E) "  GCC     $<"
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

# The driver side of the split ring comes from virtio/ (freestanding there too).
$(GUEST_OBJ)/vq_drv.o: virtio/vq_drv.c $(GUEST_FLAGS_STAMP)
	$(E) "  GCC     $<"
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJ)/%.o: guest-drivers/%.S $(GUEST_FLAGS_STAMP)
	$(E) "  GAS     $<"
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guestlet: $(addprefix $(GUEST_OBJ)/,$(guestlet-objs)) guest-drivers/guestlet/guestlet.ld
	$(E) "  GLD     $@"
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $(addprefix $(GUEST_OBJ)/,$(guestlet-objs)) \
		$(GUEST_LDFLAGS) -lgcc

# vmm-exit: a static Linux program for vmm's Linux guests (their initramfs):
# `vmm-exit N` ends the VM with status N.  Built with the guest flags' spirit:
# no host CFLAGS (SAN=1 must not reach a program that runs inside a guest).
$(BUILD)/vmm-exit: guest-drivers/linux/vmm-exit.c vmm/include/vmm/guest_abi.h
	$(E) "  CC      $@ (static)"
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -Ivmm/include \
		-Ivirtio/include -o $@ $<
EXTRA_TARGETS += $(BUILD)/vmm-exit

# --- the shared virtio driver stack ------------------------------------------
# guest-drivers/virtio/ is freestanding and built twice: into guestlet (above
# rules, GUEST_CFLAGS) and, with the host CFLAGS, into libvirtio-user together
# with the host platform shim and the vhost-user transport.

# libvirtio-user: the drivers in a host process, over a vhost-user back-end.
LIBS += virtio-user
virtio-user-objs += guest-drivers/virtio/core.o
virtio-user-objs += guest-drivers/virtio/blk.o
virtio-user-objs += guest-drivers/virtio/crc32.o
virtio-user-objs += guest-drivers/virtio-user/platform.o
virtio-user-objs += guest-drivers/virtio-user/vhost_user.o

# vioblk: virtio-blk benchmark and verifier against a vhost-user-blk socket.
PROGS += vioblk
vioblk-objs += guest-drivers/tools/vioblk.o
vioblk-libs := virtio-user vhost-user virtio

# The blk driver against the device side of the ring, in one process.
TESTS += gd_blk
gd_blk-libs := virtio-user vhost-user virtio

# The blk driver against a hostile device (libFuzzer; the harness is its own
# platform shim).  Seeds in tests/fuzz/corpus/gd_blk_dev/.
FUZZERS += gd_blk_dev
gd_blk_dev-fuzz-srcs := tests/fuzz/gd_blk.c guest-drivers/virtio/core.c \
	guest-drivers/virtio/blk.c virtio/vq_drv.c

# The vhost-user transport against our back-end library on a thread.
TESTS += gd_vu
gd_vu-libs := virtio-user vhost-user virtio

# Its shared memory on huge pages (reserves 8 for a moment, as root).
TESTS += gd_vu_huge
gd_vu_huge-libs := virtio-user vhost-user virtio

# --- virtio-net ---------------------------------------------------------------
# The virtio-net driver in libvirtio-user, and vionet: packet generator /
# receiver / forwarder / ping-pong against a vhost-user-net socket.
virtio-user-objs += guest-drivers/virtio/net.o

PROGS += vionet
vionet-objs += guest-drivers/tools/vionet.o
vionet-libs := virtio-user vhost-user virtio

# The net driver against the device side of the ring, in one process.
TESTS += gd_net
gd_net-libs := virtio-user vhost-user virtio

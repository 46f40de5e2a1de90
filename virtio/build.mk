# virtio/: the shared virtio core (libvirtio.a, host build).
#   mem.c     guest-memory table (host)
#   vq.c      split ring, device side (host)
#   vq_drv.c  split ring, driver side (FREESTANDING: also compiled by guest-drivers/)
LIBS += virtio
virtio-objs += virtio/mem.o
virtio-objs += virtio/vq.o
virtio-objs += virtio/vq_drv.o

TESTS += mem_table
mem_table-libs := virtio

# The driver side must build freestanding, as guest-drivers/ compiles it: this
# object is never linked, it only proves the point (and nm shows that nothing
# but memset/memcpy may be left undefined).
VQ_DRV_FREESTANDING_FLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding \
	-nostdlib -fno-pie -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -Ivirtio/include
EXTRA_TARGETS += $(OBJ)/virtio/vq_drv.freestanding.o
$(OBJ)/virtio/vq_drv.freestanding.o: virtio/vq_drv.c virtio/include/virtio/vq_drv.h \
		virtio/include/virtio/ring.h virtio/include/virtio/types.h
	$(E) "  CC      $@ (freestanding)"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(VQ_DRV_FREESTANDING_FLAGS) -c $< -o $@
	$(Q)bad=$$(nm -u $@ | awk '{print $$2}' | grep -v -x -e memset -e memcpy); \
	if [ -n "$$bad" ]; then echo "vq_drv.c: freestanding build needs: $$bad" >&2; \
		rm -f $@; exit 1; fi

TESTS += vq_ring
vq_ring-libs := virtio

TESTS += vq_security
vq_security-libs := virtio
TESTS += vq_threads
vq_threads-libs := virtio

# libFuzzer harnesses (clang; `make check` runs each for 10 s).
FUZZERS += vq_dev
vq_dev-fuzz-srcs := tests/fuzz/vq_dev.c virtio/vq.c virtio/mem.c
FUZZERS += vq_drv
vq_drv-fuzz-srcs := tests/fuzz/vq_drv.c virtio/vq_drv.c

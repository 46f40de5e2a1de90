# virtio/: the shared virtio core (libvirtio.a, host build).
#   mem.c     guest-memory table (host)
#   vq.c      split ring, device side (host)
#   vq_drv.c  split ring, driver side (FREESTANDING: also compiled by guest-drivers/)
LIBS += virtio
virtio-objs += virtio/mem.o

TESTS += mem_table
mem_table-libs := virtio

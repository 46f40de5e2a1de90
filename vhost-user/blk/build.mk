# libvublk: virtio-blk request layer and I/O engines (io_uring, libaio, sync)
# for the vhost-user-blk back-end.  Users link with -luring -laio.
LIBS += vublk
vublk-objs += vhost-user/blk/disk.o
vublk-objs += vhost-user/blk/req.o
vublk-objs += vhost-user/blk/queue.o
vublk-objs += vhost-user/blk/engine_uring.o
vublk-objs += vhost-user/blk/engine_aio.o
vublk-objs += vhost-user/blk/engine_sync.o
VUBLK_LDLIBS := -luring -laio

TESTS += blk_req
blk_req-libs := vublk
blk_req-ldlibs := $(VUBLK_LDLIBS)

TESTS += blk_engines
blk_engines-libs := vublk
blk_engines-ldlibs := $(VUBLK_LDLIBS)

TESTS += blk_blkdev
blk_blkdev-libs := vublk
blk_blkdev-ldlibs := $(VUBLK_LDLIBS)

# The queue-thread glue against virtio/'s real split ring (both sides).
TESTS += blk_ring
blk_ring-libs := vublk virtio
blk_ring-ldlibs := $(VUBLK_LDLIBS)

TESTS += blk_mq
blk_mq-libs := vublk
blk_mq-ldlibs := $(VUBLK_LDLIBS)

# libvublk: virtio-blk request layer and I/O engines (io_uring, libaio, sync, threads)
# for the vhost-user-blk back-end.  Users link with -luring -laio.
LIBS += vublk
vublk-objs += vhost-user/blk/disk.o
vublk-objs += vhost-user/blk/req.o
vublk-objs += vhost-user/blk/queue.o
vublk-objs += vhost-user/blk/engine_uring.o
vublk-objs += vhost-user/blk/engine_aio.o
vublk-objs += vhost-user/blk/engine_sync.o
vublk-objs += vhost-user/blk/engine_threads.o
VUBLK_LDLIBS := -luring -laio -lpthread

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

# The threads engine runs requests at once (userfaultfd holds them in the kernel).
TESTS += blk_threads
blk_threads-libs := vublk
blk_threads-ldlibs := $(VUBLK_LDLIBS)

# libFuzzer: hostile chains through the request parser (against a model of the
# request table) and through a sync-engine queue on a memfd (seeds in
# tests/fuzz/corpus/blk_req/).
FUZZERS += blk_req
blk_req-fuzz-srcs := tests/fuzz/blk_req.c vhost-user/blk/req.c vhost-user/blk/queue.c \
	vhost-user/blk/disk.c vhost-user/blk/engine_sync.c vhost-user/blk/engine_uring.c \
	vhost-user/blk/engine_aio.c vhost-user/blk/engine_threads.c
blk_req-fuzz-ldlibs := -luring -laio -lpthread

# blk_server: the whole back-end (vublk + vhost-user + virtio/'s ring, one
# thread per queue) as a library the VMM runs in-process; see
# vhost-user/include/vhost-user/blk_server.h.  Users link
# vublk-server vublk vhost-user virtio + $(VUBLK_LDLIBS).
LIBS += vublk-server
vublk-server-objs += vhost-user/blk/server.o

# The vhost-user-blk program: a thin main() around blk_server.
PROGS += vhost-user-blk
vhost-user-blk-objs += vhost-user/blk/main.o
vhost-user-blk-libs := vublk-server vublk vhost-user virtio
vhost-user-blk-ldlibs := $(VUBLK_LDLIBS) -lpthread

# blk_server against hostile front-ends (SECURITY.md 10, 12-17), read-only,
# FLUSH, socketpair mode; also the client the vublk_*.sh integration tests
# run against build/vhost-user-blk (case 19 included).
TESTS += blk_server_hostile
blk_server_hostile-libs := vublk-server vublk vhost-user virtio
blk_server_hostile-ldlibs := $(VUBLK_LDLIBS) -lpthread

# The queue threads' adaptive spin window (blk_server_poll_next).
TESTS += blk_poll
blk_poll-libs := vublk-server vublk vhost-user virtio
blk_poll-ldlibs := $(VUBLK_LDLIBS) -lpthread

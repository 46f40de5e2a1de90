# perf/blk: vhost-user-blk (io_uring, libaio, sync engines) vs
# qemu-storage-daemon's vhost-user-blk export, both driven by vioblk, and fio
# on the host as the ceiling; 4 KiB random read/write at QD 1 and 32 on a
# tmpfs file and an O_DIRECT disk file, one back-end core.  Rows for
# build/vhost-user-blk are skipped with a note when it is not built.  See
# perf/blk.sh for how each peer is configured.
#   make bench-blk [BLK_SECS=5] [BLK_SIZE_MB=1024] [BLK_REPS=1]
#   make bench-blk-quick        1 s per point on 256 MiB files
BENCHES += blk

.PHONY: bench-blk bench-blk-quick
bench-blk: $(BUILD)/vioblk $(filter $(BUILD)/vhost-user-blk,$(addprefix $(BUILD)/,$(PROGS)))
	$(Q)BUILD=$(BUILD) BLK_SECS=$(or $(BLK_SECS),5) BLK_SIZE_MB=$(or $(BLK_SIZE_MB),1024) \
		BLK_REPS=$(or $(BLK_REPS),1) perf/blk.sh

bench-blk-quick: $(BUILD)/vioblk $(filter $(BUILD)/vhost-user-blk,$(addprefix $(BUILD)/,$(PROGS)))
	$(Q)BUILD=$(BUILD) BLK_SECS=1 BLK_SIZE_MB=256 perf/blk.sh

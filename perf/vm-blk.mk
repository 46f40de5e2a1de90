# perf/vm-blk: guest block I/O through vmm (in-process back-end, external
# vhost-user-blk, qemu-storage-daemon, and the heavyweight-exit path) next to
# host fio on the same file.  make bench-vm-blk [BENCH_SECS=5]
BENCHES += vm-blk

.PHONY: bench-vm-blk
bench-vm-blk: deps-ok
	$(Q)$(MAKE) $(BUILD)/vmm $(BUILD)/guestlet $(BUILD)/vhost-user-blk
	$(Q)BUILD=$(BUILD) perf/vm-blk.sh

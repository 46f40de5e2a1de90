# perf/ring: device and driver side of one 256-entry split ring on two threads,
# single-descriptor chains, batch sizes 1, 8, 32; one JSON line each.  The
# ceiling every back-end sits under.
#   make bench-ring [RING_OPS=4000000]
PROGS += perf-ring
perf-ring-objs += perf/ring.o
perf-ring-libs := virtio

BENCHES += ring
RING_OPS ?= 4000000

.PHONY: bench-ring
bench-ring: $(BUILD)/perf-ring
	$(Q)$(BUILD)/perf-ring $(RING_OPS)

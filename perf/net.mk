# perf/net: vhost-user net back-ends side by side (DPDK's vhost PMD, the
# anchor, vs vhost-user-net), driven by testpmd's virtio_user and by vionet,
# both directions, 64 and 1500 bytes, one core per side.  Rows for programs
# not built yet are skipped with a note.  See perf/net.sh.
#   make bench-net [NET_SIZES="64 1500"] [NET_SAMPLES=5] [NET_REPEAT=3] [NET_STAT=median|max]
#                  [NET_HUGE=0|1]
BENCHES += net

.PHONY: bench-net
bench-net:
	$(Q)BUILD=$(BUILD) NET_SIZES="$(or $(NET_SIZES),64 1500)" \
		NET_SAMPLES=$(or $(NET_SAMPLES),5) NET_REPEAT=$(or $(NET_REPEAT),3) \
		NET_STAT=$(or $(NET_STAT),median) NET_HUGE=$(or $(NET_HUGE),0) perf/net.sh

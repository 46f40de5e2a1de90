# perf/exits: what a guest -> host notification costs on this host, three ways
# (heavyweight MMIO exit to vmm, MMIO ioeventfd, PIO ioeventfd), measured by
# guestlet at CPL3 in one vmm run, with vmm's own counters checked against N.
#   make bench-exits [EXITS_N=500000]
BENCHES += exits

.PHONY: bench-exits
bench-exits: $(BUILD)/vmm $(BUILD)/guestlet
	$(Q)BUILD=$(BUILD) perf/exits.sh $(EXITS_N)

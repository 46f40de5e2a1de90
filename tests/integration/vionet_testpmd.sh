#!/bin/bash
# vionet against DPDK's own vhost back-end (dpdk-testpmd --vdev
# net_vhost0,iface=SOCK: a real peer nobody here wrote), no hugepages, no PCI:
#  1. vionet txonly --count N -> testpmd rxonly: testpmd's port statistics at
#     exit count exactly N received frames (the vhost PMD never drops on the
#     dequeue side and vionet waits until every frame was consumed);
#     64-byte frames (interrupt mode) and 1500-byte frames (--poll);
#  2. testpmd txonly -> vionet rxonly --check --count N: N frames received,
#     each with consistent Ethernet/IPv4/UDP lengths and a valid IPv4 header
#     checksum, no more than testpmd sent; 1500-byte frames into 256-byte RX
#     buffers make DPDK merge (MRG_RXBUF) and vionet reassemble;
#  3. the negotiated features are what both sides offer (VERSION_1,
#     MRG_RXBUF, EVENT_IDX, INDIRECT_DESC).
# testpmd runs main and forwarding lcore on one CPU, a fresh --file-prefix,
# a small mbuf pool; everything stopped by PID (net_lib.sh).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/net_lib.sh
BUILD=${BUILD:-build}
VIONET=$BUILD/vionet
[ -x "$VIONET" ] || { echo "missing $VIONET (run make)"; exit 1; }
net_need_testpmd
net_lib_init
fails=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2 ($1)"; fails=$((fails + 1)); fi; }
jnum() { grep '^{"tool":"vionet"' "$1" | tail -n 1 | grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2; }
cpu_b=0 cpu_d=$(( $(nproc) > 1 ? 1 : 0 ))
N=20000
run=0

echo "== 1. vionet txonly -> testpmd rxonly"
for spec in "64 -" "1500 --poll"; do
	read -r size extra <<<"$spec"
	[ "$extra" = - ] && extra=""
	run=$((run + 1))
	sock=$NET_TMP/t$run.sock
	net_testpmd_start be$run "$cpu_b" "--vdev net_vhost0,iface=$sock,queues=1" "--forward-mode=rxonly"
	net_wait_socket "$sock" be$run 60 || { fails=$((fails + 1)); continue; }
	out=$NET_TMP/tx$run.json
	taskset -c "$cpu_d" timeout -k 5 60 "$VIONET" --socket "$sock" txonly --size "$size" \
		--count $N $extra >"$out" 2>"$out.err"
	rc=$?
	cat "$out"
	net_testpmd_stop be$run
	got=$(net_fwd_stat be$run 0 RX-packets)
	echo "vionet sent $(jnum "$out" tx_pkts) x $size B, testpmd received $got"
	check "[ $rc = 0 ] && [ \"$(jnum "$out" tx_pkts)\" = $N ]" "vionet txonly $size $extra sent $N and the back-end consumed them"
	check "[ \"$got\" = $N ]" "testpmd rxonly counted exactly $N frames of $size B"
	check '[ "$(jnum "$out" event_idx)" = 1 ] && [ "$(jnum "$out" mrg_rxbuf)" = 1 ] && [ "$(jnum "$out" indirect)" = 1 ]' "EVENT_IDX, MRG_RXBUF, INDIRECT_DESC negotiated with DPDK's vhost"
	check 'grep -q "Forward statistics for port 0" "$NET_TMP/be$run.log"' "testpmd printed its port statistics at exit"
done

echo "== 2. testpmd txonly -> vionet rxonly --check"
for spec in "64 -" "1500 --rx-buf=256" "64 --poll"; do
	read -r size extra <<<"$spec"
	[ "$extra" = - ] && extra=""
	run=$((run + 1))
	sock=$NET_TMP/t$run.sock
	net_testpmd_start be$run "$cpu_b" "--vdev net_vhost0,iface=$sock,queues=1" \
		"--forward-mode=txonly --txpkts=$size"
	net_wait_socket "$sock" be$run 60 || { fails=$((fails + 1)); continue; }
	out=$NET_TMP/rx$run.json
	taskset -c "$cpu_d" timeout -k 5 90 "$VIONET" --socket "$sock" rxonly --check \
		--count $N --secs 60 $extra >"$out" 2>"$out.err"
	rc=$?
	cat "$out"
	tail -n 3 "$out.err"
	net_testpmd_stop be$run
	sent=$(net_fwd_stat be$run 0 TX-packets)
	got=$(jnum "$out" rx_pkts)
	echo "testpmd sent $sent x $size B, vionet received $got"
	check "[ $rc = 0 ]" "vionet rxonly --check $size $extra exits 0"
	check "[ \"\${got:-0}\" -ge $N ] && [ \"\$(jnum \"$out\" checked)\" = \"\$got\" ]" "vionet received and checked >= $N frames"
	check '[ "$(jnum "$out" bad)" = 0 ] && [ "$(jnum "$out" rx_errors)" = 0 ]' "every frame well-formed (lengths, IPv4 checksum)"
	check '[ "$(jnum "$out" size)" = "$size" ]' "frames of $size B"
	check '[ "${got:-0}" -le "${sent:-0}" ]' "no more received ($got) than testpmd sent ($sent)"
	if [ "$extra" = "--rx-buf=256" ]; then
		check '[ "$(jnum "$out" rx_merged)" = "$got" ]' "DPDK merged each 1500-byte frame over 256-byte buffers, vionet reassembled it"
	fi
done

echo "$fails failure(s)"
[ "$fails" = 0 ]

#!/bin/bash
# vionet (guest-drivers' virtio-net driver over libvirtio-user) against our
# vhost-user-net back-end with the in-memory loop port:
#  1. one socket: pingpong (interrupt mode and --poll): every frame sent comes
#     back on our own RX ring, none lost;
#  2. two sockets: txonly on A -> rxonly --check on B (each TX lands on the
#     other's RX): 64-byte and 1500-byte frames, and 1500-byte frames into
#     256-byte RX buffers (the back-end merges, MRG_RXBUF num_buffers > 1);
#     every frame received is intact, in order, ours, and no more arrive than
#     were sent (received + sequence gaps <= sent: the loop port may drop when
#     its ring is full, never invent or corrupt); txonly --csum leaves the UDP
#     checksum to the back-end (NEEDS_CSUM): rxonly verifies each one, or with
#     --csum itself (GUEST_CSUM) receives each still partial; the same with
#     the back-end's --tx-flush=on (frames flushed from the caches once
#     copied) changes nothing;
#  3. fwd on B, pingpong on A: frames cross both guests and come back;
#  4. command-line errors: exit 2 with a message, a missing socket exit 3,
#     --size above the MTU exit 4;
#  5. the discard port: 64 and 1500-byte txonly runs are all consumed and
#     counted (frames and bytes, per queue and by the port), nothing is
#     dropped on the way, rxonly receives nothing, and meanwhile the
#     kick-driven back-end sleeps (under half a second of CPU in the 2 s).
# Processes are stopped by PID (net_lib.sh), temp files removed.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/net_lib.sh
BUILD=${BUILD:-build}
VUN=$BUILD/vhost-user-net
VIONET=$BUILD/vionet
[ -x "$VUN" ] || { echo "missing $VUN (run make)"; exit 1; }
[ -x "$VIONET" ] || { echo "missing $VIONET (run make)"; exit 1; }
net_lib_init
fails=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2 ($1)"; fails=$((fails + 1)); fi; }
# jnum FILE KEY: "KEY":N of the last JSON line of FILE
jnum() { grep '^{"tool":"vionet"' "$1" | tail -n 1 | grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2; }

echo "== 1. one socket, pingpong"
s=$NET_TMP/one.sock
net_prog_start vun1 "$VUN" --socket "$s" --port loop
net_wait_socket "$s" vun1 30 || exit 1
for mode in "" --poll; do
	out=$NET_TMP/pp$mode.json
	timeout -k 5 60 "$VIONET" --socket "$s" pingpong --count 2000 --secs 30 $mode >"$out" 2>"$out.err"
	rc=$?
	cat "$out"
	check "[ $rc = 0 ]" "pingpong $mode exits 0"
	check '[ "$(jnum "$out" rtts)" = 2000 ] && [ "$(jnum "$out" timeouts)" = 0 ]' "pingpong $mode: 2000 round trips, none lost"
	check '[ "$(jnum "$out" rx_pkts)" = 2000 ] && [ "$(jnum "$out" drops)" = 0 ]' "pingpong $mode: nothing but our frames came back"
	check 'grep -q "\"p50_us\":[0-9]" "$out" && grep -q "\"p99_us\":[0-9]" "$out"' "pingpong $mode reports p50_us and p99_us"
done
net_testpmd_stop vun1
check '[ "${NET_STATUS[vun1]}" = 0 ]' "vhost-user-net exits 0"

echo "== 2. two sockets: txonly A -> rxonly --check B"
# A fresh back-end per run: the loop port keeps frames for a socket whose
# front-end is gone and hands them to the next one (a switch would too).
# The back-end's --tx-flush=on (guest TX frames flushed from the caches once
# copied) must not change a byte: two runs with it (where the CPU has it).
flush=--tx-flush=on
grep -qw clflushopt /proc/cpuinfo || flush=--tx-flush=off
run=0
last=8
for spec in "64 - - -" "1500 - - -" "1500 --rx-buf=256 - -" "64 --poll - -" "1500 - --csum -" \
	    "64 - - $flush" "1500 --rx-buf=256 - $flush" "1500 --csum --csum -"; do
	read -r size extra txextra vunextra <<<"$spec"
	[ "$extra" = - ] && extra=""
	[ "$txextra" = - ] && txextra=""
	[ "$vunextra" = - ] && vunextra=""
	run=$((run + 1))
	name=rx$run
	a=$NET_TMP/a$run.sock b=$NET_TMP/b$run.sock
	net_prog_start vun2 "$VUN" --socket "$a" --socket "$b" --port loop $vunextra
	net_wait_socket "$a" vun2 30 && net_wait_socket "$b" vun2 30 || exit 1
	net_prog_start $name "$VIONET" --socket "$b" rxonly --check --secs 120 --idle-secs 2 $extra
	net_wait_log $name "ready" 30 || { fails=$((fails + 1)); continue; }
	tx=$NET_TMP/tx$run.json
	timeout -k 5 60 "$VIONET" --socket "$a" txonly --size "$size" --count 50000 $txextra >"$tx" 2>"$tx.err"
	trc=$?
	# rxonly ends by itself 2 s after the last frame (frames still queued in
	# the back-end arrive first); bounded by its --secs 120
	for ((i = 0; i < 1300; i++)); do net_alive $name || break; sleep 0.1; done
	net_testpmd_stop $name
	rx=$NET_TMP/$name.out
	cat "$tx" "$rx"
	sent=$(jnum "$tx" tx_pkts) got=$(jnum "$rx" rx_pkts) lost=$(jnum "$rx" lost)
	check "[ $trc = 0 ] && [ \"$sent\" = 50000 ]" "txonly $size: sent 50000, every one consumed by the back-end"
	check '[ "${NET_STATUS[$name]}" = 0 ]' "rxonly --check $size $extra exits 0 (no bad frame)"
	check '[ "${got:-0}" -gt 0 ] && [ "$(jnum "$rx" ours)" = "$got" ] && [ "$(jnum "$rx" checked)" = "$got" ]' "rxonly $size $extra: $got frames, all ours, all checked"
	check '[ "$(jnum "$rx" bad)" = 0 ] && [ "$(jnum "$rx" reordered)" = 0 ] && [ "$(jnum "$rx" rx_errors)" = 0 ]' "rxonly $size $extra: none corrupted or out of order"
	check '[ $((got + lost)) -le 50000 ]' "rxonly $size $extra: received ($got) + gaps ($lost) <= sent"
	check '[ "$(jnum "$rx" size)" = "$size" ]' "rxonly $size $extra: frames arrived at their size"
	if [ "$extra" = "--rx-buf=256" ]; then
		check '[ "$(jnum "$rx" rx_merged)" = "$got" ]' "1500-byte frames over 256-byte buffers were all merged (MRG_RXBUF)"
	fi
	if [ "$txextra" = --csum ] && [ -z "$extra" ]; then
		check '[ "$(jnum "$rx" csum_ok)" = "$got" ]' "txonly --csum: the back-end completed every UDP checksum (NEEDS_CSUM), rxonly verified them"
	elif [ "$txextra" = --csum ]; then
		check '[ "$(jnum "$rx" csum_partial)" = "$got" ]' "txonly --csum -> rxonly --csum (GUEST_CSUM): every frame arrived partial with its csum_start/offset"
	else
		check '[ "$(jnum "$rx" csum_ok)" = 0 ] && [ "$(jnum "$rx" csum_partial)" = 0 ]' "no UDP checksum without --csum"
	fi
	[ $run -lt $last ] && net_testpmd_stop vun2
	if [ "$vunextra" = --tx-flush=on ]; then
		check 'grep -q "\"device\":\"$a\".*\"tx_flush\":{\"on\":1,\"rounds\":0,\"windows\":0," "$NET_TMP/vun2.out"' "--tx-flush=on: socket A's queue flushed throughout, nothing measured"
	fi
done

echo "== 3. fwd on B, pingpong on A"
net_prog_start fwd "$VIONET" --socket "$b" fwd --secs 120
net_wait_log fwd "ready" 30 || fails=$((fails + 1))
pp=$NET_TMP/fwdpp.json
timeout -k 5 60 "$VIONET" --socket "$a" pingpong --count 1000 --size 200 --secs 30 >"$pp" 2>"$pp.err"
prc=$?
net_testpmd_stop fwd
cat "$pp" "$NET_TMP/fwd.out"
check "[ $prc = 0 ] && [ \"$(jnum "$pp" rtts)\" = 1000 ]" "1000 round trips A -> B (fwd) -> A"
check '[ "${NET_STATUS[fwd]}" = 0 ] && [ "$(jnum "$NET_TMP/fwd.out" tx_pkts)" = "$(jnum "$NET_TMP/fwd.out" rx_pkts)" ]' "fwd sent back everything it received"
net_testpmd_stop vun2
check '[ "${NET_STATUS[vun2]}" = 0 ]' "vhost-user-net (two sockets) exits 0"

echo "== 4. command line"
bad() {	# want-status want-regex args...
	local want=$1 re=$2; shift 2
	timeout -k 5 30 "$VIONET" "$@" >"$NET_TMP/bad.out" 2>"$NET_TMP/bad.err" </dev/null
	local rc=$?
	check "[ $rc = $want ] && grep -qE -e '$re' '$NET_TMP/bad.err' && [ ! -s '$NET_TMP/bad.out' ]" "vionet $* -> exit $want, /$re/"
}
bad 2 "want a mode" --socket "$a"
bad 2 "--socket PATH is required" txonly
bad 2 "unknown mode .bogus." --socket "$a" bogus
bad 2 "two modes" --socket "$a" txonly rxonly
bad 2 "--size 59: want" --socket "$a" txonly --size 59
bad 2 "--burst 33: want 1..32" --socket "$a" txonly --burst 33
bad 2 "--mac 1:2:3: want" --socket "$a" txonly --mac 1:2:3
bad 2 "--queue-size 100: want a power of two" --socket "$a" txonly --queue-size 100
bad 2 "--check is for rxonly" --socket "$a" txonly --check
bad 2 "--idle-secs is for rxonly and fwd" --socket "$a" txonly --idle-secs 1
bad 2 "--cpu x: want a CPU number" --socket "$a" txonly --cpu x
bad 3 "is the back-end running" --socket "$NET_TMP/nobody.sock" txonly
net_prog_start vun3 "$VUN" --socket "$a" --port loop --mtu 1500
net_wait_socket "$a" vun3 30 || exit 1
bad 4 "above the device.s largest frame 1518" --socket "$a" txonly --size 1600
"$VIONET" --help >"$NET_TMP/help" 2>&1
check '[ $? = 0 ] && grep -q "exit status" "$NET_TMP/help"' "--help exits 0 and documents the exit statuses"
net_testpmd_stop vun3

echo "== 5. the discard port: every frame counted and dropped, none received"
d=$NET_TMP/d.sock
net_prog_start vund "$VUN" --socket "$d" --port discard
net_wait_socket "$d" vund 30 || exit 1
for size in 64 1500; do
	tx=$NET_TMP/dtx$size.json
	timeout -k 5 60 "$VIONET" --socket "$d" txonly --size "$size" --count 50000 >"$tx" 2>"$tx.err"
	trc=$?
	check "[ $trc = 0 ] && [ \"$(jnum "$tx" tx_pkts)\" = 50000 ]" "discard: txonly $size sent 50000, every one consumed"
done
# A guest whose receive ring is full of buffers, with nothing coming: the
# kick-driven back-end sleeps.  It used to take the posted buffers for work
# and spin a whole CPU; sleeping, it uses next to none.
rx=$NET_TMP/drx.json
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(ticks "${NET_PIDS[vund]}")
timeout -k 5 30 "$VIONET" --socket "$d" rxonly --secs 2 >"$rx" 2>"$rx.err"
rrc=$?
c1=$(ticks "${NET_PIDS[vund]}")
check "[ $rrc = 0 ] && [ \"$(jnum "$rx" rx_pkts)\" = 0 ]" "discard: rxonly receives nothing"
check "[ $((c1 - c0)) -lt $(($(getconf CLK_TCK) / 2)) ]" \
	"the back-end sleeps while the guest waits with its RX ring full ($((c1 - c0)) ticks of CPU in 2 s)"
net_testpmd_stop vund
cat "$NET_TMP/vund.out"
dj=$(grep -a '^{"device"' "$NET_TMP/vund.out" | tail -n 1)
check '[ "${NET_STATUS[vund]}" = 0 ]' "vhost-user-net --port discard exits 0"
check 'grep -q "\"queues\":\[{\"queue\":0,\"rx_packets\":0,\"rx_bytes\":0,\"tx_packets\":100000,\"tx_bytes\":$((50000 * 64 + 50000 * 1500)),\"rx_bursts\":0," <<<"$dj"' \
	"discard: the queue counted 100000 frames and their bytes sent, none received"
check 'grep -q "\"port\":{\"rx_packets\":0,\"rx_bytes\":0,\"tx_packets\":100000,\"tx_bytes\":$((50000 * 64 + 50000 * 1500))," <<<"$dj"' \
	"discard: the port took all 100000 frames"
check 'grep -q "\"drops\":{\"hdr_short\":0,\"bad_chain\":0,\"csum_range\":0,\"gso_type\":0,\"gso_size\":0,\"runt\":0,\"too_big\":0,\"no_buf\":0,\"port_full\":0," <<<"$dj"' \
	"discard: nothing dropped on the way"

echo "$fails failure(s)"
[ "$fails" = 0 ]

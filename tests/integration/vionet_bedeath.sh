#!/bin/bash
# vionet when its back-end dies: build/vhost-user-net --port loop is
# SIGKILLed under load, for each mode in interrupt and polling mode.  vionet
# must notice (the socket hangs up), print its JSON line, say why on stderr
# and exit 1: never hang, never crash.  A hang is caught by a 20 s bound.
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
run=0
for m in "txonly" "txonly --poll" "rxonly" "rxonly --poll" "pingpong" "pingpong --poll" "fwd" "fwd --poll"; do
	run=$((run + 1))
	s=$NET_TMP/d$run.sock
	net_prog_start vun$run "$VUN" --socket "$s" --port loop
	net_wait_socket "$s" vun$run 30 || { fails=$((fails + 1)); continue; }
	net_prog_start v$run "$VIONET" --socket "$s" $m --secs 120
	net_wait_log v$run ready 30 || { fails=$((fails + 1)); continue; }
	# kill it as soon as vionet is running (txonly/pingpong are then
	# mid-stream, rxonly/fwd waiting for frames)
	kill -KILL "${NET_PIDS[vun$run]}"
	for ((i = 0; i < 200; i++)); do net_alive v$run || break; sleep 0.1; done
	check '! net_alive v$run' "vionet $m exits after the back-end is killed (within 20 s)"
	net_testpmd_stop v$run	# reaps it (SIGKILL if it hung)
	net_testpmd_stop vun$run
	check '[ "${NET_STATUS[v$run]}" = 1 ]' "vionet $m exit status 1"
	check 'grep -q "back-end disconnected" "$NET_TMP/v$run.log"' "vionet $m says the back-end disconnected"
	check 'grep -q "^{\"tool\":\"vionet\",\"mode\":\"${m%% *}\"" "$NET_TMP/v$run.out"' "vionet $m still prints its JSON line"
done
echo "$fails failure(s)"
[ "$fails" = 0 ]

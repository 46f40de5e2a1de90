#!/bin/bash
# vhost-user-net against DPDK's virtio_user PMD (dpdk-testpmd, no hugepages):
#  1. --port net_null0 (polling): the null port's frames reach the driver,
#     which io-forwards them back; both sides count RX and TX, and the
#     SIGUSR1 / exit JSON agrees (no drops), and its busy and idle times
#     fit in the time the process ran;
#  2. --port loop with two sockets (kick-driven): what one driver sends
#     (txonly) the other receives (rxonly): the two-VM switch;
#  3. --queues 2 against virtio_user queues=2: both queue pairs carry frames;
#  4. bad command lines and an unprobeable DPDK device: a clear one-line
#     error, exit status 1 or 2, no socket or EAL directory left;
#  5. huge pages (as root, 64 reserved for the section and given back): with
#     no hugetlbfs mounted it runs on ordinary pages and says why; with one
#     mounted it runs on huge pages;
#  6. --tx-flush: auto (the default) measures both ways on 2 Mi frames and
#     says so in the exit JSON; on and off measure nothing;
#  7. --rx-prefetch: the same, on 2 Mi frames to the guest;
# and after SIGINT every process is gone, the socket unlinked and the EAL
# runtime directory removed.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/net_lib.sh
BUILD=${BUILD:-build}
VUN=$BUILD/vhost-user-net
[ -x "$VUN" ] || { echo "missing $VUN (run make)"; exit 1; }
net_need_testpmd
net_lib_init
fails=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2 ($1)"; fails=$((fails + 1)); fi; }
# jnum FILE KEY: first "KEY":N in the last JSON line of FILE
jnum() { tail -n 1 "$1" | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2; }
cpu_b=0 cpu_d=$(( $(nproc) > 1 ? 1 : 0 ))

echo "== 1. net_null0, polling, virtio_user io forwarding"
sock=$NET_TMP/a.sock
t0=$(date +%s%N)
net_prog_start vun "$VUN" --socket "$sock" --port net_null0,size=64 --poll --lcores "$cpu_b" --no-huge
net_wait_socket "$sock" vun 30 || exit 1
net_testpmd_start drv "$cpu_d" "--vdev net_virtio_user0,path=$sock,queues=1" "--forward-mode=io"
net_wait_stat drv RX-packets 10000 30 || fails=$((fails + 1))
net_wait_stat drv TX-packets 10000 30 || fails=$((fails + 1))
kill -USR1 "${NET_PIDS[vun]}"
net_wait_log vun '' 1 >/dev/null
for ((i = 0; i < 50; i++)); do [ -s "$NET_TMP/vun.out" ] && break; sleep 0.1; done
check 'grep -q "^{\"device\":\"$sock\",\"queues\":\[{\"queue\":0," "$NET_TMP/vun.out"' "SIGUSR1 prints the JSON counters"
net_testpmd_stop drv
vunpid=${NET_PIDS[vun]}
net_testpmd_stop vun
t1=$(date +%s%N)
check '[ "${NET_STATUS[vun]}" = 0 ]' "vhost-user-net exits 0 on SIGINT"
busy=$(jnum "$NET_TMP/vun.out" busy_ns) idle=$(jnum "$NET_TMP/vun.out" idle_ns)
echo "queue pair 0: busy ${busy:-?} ns, idle ${idle:-?} ns, of $((t1 - t0)) ns alive"
check '[ "${busy:-0}" -gt 0 ] && [ -n "$idle" ]' "the counters say how long the queue pair was busy and idle"
check '[ $(( ${busy:-0} + ${idle:-0} )) -le $((t1 - t0)) ]' "busy + idle fit in the time the process ran"
rx=$(jnum "$NET_TMP/vun.out" rx_packets) tx=$(jnum "$NET_TMP/vun.out" tx_packets)
drx=$(net_fwd_stat drv 0 RX-packets) dtx=$(net_fwd_stat drv 0 TX-packets)
echo "vhost-user-net rx(to guest)=$rx tx(from guest)=$tx; virtio_user rx=$drx tx=$dtx"
check '[ "${rx:-0}" -ge 10000 ] && [ "${tx:-0}" -ge 10000 ]' "vhost-user-net moved packets both ways"
check '[ "$drx" -gt 0 ] && [ "$drx" -le "${rx:-0}" ]' "the driver received no more than we delivered"
check '[ "${tx:-0}" -le "$dtx" ]' "we never forward more than the driver sent"
check '[ "$(jnum "$NET_TMP/vun.out" hdr_short)" = 0 ] && [ "$(jnum "$NET_TMP/vun.out" too_big)" = 0 ]' "no header drops from a well-behaved driver"
check '[ ! -e "$sock" ]' "socket unlinked at exit"
check '[ ! -e /var/run/dpdk/vp-net-$vunpid ]' "EAL runtime dir removed at exit"

echo "== 2. loop, two sockets, kick-driven: txonly -> rxonly"
s1=$NET_TMP/l1.sock s2=$NET_TMP/l2.sock
net_prog_start vun2 "$VUN" --socket "$s1" --socket "$s2" --port loop
net_wait_socket "$s1" vun2 30 && net_wait_socket "$s2" vun2 30 || exit 1
net_testpmd_start rxd "$cpu_b" "--vdev net_virtio_user0,path=$s2,queues=1" "--forward-mode=rxonly"
net_wait_log rxd "Press enter|Start automatic|forwards packets" 30 || fails=$((fails + 1))
net_testpmd_start txd "$cpu_d" "--vdev net_virtio_user0,path=$s1,queues=1" "--forward-mode=txonly"
net_wait_stat rxd RX-packets 10000 30 || fails=$((fails + 1))
net_testpmd_stop txd
net_testpmd_stop rxd
net_testpmd_stop vun2
got=$(net_fwd_stat rxd 0 RX-packets)
sent=$(net_fwd_stat txd 0 TX-packets)
echo "txonly sent $sent, rxonly received $got"
check '[ "$got" -ge 10000 ]' "frames crossed the loop from socket 1 to socket 2"
check '[ "$got" -le "$sent" ]' "no frame invented"
check '[ "${NET_STATUS[vun2]}" = 0 ]' "vhost-user-net (loop) exits 0 on SIGINT"
check 'grep -q "\"device\":\"$s1\"" "$NET_TMP/vun2.out" && grep -q "\"device\":\"$s2\"" "$NET_TMP/vun2.out"' "exit JSON has both sockets"

echo "== 3. two queue pairs (MQ): both carry traffic"
sock=$NET_TMP/mq.sock
net_prog_start vun3 "$VUN" --socket "$sock" --port net_null0,size=64 --queues 2 --no-huge
net_wait_socket "$sock" vun3 30 || exit 1
: >"$NET_TMP/mqd.log"
# two forwarding lcores (one per queue pair), all on the driver's CPU
"$NET_TESTPMD" --lcores "0@$cpu_d,1@$cpu_d,2@$cpu_d" --file-prefix "vp-mq-$$" --no-pci --no-huge \
	-m "$NET_MEM_MB" --no-telemetry --vdev "net_virtio_user0,path=$sock,queues=2" -- \
	--nb-cores=2 --rxq=2 --txq=2 --total-num-mbufs="$NET_MBUFS" --stats-period 1 \
	--forward-mode=io </dev/null >"$NET_TMP/mqd.log" 2>&1 &
NET_PIDS[mqd]=$!
NET_ORDER+=(mqd)
NET_PREFIXES[mqd]=vp-mq-$$
net_wait_stat mqd RX-packets 20000 30 || fails=$((fails + 1))
net_testpmd_stop mqd
net_testpmd_stop vun3
q0=$(grep -o '"queue":0,"rx_packets":[0-9]*' "$NET_TMP/vun3.out" | tail -n 1 | cut -d: -f3)
q1=$(grep -o '"queue":1,"rx_packets":[0-9]*' "$NET_TMP/vun3.out" | tail -n 1 | cut -d: -f3)
echo "queue 0 delivered $q0, queue 1 delivered $q1"
check '[ "${q0:-0}" -gt 0 ] && [ "${q1:-0}" -gt 0 ]' "both queue pairs delivered frames"
check '[ "${NET_STATUS[vun3]}" = 0 ]' "vhost-user-net (2 queues) exits 0 on SIGINT"

echo "== 4. bad input"
bad() {	# want-status want-regex args...
	local want=$1 re=$2; shift 2
	"$VUN" "$@" >"$NET_TMP/bad.out" 2>"$NET_TMP/bad.err" </dev/null
	local rc=$?
	check "[ $rc = $want ] && grep -qE -e '$re' '$NET_TMP/bad.err' && [ ! -s '$NET_TMP/bad.out' ]" "$* -> exit $want, /$re/"
}
bad 2 "--socket PATH is required" --port loop
bad 2 "--port SPEC is required" --socket "$NET_TMP/x.sock"
bad 2 "--queues: 1..64 expected" --socket "$NET_TMP/x.sock" --port loop --queues 0
bad 2 "--mac: aa:bb" --socket "$NET_TMP/x.sock" --port loop --mac 1:2:3
bad 2 "--lcores: a CPU list" --socket "$NET_TMP/x.sock" --port loop --lcores 'x'
bad 2 "loop port takes one or two sockets" --socket a --socket b --socket c --port loop
bad 2 "--tx-flush: auto, on or off expected, not .sometimes." --socket "$NET_TMP/x.sock" --port loop --tx-flush sometimes
bad 1 "net_af_packet0: .*failed" --socket "$NET_TMP/x.sock" --port net_af_packet0,iface=vp-no-such-if --no-huge
bad 1 "tap:.*(failed|longer)" --socket "$NET_TMP/x.sock" --port tap:0123456789abcdefXYZ
check '[ ! -e "$NET_TMP/x.sock" ]' "no socket left by failed starts"
# Other DPDK processes (a bench, another test) may be running: only a
# directory whose owner is gone counts as left behind.
stale_eal_dirs() {
	local d
	for d in /var/run/dpdk/vp-net-*; do
		[ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && echo "$d"
	done
}
check '[ -z "$(stale_eal_dirs)" ]' "no EAL runtime dir left by failed starts"

echo "== 5. huge pages: used when reserved and mounted, else ordinary pages and a note"
hp_file=/proc/sys/vm/nr_hugepages hp_saved= hp_mnt=$NET_TMP/huge
hp_cleanup() {
	mountpoint -q "$hp_mnt" 2>/dev/null && umount "$hp_mnt"
	[ -n "$hp_saved" ] && echo "$hp_saved" >"$hp_file"
	hp_saved=
	return 0
}
trap 'hp_cleanup; net_lib_cleanup' EXIT
# The page size of vionet's shared memory, read from its smaps while it runs.
hp_vionet_pagesize() {	# PID
	local i
	for ((i = 0; i < 50; i++)); do
		awk '/virtio-user-ram/ { m = 1; next } m && /^KernelPageSize:/ { print $2; exit }
		     /^[0-9a-f]+-[0-9a-f]+ / { m = 0 }' "/proc/$1/smaps" 2>/dev/null | grep . && return 0
		sleep 0.1
	done
	return 1
}
hp_run() {	# NAME [VIONET_ARGS...]: start on net_null0, vionet txonly for 1 s through it, stop
	local name=$1 s=$NET_TMP/$1.sock vpid
	net_prog_start "$name" "$VUN" --socket "$s" --port net_null0
	net_wait_socket "$s" "$name" 30 || return 1
	"$BUILD/vionet" --socket "$s" txonly --secs 1 "${@:2}" >"$NET_TMP/$name.vionet" 2>&1 </dev/null &
	vpid=$!
	hp_vionet_pagesize $vpid >"$NET_TMP/$name.pagesize"
	wait $vpid
	net_testpmd_stop "$name"
	grep -q '"tx_pkts":[1-9]' "$NET_TMP/$name.vionet" && [ "${NET_STATUS[$name]}" = 0 ]
}
hp_free() { awk '/^HugePages_Free/ {print $2}' /proc/meminfo; }
# vionet --hugetlb needs 64 (128 MiB): with fewer free, a clear error.
if [ "$(hp_free)" -lt 64 ]; then
	check '"$BUILD/vionet" --socket "$NET_TMP/none.sock" txonly --hugetlb >"$NET_TMP/hp0.out" 2>&1; [ $? = 4 ]' \
		"vionet --hugetlb with $(hp_free) huge pages free: exit 4"
	check 'grep -q "fewer than 64 default-size huge pages free" "$NET_TMP/hp0.out"' "... saying how many it needs"
fi
if [ "$(id -u)" != 0 ] || [ ! -w "$hp_file" ]; then
	echo "note: not root: the huge page cases are not run"
elif ! hp_saved=$(cat "$hp_file") || ! echo $((hp_saved + 128)) >"$hp_file" ||
     [ "$(hp_free)" -lt 128 ]; then
	echo "note: could not reserve 128 huge pages: the huge page cases are not run"
	hp_cleanup
else
	# 128 more reserved for this section (nr_hugepages restored at the end)
	if grep -q ' hugetlbfs ' /proc/mounts; then
		echo "note: this machine has a hugetlbfs mounted: the unmounted case is not run"
	else
		check 'hp_run hpa' "huge pages reserved, no hugetlbfs mounted: vhost-user-net runs"
		check 'grep -q "no hugetlbfs of that size mounted" "$NET_TMP/hpa.log" && grep -q "of ordinary pages" "$NET_TMP/hpa.log"' "... on ordinary pages, saying why"
	fi
	mkdir -p "$hp_mnt" && mount -t hugetlbfs nodev "$hp_mnt"
	check 'hp_run hpb' "huge pages reserved and a hugetlbfs mounted: vhost-user-net runs"
	check 'grep -q "MiB on huge pages" "$NET_TMP/hpb.log"' "... on huge pages"
	# The driver's memory (the "guest RAM" the back-end maps) on huge pages too.
	check 'hp_run hpc --hugetlb' "vionet --hugetlb (its memory on huge pages) through vhost-user-net"
	check '[ "$(cat "$NET_TMP/hpc.pagesize")" = 2048 ] && [ "$(cat "$NET_TMP/hpb.pagesize")" = 4 ]' \
		"... its memory on 2048 kB pages (4 kB without --hugetlb)"
	hp_cleanup
	check '[ -z "$(stale_eal_dirs)" ]' "no EAL runtime dir left by the huge page runs"
fi

echo "== 6. --tx-flush: each queue pair measures both ways (auto), or is told"
# 2 Mi frames: 32 windows of 64 Ki, enough for a round (6) and more.
tune_run() {	# NAME txonly|rxonly ARGS...: vhost-user-net on net_null0, 2 Mi frames
	local name=$1 mode=$2 s=$NET_TMP/$1.sock null=net_null0,no-rx=1 key=tx_pkts
	shift 2
	[ "$mode" = rxonly ] && null=net_null0,size=64 key=rx_pkts
	net_prog_start "$name" "$VUN" --socket "$s" --port "$null" --no-huge "$@"
	net_wait_socket "$s" "$name" 30 || return 1
	timeout -k 5 120 "$BUILD/vionet" --socket "$s" "$mode" --count 2097152 --secs 100 \
		>"$NET_TMP/$name.vionet" 2>&1 </dev/null
	net_testpmd_stop "$name"
	grep -q "\"$key\":2097152" "$NET_TMP/$name.vionet" && [ "${NET_STATUS[$name]}" = 0 ]
}
tune() { grep -o "\"$2\":{[^}]*}" "$NET_TMP/$1.out" | tail -n 1; }	# NAME KEY
tunenum() { tune "$1" "$2" | grep -o "\"$3\":[0-9]*" | cut -d: -f2; }	# NAME KEY FIELD
tf_run() { tune_run "$1" txonly "${@:2}"; }
tf() { tune "$1" tx_flush; }
tfnum() { tunenum "$1" tx_flush "$2"; }
check 'tf_run tfa' "default (auto): 2 Mi frames forwarded"
tfa=$(tf tfa)
echo "auto: $tfa"
if grep -qw clflushopt /proc/cpuinfo; then
	check '[ "$(tfnum tfa rounds)" -ge 1 ] && [ "$(tfnum tfa windows)" -ge 30 ]' "auto: every window of 64 Ki frames timed (>= 30), at least one round decided"
	check '[ "$(tfnum tfa windows_on)" -ge 3 ] && [ "$(tfnum tfa windows_on)" -le "$(tfnum tfa windows)" ]' "auto: both ways measured (>= 3 windows flushing)"
	check 'tf_run tfon --tx-flush on' "--tx-flush on: 2 Mi frames forwarded"
	check '[ "$(tf tfon)" = "\"tx_flush\":{\"on\":1,\"rounds\":0,\"windows\":0,\"windows_on\":0}" ]' "--tx-flush on: flushing, nothing measured"
else
	check '[ "$tfa" = "\"tx_flush\":{\"on\":0,\"rounds\":0,\"windows\":0,\"windows_on\":0}" ]' "auto without CLFLUSHOPT: off, nothing measured"
	bad 2 "this CPU has no CLFLUSHOPT" --socket "$NET_TMP/x.sock" --port loop --tx-flush on
fi
check 'tf_run tfoff --tx-flush off' "--tx-flush off: 2 Mi frames forwarded"
check '[ "$(tf tfoff)" = "\"tx_flush\":{\"on\":0,\"rounds\":0,\"windows\":0,\"windows_on\":0}" ]' "--tx-flush off: never flushing, nothing measured"

echo "== 7. --rx-prefetch: each queue pair measures both ways (auto), or is told"
# 2 Mi frames from net_null0 into vionet.
rp_run() { tune_run "$1" rxonly "${@:2}"; }
rp() { tune "$1" rx_prefetch; }
rpnum() { tunenum "$1" rx_prefetch "$2"; }
check 'rp_run rpa' "default (auto): 2 Mi frames delivered"
echo "auto: $(rp rpa)"
check '[ "$(rpnum rpa rounds)" -ge 1 ] && [ "$(rpnum rpa windows)" -ge 30 ]' "auto: every window of 64 Ki frames timed (>= 30), at least one round decided"
check '[ "$(rpnum rpa windows_on)" -ge 3 ] && [ "$(rpnum rpa windows_on)" -le "$(rpnum rpa windows)" ]' "auto: both ways measured (>= 3 windows prefetching)"
check 'rp_run rpon --rx-prefetch on' "--rx-prefetch on: 2 Mi frames delivered"
check '[ "$(rp rpon)" = "\"rx_prefetch\":{\"on\":1,\"rounds\":0,\"windows\":0,\"windows_on\":0}" ]' "--rx-prefetch on: prefetching, nothing measured"
check 'rp_run rpoff --rx-prefetch off' "--rx-prefetch off: 2 Mi frames delivered"
check '[ "$(rp rpoff)" = "\"rx_prefetch\":{\"on\":0,\"rounds\":0,\"windows\":0,\"windows_on\":0}" ]' "--rx-prefetch off: never prefetching, nothing measured"
bad 2 "--rx-prefetch: auto, on or off expected, not .sometimes." --socket "$NET_TMP/x.sock" --port loop --rx-prefetch sometimes

if [ $fails -gt 0 ]; then
	for n in vun drv vun2 rxd txd vun3 mqd tfa tfon tfoff rpa rpon rpoff; do
		[ -f "$NET_TMP/$n.log" ] && { echo "--- $n log (tail)"; tr -d '\r' <"$NET_TMP/$n.log" | tail -n 20; }
	done
	exit 1
fi
echo "net_vun_interop: all checks passed"

#!/bin/bash
# bench-net: vhost-user net back-ends side by side, one core per side.
#
# Rows (each for 64 and 1500-byte frames, both directions):
#   backend dpdk-vhost      DPDK's own vhost PMD in testpmd (io forwarding to
#                           and from net_null0): the anchor
#   backend vhost-user-net  build/vhost-user-net --port net_null0 (ours)
#   bound   vhost-user-net --port discard (to-backend only): ours with a port
#                           that costs nothing (frames copied into a few
#                           buffers that stay in cache, no mbufs): the rate
#                           DPDK's driver reaches when the back-end does
#                           nothing but the vhost-user side of the work
#   driver  dpdk-virtio-user testpmd's virtio_user PMD: txonly (to-backend)
#                           or rxonly (to-driver)
#   driver  vionet          build/vionet (ours): txonly to the back-end, rxonly from it
# Every back-end runs with every driver.  The issue's target compares the two
# back-ends under DPDK's driver; the vionet rows give the same comparison
# under a driver that negotiates EVENT_IDX and not IN_ORDER.
# to-backend: the driver sends, the back-end forwards into net_null0
#             (no-rx=1, so nothing flows back);
# to-driver:  net_null0 generates frames, the back-end puts them on the
#             driver's RX ring, the driver receives.
# Rates are the driver side's: the median (NET_STAT=max: the best) of its
# per-second Tx-pps (to-backend) or Rx-pps (to-driver) over a fixed window
# after a warm-up,
# identical for every back-end.  Rows whose program is not built are skipped
# with a note.
#
# Output: one JSON line per result
#   {"bench":"net","backend":...,"driver":...,"dir":...,"size":N,"mpps":X,
#    "huge_pages":B,"port":P,"backend_cpu":C,"driver_cpu":D}
# (P: the back-end's port, "net_null0", or "discard" for the bound rows)
# (C, D: the share of one CPU each side got while measured; on a shared
# machine below ~0.95 means neighbours took the rest) and, when `perf stat`
# works, "backend_cycles_per_pkt": CPU cycles the back-end process spent per
# packet moved in that window (polling included, so an upper bound on its
# per-packet cost; far less sensitive to neighbours than the rate), and for
# vhost-user-net in to-backend "tx_flush_share": the share of its timed TX
# windows it ran flushing guest frames from the caches (--tx-flush auto),
# and "backend_busy_ns_per_pkt": the back-end thread's busy time per packet
# it moved, by its own accounting over the whole run (busy_ns_per_pkt()),
# and for vhost-user-net "backend_idle_share": the share of its polling
# time in rounds that found nothing to do (above a few percent: it waited
# for the driver, so the driver set the rate).
# then a ratio table per driver (lines starting with '#'): vhost-user-net /
# dpdk-vhost, best run against best run, and run r against run r (they ran
# back to back), and the two back-ends' busy ns per packet side by side.
#
# env: BUILD, NET_SIZES ("64 1500"), NET_SAMPLES (per-second samples kept, 5),
#      NET_WARMUP (samples dropped first, 2), NET_DIRS ("to-backend to-driver"),
#      NET_REPEAT (runs per row, 3, the rows taking turns; the best is kept:
#      on a shared machine the best run is the one least disturbed), NET_STAT (median: the median
#      per-second rate of a run; max: its best second, for shared machines),
#      NET_CPU_BACKEND (0),
#      NET_CPU_DRIVER (1), VIONET_ARGS (extra vionet arguments),
#      NET_HUGE (0: every process on ordinary pages, as in make check;
#      1: every process on 2 MiB huge pages, as NFV deployments run: the
#      drivers' memory, the one the back-end maps, and the back-ends'
#      mbufs; needs NET_MEM_MB (256) free huge pages and, for
#      vhost-user-net, a hugetlbfs of 2 MiB pages mounted.  The JSON lines
#      say which: "huge_pages":true|false).
# vionet is run as:  vionet --socket SOCK --mode txonly|rxonly --size N --cpu NET_CPU_DRIVER
#   --seconds S $VIONET_ARGS, and must print a JSON line with "mpps".
set -u
cd "$(dirname "$0")/.."
BUILD=$(realpath "${BUILD:-build}")
. tests/integration/net_lib.sh
command -v "$NET_TESTPMD" >/dev/null || { echo "bench-net: dpdk-testpmd not installed (Debian package dpdk-dev)" >&2; exit 1; }
net_lib_init

SIZES=${NET_SIZES:-64 1500}
SAMPLES=${NET_SAMPLES:-5}
REPEAT=${NET_REPEAT:-3}
STAT=${NET_STAT:-median}
HAVE_PERF=0
command -v perf >/dev/null 2>&1 && perf stat -e cycles true >/dev/null 2>&1 && HAVE_PERF=1
WARMUP=${NET_WARMUP:-2}
CPU_B=${NET_CPU_BACKEND:-0}
CPU_D=${NET_CPU_DRIVER:-1}
[ "$(nproc)" -lt 2 ] && CPU_D=$CPU_B
VUN=$BUILD/vhost-user-net
VIONET=$BUILD/vionet
# Every side on the same kind of memory: vhost-user-net would otherwise take
# huge pages whenever some are free, and DPDK's side would not.
VUN_MEM=--no-huge VIONET_MEM="" HUGE_JSON=false
case $NET_HUGE in
0) ;;
1)
	hp_free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	[ "$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)" = 2048 ] ||
		{ echo "bench-net: NET_HUGE=1 wants 2 MiB default huge pages" >&2; exit 1; }
	[ "${hp_free:-0}" -ge "$NET_MEM_MB" ] ||
		{ echo "bench-net: NET_HUGE=1: ${hp_free:-0} huge pages free, $NET_MEM_MB needed (the driver's and the back-end's $((NET_MEM_MB / 2)) each; echo $NET_MEM_MB >/proc/sys/vm/nr_hugepages)" >&2; exit 1; }
	awk '$3 == "hugetlbfs" && ($4 !~ /pagesize=/ || $4 ~ /pagesize=2M/) { f = 1 } END { exit !f }' /proc/mounts ||
		{ echo "bench-net: NET_HUGE=1: vhost-user-net needs a hugetlbfs of 2 MiB pages mounted (mount -t hugetlbfs nodev /dev/hugepages)" >&2; exit 1; }
	VUN_MEM="" VIONET_MEM=--hugetlb HUGE_JSON=true ;;
*) echo "bench-net: NET_HUGE=$NET_HUGE: want 0 or 1" >&2; exit 1 ;;
esac
declare -A RES=()
note() { echo "# $*" >&2; }

# Start a back-end on $sock; name "be".
start_backend() {	# backend dir size
	local be=$1 dir=$2 size=$3 null
	if [ "$dir" = to-backend ]; then null="net_null0,no-rx=1"; else null="net_null0,size=$size"; fi
	case $be in
	dpdk-vhost)
		net_testpmd_start be "$CPU_B" "--vdev net_vhost0,iface=$sock,queues=1 --vdev $null" \
			"--forward-mode=io --record-core-cycles" ;;
	vhost-user-net | vhost-user-net-discard)
		[ "$be" = vhost-user-net-discard ] && null=discard
		"$VUN" --socket "$sock" --port "$null" --poll --lcores "$CPU_B" $VUN_MEM \
			</dev/null >"$NET_TMP/be.log" 2>&1 &
		NET_PIDS[be]=$!
		NET_ORDER+=(be) ;;
	esac
	net_wait_socket "$sock" be 30 || return 1
	# It falls back to ordinary pages (and says so) when it cannot have them.
	# (The discard port has no DPDK memory: the driver's is what counts.)
	if [ "$be" = vhost-user-net ] && [ "$NET_HUGE" = 1 ] &&
	   ! grep -q "MiB on huge pages" "$NET_TMP/be.log"; then
		note "vhost-user-net: not on huge pages: $(grep -a "pages" "$NET_TMP/be.log" | head -n 2 | tr '\n' ' ')"
		return 1
	fi
}

# Count of per-second stats blocks the driver printed so far.
nblocks() { local c; c=$(grep -ac "NIC statistics for port 0" "$NET_TMP/drv.log" 2>/dev/null); echo "${c:-0}"; }

# CPU time (clock ticks, all threads) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Wait (bounded) until the driver printed N stats blocks.
wait_blocks() {	# N
	local i
	for ((i = 0; i < 10 * (WARMUP + SAMPLES + 30); i++)); do
		[ "$(nblocks)" -ge "$1" ] && return 0
		net_alive drv || return 1
		# Stuck at start-up (no stats line in 10 s): give up, retry.
		[ $i -ge 100 ] && [ "$(nblocks)" -eq 0 ] && return 1
		sleep 0.1
	done
	return 1
}

# Prints "MPPS BE_CPU DRV_CPU": the rate, and the share of one CPU each side
# got over the measuring window (this machine may be shared: below ~0.95 the
# rate says more about the neighbours than about the code).
run_driver() {	# driver dir size
	local drv=$1 dir=$2 size=$3 pps t0 t1 b0 b1 d0 d1 bepid=${NET_PIDS[be]}
	case $drv in
	dpdk-virtio-user)
		local mode="--forward-mode=rxonly" key=rx
		[ "$dir" = to-backend ] && mode="--forward-mode=txonly --txpkts=$size" key=tx
		net_testpmd_start drv "$CPU_D" "--vdev net_virtio_user0,path=$sock,queues=1" "$mode"
		local field=RX-packets cpid="" n0=0 n1=0 cyc=0
		[ "$key" = tx ] && field=TX-packets
		if wait_blocks "$WARMUP"; then
			t0=$(date +%s.%N) b0=$(cpu_ticks "$bepid") d0=$(cpu_ticks "${NET_PIDS[drv]}")
			n0=$(net_nic_stat drv "$field")
			if [ "$HAVE_PERF" = 1 ]; then
				perf stat -x, -e cycles -p "$bepid" -o "$NET_TMP/cycles" 2>/dev/null &
				cpid=$!
			fi
			wait_blocks $((WARMUP + SAMPLES))
			t1=$(date +%s.%N) b1=$(cpu_ticks "$bepid") d1=$(cpu_ticks "${NET_PIDS[drv]}")
			n1=$(net_nic_stat drv "$field")
			if [ -n "$cpid" ]; then
				kill -INT "$cpid" 2>/dev/null
				wait "$cpid" 2>/dev/null
				cyc=$(awk -F, '$3 ~ /cycles/ { print $1 + 0 }' "$NET_TMP/cycles" 2>/dev/null)
			fi
		fi
		pps=$(net_pps drv $key "$WARMUP" "$STAT")
		net_testpmd_stop drv
		awk -v p="$pps" -v t0="${t0:-0}" -v t1="${t1:-0}" -v b="$(( ${b1:-0} - ${b0:-0} ))" \
			-v d="$(( ${d1:-0} - ${d0:-0} ))" -v hz="$(getconf CLK_TCK)" \
			-v c="${cyc:-0}" -v n="$(( n1 - n0 ))" 'BEGIN {
			w = t1 - t0; if (w <= 0) w = 1
			printf "%.3f %.2f %.2f %s", p / 1e6, b / hz / w, d / hz / w,
				(c > 0 && n > 0) ? sprintf("%.0f", c / n) : "-" }' ;;
	vionet)
		local vmode=txonly
		[ "$dir" = to-driver ] && vmode=rxonly
		timeout -k 5 $((WARMUP + SAMPLES + 30)) "$VIONET" --socket "$sock" --mode "$vmode" \
			--size "$size" --seconds "$((WARMUP + SAMPLES))" --cpu "$CPU_D" $VIONET_MEM ${VIONET_ARGS:-} \
			</dev/null >"$NET_TMP/drv.log" 2>&1
		echo "$(grep -ao '"mpps": *[0-9.]*' "$NET_TMP/drv.log" | tail -n 1 | sed 's/.*: *//') - - -" ;;
	esac
}

# Nanoseconds the back-end's forwarding thread spent busy per packet it
# moved, over its whole run, from its own accounting: testpmd's
# --record-core-cycles (TSC cycles of the forwarding calls that moved
# packets, at its TSC rate) or vhost-user-net's busy_ns (rounds that moved
# packets).  Waits for the ring and for the other side's cache lines are
# in it; polling that found nothing is not.  "-" if unknown.
busy_ns_per_pkt() {	# backend dir
	local log=$NET_TMP/be.log n pk
	case $1 in
	dpdk-vhost)
		# Port 0 is the vhost port; to-driver counts frames delivered, not
		# those it took from net_null0 and dropped for want of buffers.
		if [ "$2" = to-backend ]; then pk=$(net_fwd_stat be 0 RX-packets); else pk=$(net_fwd_stat be 0 TX-packets); fi
		n=$(tr -d '\r' <"$log" | sed -n 's/.*(\(total\|busy\) cycles=\([0-9]*\) .* at \([0-9]*\) MHz.*/\2 \3/p' |
			tail -n 1 | awk '$2 > 0 { printf "%.0f", $1 * 1000 / $2 }') ;;
	vhost-user-net*)
		local key=rx_packets js
		[ "$2" = to-backend ] && key=tx_packets
		js=$(grep -a '^{"device"' "$log" | tail -n 1)	# its exit counters, queue 0 first
		n=$(grep -o '"busy_ns":[0-9]*' <<<"$js" | head -n 1 | cut -d: -f2)
		pk=$(grep -o "\"$key\":[0-9]*" <<<"$js" | head -n 1 | cut -d: -f2) ;;
	esac
	awk -v n="${n:-0}" -v p="${pk:-0}" 'BEGIN { if (n > 0 && p > 0) printf "%.1f", n / p; else print "-" }'
}

# vhost-user-net: the share of its thread's polling time in rounds that
# found nothing (idle_ns / (busy_ns + idle_ns) of its exit counters), "-"
# for anything else.
idle_share() {	# backend
	case $1 in
	vhost-user-net*)
		grep -a '^{"device"' "$NET_TMP/be.log" | tail -n 1 | grep -o '"busy_ns":[0-9]*,"idle_ns":[0-9]*' |
			head -n 1 | awk -F'[:,]' '$2 + $4 > 0 { printf "%.2f", $4 / ($2 + $4); f = 1 } END { if (!f) print "-" }' ;;
	*) echo - ;;
	esac
}

# One measurement; prints mpps (empty or 0.000 if nothing flowed).
measure() {	# backend driver dir size
	local be=$1 drv=$2 dir=$3 size=$4 bepid res flush
	sock=$NET_TMP/net.sock
	rm -f "$sock"
	if ! start_backend "$be" "$dir" "$size"; then
		note "$be: did not start (log: $(tail -n 3 "$NET_TMP/be.log" 2>/dev/null | tr '\n' ' '))"
		net_testpmd_stop be
		return
	fi
	bepid=${NET_PIDS[be]}
	res=$(run_driver "$drv" "$dir" "$size")
	net_testpmd_stop be
	# vhost-user-net --tx-flush auto: the share of its timed TX windows it
	# ran flushing (its exit JSON), "-" for anything else.
	flush=$(grep -ao '"tx_flush":{[^}]*}' "$NET_TMP/be.log" 2>/dev/null | tail -n 1 |
		awk -F'[:,}]' '{ w = $7; o = $9; if (w > 0) printf "%.2f", o / w; else print "-" }')
	echo "$res ${flush:--} $(busy_ns_per_pkt "$be" "$dir") $(idle_share "$be")"
	# vhost-user-net's own EAL runtime dir, should it have been killed.
	[ "$be" = vhost-user-net ] && rm -rf "/var/run/dpdk/vp-net-$bepid"
	rm -f "$sock"
}

# The value of "KEY": in a JSON line of ours (numbers only), empty if absent.
jfield() {	# line key
	[[ $1 == *"\"$2\":"* ]] || return 0
	local m=${1##*\"$2\":}
	echo "${m%%[,\}]*}"
}

# Record a run of a row (KEY, its JSON line); keep it if it is the best so far.
keep_run() {	# key line
	local m
	m=$(jfield "$2" mpps)
	RUNS[$1]+="${RUNS[$1]:+,}$m"
	if [ -z "${RES[$1]:-}" ] || awk -v a="$m" -v b="${RES[$1]}" 'BEGIN { exit !(a > b) }'; then
		RES[$1]=$m
		BEST[$1]=$2
	fi
}

row_once() {	# backend driver dir size
	local be=$1 drv=$2 dir=$3 size=$4 mpps try res becpu drvcpu cpp flush busy idle port=net_null0
	# A run where nothing flows is repeated (up to 3 tries): now and then
	# testpmd's virtio_user neither forwards nor prints anything after
	# start-up on a loaded 2-core machine.
	for try in 1 2 3; do
		res=$(measure "$be" "$drv" "$dir" "$size")
		read -r mpps becpu drvcpu cpp flush busy idle <<<"$res"
		[ -n "$mpps" ] && [ "$mpps" != 0.000 ] && break
		cp "$NET_TMP/drv.log" "$BUILD/bench-net-$be-$drv-$dir-$size.drv.log" 2>/dev/null
		cp "$NET_TMP/be.log" "$BUILD/bench-net-$be-$drv-$dir-$size.be.log" 2>/dev/null
		note "$be <- $drv $dir $size: nothing flowed (try $try; logs kept in $BUILD/bench-net-$be-$drv-$dir-$size.*.log)"
	done
	if [ -z "$mpps" ] || [ "$mpps" = 0.000 ]; then
		return
	fi
	[ "$be" = vhost-user-net-discard ] && port=discard
	printf '{"bench":"net","backend":"%s","driver":"%s","dir":"%s","size":%s,"mpps":%s,"huge_pages":%s,"port":"%s"' \
		"${be%-discard}" "$drv" "$dir" "$size" "$mpps" "$HUGE_JSON" "$port"
	[ "${becpu:--}" != - ] && printf ',"backend_cpu":%s,"driver_cpu":%s' "$becpu" "$drvcpu"
	[ "${cpp:--}" != - ] && printf ',"backend_cycles_per_pkt":%s' "$cpp"
	[ "${flush:--}" != - ] && printf ',"tx_flush_share":%s' "$flush"
	[ "${busy:--}" != - ] && printf ',"backend_busy_ns_per_pkt":%s' "$busy"
	[ "${idle:--}" != - ] && printf ',"backend_idle_share":%s' "$idle"
	printf '}\n'
}

# The rows of a direction and size take turns, run by run, so that each sees
# the same stretches of the host's moods; each row's best run is printed, with
# the rates of all its runs ("mpps_runs").  Run r of one row and run r of the
# next ran back to back: RUN[row/r] keeps each run's rate for the paired
# ratios of the table.
declare -A RUNS=() BEST=() RUN=() RUNB=() RUNI=()
for dir in ${NET_DIRS:-to-backend to-driver}; do
	for size in $SIZES; do
		rows=("dpdk-vhost dpdk-virtio-user")
		if [ -x "$VUN" ]; then
			rows+=("vhost-user-net dpdk-virtio-user")
			[ "$dir" = to-backend ] && rows+=("vhost-user-net-discard dpdk-virtio-user")
		else
			note "skipped: vhost-user-net <- dpdk-virtio-user $dir $size ($VUN not built yet)"
		fi
		if [ -x "$VIONET" ]; then
			rows+=("dpdk-vhost vionet")
		else
			note "skipped: dpdk-vhost <-> vionet $dir $size ($VIONET not built yet)"
		fi
		if [ -x "$VUN" ] && [ -x "$VIONET" ]; then
			rows+=("vhost-user-net vionet")
		else
			note "skipped: vhost-user-net <-> vionet $dir $size (needs $VUN and $VIONET)"
		fi
		for ((r = 0; r < REPEAT; r++)); do
			for rw in "${rows[@]}"; do
				set -- $rw
				line=$(row_once "$1" "$2" "$dir" "$size")
				if [ -n "$line" ]; then
					keep_run "$1/$2/$dir/$size" "$line"
					RUN["$1/$2/$dir/$size/$r"]=$(jfield "$line" mpps)
					m=$(jfield "$line" backend_busy_ns_per_pkt)
					[ -n "$m" ] && RUNB["$1/$2/$dir/$size/$r"]=$m
					m=$(jfield "$line" backend_idle_share)
					[ -n "$m" ] && RUNI["$1/$2/$dir/$size/$r"]=$m
				fi
			done
		done
		for rw in "${rows[@]}"; do
			set -- $rw
			k="$1/$2/$dir/$size"
			[ -n "${BEST[$k]:-}" ] && echo "${BEST[$k]%\}},\"mpps_runs\":[${RUNS[$k]}]}"
		done
	done
done

# Best against best, and run against its partner run: on a host whose CPUs
# move (a 2-3x swing in rate from one run to the next is common on shared
# machines), the best runs of two rows may come from different placements,
# while the two runs of a pair ran back to back.  "pairs" lists each pair's
# ratio; "median" is their median.
# Both tables: (b)/(a) is the issue's target; with vionet driving both
# back-ends, the same comparison without DPDK's virtio_user as the driver.
# "ns:dpdk", "ns:ours": each back-end's busy time per packet
# (backend_busy_ns_per_pkt), the median of its runs; "cost": dpdk-vhost's / vhost-user-net's, the
# median over the pairs (above 1: ours spends less per packet).  With both
# threads busy all the time (one side is the limit) it follows the rate; it
# parts from it when a back-end has time to spare.
median() { [ -n "$1" ] || { echo -; return; }; tr , '\n' <<<"$1" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# A row's per-run values in array NAME (RUN, RUNB, RUNI), comma-separated,
# runs without one left out.
run_list() {	# name row-key
	local -n vals=$1
	local i out=""
	for ((i = 0; i < REPEAT; i++)); do
		[ -n "${vals["$2/$i"]:-}" ] && out+="${out:+,}${vals["$2/$i"]}"
	done
	echo "$out"
}
# Run r of row A over run r of row B (they ran back to back), for the runs
# both have, comma-separated.
pair_ratios() {	# name row-key-a row-key-b
	local -n vals=$1
	local i x y out=""
	for ((i = 0; i < REPEAT; i++)); do
		x=${vals["$2/$i"]:-} y=${vals["$3/$i"]:-}
		[ -n "$x" ] && [ -n "$y" ] && out+="${out:+,}$(awk -v a="$x" -v b="$y" 'BEGIN { printf "%.2f", a / b }')"
	done
	echo "$out"
}
ratio_table() {	# driver title
	local drv=$1 dir size a b r pairs ka kb
	echo "# ratio vhost-user-net / dpdk-vhost ($2)"
	printf '# %-11s %5s %10s %10s %6s %7s %7s %7s %5s  %s\n' dir size dpdk-vhost vhost-user best median ns:dpdk ns:ours cost pairs
	for dir in ${NET_DIRS:-to-backend to-driver}; do
		for size in $SIZES; do
			a=${RES["dpdk-vhost/$drv/$dir/$size"]:-}
			b=${RES["vhost-user-net/$drv/$dir/$size"]:-}
			r=-
			[ -n "$a" ] && [ -n "$b" ] && r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
			ka="dpdk-vhost/$drv/$dir/$size" kb="vhost-user-net/$drv/$dir/$size"
			pairs=$(pair_ratios RUN "$kb" "$ka")
			printf '# %-11s %5s %10s %10s %6s %7s %7s %7s %5s  %s\n' "$dir" "$size" "${a:--}" "${b:--}" "$r" \
				"$(median "$pairs")" "$(median "$(run_list RUNB "$ka")")" \
				"$(median "$(run_list RUNB "$kb")")" "$(median "$(pair_ratios RUNB "$ka" "$kb")")" "${pairs:--}"
		done
	done
}
mem="ordinary pages"
[ "$NET_HUGE" = 1 ] && mem="huge pages"
ratio_table dpdk-virtio-user "driver dpdk-virtio-user, $mem; target >= 1.2 at 64 B"

# The bound rows against the anchor, run against partner run as above:
# how fast DPDK's driver goes when the back-end does only the vhost-user
# side of the work.  "idle:null", "idle:disc": the median share of time
# vhost-user-net's thread found nothing to do, with net_null0 and with
# discard; a back-end that waits is not what sets the rate.
bound_table() {
	local size a b r pairs k=dpdk-virtio-user/to-backend
	echo "# bound: vhost-user-net --port discard / dpdk-vhost (to-backend, driver dpdk-virtio-user, $mem)"
	printf '# %5s %10s %10s %6s %7s %9s %9s  %s\n' size dpdk-vhost discard best median idle:null idle:disc pairs
	for size in $SIZES; do
		a=${RES["dpdk-vhost/$k/$size"]:-}
		b=${RES["vhost-user-net-discard/$k/$size"]:-}
		r=-
		[ -n "$a" ] && [ -n "$b" ] && r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
		pairs=$(pair_ratios RUN "vhost-user-net-discard/$k/$size" "dpdk-vhost/$k/$size")
		printf '# %5s %10s %10s %6s %7s %9s %9s  %s\n' "$size" "${a:--}" "${b:--}" "$r" "$(median "$pairs")" \
			"$(median "$(run_list RUNI "vhost-user-net/$k/$size")")" \
			"$(median "$(run_list RUNI "vhost-user-net-discard/$k/$size")")" "${pairs:--}"
	done
}
[[ " ${NET_DIRS:-to-backend} " == *" to-backend "* ]] && [ -x "$VUN" ] && bound_table
ratio_table vionet "driver vionet, $mem, for comparison"

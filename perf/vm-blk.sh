#!/bin/bash
# bench-vm-blk: a guest's block I/O through vmm, side by side with the host's
# own ceiling, on one file: the project's thesis as a number.
#
# Paths (guestlet's blk-bench at CPL3, randread 4 KiB at QD 1 and 32, in each
# guest mode of BENCH_GUEST: poll=0 waits for the MSI-X interrupt, poll=1
# busy-polls the used ring; every point BENCH_SECS seconds on the same
# prefilled file):
#   host-fio      fio on the host, io_uring, one job: the ceiling, no VM at all
#   inproc        vmm --disk path=FILE: the vhost-user-blk back-end on vmm's
#                 own threads; doorbells are ioeventfds, interrupts irqfds
#   vhost-user    vmm --vhost-user=SOCK to an external build/vhost-user-blk
#   qsd           vmm --vhost-user=SOCK to qemu-storage-daemon (aio=io_uring)
#   inproc-exits  inproc with --no-ioeventfd --no-irqfd: every doorbell is a
#                 heavyweight exit and every interrupt is injected by vmm (the
#                 old emulated-I/O path, everything else identical)
#   inproc-nopoll, inproc-exits-nopoll
#                 the same two with a back-end that never spins for the next
#                 request (--disk ...,poll-us=0): every request then needs its
#                 doorbell, as in a device model without polling, so these two
#                 show what the notification path itself costs per I/O
# All back-ends use the host page cache (cache=writeback, qsd cache.direct=off).
#
# Output: one JSON line per result
#   {"bench":"vm-blk","path":"...","guest":"poll=0|poll=1","rw":"randread",
#    "qd":N,"iops":N,"p50_us":N,"p99_us":N,"heavy_exits_per_io":X,
#    "vmm_irqs_per_io":X,"irqs_per_io":X}
# and one for the cost of a single doorbell each way on this host
#   {"bench":"vm-blk","path":"doorbell","exit_ns":N,"ioeventfd_ns":N,"ratio":X}
# heavy_exits_per_io counts EVERY exit of the vCPU to vmm during the run
# (setup included, so it is an upper bound) divided by the I/Os done;
# vmm_irqs_per_io the interrupts vmm injected itself; irqs_per_io the
# interrupts the guest took (any path).  Then a ratio table per guest mode:
# each vhost path / host-fio (target >= 0.85 at QD 32) and each vhost path /
# inproc-exits (target >= 10), marked met or missed; and inproc-nopoll /
# inproc-exits-nopoll, the same comparison with a doorbell per request.
# The doorbell ratio bounds the second target: an I/O that rings one doorbell
# costs that doorbell plus the I/O itself, so no back-end can make the per-I/O
# ratio exceed the per-doorbell one (where it is below 10, so is every row).
#
# env: BUILD (build), BENCH_SECS (5), BENCH_SIZE_MB (1024), BENCH_DIR (/dev/shm),
#      BENCH_QDS ("1 32"), BENCH_PATHS (all of the above),
#      BENCH_REPS (1: runs per point, paths taking turns; the median is
#      reported with "iops_runs"),
#      BENCH_GUEST ("poll=0 poll=1": the guest modes to run; poll=0 is
#      interrupt-driven, poll=1 busy-polls the used ring with interrupts
#      suppressed, as NFV-style and io_poll guests do)
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=$(realpath "${BUILD:-build}")
SECS=${BENCH_SECS:-5}
REPS=${BENCH_REPS:-1}
SIZE_MB=${BENCH_SIZE_MB:-1024}
QDS=${BENCH_QDS:-"1 32"}
MODES=${BENCH_GUEST:-poll=0 poll=1}
PATHS=${BENCH_PATHS:-"host-fio inproc vhost-user qsd inproc-exits inproc-nopoll inproc-exits-nopoll"}
VMM=$BUILD/vmm GUEST=$BUILD/guestlet VUB=$BUILD/vhost-user-blk

for b in "$VMM" "$GUEST" "$VUB"; do
	[ -x "$b" ] || { echo "bench-vm-blk: $b missing (run make)" >&2; exit 1; }
done
for t in fio qemu-storage-daemon; do
	command -v $t >/dev/null || { echo "bench-vm-blk: $t not installed (make deps)" >&2; exit 1; }
done
# shellcheck source=tests/integration/kvm_lib.sh
. tests/integration/kvm_lib.sh
kvm_usable || { echo "bench-vm-blk: $KVM_WHY" >&2; exit 1; }
case $REPS in ''|*[!0-9]*|0) echo "bench-vm-blk: BENCH_REPS=$REPS: want a count >= 1" >&2; exit 1 ;; esac

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/vp-vm-blk.XXXXXX")
bepid=""
cleanup() {
	[ -n "$bepid" ] && kill "$bepid" 2>/dev/null && wait "$bepid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
img=$work/disk.img
sock=$work/be.sock

echo "# bench-vm-blk: ${SIZE_MB} MiB file in ${BENCH_DIR:-/dev/shm}, ${SECS}s per point, guest modes: $MODES, load $(cut -d' ' -f1-3 /proc/loadavg)"
# Real blocks, not holes: reading a hole is unrealistically cheap.
dd if=/dev/urandom of="$img" bs=1M count="$SIZE_MB" status=none || exit 1

start_backend() {	# vhost-user | qsd
	rm -f "$sock"
	if [ "$1" = qsd ]; then
		qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$img",aio=io_uring,cache.direct=off \
			--export type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path="$sock",writable=on \
			>"$work/be.log" 2>&1 &
	else
		"$VUB" --socket "$sock" --disk "$img" >"$work/be.log" 2>&1 &
	fi
	bepid=$!
	for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
	echo "bench-vm-blk: back-end $1 did not come up:" >&2; cat "$work/be.log" >&2
	return 1
}

stop_backend() {
	[ -n "$bepid" ] || return 0
	kill "$bepid" 2>/dev/null; wait "$bepid" 2>/dev/null; bepid=""
}

jnum() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }

run_guest() {	# path qd mode -> JSON line
	local path=$1 qd=$2 mode=$3 dev flags="" out err
	case $path in
	inproc) dev=(--disk "path=$img") ;;
	inproc-exits) dev=(--disk "path=$img"); flags="--no-ioeventfd --no-irqfd" ;;
	inproc-nopoll) dev=(--disk "path=$img,poll-us=0") ;;
	inproc-exits-nopoll) dev=(--disk "path=$img,poll-us=0"); flags="--no-ioeventfd --no-irqfd" ;;
	vhost-user|qsd) start_backend "$path" || return 1; dev=("--vhost-user=$sock") ;;
	esac
	out=$work/guest.out err=$work/guest.err
	# shellcheck disable=SC2086
	timeout $((SECS + 60)) "$VMM" --kernel "$GUEST" "${dev[@]}" $flags --stats \
		--cmdline "blk-bench rw=randread bs=4096 qd=$qd secs=$SECS $mode" >"$out" 2>"$err"
	local rc=$?
	stop_backend
	if [ $rc -ne 0 ]; then
		echo "bench-vm-blk: $path qd=$qd failed (exit $rc):" >&2; cat "$out" "$err" >&2
		return 1
	fi
	local g s ios iops p50 p99 pio mmio virq girq
	g=$(grep '"bench":"vm-blk-guest"' "$out"); s=$(grep '"vmm":"stats"' "$err")
	ios=$(jnum ios <<<"$g"); iops=$(jnum iops <<<"$g")
	p50=$(jnum p50_us <<<"$g"); p99=$(jnum p99_us <<<"$g"); girq=$(jnum irqs <<<"$g")
	pio=$(jnum pio <<<"$s"); mmio=$(jnum mmio <<<"$s"); virq=$(jnum irq_vmm <<<"$s")
	printf '{"bench":"vm-blk","path":"%s","guest":"%s","rw":"randread","bs":4096,"qd":%s,"iops":%s,"p50_us":%s,"p99_us":%s,"ios":%s,"heavy_exits_per_io":%s,"vmm_irqs_per_io":%s,"irqs_per_io":%s}\n' \
		"$path" "$mode" "$qd" "$iops" "$p50" "$p99" "$ios" \
		"$(echo "scale=4; ($pio + $mmio) / $ios" | bc | sed 's/^\./0./')" \
		"$(echo "scale=4; $virq / $ios" | bc | sed 's/^\./0./')" \
		"$(echo "scale=4; ${girq:-0} / $ios" | bc | sed 's/^\./0./')"
}

run_fio() {
	local qd=$1 j iops p50 p99
	# Total latency percentiles (submission to completion, as the guest
	# measures), not clat's; json (not json+) has no per-bin lists.
	j=$(fio --name=ceiling --filename="$img" --ioengine=io_uring --rw=randread --bs=4k \
		--iodepth="$qd" --numjobs=1 --direct=0 --time_based --runtime="$SECS" \
		--norandommap --randrepeat=0 --fixedbufs --registerfiles \
		--lat_percentiles=1 --clat_percentiles=0 --output-format=json 2>/dev/null) || return 1
	iops=$(grep -m1 '"iops" :' <<<"$j" | sed 's/.*: *\([0-9]*\).*/\1/')
	p50=$(sed -n 's/^ *"50\.000000" : \([0-9]*\).*/\1/p' <<<"$j" | head -n 1)
	p99=$(sed -n 's/^ *"99\.000000" : \([0-9]*\).*/\1/p' <<<"$j" | head -n 1)
	if [ -z "$iops" ] || [ -z "$p50" ] || [ -z "$p99" ]; then
		echo "bench-vm-blk: fio qd=$qd: no iops or latency percentiles in its output" >&2
		return 1
	fi
	printf '{"bench":"vm-blk","path":"host-fio","rw":"randread","bs":4096,"qd":%s,"iops":%s,"p50_us":%s,"p99_us":%s,"heavy_exits_per_io":0}\n' \
		"$qd" "$iops" "$((p50 / 1000))" "$((p99 / 1000))"
}

# Each point runs REPS times, the paths taking turns round by round (this
# host's speed drifts over minutes, so back-to-back rounds compare like with
# like); the run with the median IOPS is reported, with all of them in
# "iops_runs" when REPS > 1.
declare -A IOPS RUNS LINE
record() {	# key qd line
	local iops
	iops=$(jnum iops <<<"$3")
	RUNS[$1,$2]="${RUNS[$1,$2]:-} $iops"
	LINE[$1,$2,$iops]=$3
}
emit() {	# key qd
	local runs med line
	[ -n "${RUNS[$1,$2]:-}" ] || return 0
	# shellcheck disable=SC2086
	runs=$(printf '%s\n' ${RUNS[$1,$2]} | sort -n)
	med=$(sed -n "$(( ($(wc -l <<<"$runs") + 1) / 2 ))p" <<<"$runs")
	line=${LINE[$1,$2,$med]}
	if [ "$REPS" -gt 1 ]; then
		# shellcheck disable=SC2086
		line="${line%\}},\"iops_runs\":[$(echo ${RUNS[$1,$2]} | tr ' ' ',')]}"
	fi
	echo "$line"
	IOPS[$1,$2]=$med
}
for qd in $QDS; do
	for ((r = 1; r <= REPS; r++)); do
		for p in $PATHS; do
			if [ "$p" = host-fio ]; then
				line=$(run_fio "$qd") && record "$p" "$qd" "$line"
				continue
			fi
			for m in $MODES; do
				line=$(run_guest "$p" "$qd" "$m") && record "$p/$m" "$qd" "$line"
			done
		done
	done
	for p in $PATHS; do
		if [ "$p" = host-fio ]; then
			emit "$p" "$qd"
			continue
		fi
		for m in $MODES; do
			emit "$p/$m" "$qd"
		done
	done
done

# What one doorbell costs on this host, each way, from the same guest at CPL3
# (perf/exits.sh, which checks vmm's counts): the most the notification path
# alone can buy.  An I/O that rings one doorbell costs that doorbell plus the
# I/O, so vhost / inproc-exits per I/O stays below this ratio (plus what vmm's
# relay adds); with fewer doorbells per I/O it is nearer 1.
doorbell() {
	local out mx mi
	out=$(BUILD=$BUILD perf/exits.sh 50000 2>/dev/null) || return 1
	mx=$(grep '"mode":"mmio-exit"' <<<"$out" | jnum ns_per_op)
	mi=$(grep '"mode":"mmio-ioeventfd"' <<<"$out" | jnum ns_per_op)
	DOORBELL=$(grep '"ratio":"mmio-exit/mmio-ioeventfd"' <<<"$out" | jnum value)
	[ -n "$mx" ] && [ -n "$mi" ] && [ -n "$DOORBELL" ] || return 1
	printf '{"bench":"vm-blk","path":"doorbell","exit_ns":%s,"ioeventfd_ns":%s,"ratio":%s}\n' "$mx" "$mi" "$DOORBELL"
}
doorbell || { DOORBELL=""; echo "bench-vm-blk: the doorbell measurement (perf/exits.sh) failed" >&2; }

# heavy_exits_per_io of a reported point.
jq_exits() { jnum heavy_exits_per_io <<<"${LINE[$1,$2,${IOPS[$1,$2]:-x}]:-}"; }
ratio() { [ -n "${IOPS[$1,$3]:-}" ] && [ -n "${IOPS[$2,$3]:-}" ] && [ "${IOPS[$2,$3]}" != 0 ] &&
	echo "scale=2; ${IOPS[$1,$3]} / ${IOPS[$2,$3]}" | bc | sed 's/^\./0./'; }
echo "#"
printf '# %-13s %-6s %3s  %10s  %12s  %s\n' path guest qd "/host-fio" "/inproc-exits" "targets: >=0.85x fio at QD32, >=10x exits"
[ -n "$DOORBELL" ] && echo "# (one doorbell here: heavyweight exit / ioeventfd = ${DOORBELL}x, the bound on /inproc-exits with a doorbell per I/O)"
for m in $MODES; do
	for qd in $QDS; do
		for p in inproc vhost-user qsd; do
			[ -n "${IOPS[$p/$m,$qd]:-}" ] || continue
			f=$(ratio "$p/$m" host-fio "$qd"); e=$(ratio "$p/$m" "inproc-exits/$m" "$qd")
			verdict=""
			if [ "$qd" = 32 ] && [ -n "$f" ]; then
				verdict="fio:$( [ "$(echo "$f >= 0.85" | bc)" = 1 ] && echo met || echo missed)"
			fi
			[ -n "$e" ] && verdict="$verdict exits:$( [ "$(echo "$e >= 10" | bc)" = 1 ] && echo met || echo missed)"
			printf '# %-13s %-6s %3s  %10s  %12s  %s\n' "$p" "$m" "$qd" "${f:--}" "${e:--}" "$verdict"
		done
	done
done
# A doorbell per request (back-end poll-us=0): the notification path alone.
first=1
for m in $MODES; do
	for qd in $QDS; do
		e=$(ratio "inproc-nopoll/$m" "inproc-exits-nopoll/$m" "$qd") || continue
		if [ $first = 1 ]; then
			echo "#"
			printf '# %-13s %-6s %3s  %10s  %12s  %s\n' "back-end" guest qd "/host-fio" \
				"/exits" "poll-us=0: a doorbell per request; inproc-nopoll vs inproc-exits-nopoll"
			first=0
		fi
		f=$(ratio "inproc-nopoll/$m" host-fio "$qd")
		printf '# %-13s %-6s %3s  %10s  %12s  %s\n' poll-us=0 "$m" "$qd" "${f:--}" "$e" \
			"exits/io $(jq_exits "inproc-nopoll/$m" "$qd") vs $(jq_exits "inproc-exits-nopoll/$m" "$qd")"
	done
done

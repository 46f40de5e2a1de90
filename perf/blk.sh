#!/bin/bash
# bench-blk: vhost-user-blk back-ends side by side with the host's own ceiling,
# on one file in /dev/shm (tmpfs) and one on disk (/var/tmp), 4 KiB random
# reads and writes at QD 1 and 32, one back-end core.
#
# Targets (each point runs BLK_SECS seconds on the same, prefilled file):
#   host-fio        fio 3.x on the host, no virtio at all: the ceiling.
#                   --ioengine=io_uring --fixedbufs --registerfiles, one job
#                   (--numjobs=1) pinned to the driver CPU (its io-wq workers
#                   may run anywhere), --norandommap --randrepeat=0;
#                   disk: --direct=1; shm: buffered (--direct=0).
#                   p50/p99 are fio's total latency percentiles (lat, not clat).
#   qsd             qemu-storage-daemon's vhost-user-blk export, driven by
#                   vioblk.  Its best configuration measured here: the export
#                   on the main loop (an iothread was slower on tmpfs and no
#                   faster on disk), the file node exported directly (no raw
#                   format layer), aio=io_uring (aio=threads was 2x slower on
#                   tmpfs at QD32);
#                   disk: cache.direct=on (O_DIRECT); shm: cache.direct=off.
#   vhost-user-blk  build/vhost-user-blk --engine io_uring|libaio|sync|threads, driven
#                   by vioblk; disk: --cache none (O_DIRECT); shm: --cache
#                   writeback (the same page-cache path fio and qsd take).
#                   Extra arguments from BLK_VUB_ARGS (e.g. "--poll-us 50").
# Back-ends (qsd, vhost-user-blk) are pinned to BLK_CPU_BACKEND (1), the
# driver (vioblk, or fio) to BLK_CPU_DRIVER (0) with taskset; every thread of
# the back-end process is on that one core.  vioblk busy-polls the used ring
# (--poll, interrupts suppressed), like a guest vCPU with nothing else to do:
# in its call-eventfd mode its own wake-up latency on CPU 0 sets the pace at
# QD32 (both back-ends then idle half the time and the IOPS say little about
# them).  BLK_VIOBLK_ARGS replaces "--poll" (set it empty for that mode).
# Every point gets a freshly started back-end; the targets of one (file, rw,
# qd) run back to back, so slow drifts of the disk hit them alike.
#
# Output (stdout): one JSON line per result
#   {"bench":"blk","target":"host-fio|qsd|vhost-user-blk","engine":"io_uring|
#    libaio|sync|-","file":"shm|disk","rw":"randread|randwrite","bs":4096,
#    "qd":N,"iops":N,"p50_us":N,"p99_us":N,"secs":N,"config":"...",
#    "be_cpu":X,"drv_cpu":X,...}
# be_cpu: CPU time of every thread of the back-end process (io_uring io-wq
# workers included) / wall time; be_us_per_io: that CPU time per request
# (what one dedicated core would sustain, less sensitive to other load than
# IOPS); drv_cpu: the same for vioblk, or fio's
# usr+sys for host-fio; kicks/irqs: vioblk's notification counts.  With
# BLK_REPS=N each point runs N times and the run with the median IOPS is
# reported (plus "iops_runs":[...]); other load on the machine shows up as
# spread there, and the load average is noted at the start.  On a shared
# box, many short runs beat a few long ones (a back-end thread can sit
# runnable for a second without getting its CPU): BLK_SECS=2 BLK_REPS=5.
# then a ratio table (lines starting with '#'): vhost-user-blk / qsd (target
# >= 1.5 at QD32) and vhost-user-blk / host-fio (target >= 0.9), each marked
# met or missed.  Rows for build/vhost-user-blk are skipped with a note when
# it is not built.  Notes go to stderr.
#
# env: BUILD (build), BLK_SECS (5), BLK_SIZE_MB (1024), BLK_REPS (1),
#      BLK_FILES ("shm disk"),
#      BLK_RWS ("randread randwrite"), BLK_QDS ("1 32"),
#      BLK_ENGINES ("io_uring libaio sync threads"), BLK_TARGETS ("host-fio qsd
#      vhost-user-blk"), BLK_SHM_DIR (/dev/shm), BLK_DISK_DIR (/var/tmp),
#      BLK_CPU_BACKEND (1), BLK_CPU_DRIVER (0), BLK_VIOBLK_ARGS ("--poll"),
#      BLK_VUB_ARGS ("").
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=$(realpath "${BUILD:-build}")
SECS=${BLK_SECS:-5}
SIZE_MB=${BLK_SIZE_MB:-1024}
REPS=${BLK_REPS:-1}
FILES=${BLK_FILES:-shm disk}
RWS=${BLK_RWS:-randread randwrite}
QDS=${BLK_QDS:-1 32}
ENGINES=${BLK_ENGINES:-io_uring libaio sync threads}
TARGETS=${BLK_TARGETS:-host-fio qsd vhost-user-blk}
SHM_DIR=${BLK_SHM_DIR:-/dev/shm}
DISK_DIR=${BLK_DISK_DIR:-/var/tmp}
CPU_B=${BLK_CPU_BACKEND:-1}
CPU_D=${BLK_CPU_DRIVER:-0}
VIOBLK=$BUILD/vioblk
VIOBLK_ARGS=${BLK_VIOBLK_ARGS-"--poll"}
VUB=$BUILD/vhost-user-blk
QSD=qemu-storage-daemon
HZ=$(getconf CLK_TCK)

note() { echo "# $*" >&2; }
die() { echo "bench-blk: $*" >&2; exit 1; }

[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BLK_SECS must be a positive integer, not '$SECS'"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "BLK_REPS must be a positive integer, not '$REPS'"
[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "BLK_SIZE_MB must be a positive integer, not '$SIZE_MB'"
[ -x "$VIOBLK" ] || die "missing $VIOBLK (run make)"
command -v fio >/dev/null || die "fio not installed (scripts/deps.sh)"
command -v "$QSD" >/dev/null || die "qemu-storage-daemon not installed (qemu-system-x86)"
if [ "$(nproc)" -lt 2 ]; then
	note "one CPU only: driver and back-end share CPU $CPU_B"
	CPU_D=$CPU_B
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-blk.XXXXXX")
sock=$tmp/sock
be_pid=
declare -A IMG=() RES=()

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$be_pid" ]; then
		kill "$be_pid" 2>/dev/null
		wait "$be_pid" 2>/dev/null
		be_pid=
	fi
	for f in "${IMG[@]}"; do rm -f "$f"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# prepare FILE DIR: create, preallocate and fill the image (real blocks, so
# reads are not served from holes); on disk check that O_DIRECT works.
prepare() {
	local f=$1 dir=$2 img avail
	img=$dir/vp-blk-$$.img
	avail=$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 { print int($4 / 1024) }')
	if [ -z "$avail" ] || [ "$avail" -lt $((SIZE_MB + 256)) ]; then
		note "$f: $dir has ${avail:-no} MiB free, need $((SIZE_MB + 256)): skipped"
		return 1
	fi
	if ! fallocate -l "${SIZE_MB}M" "$img" 2>/dev/null &&
	   ! truncate -s "${SIZE_MB}M" "$img"; then
		note "$f: cannot create $img: skipped"
		return 1
	fi
	IMG[$f]=$img
	if [ "$f" = disk ] &&
	   ! dd if="$img" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
		note "disk: $dir refuses O_DIRECT: skipped"
		return 1
	fi
	# Sequential 1 MiB writes of fio's (non-zero, incompressible) buffers.
	if ! fio --name=fill --filename="$img" --rw=write --bs=1M --size="${SIZE_MB}M" \
		--ioengine=psync --direct="$([ "$f" = disk ] && echo 1 || echo 0)" \
		--end_fsync=1 --output=/dev/null >"$tmp/fill.log" 2>&1; then
		sed 's/^/  | /' "$tmp/fill.log" >&2
		note "$f: cannot fill $img: skipped"
		return 1
	fi
	return 0
}

# wait_socket: bounded wait for the back-end's socket while it is alive.
wait_socket() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		kill -0 "$be_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# cpu_ticks PID: user + system clock ticks of every thread of PID so far.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

start_backend() {	# target engine file
	local target=$1 engine=$2 f=$3 img=${IMG[$3]} direct cache
	rm -f "$sock"
	case $target in
	qsd)
		direct=$([ "$f" = disk ] && echo on || echo off)
		CONFIG="aio=io_uring,cache.direct=$direct"
		# shellcheck disable=SC2086
		taskset -c "$CPU_B" "$QSD" \
			--blockdev "driver=file,node-name=f,filename=$img,aio=io_uring,cache.direct=$direct" \
			--export "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=$sock,writable=on,num-queues=1" \
			</dev/null >"$tmp/be.log" 2>&1 &
		;;
	vhost-user-blk)
		cache=$([ "$f" = disk ] && echo none || echo writeback)
		CONFIG="--engine $engine --cache $cache${BLK_VUB_ARGS:+ $BLK_VUB_ARGS}"
		# shellcheck disable=SC2086
		taskset -c "$CPU_B" "$VUB" --socket "$sock" --disk "$img" --engine "$engine" \
			--cache "$cache" ${BLK_VUB_ARGS:-} </dev/null >"$tmp/be.log" 2>&1 &
		;;
	esac
	be_pid=$!
	if ! wait_socket; then
		note "$target $engine: no socket after 10 s; its log:"
		sed 's/^/  | /' "$tmp/be.log" >&2
		stop_backend
		return 1
	fi
}

stop_backend() {
	local i
	[ -n "$be_pid" ] || return 0
	kill "$be_pid" 2>/dev/null
	# Bounded: SIGTERM lets both finish in-flight requests; then SIGKILL.
	for ((i = 0; i < 50; i++)); do
		kill -0 "$be_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$be_pid" 2>/dev/null
	wait "$be_pid" 2>/dev/null
	be_pid=
	rm -f "$sock"
}

# json_num FILE KEY: the number after "KEY": in FILE.
json_num() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1" | head -n 1; }

# measure_fio FILE RW QD: one fio run; sets M (iops p50 p99 extra-json).
measure_fio() {
	local f=$1 rw=$2 qd=$3 direct out w
	direct=$([ "$f" = disk ] && echo 1 || echo 0)
	CONFIG="io_uring,fixedbufs,registerfiles,direct=$direct,numjobs=1"
	if ! out=$(taskset -c "$CPU_D" timeout -k 5 $((SECS + 60)) fio --name=blk \
		--filename="${IMG[$f]}" --size="${SIZE_MB}M" --ioengine=io_uring \
		--fixedbufs --registerfiles --direct="$direct" --rw="$rw" --bs=4096 \
		--iodepth="$qd" --numjobs=1 --time_based --runtime="$SECS" \
		--norandommap --randrepeat=0 --lat_percentiles=1 --clat_percentiles=0 \
		--output-format=terse --terse-version=3 2>"$tmp/fio.err") || [ -z "$out" ]; then
		note "host-fio $f $rw qd$qd failed:"
		sed 's/^/  | /' "$tmp/fio.err" >&2
		return 1
	fi
	# Terse v3: read iops $8, read lat p50 $24, p99 $30; write iops $49,
	# p50 $65, p99 $71 (percentile fields are "50.000000%=N", in us);
	# usr% $88, sys% $89 of the job.
	w=$([ "$rw" = randwrite ] && echo 41 || echo 0)
	M=$(echo "$out" | awk -F';' -v w="$w" '
		function pv(s) { sub(/.*=/, "", s); return s }
		{ printf "%d %s %s ,\"drv_cpu\":%.2f\n", $(8 + w), pv($(24 + w)), pv($(30 + w)),
			($88 + $89) / 100 }')
}

# measure_vioblk TARGET ENGINE FILE RW QD: one vioblk run against a freshly
# started back-end; sets M (iops p50 p99 extra-json).
measure_vioblk() {
	local target=$1 engine=$2 f=$3 rw=$4 qd=$5 t0 t1 rc cpu dcpu
	start_backend "$target" "$engine" "$f" || return 1
	t0=$(cpu_ticks "$be_pid")
	# bash's time keyword: vioblk's own user + system CPU seconds.
	# shellcheck disable=SC2086
	{ TIMEFORMAT='%U %S'; time taskset -c "$CPU_D" timeout -k 5 $((SECS + 60)) \
		"$VIOBLK" --socket "$sock" "$rw" --bs 4096 --qd "$qd" --secs "$SECS" \
		$VIOBLK_ARGS </dev/null >"$tmp/drv.out" 2>"$tmp/drv.err"; } 2>"$tmp/drv.time"
	rc=$?
	t1=$(cpu_ticks "$be_pid")
	if ! kill -0 "$be_pid" 2>/dev/null; then
		note "$target $engine $f $rw qd$qd: the back-end died; its log:"
		sed 's/^/  | /' "$tmp/be.log" >&2
	fi
	stop_backend
	if [ $rc -ne 0 ] || [ -z "$(json_num "$tmp/drv.out" iops)" ] ||
	   [ "$(json_num "$tmp/drv.out" errors)" != 0 ]; then
		note "$target $engine $f $rw qd$qd: vioblk failed (exit $rc):"
		sed 's/^/  | /' "$tmp/drv.out" "$tmp/drv.err" >&2
		return 1
	fi
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v s="$SECS" -v n="$(json_num "$tmp/drv.out" ios)" \
		'BEGIN { printf "%.2f,\"be_us_per_io\":%.2f", t / hz / s, n ? t / hz / n * 1e6 : 0 }')
	dcpu=$(awk -v s="$SECS" '{ printf "%.2f", ($1 + $2) / s }' "$tmp/drv.time")
	M="$(json_num "$tmp/drv.out" iops | cut -d. -f1) $(json_num "$tmp/drv.out" p50_us)"
	M="$M $(json_num "$tmp/drv.out" p99_us) ,\"be_cpu\":$cpu,\"drv_cpu\":$dcpu"
	M="$M,\"kicks\":$(json_num "$tmp/drv.out" kicks),\"irqs\":$(json_num "$tmp/drv.out" irqs)"
}

# point TARGET ENGINE FILE RW QD: REPS runs, the one with the median IOPS
# is reported (all IOPS values in "iops_runs" when REPS > 1).
point() {
	local target=$1 engine=$2 f=$3 rw=$4 qd=$5 r runs=() pick all
	for ((r = 0; r < REPS; r++)); do
		M=
		if [ "$target" = host-fio ]; then
			measure_fio "$f" "$rw" "$qd" || continue
		else
			measure_vioblk "$target" "$engine" "$f" "$rw" "$qd" || continue
		fi
		runs+=("$M")
	done
	[ ${#runs[@]} -gt 0 ] || return
	pick=$(printf '%s\n' "${runs[@]}" | sort -n -k1,1 | sed -n "$(((${#runs[@]} + 1) / 2))p")
	all=$(printf '%s\n' "${runs[@]}" | cut -d' ' -f1 | paste -sd,)
	# shellcheck disable=SC2086 # fields on purpose
	set -- $pick
	[ "$REPS" -gt 1 ] && set -- "$1" "$2" "$3" "$4,\"iops_runs\":[$all]"
	printf '{"bench":"blk","target":"%s","engine":"%s","file":"%s","rw":"%s","bs":4096,"qd":%s,"iops":%s,"p50_us":%s,"p99_us":%s,"secs":%s,"config":"%s"%s}\n' \
		"$target" "$engine" "$f" "$rw" "$qd" "$1" "$2" "$3" "$SECS" "$CONFIG" "$4"
	RES["$target|$engine|$f|$rw|$qd"]=$1
}

has_target() { [[ " $TARGETS " == *" $1 "* ]]; }

if has_target vhost-user-blk && [ ! -x "$VUB" ]; then
	note "$VUB not built yet: vhost-user-blk rows skipped"
	TARGETS=${TARGETS/vhost-user-blk/}
fi

note "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs before the run" \
	"(anything else running skews the numbers)"
ready=""
for f in $FILES; do
	case $f in
	shm) prepare shm "$SHM_DIR" && ready="$ready shm" ;;
	disk) prepare disk "$DISK_DIR" && ready="$ready disk" ;;
	*) die "BLK_FILES: unknown file '$f' (shm, disk)" ;;
	esac
done
[ -n "$ready" ] || die "no file to run on"

for f in $ready; do
	for rw in $RWS; do
		for qd in $QDS; do
			has_target host-fio && point host-fio - "$f" "$rw" "$qd"
			has_target qsd && point qsd - "$f" "$rw" "$qd"
			if has_target vhost-user-blk; then
				for e in $ENGINES; do
					point vhost-user-blk "$e" "$f" "$rw" "$qd"
				done
			fi
		done
	done
done

# Ratio table.
ratio() { [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mark() {	# ratio target
	[ -n "$1" ] || { echo "-"; return; }
	awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "met" : "MISSED") }'
}
if has_target vhost-user-blk; then
	met=0 all=0
	echo "# vhost-user-blk / qsd (target >= 1.5 at QD32) and vhost-user-blk / host-fio (target >= 0.9), IOPS"
	printf '# %-4s %-9s %3s %-8s %9s %9s %9s  %-13s %-13s\n' file rw qd engine vub qsd fio \
		vub/qsd vub/fio
	for f in $ready; do
		for rw in $RWS; do
			for qd in $QDS; do
				q=${RES["qsd|-|$f|$rw|$qd"]:-}
				h=${RES["host-fio|-|$f|$rw|$qd"]:-}
				for e in $ENGINES; do
					v=${RES["vhost-user-blk|$e|$f|$rw|$qd"]:-}
					rq=$(ratio "$v" "$q") rh=$(ratio "$v" "$h")
					mq="-" mh=$(mark "$rh" 0.9)
					[ "$qd" = 32 ] && mq=$(mark "$rq" 1.5)
					for m in $mq $mh; do
						[ "$m" = "-" ] && continue
						all=$((all + 1))
						[ "$m" = met ] && met=$((met + 1))
					done
					printf '# %-4s %-9s %3s %-8s %9s %9s %9s  %-13s %-13s\n' \
						"$f" "$rw" "$qd" "$e" "${v:--}" "${q:--}" "${h:--}" \
						"${rq:--} ${mq}" "${rh:--} ${mh}"
				done
			done
		done
	done
	echo "# targets met: $met of $all"
fi
exit 0

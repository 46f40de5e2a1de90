#!/bin/bash
# build/vhost-user-blk driven by vioblk (guest-drivers' virtio-blk driver over
# libvirtio-user): for every engine x cache mode, verify / randread /
# randwrite, bytes written through the back-end checked in the image file,
# and a new vioblk served after each one exits (same socket, same process).
# Also: --poll-us, --queues, read-only disks, the stats line (SIGUSR1 and at
# exit), a clean SIGTERM / SIGINT exit that removes the socket, and the
# one-line errors (missing disk, bad values, socket in use, O_DIRECT refused).
# Images live in /var/tmp (a real filesystem: cache=none needs O_DIRECT).
set -u
BUILD=${BUILD:-build}
BE=$BUILD/vhost-user-blk
VIOBLK=$BUILD/vioblk
CLIENT=$BUILD/tests/blk_server_hostile
for x in "$BE" "$VIOBLK" "$CLIENT"; do
	[ -x "$x" ] || { echo "missing $x (run make)"; exit 1; }
done

tmp=$(mktemp -d /var/tmp/vp-vublk.XXXXXX)
be_pid=
cleanup() {
	if [ -n "$be_pid" ]; then
		kill "$be_pid" 2>/dev/null
		wait "$be_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0

fail() {
	echo "FAIL: $*"
	for f in out err be.log be.out; do
		[ -s "$tmp/$f" ] && sed "s/^/  $f| /" "$tmp/$f" | tail -n 15
	done
	fails=$((fails + 1))
}

vb() {
	timeout -k 5 60 "$VIOBLK" --socket "$tmp/sock" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

json_num() {	# KEY [FILE]: the first number after "KEY":
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "${2:-$tmp/out}" | head -n 1
}

# start_be ARGS...: back-end on $tmp/sock with $tmp/img; waits for the socket.
start_be() {
	rm -f "$tmp/sock"
	"$BE" --socket "$tmp/sock" --disk "$tmp/img" "$@" >"$tmp/be.out" 2>"$tmp/be.log" </dev/null &
	be_pid=$!
	local i
	for i in $(seq 1 100); do
		[ -S "$tmp/sock" ] && return 0
		kill -0 "$be_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "back-end $* did not come up"
	be_pid=
	return 1
}

# stop_be [SIG]: stop the back-end, expect exit 0, the socket gone, a stats line.
stop_be() {
	local sig=${1:-TERM} st
	kill -"$sig" "$be_pid"
	wait "$be_pid"
	st=$?
	be_pid=
	if [ "$st" = 0 ] && [ ! -e "$tmp/sock" ] &&
	   grep -q '^{"tool":"vhost-user-blk",.*"connections":[0-9]*}$' "$tmp/be.out"; then
		return 0
	fi
	fail "SIG$sig: exit $st, socket $( [ -e "$tmp/sock" ] && echo left || echo removed)"
	return 1
}

# One engine x cache combination.
combo() {
	local engine=$1 cache=$2 name="$1/$2" n conns
	rm -f "$tmp/img"
	truncate -s 16M "$tmp/img"
	start_be --engine "$engine" --cache "$cache" || return
	vb verify --qd 16
	if [ "$rc" = 0 ] && [ "$(json_num verified_blocks)" = 4096 ] && [ "$(json_num mismatches)" = 0 ]; then
		:
	else
		fail "$name: verify (exit $rc)"
	fi
	# A pattern written through the back-end lands in the file, nowhere else.
	head -c 131072 /dev/zero | tr '\0' '\132' >"$tmp/pat"
	cp "$tmp/img" "$tmp/before"
	vb fill --offset 2M --len 128k --byte 90
	if [ "$rc" = 0 ] && cmp -s -n 131072 -i 2097152:0 "$tmp/img" "$tmp/pat" &&
	   cmp -s -n 2097152 "$tmp/img" "$tmp/before" &&
	   cmp -s -i $((2097152 + 131072)) "$tmp/img" "$tmp/before"; then
		:
	else
		fail "$name: fill did not land in the image file as written (exit $rc)"
	fi
	# What the file holds is what reads return (vioblk's CRC vs gzip's).
	want=$(dd if="$tmp/img" bs=64k count=64 status=none | gzip -c | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n')
	vb crc --offset 0 --len 4M
	[ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ] || fail "$name: crc $(cat "$tmp/out") want $want"
	for mode in randread randwrite; do
		vb "$mode" --secs 1 --qd 32
		n=$(json_num ios)
		if [ "$rc" = 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$(json_num errors)" = 0 ]; then
			eval "${mode}_iops=$(json_num iops)"
		else
			fail "$name: $mode (exit $rc)"
		fi
	done
	# Five vioblk runs one after the other on the same socket and process.
	kill -USR1 "$be_pid"
	for i in $(seq 1 100); do
		grep -q '"connections"' "$tmp/be.out" && break
		sleep 0.1
	done
	conns=$(json_num connections "$tmp/be.out")
	stop_be || return
	if [ "$conns" = 5 ] && [ "$(grep -c '^{"tool":"vhost-user-blk"' "$tmp/be.out")" = 2 ] &&
	   [ "$(json_num errors "$tmp/be.out")" = 0 ] && [ "$(json_num completions "$tmp/be.out")" -gt 4096 ]; then
		echo "ok: $name: verify, fill (bytes in the file), crc, randread $randread_iops iops, randwrite $randwrite_iops iops; 5 front-ends in turn; stats on SIGUSR1 and exit"
	else
		fail "$name: stats: connections '$conns' (want 5)"
	fi
}

for engine in io_uring libaio sync; do
	for cache in writeback none writethrough; do
		combo $engine $cache
	done
done

# --poll-us and --queues (vioblk uses queue 0; the others stay idle).
rm -f "$tmp/img"; truncate -s 16M "$tmp/img"
if start_be --poll-us 50 --queues 4; then
	vb verify --qd 32 --size 8M
	[ "$rc" = 0 ] && [ "$(json_num mismatches)" = 0 ] || fail "poll-us: verify (exit $rc)"
	vb randread --secs 1 --qd 32
	r1=$(json_num iops)
	vb randwrite --secs 1 --qd 1
	r2=$(json_num iops)
	if [ "$rc" = 0 ] && stop_be INT; then
		echo "ok: --poll-us 50 --queues 4: verify, randread qd32 $r1 iops, randwrite qd1 $r2 iops; SIGINT exit clean"
	else
		fail "poll-us run (exit $rc)"
	fi
fi

# Read-only: vioblk refuses to write, our client's writes get IOERR, reads work.
rm -f "$tmp/img"; head -c 4M /dev/urandom >"$tmp/img"
cp "$tmp/img" "$tmp/before"
if start_be --readonly; then
	vb fill --offset 0 --len 4k --byte 1
	rc1=$rc
	"$CLIENT" readonly --socket "$tmp/sock" --disk "$tmp/img" 2>"$tmp/err" >/dev/null
	rc2=$?
	want=$(gzip -c "$tmp/before" | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n')
	vb crc --offset 0 --len 4M
	if [ "$rc1" != 0 ] && [ "$rc2" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ] &&
	   cmp -s "$tmp/img" "$tmp/before" && stop_be &&
	   [ "$(json_num errors "$tmp/be.out")" -ge 3 ]; then
		echo "ok: --readonly: vioblk fill refused (exit $rc1), OUT/WRITE_ZEROES/DISCARD answer IOERR, reads return the file, file unchanged"
	else
		fail "--readonly (vioblk fill exit $rc1, client exit $rc2)"
	fi
fi

# Errors: one line on stderr, documented exit status.
err_case() {	# WANT_RC GREP ARGS...
	local want=$1 pat=$2
	shift 2
	timeout 10 "$BE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" = "$want" ] && [ "$(wc -l <"$tmp/err")" -le "${maxlines:-1}" ] &&
	   grep -q -- "$pat" "$tmp/err"; then
		echo "ok: error: $* -> exit $rc: $(cat "$tmp/err")"
	else
		fail "error case '$*': exit $rc (want $want)"
	fi
}
truncate -s 1M "$tmp/img"
err_case 1 "cannot open disk $tmp/nope.img: No such file" --socket "$tmp/sock" --disk "$tmp/nope.img"
err_case 2 "--engine: io_uring, libaio, sync or threads, not 'fast'" --socket "$tmp/sock" --disk "$tmp/img" --engine fast
err_case 2 "--cache: none, writeback or writethrough" --socket "$tmp/sock" --disk "$tmp/img" --cache unsafe
err_case 2 "--queues: a number 1..64, not '0'" --socket "$tmp/sock" --disk "$tmp/img" --queues 0
err_case 2 "--queues: a number 1..64, not '65'" --socket "$tmp/sock" --disk "$tmp/img" --queues 65
err_case 2 "--poll-us: microseconds" --socket "$tmp/sock" --disk "$tmp/img" --poll-us -1
err_case 2 "--socket PATH is required" --disk "$tmp/img"
err_case 2 "--disk FILE is required" --socket "$tmp/sock"
err_case 2 "unknown option '--frob'" --socket "$tmp/sock" --disk "$tmp/img" --frob
err_case 2 "unexpected argument 'extra'" --socket "$tmp/sock" --disk "$tmp/img" extra
err_case 2 "--disk needs a value" --socket "$tmp/sock" --disk
: >"$tmp/notsock"
err_case 1 "exists and is not a socket" --socket "$tmp/notsock" --disk "$tmp/img"
# procfs files are regular files that refuse O_DIRECT (libvublk adds its own
# line saying which cache modes work there).
maxlines=2 err_case 1 "cannot open disk /proc/version with cache=none: the filesystem refuses O_DIRECT" \
	--socket "$tmp/sock" --disk /proc/version --cache none --readonly
if start_be; then
	err_case 1 "socket $tmp/sock is in use" --socket "$tmp/sock" --disk "$tmp/img"
	[ -S "$tmp/sock" ] || fail "the refused second back-end removed the first one's socket"
	vb crc --offset 0 --len 4k
	[ "$rc" = 0 ] || fail "first back-end no longer serves after a refused second one"
	stop_be
fi
# A stale socket file (nobody listening) is replaced.
python_free_stale() {
	start_be && kill -9 "$be_pid" && wait "$be_pid" 2>/dev/null
	be_pid=
	[ -S "$tmp/sock" ]
}
if python_free_stale && start_be; then
	vb crc --offset 0 --len 4k
	[ "$rc" = 0 ] && stop_be && echo "ok: a stale socket left by a killed back-end is replaced" ||
		fail "stale socket"
fi
if "$BE" --help | grep -q "^EXIT STATUS" && "$BE" --help | grep -q -- "--poll-us N" &&
   "$BE" -h >/dev/null && "$BE" --version | grep -q '^vhost-user-blk (vioplane) [0-9]'; then
	echo "ok: --help (man-page sections) and --version"
else
	fail "--help / --version"
fi

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all vhost-user-blk program checks passed"

#!/bin/bash
# SECURITY.md case 19 from the guest driver's side: the vhost-user-blk
# back-end behind vmm --vhost-user is SIGKILLed while guestlet's blk-bench has
# I/O in flight.  vmm must stay up, say on stderr that the device needs a
# reset because its back-end went away, and put the device in NEEDS_RESET; the
# guest must notice and exit 1 with a message; polling, halting on MSI-X and
# spinning on the interrupt count alike.  No hang.
set -u
# shellcheck source=tests/integration/guestlet_blk_lib.sh
. "$(dirname "$0")/guestlet_blk_lib.sh"
gblk_need
BE=$BUILD/vhost-user-blk
if [ ! -x "$BE" ]; then
	echo "$BE not built" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-gdeath.XXXXXX")
be_pid= vmm_pid=
cleanup() {
	local p
	for p in $be_pid $vmm_pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
truncate -s 16M "$tmp/img"

n=0
for mode in "poll=1" "poll=0" "poll=0 wait=spin"; do
	n=$((n + 1))
	sock=$tmp/sock$n
	# The wait below looks for this round's crc32= line: never the last one's.
	rm -f "$tmp/out" "$tmp/err"
	"$BE" --socket "$sock" --disk "$tmp/img" >"$tmp/be.log" 2>&1 </dev/null &
	be_pid=$!
	for _ in $(seq 1 300); do
		listening "$sock" && break
		sleep 0.1
	done
	if ! listening "$sock"; then
		echo "FAIL: $mode: back-end not listening after 30 s:"; sed 's/^/  | /' "$tmp/be.log"
		fails=$((fails + 1))
		kill "$be_pid" 2>/dev/null; wait "$be_pid" 2>/dev/null; be_pid=
		continue
	fi
	timeout -k 5 60 "$VMM" --kernel "$GUEST" --vhost-user="$sock" \
		--cmdline "blk-crc lba=0 n=8; blk-bench rw=randread qd=4 secs=50 $mode" \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vmm_pid=$!
	# The device works once blk-crc has printed; the bench starts right after.
	for _ in $(seq 1 200); do
		grep -q '^crc32=' "$tmp/out" && break
		kill -0 "$vmm_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$be_pid"
	wait "$be_pid" 2>/dev/null
	be_pid=
	wait "$vmm_pid"
	rc=$?
	vmm_pid=
	if [ "$rc" = 1 ] && grep -q '^crc32=' "$tmp/out" &&
	   grep -Eq '^guestlet: blk-bench: device failed \(status 0x4f\)' "$tmp/out" &&
	   grep -q '^vmm: blk0: device needs reset: back-end disconnected$' "$tmp/err"; then
		echo "ok: $mode: back-end killed mid-bench: exit 1, '$(tail -n 1 "$tmp/out")'"
	else
		echo "FAIL: $mode: back-end killed mid-bench: exit $rc, want 1"
		sed 's/^/  | /' "$tmp/out" "$tmp/err" "$tmp/be.log"
		fails=$((fails + 1))
	fi
done
if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet back-end death checks passed"

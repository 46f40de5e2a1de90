#!/bin/bash
# SECURITY.md case 19 from the driver's side: the vhost-user-blk back-end is
# SIGKILLed while vioblk has I/O in flight.  vioblk must notice (the socket
# hangs up), stop, and exit 1 with a message, in both notification modes,
# instead of waiting forever for completions that will never come.
set -u
# shellcheck source=tests/integration/vioblk_lib.sh
. "$(dirname "$0")/vioblk_lib.sh"
vb_init
if [ ! -x "$BUILD/vhost-user-blk" ]; then
	echo "$BUILD/vhost-user-blk not built" >&2
	exit 77
fi
for mode in "" --poll; do
	vb_start vhost-user-blk "$BUILD/vhost-user-blk" --socket "$tmp/sock" --disk "$tmp/img"
	timeout -k 5 60 "$VIOBLK" --socket "$tmp/sock" randread --secs 50 --qd 8 $mode \
		>"$tmp/out" 2>"$tmp/err" </dev/null &
	vpid=$!
	# Our memory shows up in the back-end once the device is started.
	for _ in $(seq 1 100); do
		grep -q virtio-user-ram "/proc/$be_pid/maps" 2>/dev/null && break
		sleep 0.1
	done
	if ! grep -q virtio-user-ram "/proc/$be_pid/maps" 2>/dev/null; then
		kill "$vpid" 2>/dev/null; wait "$vpid"
		fail "vioblk ${mode:-irq}: never started the device"
		continue
	fi
	kill -9 "$be_pid"
	wait "$be_pid" 2>/dev/null
	be_pid=
	rm -f "$tmp/sock"
	wait "$vpid"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "device failed" "$tmp/err"; then
		echo "ok: vioblk ${mode:-irq}: back-end killed mid-run: exit 1, '$(head -n 1 "$tmp/err")'"
	else
		fail "vioblk ${mode:-irq}: back-end killed mid-run: exit $rc, want 1"
	fi
done
vb_finish

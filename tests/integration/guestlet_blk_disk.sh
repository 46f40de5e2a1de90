#!/bin/bash
# guestlet's virtio-blk driver over vmm's virtio-pci with vmm's own in-process
# vhost-user-blk back-end (vmm --disk path=FILE): the same suite as
# guestlet_blk_qsd.sh (see guestlet_blk_lib.sh).
set -u
# shellcheck source=tests/integration/guestlet_blk_lib.sh
. "$(dirname "$0")/guestlet_blk_lib.sh"
gblk_need

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-gdisk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
truncate -s 32M "$tmp/img0"
truncate -s 8M "$tmp/img1"

timeout -k 5 30 "$VMM" --kernel "$GUEST" --disk path="$tmp/img0" --cmdline 'exit 0' \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ "$rc" != 0 ]; then
	if grep -q 'not available' "$tmp/err"; then
		echo "vmm --disk: $(head -n 1 "$tmp/err")" >&2
		exit 77
	fi
	echo "FAIL: vmm --disk does not start a guest (exit $rc):"; cat "$tmp/err"
	exit 1
fi

GBLK_DISKS=(--disk path="$tmp/img0" --disk path="$tmp/img1")
gblk_suite disk

# poll-us reaches the in-process back-end.  A polling guest at QD 1 is back
# within microseconds: with poll-us=1000000 the queue thread is always awake
# and never asks for a doorbell (EVENT_IDX: the guest rings once per 2^16
# requests at most); with poll-us=0 it sleeps whenever the ring is empty, so
# nearly every request is rung in.
# On one CPU a spinning back-end and a polling vCPU only take turns (a time
# slice per request): nothing to see there, and so not checked.
GBLK_DISKS=(--disk path="$tmp/img0",poll-us=1000000 --disk path="$tmp/img1",poll-us=0)
devs="0 1"
if [ "$(nproc)" -lt 2 ]; then
	echo "note: disk: one CPU: the poll-us checks need a second one, left out"
	devs=
fi
for dev in $devs; do
	run "blk-bench rw=randread bs=4096 qd=1 secs=1 poll=1 dev=$dev"
	ios=$(json_num ios) notifies=$(json_num notifies)
	if [ "$rc" = 0 ] && [ -n "$ios" ] && [ "$ios" -gt 1000 ] && [ -n "$notifies" ] &&
	   { { [ $dev = 0 ] && [ $((notifies * 1000)) -lt "$ios" ]; } ||
	     { [ $dev = 1 ] && [ $((notifies * 2)) -gt "$ios" ]; }; }; then
		echo "ok: disk: poll-us=$([ $dev = 0 ] && echo 1000000 || echo 0): $notifies doorbells for $ios requests"
	else
		fail "disk: poll-us on dev=$dev: $notifies doorbells for $ios requests"
	fi
done

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet blk checks against vmm --disk passed"

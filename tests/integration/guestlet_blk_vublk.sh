#!/bin/bash
# guestlet's virtio-blk driver over vmm's virtio-pci with our own back-end,
# build/vhost-user-blk (two processes, one per disk), behind --vhost-user:
# the suite of guestlet_blk_lib.sh.
set -u
# shellcheck source=tests/integration/guestlet_blk_lib.sh
. "$(dirname "$0")/guestlet_blk_lib.sh"
gblk_need
BE=$BUILD/vhost-user-blk
if [ ! -x "$BE" ]; then
	echo "$BE not built" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-gvublk.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
truncate -s 32M "$tmp/img0"
truncate -s 8M "$tmp/img1"
for i in 0 1; do
	"$BE" --socket "$tmp/s$i" --disk "$tmp/img$i" >"$tmp/be$i.log" 2>&1 </dev/null &
	pids+=($!)
done
for _ in $(seq 1 100); do
	listening "$tmp/s0" && listening "$tmp/s1" && break
	sleep 0.1
done
if ! listening "$tmp/s0" || ! listening "$tmp/s1"; then
	echo "vhost-user-blk did not start:"; cat "$tmp"/be*.log
	exit 1
fi

GBLK_DISKS=(--vhost-user="$tmp/s0" --vhost-user="$tmp/s1")
gblk_suite vhost-user-blk

for i in 0 1; do
	if ! kill -0 "${pids[$i]}" 2>/dev/null; then
		echo "FAIL: vhost-user-blk $i died during the test"; cat "$tmp/be$i.log"
		fails=$((fails + 1))
	fi
done
if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet blk checks against vhost-user-blk passed"

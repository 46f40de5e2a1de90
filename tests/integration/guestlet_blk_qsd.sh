#!/bin/bash
# guestlet's virtio-blk driver over vmm's virtio-pci transport, with
# qemu-storage-daemon as the vhost-user back-end (vmm --vhost-user=SOCK):
# writes land in the image file, reads return the file's bytes, verify and
# the benchmarks (polling and MSI-X interrupt modes) run, a second disk is
# dev=1, and every blk-evil case leaves vmm alive with the device answering
# NEEDS_RESET or ignoring the write, and usable again after a reset.
set -u
# shellcheck source=tests/integration/guestlet_blk_lib.sh
. "$(dirname "$0")/guestlet_blk_lib.sh"
gblk_need qemu-storage-daemon

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-gblk.XXXXXX")
qsd_pid=
cleanup() {
	if [ -n "$qsd_pid" ]; then
		kill "$qsd_pid" 2>/dev/null
		wait "$qsd_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0


# One qsd process, two exports (two disks, two sockets).
truncate -s 32M "$tmp/img0"
truncate -s 8M "$tmp/img1"
qemu-storage-daemon \
	--blockdev driver=file,node-name=f0,filename="$tmp/img0" \
	--blockdev driver=file,node-name=f1,filename="$tmp/img1" \
	--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path="$tmp/s0",writable=on \
	--export type=vhost-user-blk,id=e1,node-name=f1,addr.type=unix,addr.path="$tmp/s1",writable=on \
	>"$tmp/qsd.log" 2>&1 </dev/null &
qsd_pid=$!
for _ in $(seq 1 100); do
	listening "$tmp/s0" && listening "$tmp/s1" && break
	kill -0 "$qsd_pid" 2>/dev/null || break
	sleep 0.1
done
if ! listening "$tmp/s0" || ! listening "$tmp/s1"; then
	echo "qemu-storage-daemon did not start:"; cat "$tmp/qsd.log"
	exit 1
fi

GBLK_DISKS=(--vhost-user="$tmp/s0" --vhost-user="$tmp/s1")
gblk_suite qsd

if ! kill -0 "$qsd_pid" 2>/dev/null; then
	echo "FAIL: qemu-storage-daemon died during the test"; cat "$tmp/qsd.log"
	fails=$((fails + 1))
fi
if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet blk checks against qemu-storage-daemon passed"

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

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet blk checks against vmm --disk passed"

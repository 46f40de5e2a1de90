#!/bin/bash
# vioblk (guest-drivers' virtio-blk driver over libvirtio-user) against our own back-end, build/vhost-user-blk (io_uring engine):
# verify passes over the whole disk and reports every corrupted block; data
# written through the back-end is really in the image file (byte compare) and
# data put in the file is what reads return (CRC-32 from gzip's trailer);
# randread/randwrite run in both notification modes and without
# INDIRECT_DESC/EVENT_IDX; a disk too small is exit 4.  See vioblk_lib.sh.
set -u
# shellcheck source=tests/integration/vioblk_lib.sh
. "$(dirname "$0")/vioblk_lib.sh"
vb_init
if [ ! -x "$BUILD/vhost-user-blk" ]; then
	echo "$BUILD/vhost-user-blk not built" >&2
	exit 77
fi
vb_start vhost-user-blk "$BUILD/vhost-user-blk" --socket "$tmp/sock" --disk "$tmp/img"
run_suite vhost-user-blk
vb_finish

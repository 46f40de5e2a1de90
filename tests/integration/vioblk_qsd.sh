#!/bin/bash
# vioblk (guest-drivers' virtio-blk driver over libvirtio-user) against qemu-storage-daemon's vhost-user-blk export:
# verify passes over the whole disk and reports every corrupted block; data
# written through the back-end is really in the image file (byte compare) and
# data put in the file is what reads return (CRC-32 from gzip's trailer);
# randread/randwrite run in both notification modes and without
# INDIRECT_DESC/EVENT_IDX; a disk too small is exit 4.  See vioblk_lib.sh.
set -u
# shellcheck source=tests/integration/vioblk_lib.sh
. "$(dirname "$0")/vioblk_lib.sh"
if ! command -v qemu-storage-daemon >/dev/null; then
	echo "qemu-storage-daemon not installed (qemu-system-x86/qemu-utils)" >&2
	exit 77
fi
vb_init
vb_start qemu-storage-daemon qemu-storage-daemon \
	--blockdev driver=file,node-name=f,filename="$tmp/img" \
	--export type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path="$tmp/sock",writable=on
run_suite qsd
vb_finish

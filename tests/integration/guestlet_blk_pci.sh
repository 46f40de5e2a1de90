#!/bin/bash
# guestlet's PCI scan on a vmm without disks: config mechanism #1 finds the
# host bridge and nothing else; blk commands report the missing device
# cleanly; bad arguments exit 2.
set -u
# shellcheck source=tests/integration/guestlet_blk_lib.sh
. "$(dirname "$0")/guestlet_blk_lib.sh"
gblk_need

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-gpci.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

run() {
	local cmdline=$1; shift
	timeout -k 5 30 "$VMM" --kernel "$GUEST" --cmdline "$cmdline" "$@" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

fail() {
	echo "FAIL: $*"
	echo "  exit status $rc; stdout:"; sed 's/^/  | /' "$tmp/out"
	echo "  stderr:"; sed 's/^/  | /' "$tmp/err"
	fails=$((fails + 1))
}

# expect DESCRIPTION CMDLINE STATUS EXPECTED_STDOUT (printf format, exact)
expect() {
	local what=$1 cmdline=$2 status=$3 want=$4
	run "$cmdline"
	# shellcheck disable=SC2059
	printf -- "$want" >"$tmp/want"
	if [ "$rc" != "$status" ]; then
		fail "$what: exit status $rc, want $status"
	elif ! cmp -s "$tmp/want" "$tmp/out"; then
		fail "$what: stdout differs; want:
$(sed 's/^/  > /' "$tmp/want")"
	else
		echo "ok: $what"
	fi
}

expect "pci-list: only the host bridge" 'pci-list' 0 \
	'pci 00:00.0 8086:1237 class 060000\npci: 1 device\n'
expect "pci-list twice gives the same answer" 'pci-list; pci-list' 0 \
	'pci 00:00.0 8086:1237 class 060000\npci: 1 device\npci 00:00.0 8086:1237 class 060000\npci: 1 device\n'
expect "pci-list takes no argument" 'pci-list all' 2 \
	"guestlet: pci-list: unexpected argument 'all'\n"
expect "blk-info without a disk" 'blk-info' 1 \
	'guestlet: blk-info: no virtio-blk device 0 (-2)\n'
expect "blk-crc dev=3 without a disk" 'blk-crc lba=0 n=1 dev=3' 1 \
	'guestlet: blk-crc: no virtio-blk device 3 (-2)\n'
expect "blk-evil without a disk" 'blk-evil case=size-zero' 1 \
	'guestlet: blk-evil: no virtio-blk device 0\n'
expect "blk-fill needs byte=" 'blk-fill lba=0 n=1' 2 \
	'guestlet: blk-fill: byte= is required\n'
expect "blk-crc refuses byte=" 'blk-crc lba=0 n=1 byte=3' 2 \
	"guestlet: blk-crc: bad argument 'byte=' (want lba=, n=, dev=)\n"
expect "blk-fill byte=256" 'blk-fill lba=0 n=1 byte=256' 2 \
	"guestlet: blk-fill: bad value 'byte=256' (want byte=0..255)\n"
expect "dev=4 is out of range" 'blk-info dev=4' 2 \
	"guestlet: blk-info: bad value 'dev=4' (want dev=0..3)\n"
expect "unknown key" 'blk-bench rw=randread depth=3' 2 \
	"guestlet: blk-bench: bad argument 'depth=3'\n"
expect "blk-bench rw= must be randread or randwrite" 'blk-bench rw=seqread' 2 \
	"guestlet: blk-bench: rw=randread or rw=randwrite, not 'seqread'\n"

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet PCI checks passed"

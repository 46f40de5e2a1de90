#!/bin/bash
# perf/exits.sh [N]: guest -> host notification cost, three ways, one vmm run.
#
# guestlet (at CPL3) rings each doorbell of vmm's notification test device N
# times and prints one JSON line per way:
#   mmio-exit       MMIO write that exits to vmm (the emulated-I/O path)
#   mmio-ioeventfd  MMIO write absorbed by a KVM ioeventfd
#   pio-ioeventfd   PIO write absorbed by a KVM ioeventfd
# This script checks vmm's --stats counts against N for each doorbell (so each
# number is what it claims to be), then prints the ratio heavyweight/ioeventfd
# for both ioeventfd ways: a table on stderr and JSON lines on stdout
#   {"bench":"exits","ratio":"mmio-exit/mmio-ioeventfd","value":X}
# env: BUILD (default build), EXITS_N (default 500000, ~15 s here).
set -u
BUILD=${BUILD:-build}
N=${1:-${EXITS_N:-500000}}
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet

die() { echo "exits: $*" >&2; exit 1; }
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
for f in "$VMM" "$GUEST"; do [ -f "$f" ] || die "missing $f (run make)"; done
# shellcheck source=tests/integration/kvm_lib.sh
. "$(dirname "$0")/../tests/integration/kvm_lib.sh"
kvm_usable || die "$KVM_WHY"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-exits.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Generous: ~30 us per round of three here, far less on hardware.
limit=$((60 + N / 10000))
timeout -k 5 "$limit" "$VMM" --kernel "$GUEST" --cmdline "bench-exits n=$N" --stats \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ $rc -ne 0 ]; then
	sed 's/^/  | /' "$tmp/out" "$tmp/err" >&2
	[ $rc = 124 ] && die "vmm timed out after ${limit}s"
	die "vmm exited with status $rc"
fi

stat() { grep -o "\"$1\":[0-9]*" "$tmp/err" | head -n 1 | cut -d: -f2; }
ns() {
	sed -n "s/^{\"bench\":\"exits\",\"mode\":\"$1\",\"n\":$N,\"ns_per_op\":\([0-9][0-9]*\)}\$/\1/p" "$tmp/out"
}

bad=0
for mode in mmio-exit mmio-ioeventfd pio-ioeventfd; do
	v=$(ns "$mode")
	[ -n "$v" ] || { echo "exits: no result line for $mode with n=$N" >&2; bad=1; continue; }
	grep "\"mode\":\"$mode\"" "$tmp/out"
done
# Every doorbell write must have taken the path it is named after.
grep -q '"testdev"' "$tmp/err" || { echo "exits: vmm printed no --stats line" >&2; bad=1; }
for c in mmio_exit mmio_ioeventfd pio_ioeventfd; do
	got=$(stat "$c")
	[ "$got" = "$N" ] || { echo "exits: vmm counted ${got:-nothing} $c doorbells, guest rang $N" >&2; bad=1; }
done
got=$(stat pio_exit)
[ "$got" = 0 ] || { echo "exits: $got PIO doorbells exited to vmm (want all on the ioeventfd)" >&2; bad=1; }
if [ $bad -ne 0 ]; then
	sed 's/^/  | /' "$tmp/out" "$tmp/err" >&2
	die "results not trustworthy, see above"
fi

heavy=$(ns mmio-exit) mmio=$(ns mmio-ioeventfd) pio=$(ns pio-ioeventfd)
[ "$mmio" -gt 0 ] && [ "$pio" -gt 0 ] || die "an ioeventfd doorbell took 0 ns per write?"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
r_mmio=$(ratio "$heavy" "$mmio")
r_pio=$(ratio "$heavy" "$pio")
{
	echo "vmm counted $N writes on each doorbell (mmio_exit, mmio_ioeventfd, pio_ioeventfd)"
	printf '%-16s %10s %22s\n' "notification" "ns/write" "mmio-exit / this"
	printf '%-16s %10d %22s\n' mmio-exit "$heavy" 1.00
	printf '%-16s %10d %22s\n' mmio-ioeventfd "$mmio" "$r_mmio"
	printf '%-16s %10d %22s\n' pio-ioeventfd "$pio" "$r_pio"
} >&2
echo "{\"bench\":\"exits\",\"ratio\":\"mmio-exit/mmio-ioeventfd\",\"value\":$r_mmio}"
echo "{\"bench\":\"exits\",\"ratio\":\"mmio-exit/pio-ioeventfd\",\"value\":$r_pio}"

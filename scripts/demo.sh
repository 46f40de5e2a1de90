#!/bin/bash
# `make demo`: boot a guest on /dev/kvm and show what vioplane does.
set -u
cd "$(dirname "$0")/.."
BUILD=$(realpath "${BUILD:-build}")
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "demo: /dev/kvm is not usable here; the demo needs KVM" >&2
	exit 1
fi

step "1. boot guestlet, a bare guest that runs its loop at CPL3, and talk to it"
run "$VMM" --kernel "$GUEST" --cmdline 'echo hello from guestlet; echo commands run in order; exit 7'
echo "(vmm exited with status $?, the value the guest wrote to the debug-exit port)"

step "2. a guest that faults is reported, and vmm exits 125"
run "$VMM" --kernel "$GUEST" --cmdline 'echo about to triple-fault; triple-fault'
echo "(status $?)"

step "3. why vioplane exists: a notification that exits to the VMM vs one absorbed by an ioeventfd"
run "$VMM" --kernel "$GUEST" --stats --cmdline 'bench-exits n=2000'
echo "(same guest, same run; 'make bench-exits' runs the full benchmark)"

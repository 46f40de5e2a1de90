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

# --- vhost-user-blk, driven from a host process (no VM) ------------------------
VUB=$BUILD/vhost-user-blk
VIOBLK=$BUILD/vioblk
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vp-demo.XXXXXX")
bepid=""
cleanup() {
	[ -n "$bepid" ] && kill "$bepid" 2>/dev/null && wait "$bepid" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
img=$scratch/disk.img sock=$scratch/vublk.sock
truncate -s 256M "$img"

step "4. vioplane's vhost-user-blk back-end on a scratch image, driven by vioblk (libvirtio-user)"
printf '$ %s &\n' "$VUB --socket $sock --disk $img --engine io_uring"
"$VUB" --socket "$sock" --disk "$img" --engine io_uring &
bepid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
run "$VIOBLK" --socket "$sock" verify --size 64M
echo "(verify: every block written, read back and checksummed)"
run "$VIOBLK" --socket "$sock" randread --bs 4k --qd 32 --secs 3
kill "$bepid"; wait "$bepid" 2>/dev/null; bepid=""

step "5. a guest's disk I/O through vmm: ioeventfd + irqfd (vhost path) vs heavyweight exits"
vmm_blk() {	# label, extra vmm flags...
	local label=$1; shift
	"$VMM" --kernel "$GUEST" --disk "path=$img" --stats "$@" \
		--cmdline "blk-fill lba=0 n=8 byte=165; blk-crc lba=0 n=8; blk-bench rw=randread bs=4096 qd=32 secs=3 poll=0" \
		>"$scratch/out" 2>"$scratch/err"
	local st=$?
	grep -v '^{' "$scratch/out"
	local g s
	g=$(grep '"bench"' "$scratch/out"); s=$(grep '"vmm":"stats"' "$scratch/err")
	printf '%-26s %8s IOPS  p50 %5s us  vCPU exits to vmm: %6s  interrupts injected by vmm: %6s  (exit %s)\n' \
		"$label" "$(sed -n 's/.*"iops":\([0-9]*\).*/\1/p' <<<"$g")" \
		"$(sed -n 's/.*"p50_us":\([0-9]*\).*/\1/p' <<<"$g")" \
		"$(( $(sed -n 's/.*"pio":\([0-9]*\).*/\1/p' <<<"$s") + $(sed -n 's/.*"mmio":\([0-9]*\).*/\1/p' <<<"$s") ))" \
		"$(sed -n 's/.*"irq_vmm":\([0-9]*\).*/\1/p' <<<"$s")" "$st"
}
echo "guestlet writes 8 sectors of 0xa5, checksums them, then runs 3 s of 4 KiB random reads at QD 32:"
vmm_blk "vhost (ioeventfd+irqfd)"
vmm_blk "--no-ioeventfd --no-irqfd" --no-ioeventfd --no-irqfd
echo "host check of the sectors the guest wrote: crc32=$(head -c 4096 "$img" | gzip -c | tail -c 8 | od -An -t x4 -N 4 | tr -d ' ')"
echo "('make bench-vm-blk' and 'make bench-blk' run the full comparisons, with fio and qemu-storage-daemon)"

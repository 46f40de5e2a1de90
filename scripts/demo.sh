#!/bin/bash
# `make demo`: boot a guest on /dev/kvm and show what vioplane does (without
# KVM, only the back-end steps run).
set -u
cd "$(dirname "$0")/.."
BUILD=$(realpath "${BUILD:-build}")
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# The steps that boot a guest need KVM; the back-end steps (4, 6, 7) run anyway.
# shellcheck source=tests/integration/kvm_lib.sh
. tests/integration/kvm_lib.sh
kvm=1
if ! kvm_usable; then
	kvm=0
	echo "demo: $KVM_WHY: the steps that boot a guest (1-3, 5) are left out" >&2
fi
no_kvm() { echo "(left out: no usable /dev/kvm on this machine)"; }

step "1. boot guestlet, a bare guest that runs its loop at CPL3, and talk to it"
if [ $kvm = 1 ]; then
	run "$VMM" --kernel "$GUEST" --cmdline 'echo hello from guestlet; echo commands run in order; exit 7'
	echo "(vmm exited with status $?, the value the guest wrote to the debug-exit port)"
else no_kvm; fi

step "2. a guest that faults is reported, and vmm exits 125"
if [ $kvm = 1 ]; then
	run "$VMM" --kernel "$GUEST" --cmdline 'echo about to triple-fault; triple-fault'
	echo "(status $?)"
else no_kvm; fi

step "3. why vioplane exists: a notification that exits to the VMM vs one absorbed by an ioeventfd"
if [ $kvm = 1 ]; then
	run "$VMM" --kernel "$GUEST" --stats --cmdline 'bench-exits n=2000'
	echo "(same guest, same run; 'make bench-exits' runs the full benchmark)"
else no_kvm; fi

# --- vhost-user-blk, driven from a host process (no VM) ------------------------
VUB=$BUILD/vhost-user-blk
VIOBLK=$BUILD/vioblk
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vp-demo.XXXXXX")
bepid=""
cleanup() {
	[ -n "$bepid" ] && kill "$bepid" 2>/dev/null && wait "$bepid" 2>/dev/null
	rm -rf "$scratch" "/var/run/dpdk/vp-demo-$$"
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
if [ $kvm = 1 ]; then
	echo "guestlet writes 8 sectors of 0xa5, checksums them, then runs 3 s of 4 KiB random reads at QD 32:"
	vmm_blk "vhost (ioeventfd+irqfd)"
	vmm_blk "--no-ioeventfd --no-irqfd" --no-ioeventfd --no-irqfd
	echo "host check of the sectors the guest wrote: crc32=$(head -c 4096 "$img" | gzip -c | tail -c 8 | od -An -t x4 -N 4 | tr -d ' ')"
else no_kvm; fi
echo "('make bench-vm-blk' and 'make bench-blk' run the full comparisons, with fio and qemu-storage-daemon)"

# --- vhost-user-net ---------------------------------------------------------------
VUN=$BUILD/vhost-user-net
VIONET=$BUILD/vionet
vun_start() {	# socket args... ; the port args follow the sockets
	printf '$ %s &\n' "$VUN $*"
	"$VUN" "$@" >"$scratch/vun.json" 2>"$scratch/vun.log" &
	bepid=$!
	for _ in $(seq 200); do grep -q 'listening' "$scratch/vun.log" 2>/dev/null && return; sleep 0.05; done
}
vun_stop() { kill -INT "$bepid"; wait "$bepid" 2>/dev/null; bepid=""; }

step "6. vhost-user-net: vionet (our virtio-net driver in a host process) through a two-socket loop"
vun_start --socket "$scratch/a.sock" --socket "$scratch/b.sock" --port loop
"$VIONET" --socket "$scratch/b.sock" rxonly --check --idle-secs 2 --secs 6 >"$scratch/rx.json" 2>&1 &
rxpid=$!
sleep 0.5
run "$VIONET" --socket "$scratch/a.sock" txonly --size 64 --secs 3
wait "$rxpid"
echo "receiver on the other socket (every frame checked): $(cat "$scratch/rx.json")"
vun_stop
vun_start --socket "$scratch/a.sock" --port loop
run "$VIONET" --socket "$scratch/a.sock" pingpong --size 64 --secs 2
vun_stop

step "7. DPDK's own virtio driver (testpmd net_virtio_user, txonly) into vhost-user-net on a DPDK null port"
if command -v dpdk-testpmd >/dev/null; then
	vun_start --socket "$scratch/n.sock" --port net_null0,no-rx=1 --poll --lcores 1
	printf '$ dpdk-testpmd ... --vdev net_virtio_user0,path=%s -- --forward-mode=txonly  (3 s)\n' "$scratch/n.sock"
	timeout -s INT 4 dpdk-testpmd --lcores '0@0,1@0' --file-prefix "vp-demo-$$" --no-pci --no-huge \
		-m 512 --no-telemetry --vdev "net_virtio_user0,path=$scratch/n.sock,queues=1" -- \
		--forward-mode=txonly --nb-cores=1 --total-num-mbufs=16384 --stats-period 1 \
		</dev/null >"$scratch/testpmd.out" 2>&1
	vun_stop
	echo "testpmd's last per-second rate: $(grep -a 'Tx-pps' "$scratch/testpmd.out" | tail -n 1 | awk '{print $2}') packets/s sent"
	echo "vhost-user-net's counters at exit: $(grep -o '"tx_packets":[0-9]*' "$scratch/vun.json" | head -n 1) (frames handed to the null port), drops by reason in the JSON"
else
	echo "(dpdk-testpmd not installed: run make deps)"
fi
echo "('make bench-net' compares vhost-user-net with DPDK's own vhost PMD)"

#!/bin/bash
# guestlet's virtio-blk driver over vmm's virtio-pci transport, with
# qemu-storage-daemon as the vhost-user back-end (vmm --vhost-user=SOCK):
# writes land in the image file, reads return the file's bytes, verify and
# the benchmarks (polling and MSI-X interrupt modes) run, a second disk is
# dev=1, and every blk-evil case leaves vmm alive with the device answering
# NEEDS_RESET or ignoring the write, and usable again after a reset.
set -u
BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet
for f in "$VMM" "$GUEST"; do [ -f "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
if ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "cannot open /dev/kvm read-write: guestlet needs KVM" >&2
	exit 77
fi
if ! command -v qemu-storage-daemon >/dev/null; then
	echo "qemu-storage-daemon not installed (qemu-system-x86/qemu-utils)" >&2
	exit 77
fi
if ! "$VMM" --help 2>&1 | grep -q -- '--vhost-user'; then
	echo "this vmm has no --vhost-user option" >&2
	exit 77
fi

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

fail() {
	echo "FAIL: $*"
	echo "  exit status $rc; stdout:"; sed 's/^/  | /' "$tmp/out"
	echo "  stderr:"; sed 's/^/  | /' "$tmp/err"
	fails=$((fails + 1))
}

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
	[ -S "$tmp/s0" ] && [ -S "$tmp/s1" ] && break
	kill -0 "$qsd_pid" 2>/dev/null || break
	sleep 0.1
done
if ! [ -S "$tmp/s0" ] || ! [ -S "$tmp/s1" ]; then
	echo "qemu-storage-daemon did not start:"; cat "$tmp/qsd.log"
	exit 1
fi

# run CMDLINE [more vmm args]: one guest boot with both disks.
run() {
	local cmdline=$1; shift
	timeout -k 5 60 "$VMM" --kernel "$GUEST" --mem 256M --vhost-user="$tmp/s0" \
		--vhost-user="$tmp/s1" --cmdline "$cmdline" "$@" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

file_crc() {	# FILE LBA N: CRC-32 of N sectors at LBA (gzip's trailer holds it)
	dd if="$1" bs=512 skip="$2" count="$3" status=none | gzip -c | tail -c 8 |
		od -An -tx4 -N4 | tr -d ' \n'
}

json_num() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$tmp/out" | head -n 1
}

# --- the scan finds both disks ----------------------------------------------------
run 'pci-list; blk-info; blk-info dev=1'
if [ "$rc" = 0 ] &&
   grep -q '^pci 00:01.0 1af4:1042 class 018000 virtio-blk bar0 0x[0-9a-f]* queues 1 msix 2 devcfg 60$' "$tmp/out" &&
   grep -q '^pci 00:02.0 1af4:1042 class 018000 virtio-blk' "$tmp/out" &&
   grep -q '^pci: 3 devices$' "$tmp/out" &&
   grep -q '^blk-info: dev 0 capacity 65536 sectors' "$tmp/out" &&
   grep -q '^blk-info: dev 1 capacity 16384 sectors' "$tmp/out"; then
	echo "ok: pci-list finds both virtio-blk devices; capacities 32 MiB and 8 MiB"
else
	fail "pci-list / blk-info"
fi

# --- writes land in the file, reads return the file's bytes -------------------------
head -c $((64 * 512)) /dev/zero | tr '\0' '\253' >"$tmp/pat"
cp "$tmp/img0" "$tmp/before"
run 'blk-fill lba=2048 n=64 byte=171'
if [ "$rc" = 0 ] && cmp -s -n $((64 * 512)) -i $((2048 * 512)):0 "$tmp/img0" "$tmp/pat" &&
   cmp -s -n $((2048 * 512)) "$tmp/img0" "$tmp/before" &&
   cmp -s -i $((2112 * 512)) "$tmp/img0" "$tmp/before"; then
	echo "ok: blk-fill lba=2048 n=64 byte=171 is in the image file, nothing else changed"
else
	fail "blk-fill did not land in the image file"
fi
head -c $((300 * 512)) /dev/urandom >"$tmp/rnd"
dd if="$tmp/rnd" of="$tmp/img0" bs=512 seek=5000 conv=notrunc status=none
want=$(file_crc "$tmp/img0" 5000 300)
run 'blk-crc lba=5000 n=300'
if [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ]; then
	echo "ok: blk-crc of bytes written into the file: crc32=$want (zlib CRC-32, lowercase)"
else
	fail "blk-crc lba=5000 n=300: want crc32=$want"
fi
# dev=1 is the second disk, and only it
cp "$tmp/img0" "$tmp/before"
run 'blk-fill lba=0 n=8 byte=90 dev=1; blk-crc lba=0 n=8 dev=1'
if [ "$rc" = 0 ] && [ "$(tail -n 1 "$tmp/out")" = "crc32=$(file_crc "$tmp/img1" 0 8)" ] &&
   [ "$(od -An -tx1 -N1 "$tmp/img1" | tr -d ' ')" = 5a ] && cmp -s "$tmp/img0" "$tmp/before"; then
	echo "ok: dev=1 selects the second disk"
else
	fail "dev=1"
fi
run 'blk-crc lba=65530 n=7'
if [ "$rc" = 1 ] && grep -q 'past the disk end' "$tmp/out"; then
	echo "ok: blk-crc past the end: exit 1"
else
	fail "blk-crc past the end"
fi

# --- verify and benchmarks ---------------------------------------------------------------
run 'blk-verify secs=1 qd=16'
if [ "$rc" = 0 ] && grep -q '^blk-verify: 8192 blocks of 4096 bytes, [0-9]* pass.*, 0 mismatches$' "$tmp/out"; then
	echo "ok: $(cat "$tmp/out")"
else
	fail "blk-verify"
fi
# the pattern verify wrote is what the file holds
want=$(file_crc "$tmp/img0" 0 65536)
run 'blk-crc lba=0 n=65536'
if [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ]; then
	echo "ok: the whole disk as the guest reads it equals the image file"
else
	fail "whole-disk crc vs file ($want)"
fi
for rw in randread randwrite; do
	for poll in 1 0; do
		for qd in 1 16; do
			run "blk-bench rw=$rw bs=4096 qd=$qd secs=1 poll=$poll"
			ios=$(json_num ios)
			irqs=$(json_num irqs)
			if [ "$rc" = 0 ] &&
			   grep -q "^{\"bench\":\"vm-blk-guest\",\"rw\":\"$rw\",\"bs\":4096,\"qd\":$qd,\"poll\":$poll," "$tmp/out" &&
			   [ -n "$ios" ] && [ "$ios" -gt 0 ] && [ "$(json_num errors)" = 0 ] &&
			   { { [ "$poll" = 1 ] && [ "$irqs" = 0 ]; } ||
			     { [ "$poll" = 0 ] && [ "$irqs" -gt 0 ]; }; }; then
				echo "ok: blk-bench $rw qd=$qd poll=$poll: iops $(json_num iops), $irqs interrupts"
			else
				fail "blk-bench rw=$rw qd=$qd poll=$poll (poll=1 must see no interrupt, poll=0 some)"
			fi
		done
	done
done

# --- hostile register sequences ------------------------------------------------------------
# CASE EXPECTATION: needs_reset (vmm flags the device) or ignored (the write
# has no effect: status keeps its bits, NEEDS_RESET stays clear).  After each,
# the guest resets the device and must read the disk correctly again.
want=$(file_crc "$tmp/img0" 2048 64)
while read -r c expect extra; do
	run "blk-crc lba=2048 n=64; blk-evil case=$c; blk-crc lba=2048 n=64"
	line=$(grep "^blk-evil: case=$c " "$tmp/out")
	ok=1
	case $expect in
	needs_reset) [[ $line == *" needs_reset=1"* ]] || ok=0 ;;
	ignored) [[ $line == *" needs_reset=0"* ]] || ok=0 ;;
	esac
	if [ -n "$extra" ] && [[ $line != *" $extra"* ]]; then ok=0; fi
	if [ "$rc" = 0 ] && [ $ok = 1 ] && grep -q '^blk-evil: after reset status=0x00$' "$tmp/out" &&
	   [ "$(grep -c "^crc32=$want\$" "$tmp/out")" = 2 ]; then
		echo "ok: blk-evil $c: ${line#blk-evil: }; device usable after reset"
	else
		fail "blk-evil $c: want $expect $extra"
	fi
done <<'EOF'
ring-outside-ram needs_reset queue_enable=0x0
ring-in-mmio needs_reset queue_enable=0x0
misaligned-ring needs_reset queue_enable=0x0
size-not-pow2 needs_reset queue_enable=0x0
size-zero needs_reset queue_enable=0x0
size-too-big needs_reset queue_enable=0x0
driver-ok-without-features-ok needs_reset
notify-bad-queue ignored status=0x0f
kick-before-driver-ok ignored status=0x0b
setup-after-driver-ok ignored rings_unchanged=0x1
features-after-features-ok ignored features_unchanged=0x1
unoffered-feature ignored status=0x03
clear-status-bit ignored status=0x0b
bad-msix-vector ignored queue_msix_vector=0xffff
wide-access ignored desc_unchanged=0x1
queue-select-oob ignored queue_enable=0x0
devcfg-past-end ignored past_end_reads=0x0
EOF

if ! kill -0 "$qsd_pid" 2>/dev/null; then
	echo "FAIL: qemu-storage-daemon died during the test"; cat "$tmp/qsd.log"
	fails=$((fails + 1))
fi
if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet blk checks against qemu-storage-daemon passed"

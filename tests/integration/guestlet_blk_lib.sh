#!/bin/bash
# guestlet_blk_lib.sh: the guestlet virtio-blk suite, shared by the tests that
# run it with different back-ends behind vmm's virtio-pci (qemu-storage-daemon
# over --vhost-user, vmm's own --disk).  Source it; executed alone it is not a
# test and exits 0 at once.
#
#   gblk_suite NAME   needs: VMM, GUEST, tmp (a temp dir), $tmp/img0 (32 MiB)
#                     and $tmp/img1 (8 MiB) served as disk 0 and disk 1 by the
#                     vmm arguments in the array GBLK_DISKS; adds to $fails.
#
# Checks: the scan finds both disks; writes land in the image file, reads
# return the file's bytes; dev=1 is the second disk; verify and the benchmarks
# (polling: no interrupt at all; MSI-X interrupt mode: some) run; every
# blk-evil case leaves vmm alive with the device answering NEEDS_RESET or
# ignoring the write, and usable again after a reset.
[[ ${BASH_SOURCE[0]} == "$0" ]] && exit 0
# shellcheck source=tests/integration/kvm_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/kvm_lib.sh"
GBLK_EXTRA=()

# gblk_need [PROGRAM...]: set VMM and GUEST; fail if they are not built, skip
# (77) without a usable /dev/kvm or if a named optional program is missing.
gblk_need() {
	local f
	BUILD=${BUILD:-build}
	VMM=$BUILD/vmm
	GUEST=$BUILD/guestlet
	for f in "$VMM" "$GUEST"; do [ -f "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
	kvm_need
	for f in "$@"; do
		command -v "$f" >/dev/null || { echo "$f not installed (scripts/deps.sh)" >&2; exit 77; }
	done
}

# listening PATH: a unix socket is bound at PATH and accepting (flag
# __SO_ACCEPTCON in /proc/net/unix); the file alone appears before listen().
listening() {
	[ -S "$1" ] && grep -q " 00010000 0001 01 [0-9]* $1\$" /proc/net/unix
}

fail() {
	echo "FAIL: $*"
	echo "  exit status $rc; stdout:"; sed 's/^/  | /' "$tmp/out"
	echo "  stderr:"; sed 's/^/  | /' "$tmp/err"
	fails=$((fails + 1))
}

# run CMDLINE: one guest boot with both disks (vmm arguments in GBLK_DISKS).
run() {
	timeout -k 5 60 "$VMM" --kernel "$GUEST" --mem 256M "${GBLK_DISKS[@]}" \
		"${GBLK_EXTRA[@]}" --cmdline "$1" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

file_crc() {	# FILE LBA N: CRC-32 of N sectors at LBA (gzip's trailer holds it)
	dd if="$1" bs=512 skip="$2" count="$3" status=none | gzip -c | tail -c 8 |
		od -An -tx4 -N4 | tr -d ' \n'
}

json_num() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$tmp/out" | head -n 1
}

gblk_suite() {
	local name=$1 want ios irqs rw poll qd c expect extra line ok

	# --- the scan finds both disks ----------------------------------------------------
	run 'pci-list; blk-info; blk-info dev=1'
	if [ "$rc" = 0 ] &&
	   grep -q '^pci 00:01.0 1af4:1042 class 018000 virtio-blk bar0 0x[0-9a-f]* queues 1 msix 2 devcfg 60$' "$tmp/out" &&
	   grep -q '^pci 00:02.0 1af4:1042 class 018000 virtio-blk' "$tmp/out" &&
	   grep -q '^pci: 3 devices$' "$tmp/out" &&
	   grep -q '^blk-info: dev 0 capacity 65536 sectors' "$tmp/out" &&
	   grep -q '^blk-info: dev 1 capacity 16384 sectors' "$tmp/out"; then
		echo "ok: $name: pci-list finds both virtio-blk devices; capacities 32 MiB and 8 MiB"
	else
		fail "$name: pci-list / blk-info"
	fi

	# --- writes land in the file, reads return the file's bytes -------------------------
	head -c $((64 * 512)) /dev/zero | tr '\0' '\253' >"$tmp/pat"
	cp "$tmp/img0" "$tmp/before"
	run 'blk-fill lba=2048 n=64 byte=171'
	if [ "$rc" = 0 ] && cmp -s -n $((64 * 512)) -i $((2048 * 512)):0 "$tmp/img0" "$tmp/pat" &&
	   cmp -s -n $((2048 * 512)) "$tmp/img0" "$tmp/before" &&
	   cmp -s -i $((2112 * 512)) "$tmp/img0" "$tmp/before"; then
		echo "ok: $name: blk-fill lba=2048 n=64 byte=171 is in the image file, nothing else changed"
	else
		fail "$name: blk-fill did not land in the image file"
	fi
	head -c $((300 * 512)) /dev/urandom >"$tmp/rnd"
	dd if="$tmp/rnd" of="$tmp/img0" bs=512 seek=5000 conv=notrunc status=none
	want=$(file_crc "$tmp/img0" 5000 300)
	run 'blk-crc lba=5000 n=300'
	if [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ]; then
		echo "ok: $name: blk-crc of bytes written into the file: crc32=$want (zlib CRC-32, lowercase)"
	else
		fail "$name: blk-crc lba=5000 n=300: want crc32=$want"
	fi
	# dev=1 is the second disk, and only it
	cp "$tmp/img0" "$tmp/before"
	run 'blk-fill lba=0 n=8 byte=90 dev=1; blk-crc lba=0 n=8 dev=1'
	if [ "$rc" = 0 ] && [ "$(tail -n 1 "$tmp/out")" = "crc32=$(file_crc "$tmp/img1" 0 8)" ] &&
	   [ "$(od -An -tx1 -N1 "$tmp/img1" | tr -d ' ')" = 5a ] && cmp -s "$tmp/img0" "$tmp/before"; then
		echo "ok: $name: dev=1 selects the second disk"
	else
		fail "$name: dev=1"
	fi
	# WRITE_ZEROES lands in the file, exactly; DISCARD and FLUSH succeed; GET_ID
	run 'blk-fill lba=4000 n=64 byte=9; blk-zero lba=4010 n=20; blk-zero lba=4040 n=8 unmap=1; blk-discard lba=4050 n=8; blk-flush; blk-id'
	if [ "$rc" = 0 ] && cmp -s -n $((20 * 512)) -i $((4010 * 512)):0 "$tmp/img0" /dev/zero &&
	   cmp -s -n $((8 * 512)) -i $((4040 * 512)):0 "$tmp/img0" /dev/zero &&
	   [ "$(od -An -tx1 -j $((4009 * 512 + 511)) -N1 "$tmp/img0" | tr -d ' ')" = 09 ] &&
	   [ "$(od -An -tx1 -j $((4030 * 512)) -N1 "$tmp/img0" | tr -d ' ')" = 09 ] &&
	   grep -q '^blk-flush: ok$' "$tmp/out" && grep -q '^blk-id: serial=[ -~]*$' "$tmp/out" &&
	   grep -q '^blk-discard: 8 sectors at 4050 in 1 request$' "$tmp/out"; then
		echo "ok: $name: blk-zero zeroes exactly its sectors in the file; discard, flush, $(grep '^blk-id' "$tmp/out")"
	else
		fail "$name: blk-zero / blk-discard / blk-flush / blk-id"
	fi

	run 'blk-crc lba=65530 n=7'
	if [ "$rc" = 1 ] && grep -q 'past the disk end' "$tmp/out"; then
		echo "ok: $name: blk-crc past the end: exit 1"
	else
		fail "$name: blk-crc past the end"
	fi

	# --- verify and benchmarks ---------------------------------------------------------------
	run 'blk-verify secs=1 qd=16'
	if [ "$rc" = 0 ] && grep -q '^blk-verify: 8192 blocks of 4096 bytes, [0-9]* pass.*, 0 mismatches$' "$tmp/out"; then
		echo "ok: $name: $(cat "$tmp/out")"
	else
		fail "$name: blk-verify"
	fi
	# the pattern verify wrote is what the file holds
	want=$(file_crc "$tmp/img0" 0 65536)
	run 'blk-crc lba=0 n=65536'
	if [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ]; then
		echo "ok: $name: the whole disk as the guest reads it equals the image file"
	else
		fail "$name: whole-disk crc vs file ($want)"
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
					echo "ok: $name: blk-bench $rw qd=$qd poll=$poll: iops $(json_num iops), $irqs interrupts"
				else
					fail "$name: blk-bench rw=$rw qd=$qd poll=$poll (poll=1 must see no interrupt, poll=0 some)"
				fi
			done
		done
	done

	# interrupt mode watched from CPL3 with interrupts on (no halt)
	run 'blk-bench rw=randwrite qd=4 secs=1 poll=0 wait=spin'
	if [ "$rc" = 0 ] && grep -q '"poll":0,"wait":"spin"' "$tmp/out" &&
	   [ "$(json_num errors)" = 0 ] && [ "$(json_num irqs)" -gt 0 ]; then
		echo "ok: $name: blk-bench wait=spin: iops $(json_num iops), $(json_num irqs) interrupts"
	else
		fail "$name: blk-bench wait=spin"
	fi

	# MSI-X masking: vmm holds the interrupt pending (PBA bit), sends it on
	# unmask (a back-end may signal more than once: at least one must come)
	run 'blk-msix-mask; blk-crc lba=2048 n=64'
	if [ "$rc" = 0 ] &&
	   grep -q '^blk-msix-mask: masked irqs=0 pba=0x2; unmasked irqs=[1-9][0-9]*$' "$tmp/out"; then
		echo "ok: $name: $(head -n 1 "$tmp/out")"
	else
		fail "$name: blk-msix-mask"
	fi

	# --- vmm's old notification paths: kicks as MMIO exits, interrupts from vmm ---
	for fl in --no-ioeventfd --no-irqfd; do
		if ! "$VMM" --help 2>&1 | grep -q -- "$fl"; then
			echo "note: $name: this vmm has no $fl"
			continue
		fi
		GBLK_EXTRA=("$fl" --stats)
		run 'blk-verify secs=1 blocks=512; blk-bench rw=randread qd=8 secs=1 poll=0'
		GBLK_EXTRA=()
		if [ "$rc" = 0 ] && grep -q '^blk-verify: 512 blocks .*, 0 mismatches$' "$tmp/out" &&
		   [ "$(json_num errors)" = 0 ] && [ "$(json_num irqs)" -gt 0 ] &&
		   { { [ $fl = --no-ioeventfd ] && grep -q '"notify_exits":[1-9]' "$tmp/err"; } ||
		     { [ $fl = --no-irqfd ] && grep -q '"irq_vmm":[1-9]' "$tmp/err"; }; }; then
			echo "ok: $name: vmm $fl: verify and interrupt-mode bench, iops $(json_num iops)"
		else
			fail "$name: vmm $fl"
		fi
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
			echo "ok: $name: blk-evil $c: ${line#blk-evil: }; device usable after reset"
		else
			fail "$name: blk-evil $c: want $expect $extra"
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
}

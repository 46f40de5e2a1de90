#!/bin/bash
# vioblk_lib.sh: helpers and the vioblk suite shared by vioblk_qsd.sh and
# vioblk_vublk.sh (the same checks against qemu-storage-daemon and against
# our own build/vhost-user-blk).  Source it; executed alone it is not a test
# and exits 0 at once.
#
#   vb_init               temp dir $tmp, EXIT trap (kills the back-end by PID)
#   vb_start NAME CMD...  start a back-end serving $tmp/img on $tmp/sock
#   run_suite NAME        verify, corruption reports, bytes in the file,
#                         benchmarks in both modes and ring variants, errors
[[ ${BASH_SOURCE[0]} == "$0" ]] && exit 0
BUILD=${BUILD:-build}
VIOBLK=$BUILD/vioblk
fails=0
be_pid=

vb_init() {
	[ -x "$VIOBLK" ] || { echo "missing $VIOBLK (run make)"; exit 1; }
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-vioblk.XXXXXX")
	trap vb_cleanup EXIT
	truncate -s 32M "$tmp/img"
}

vb_cleanup() {
	if [ -n "$be_pid" ]; then
		kill "$be_pid" 2>/dev/null
		wait "$be_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}

# vb_start NAME CMD...: run CMD in the background, wait for $tmp/sock.
vb_start() {
	local name=$1; shift
	"$@" >"$tmp/be.log" 2>&1 </dev/null &
	be_pid=$!
	if ! wait_socket; then
		echo "FAIL: $name did not create its socket:"; cat "$tmp/be.log"
		exit 1
	fi
}

vb_finish() {
	if [ -n "$be_pid" ] && ! kill -0 "$be_pid" 2>/dev/null; then
		echo "FAIL: the back-end died during the test:"; cat "$tmp/be.log"
		fails=$((fails + 1))
	fi
	if [ $fails -ne 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all vioblk checks passed"
	exit 0
}

fail() {
	echo "FAIL: $*"
	[ -f "$tmp/out" ] && sed 's/^/  | /' "$tmp/out"
	[ -f "$tmp/err" ] && sed 's/^/  ! /' "$tmp/err"
	fails=$((fails + 1))
}

# vb ARGS...: run vioblk on the current socket; rc, $tmp/out, $tmp/err.
vb() {
	timeout -k 5 60 "$VIOBLK" --socket "$tmp/sock" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# json_num KEY: the number after "KEY": in $tmp/out.
json_num() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$tmp/out" | head -n 1
}

# listening PATH: a unix socket is bound at PATH and accepting (flag
# __SO_ACCEPTCON in /proc/net/unix); the file alone appears before listen().
listening() {
	[ -S "$1" ] && grep -q " 00010000 0001 01 [0-9]* $1\$" /proc/net/unix
}

# wait_socket: up to 10 s for the back-end's socket (bounded poll, not a sleep).
wait_socket() {
	local i
	for i in $(seq 1 100); do
		listening "$tmp/sock" && return 0
		kill -0 "$be_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# file_crc OFFSET LEN: CRC-32 of the image bytes (gzip's trailer holds it).
file_crc() {
	dd if="$tmp/img" bs=512 skip=$(($1 / 512)) count=$(($2 / 512)) status=none |
		gzip -c | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n'
}

run_suite() {
	local name=$1 mib=32 n

	# 1. verify over the whole disk.
	vb verify --qd 16
	if [ "$rc" = 0 ] && [ "$(json_num verified_blocks)" = $((mib * 256)) ] &&
	   [ "$(json_num mismatches)" = 0 ]; then
		echo "ok: $name: verify of $mib MiB ($(json_num verified_blocks) blocks)"
	else
		fail "$name: verify (exit $rc)"
	fi
	# The verify pattern went to the file: the back-end reads back what the
	# file holds, checked from both ends with one CRC-32.
	vb crc --offset 0 --len $((mib << 20))
	if [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$(file_crc 0 $((mib << 20)))" ]; then
		echo "ok: $name: vioblk's crc of the disk equals the image file's"
	else
		fail "$name: crc of the disk ($(cat "$tmp/out")) vs file ($(file_crc 0 $((mib << 20))))"
	fi

	# 1b. verify finds and reports every corrupted block: write phase,
	# damage two blocks in the file behind the back-end, read phase.
	vb verify --phase write --seed 42 --size 1M --qd 8
	if [ "$rc" = 0 ]; then
		printf 'X' | dd of="$tmp/img" bs=1 seek=$((3 * 4096 + 100)) conv=notrunc status=none
		printf 'YY' | dd of="$tmp/img" bs=1 seek=$((200 * 4096 + 4094)) conv=notrunc status=none
		vb verify --phase read --seed 42 --size 1M --qd 8
		if [ "$rc" = 1 ] && [ "$(grep -c 'mismatch at block' "$tmp/err")" = 2 ] &&
		   grep -q 'mismatch at block 3 (byte offset 12288)' "$tmp/err" &&
		   grep -q 'mismatch at block 200 (byte offset 819200)' "$tmp/err" &&
		   [ "$(json_num mismatches)" = 2 ] && [ "$(json_num verified_blocks)" = 254 ]; then
			echo "ok: $name: verify reports exactly the two corrupted blocks, exit 1"
		else
			fail "$name: verify --phase read after corrupting blocks 3 and 200 (exit $rc)"
		fi
	else
		fail "$name: verify --phase write (exit $rc)"
	fi

	# 2. Writes land in the image file, byte for byte, and nowhere else.
	head -c 65536 /dev/zero | tr '\0' '\253' >"$tmp/pat"
	cp "$tmp/img" "$tmp/before"
	vb fill --offset 1M --len 64k --byte 171
	if [ "$rc" = 0 ] && cmp -s -n 65536 -i 1048576:0 "$tmp/img" "$tmp/pat" &&
	   cmp -s -n 1048576 "$tmp/img" "$tmp/before" &&
	   cmp -s -i $((1048576 + 65536)) "$tmp/img" "$tmp/before"; then
		echo "ok: $name: fill wrote 64 KiB of 0xab at 1 MiB into the file, nothing else"
	else
		fail "$name: fill did not land in the image file as written"
	fi

	# 2b. WRITE_ZEROES zeroes exactly its range in the file; DISCARD leaves
	# everything outside its range alone; FLUSH and GET_ID answer.
	vb fill --offset 1M --len 1M --byte 7
	cp "$tmp/img" "$tmp/before"
	vb write-zeroes --offset 1M --len 64k
	if [ "$rc" = 0 ] && cmp -s -n 65536 -i 1048576:0 "$tmp/img" /dev/zero &&
	   cmp -s -n 1048576 "$tmp/img" "$tmp/before" &&
	   cmp -s -i $((1048576 + 65536)) "$tmp/img" "$tmp/before"; then
		echo "ok: $name: write-zeroes zeroed exactly 64 KiB at 1 MiB in the file"
	else
		fail "$name: write-zeroes (exit $rc)"
	fi
	cp "$tmp/img" "$tmp/before"
	vb write-zeroes --offset 1536k --len 256k --unmap
	rc1=$rc
	vb discard --offset 1280k --len 64k
	if [ "$rc1" = 0 ] && [ "$rc" = 0 ] &&
	   cmp -s -n $((256 * 1024)) -i $((1536 * 1024)):0 "$tmp/img" /dev/zero; then
		if cmp -s -n $((1280 * 1024)) "$tmp/img" "$tmp/before" &&
		   cmp -s -i $((1792 * 1024)) "$tmp/img" "$tmp/before"; then
			echo "ok: $name: write-zeroes --unmap reads back zeroes; discard touched nothing outside its range"
		else
			fail "$name: discard / write-zeroes --unmap changed bytes outside their ranges"
		fi
	else
		fail "$name: write-zeroes --unmap (exit $rc1) / discard (exit $rc)"
	fi
	vb flush
	rc1=$rc
	vb id
	if [ "$rc1" = 0 ] && [ "$rc" = 0 ] &&
	   grep -q '^{"tool":"vioblk","rw":"id","serial":"[ -~]*"}$' "$tmp/out"; then
		echo "ok: $name: flush; id $(cat "$tmp/out")"
	else
		fail "$name: flush (exit $rc1) / id (exit $rc)"
	fi

	# 3. Bytes put into the file are what a read returns.
	head -c 8192 /dev/urandom >"$tmp/rnd"
	dd if="$tmp/rnd" of="$tmp/img" bs=4096 seek=100 conv=notrunc status=none
	vb crc --offset $((100 * 4096)) --len 8192
	want=$(gzip -c "$tmp/rnd" | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n')
	if [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "crc32=$want" ]; then
		echo "ok: $name: reads return the file's bytes (crc32=$want)"
	else
		fail "$name: read of bytes written into the file: $(cat "$tmp/out"), want $want"
	fi

	# 4. Benchmarks run, in both modes, and report sane JSON.
	for mode in randread randwrite; do
		for poll in "" --poll; do
			vb "$mode" --secs 1 --qd 8 $poll
			n=$(json_num ios)
			if [ "$rc" = 0 ] && grep -q "^{\"tool\":\"vioblk\",\"rw\":\"$mode\",\"bs\":4096,\"qd\":8," "$tmp/out" &&
			   [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$(json_num errors)" = 0 ]; then
				echo "ok: $name: $mode ${poll:-irq}: $n I/Os, iops $(json_num iops)"
			else
				fail "$name: $mode ${poll:-irq} (exit $rc)"
			fi
		done
	done
	# The other ring paths: 3-descriptor chains, flag-based suppression.
	vb verify --qd 16 --size 4M --no-indirect --no-event-idx
	if [ "$rc" = 0 ] && [ "$(json_num verified_blocks)" = 1024 ] && [ "$(json_num mismatches)" = 0 ]; then
		echo "ok: $name: verify without INDIRECT_DESC and EVENT_IDX"
	else
		fail "$name: verify --no-indirect --no-event-idx (exit $rc)"
	fi
	for poll in "" --poll; do
		vb randread --secs 1 --qd 8 --no-indirect --no-event-idx $poll
		if [ "$rc" = 0 ] && grep -q '"event_idx":0,"indirect":0}' "$tmp/out" &&
		   [ "$(json_num ios)" -gt 0 ] && [ "$(json_num errors)" = 0 ]; then
			echo "ok: $name: randread ${poll:-irq} without INDIRECT_DESC/EVENT_IDX: iops $(json_num iops)"
		else
			fail "$name: randread ${poll:-irq} --no-indirect --no-event-idx (exit $rc)"
		fi
	done

	# randwrite must not have written outside --size.
	cp "$tmp/img" "$tmp/before"
	vb randwrite --secs 1 --qd 4 --size 1M --bs 512
	if [ "$rc" = 0 ] && cmp -s -i 1048576 "$tmp/img" "$tmp/before"; then
		echo "ok: $name: randwrite --size 1M --bs 512 stays inside the first MiB"
	else
		fail "$name: randwrite --size 1M wrote past 1 MiB (exit $rc)"
	fi

	# 5. Errors: disk too small is exit 4 with a message.
	vb randread --size 1G
	if [ "$rc" = 4 ] && grep -q "disk too small" "$tmp/err"; then
		echo "ok: $name: --size past the disk: exit 4"
	else
		fail "$name: --size past the disk: exit $rc, want 4"
	fi
}


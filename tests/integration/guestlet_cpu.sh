#!/bin/bash
# guestlet's CPU plumbing under vmm: a deliberate triple fault from CPL0 makes
# vmm exit 125 with its message; CPU exceptions at CPL3 reach guestlet's IDT
# handler, which names the vector, error code and RIP and exits 3; self-IPIs
# travel the whole interrupt path (LAPIC, IDT, rsp0 stack, EOI, iretq) both
# while halted and while CPL3 code runs, to a C handler and to a count-only
# vector; and each notification doorbell of the
# test device is counted by vmm exactly as often as the guest rings it.
set -u
BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet
for f in "$VMM" "$GUEST"; do [ -f "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
# shellcheck source=tests/integration/kvm_lib.sh
. "$(dirname "$0")/kvm_lib.sh"
kvm_need

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-guestlet-cpu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

run() {	# CMDLINE [vmm args...]: sets rc; output in $tmp/out, $tmp/err
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

# Address of a symbol in the guest image (for checking the reported RIP).
sym() { nm "$GUEST" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }

# --- triple fault --------------------------------------------------------------
run 'echo going down; triple-fault; echo not reached'
if [ "$rc" = 125 ] && [ "$(cat "$tmp/out")" = "going down" ] &&
   grep -q '^vmm: .*triple fault' "$tmp/err"; then
	echo "ok: triple-fault -> 125: $(grep triple "$tmp/err")"
else
	fail "triple-fault: want exit 125, 'going down' only, and vmm's triple fault message"
fi

# --- exceptions ----------------------------------------------------------------
# fault KIND -> vector, error code; the RIP must be inside cmd_fault.
check_fault() {
	local kind=$1 vec=$2 err=$3 name=$4
	run "echo before; fault $kind; echo not reached"
	local line; line=$(sed -n 2p "$tmp/out")
	local re="^guestlet: exception $vec error $err at RIP (0x[0-9a-f]+)$"
	if [ "$rc" != 3 ] || [ "$(sed -n 1p "$tmp/out")" != before ] || ! [[ $line =~ $re ]]; then
		fail "fault $kind: want exit 3 and 'guestlet: exception $vec error $err at RIP ...'"
		return
	fi
	local rip=$((BASH_REMATCH[1])) lo hi
	lo=$(($(sym cmd_fault))); hi=$(($(sym cmd_info)))
	if [ -z "$(sym cmd_fault)" ] || [ "$rip" -lt "$lo" ] || [ "$rip" -ge "$hi" ]; then
		fail "fault $kind: RIP $(printf %#x "$rip") not in cmd_fault [$(sym cmd_fault), $(sym cmd_info))"
		return
	fi
	if ! sed -n 3p "$tmp/out" | grep -q "^guestlet: $name cs 0x23 "; then
		fail "fault $kind: third line should name $name and user code segment 0x23"
		return
	fi
	echo "ok: fault $kind -> $line"
}
# cmd_info must follow cmd_fault in the image for the RIP range check.
if [ $(($(sym cmd_fault))) -ge $(($(sym cmd_info))) ]; then
	echo "FAIL: symbol order changed (cmd_fault after cmd_info); fix the test"; fails=$((fails + 1))
fi
check_fault ud 6 0x0 '#UD'
check_fault gp 13 0x0 '#GP'
check_fault pf 14 0x4 '#PF'	# user-mode read of a not-present page
if ! grep -q ' cr2 0x1000001000$' "$tmp/out"; then
	fail "fault pf: CR2 should be 0x1000001000 (just past the 64 GiB identity map)"
fi
run 'fault xx'
if [ "$rc" = 2 ] && [ "$(cat "$tmp/out")" = "guestlet: fault: want ud, pf or gp, not 'xx'" ]; then
	echo "ok: fault with a bad kind -> 2"
else
	fail "fault xx: want exit 2 and a message"
fi

# --- interrupts ----------------------------------------------------------------
run 'irq-selftest; irq-selftest; echo done'
# Each run: vector 48 with a C handler (halted and polled deliveries, 22 in
# all), vector 49 count-only (20 deliveries); both freed, so the second run
# gets the same vectors.
if [ "$rc" = 0 ] && [ "$(grep -c '^irq-selftest: ok, vector 48, 2 interrupts' "$tmp/out")" = 2 ] &&
   [ "$(grep -Ec '^irq-selftest: self-IPI round trip: handler [0-9]+ ns, count-only vector 49 [0-9]+ ns$' "$tmp/out")" = 2 ] &&
   [ "$(tail -n 1 "$tmp/out")" = done ]; then
	echo "ok: irq-selftest twice (vector freed and reused): $(head -n 1 "$tmp/out")"
else
	fail "irq-selftest"
fi

# --- notification doorbells: vmm's counts match what the guest rang ------------
stat() {	# NAME: a counter from vmm's --stats JSON line on stderr
	grep -o "\"$1\":[0-9]*" "$tmp/err" | head -n 1 | cut -d: -f2
}
n=257
run "bench-exits n=$n" --stats
if [ "$rc" != 0 ]; then
	fail "bench-exits n=$n"
else
	ok=1
	for mode in mmio-exit mmio-ioeventfd pio-ioeventfd; do
		if ! grep -Eq "^\{\"bench\":\"exits\",\"mode\":\"$mode\",\"n\":$n,\"ns_per_op\":[0-9]+\}$" "$tmp/out"; then
			ok=0; fail "bench-exits: no well-formed JSON line for $mode"
		fi
	done
	for c in mmio_exit mmio_ioeventfd pio_ioeventfd; do
		if [ "$(stat "$c")" != "$n" ]; then
			ok=0; fail "vmm counted $(stat "$c") $c doorbells, the guest rang $n"
		fi
	done
	if [ "$(stat pio_exit)" != 0 ]; then
		ok=0; fail "PIO doorbell exited to vmm $(stat pio_exit) times (should all go to the ioeventfd)"
	fi
	[ $ok = 1 ] && echo "ok: bench-exits n=$n: vmm counted $n of each doorbell"
fi

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet cpu checks passed"

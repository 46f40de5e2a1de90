#!/bin/bash
# guestlet booted by vmm: the command line reaches the guest, commands run in
# order, serial output arrives byte for byte on vmm's stdout, and the exit
# status the guest writes to the debug-exit port is vmm's exit status.
# Bad commands and arguments end the guest with status 2 and a message.
set -u
BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet
for f in "$VMM" "$GUEST"; do [ -x "$f" ] || [ -f "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
# shellcheck source=tests/integration/kvm_lib.sh
. "$(dirname "$0")/kvm_lib.sh"
kvm_need

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-guestlet.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

# run CMDLINE [vmm args...]: boots guestlet; sets rc, output in $tmp/out, $tmp/err.
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

# expect DESCRIPTION CMDLINE STATUS EXPECTED_STDOUT [VMM ARGS...]
# (EXPECTED_STDOUT is a printf format and must match exactly)
expect() {
	local what=$1 cmdline=$2 status=$3 want=$4
	shift 4
	run "$cmdline" "$@"
	# shellcheck disable=SC2059
	printf -- "$want" >"$tmp/want"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail "$what: vmm timed out (cmdline '$cmdline')"
	elif [ "$rc" != "$status" ]; then
		fail "$what: exit status $rc, want $status (cmdline '$cmdline')"
	elif ! cmp -s "$tmp/want" "$tmp/out"; then
		fail "$what: stdout differs (cmdline '$cmdline'); want:
$(sed 's/^/  > /' "$tmp/want")"
	else
		echo "ok: $what"
	fi
}

expect "echo" 'echo hello world' 0 'hello world\n'
expect "echo keeps inner spaces, trims outer ones" '  echo   a  b   c   ' 0 'a  b   c\n'
expect "echo without text prints an empty line" 'echo' 0 '\n'
expect "echo punctuation" 'echo {"k":[1,2]} = 100% ok!' 0 '{"k":[1,2]} = 100%% ok!\n'
expect "empty command line" '' 0 ''
expect "only separators and spaces" ' ; ;;  ; ' 0 ''
expect "several commands in order" 'echo one;echo two ; echo three' 0 'one\ntwo\nthree\n'
expect "empty commands are skipped" ';;echo a;; ;echo b;' 0 'a\nb\n'
for s in 0 1 2 7 42 100 128 254 255; do
	expect "exit $s" "exit $s" "$s" ''
done
expect "exit after output, later commands not run" 'echo before; exit 9; echo after' 9 'before\n'
expect "exit status with leading zeros" 'exit 007' 7 ''
expect "last command done: exit 0" 'echo x; echo y' 0 'x\ny\n'
expect "unknown command" 'frobnicate now' 2 "guestlet: unknown command 'frobnicate'\n"
expect "unknown command after good ones" 'echo a; nope; echo b' 2 "a\nguestlet: unknown command 'nope'\n"
expect "command names are case-sensitive" 'ECHO hi' 2 "guestlet: unknown command 'ECHO'\n"
expect "exit 256 is refused" 'exit 256' 2 "guestlet: exit: bad status '256' (want 0-255)\n"
expect "exit -1 is refused" 'exit -1' 2 "guestlet: exit: bad status '-1' (want 0-255)\n"
expect "exit without status" 'exit' 2 "guestlet: exit: bad status '' (want 0-255)\n"
expect "exit with junk" 'exit 3x' 2 "guestlet: exit: bad status '3x' (want 0-255)\n"
expect "exit with two numbers" 'exit 1 2' 2 "guestlet: exit: bad status '1 2' (want 0-255)\n"
expect "bench-exits n=0" 'bench-exits n=0' 2 "guestlet: bench-exits: bad count '0' (want n=1..1000000000)\n"
expect "bench-exits unknown key" 'bench-exits m=3' 2 "guestlet: bench-exits: bad argument 'm=3' (want n=N)\n"
expect "triple-fault takes no argument" 'triple-fault now' 2 "guestlet: triple-fault: unexpected argument 'now'\n"

# The longest command line vmm accepts (4095 bytes) arrives whole.
long=$(printf 'x%.0s' $(seq 1 4090))
expect "4095-byte command line" "echo $long" 0 "$long\n"

# Memory size and boot info: the guest sees what vmm was told.
run 'info' --mem 64M
if [ "$rc" = 0 ] && grep -q '^guestlet: mem 64 MiB in 1 regions, cpus 1, tsc_khz [1-9]' "$tmp/out" &&
   grep -q '^guestlet: ram 0x0-0x4000000$' "$tmp/out" &&
   grep -q '^guestlet: heap 0x[0-9a-f]*-0x4000000$' "$tmp/out"; then
	echo "ok: boot info (--mem 64M): $(head -n 1 "$tmp/out")"
else
	fail "boot info with --mem 64M"
fi

# The allocator drivers will use: alignment, zeroing, exact exhaustion.
expect "alloc-selftest (uses up the heap)" 'alloc-selftest' 0 \
	'alloc-selftest: ok, heap ended at 0x8000000\n' --mem 128M

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all guestlet boot checks passed"

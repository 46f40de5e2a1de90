#!/bin/bash
# vmm's serial console input, with guestlet's serial-echo (each line that
# comes in on COM1 printed back as "serial: LINE", until "end"):
#   pipe      bytes piped into vmm reach the guest as they are, more lines
#             than the UART's receive buffer holds, none lost, in order
#   file      the same from a regular file on stdin
#   terminal  vmm on a pseudo-terminal (script(1)): the terminal goes raw, so
#             a typed line ends in CR and reaches the guest without local
#             echo; Ctrl-A Ctrl-A types one Ctrl-A; Ctrl-A x quits vmm with
#             status 130; the terminal's settings are as before afterwards
set -u
BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet
for f in "$VMM" "$GUEST"; do [ -x "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
# shellcheck source=tests/integration/kvm_lib.sh
. "$(dirname "$0")/kvm_lib.sh"
kvm_need
command -v script >/dev/null || { echo "script(1) not installed (util-linux)" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-console.XXXXXX")
spid=
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
no() { echo "FAIL: $*"; fails=$((fails + 1)); }

# --- pipe ----------------------------------------------------------------------
for i in $(seq 1 40); do printf 'line %02d of forty, padded to be long\n' "$i"; done >"$tmp/in"
echo end >>"$tmp/in"
cat "$tmp/in" | timeout 60 "$VMM" --kernel "$GUEST" --cmdline "serial-echo; echo after" >"$tmp/pipe.out" 2>&1
rc=$?
[ $rc = 0 ] || no "pipe: vmm exited $rc: $(tail -n 3 "$tmp/pipe.out")"
sed -n 's/^serial: //p' "$tmp/pipe.out" | tr -d '\r' >"$tmp/got"
head -n 40 "$tmp/in" | cmp -s - "$tmp/got" || no "pipe: the guest got $(wc -l <"$tmp/got") of 40 lines, or not as sent"
grep -q '^after' "$tmp/pipe.out" || no "pipe: the guest did not go on after 'end'"
echo "pipe: $(wc -l <"$tmp/got") lines ($(wc -c <"$tmp/in") bytes) through a 256-byte buffer"

# --- a regular file --------------------------------------------------------------
timeout 60 "$VMM" --kernel "$GUEST" --cmdline "serial-echo; echo after" <"$tmp/in" >"$tmp/file.out" 2>&1
rc=$?
[ $rc = 0 ] || no "file: vmm exited $rc: $(tail -n 3 "$tmp/file.out")"
sed -n 's/^serial: //p' "$tmp/file.out" | tr -d '\r' | cmp -s - "$tmp/got" ||
	no "file: the guest did not get the file's 40 lines as they are"

# --- terminal ------------------------------------------------------------------
coproc S { script -qefc "stty -g >'$tmp/before'; '$VMM' --kernel '$GUEST' --cmdline serial-echo; echo vmm-status=\$?; stty -g >'$tmp/after'" /dev/null; }
spid=$S_PID
out=$tmp/tty.out
: >"$out"
# Lines from the terminal until one has $1 (bounded: 30 s without output).
upto() {
	local l
	while IFS= read -r -t 30 -u "${S[0]}" l; do
		printf '%s\n' "$l" >>"$out"
		case $l in *"$1"*) return 0 ;; esac
	done
	return 1
}
if ! upto "serial-echo: ready"; then
	no "terminal: the guest never started: $(tail -n 3 "$out")"
else
	# Raw: CR ends the line, nothing echoed locally, Ctrl-A Ctrl-A is one Ctrl-A.
	printf 'typed\001\001A\r' >&"${S[1]}"
	upto "serial: typed" || no "terminal: the typed line did not reach the guest"
	grep -q "$(printf 'serial: typed\001A')" "$out" || no "terminal: Ctrl-A Ctrl-A did not become one Ctrl-A"
	[ "$(grep -c typed "$out")" = 1 ] || no "terminal: the input was echoed by the terminal too"
	printf '\001x' >&"${S[1]}"
	upto "vmm-status=" || no "terminal: Ctrl-A x did not end vmm"
	grep -q "vmm-status=130" "$out" || no "terminal: vmm's status after Ctrl-A x: $(grep -a vmm-status "$out")"
	wait "$spid" 2>/dev/null
	spid=
	[ -s "$tmp/before" ] && cmp -s "$tmp/before" "$tmp/after" ||
		no "terminal: settings not restored ($(cat "$tmp/before") -> $(cat "$tmp/after" 2>/dev/null))"
fi
[ $fails = 0 ] || { echo "--- terminal session ---"; cat -A "$out" | tail -n 20; exit 1; }
echo "vmm_console: piped and typed input reach the guest; Ctrl-A x quits; the terminal is restored"

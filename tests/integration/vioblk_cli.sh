#!/bin/bash
# vioblk's command line and setup errors, no back-end needed: a missing
# socket and a path that is not a socket are exit 3, usage errors exit 2 with
# a message, --help documents the exit statuses.
set -u
# shellcheck source=tests/integration/vioblk_lib.sh
. "$(dirname "$0")/vioblk_lib.sh"
vb_init
vb randread
if [ "$rc" = 3 ] && grep -q "is the back-end running" "$tmp/err"; then
	echo "ok: missing socket: exit 3"
else
	fail "missing socket: exit $rc, want 3"
fi
: >"$tmp/sock.txt"
timeout 10 "$VIOBLK" --socket "$tmp/sock.txt" randread >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" = 3 ] && grep -q "cannot connect" "$tmp/err"; then
	echo "ok: a path that is not a socket: exit 3"
else
	fail "a path that is not a socket: exit $rc, want 3"
fi
for bad in "--bs 100 randread" "--qd 0 randread" "frob" "" "--bs 4k" "--phase read verify" "--phase x verify"; do
	# shellcheck disable=SC2086
	timeout 10 "$VIOBLK" --socket "$tmp/sock" $bad >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 2 ] && [ -s "$tmp/err" ]; then
		echo "ok: usage error '$bad': exit 2"
	else
		fail "usage error '$bad': exit $rc, want 2"
	fi
done
if "$VIOBLK" --help | grep -q "exit status"; then
	echo "ok: --help documents the exit statuses"
else
	fail "--help"
fi

vb_finish

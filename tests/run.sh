#!/bin/bash
# vioplane test runner: runs every unit test program, every integration test
# script and a short smoke run of every fuzz harness, each under `timeout`.
# Exit status per test: 0 pass, 77 skip (the test says why on stderr), else fail.
# The last line is always "N passed, N failed, N skipped".
#
#   tests/run.sh [PATTERN...]   run only tests whose name contains a PATTERN
# env: BUILD (build dir, default build), TEST_TIMEOUT (default 300 s),
#      FUZZ_SECS (smoke fuzz time per harness, default 10), VERBOSE=1 (show all output)
set -u
cd "$(dirname "$0")/.."
BUILD=$(realpath "${BUILD:-build}")
export BUILD
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
FUZZ_SECS=${FUZZ_SECS:-10}
export FUZZ_SECS
LOGDIR=$BUILD/test-logs
rm -rf "$LOGDIR"; mkdir -p "$LOGDIR"

pass=0 fail=0 skip=0 failed=()

want() {
	[ $# -eq 0 ] && return 0
	local n=$1; shift
	for p in "${PATTERNS[@]}"; do [[ $n == *"$p"* ]] && return 0; done
	return 1
}
PATTERNS=("$@")

run_one() {	# name, command...
	local name=$1; shift
	[ ${#PATTERNS[@]} -eq 0 ] || want "$name" || return 0
	local log=$LOGDIR/${name//\//_}.log t0 t1 rc
	t0=$(date +%s.%N)
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	t1=$(date +%s.%N)
	local dt; dt=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS  %-44s %6ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-44s %6ss  %s\n' "$name" "$dt" "$(tail -n 1 "$log")" ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    [ $rc = 124 ] && echo "(timed out after ${TEST_TIMEOUT}s)" >>"$log"
	    printf 'FAIL  %-44s %6ss  (exit %d, log %s)\n' "$name" "$dt" "$rc" "$log"
	    tail -n 25 "$log" | sed 's/^/    | /' ;;
	esac
	[ "${VERBOSE:-0}" = 1 ] && sed 's/^/    > /' "$log"
	return 0
}

for t in "$BUILD"/tests/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	case $t in *_lib.sh|*/lib.sh) continue ;; esac	# sourced helpers, not tests
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done
for t in "$BUILD"/fuzz/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=$(basename "$t")
	run_one "fuzz/$n" tests/fuzz/run.sh "$t" "$FUZZ_SECS"
done

if [ $fail -gt 0 ]; then
	echo "failed: ${failed[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

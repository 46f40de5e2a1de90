#!/bin/sh
# Run one libFuzzer harness for SECS seconds over its checked-in seed corpus
# (tests/fuzz/corpus/NAME).  New inputs go to a scratch folder that is removed
# afterwards, so the checked-in corpus only changes on purpose.  Any crash, leak,
# UB report or input slower than 10 s fails the run (libFuzzer exits non-zero).
#   tests/fuzz/run.sh BUILD/fuzz/NAME SECS
set -eu
bin=$1 secs=${2:-10}
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
seeds=$here/corpus/$name
work=$(mktemp -d "${TMPDIR:-/tmp}/vp-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/new" "$work/art"
set -- "$work/new"
[ -d "$seeds" ] && set -- "$@" "$seeds"
rc=0
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/art/" "$@" >"$work/log" 2>&1 || rc=$?
tail -n 40 "$work/log"
if [ -n "$(ls -A "$work/art")" ]; then
	for a in "$work"/art/*; do
		echo "fuzz/$name: failing input $(basename "$a"):"; od -A x -t x1z "$a" | head -20
	done
	exit 1
fi
exit $rc

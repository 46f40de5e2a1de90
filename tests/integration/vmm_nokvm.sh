#!/bin/bash
# A machine without KVM, or with something else at /dev/kvm, in a private
# mount namespace whose /dev is an empty tmpfs (the real /dev is untouched):
#   absent      vmm exits 1 with "cannot open /dev/kvm: No such file or
#               directory"; the tests' probe (kvm_lib.sh) exits 77 saying so
#               and does not create /dev/kvm (an earlier probe's `3<>` did)
#   not KVM     /dev/kvm a regular file: vmm exits 1 with "/dev/kvm is not
#               the KVM device" (not a bogus API version); the probe exits 77
# Runs whether or not this machine has KVM.
set -u
BUILD=${BUILD:-build}
VMM=$(realpath "$BUILD/vmm")
GUEST=$(realpath "$BUILD/guestlet")
for f in "$VMM" "$GUEST"; do [ -x "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "needs root (a mount namespace of its own)" >&2; exit 77; }
unshare -m true 2>/dev/null || { echo "cannot make a mount namespace here (unshare -m)" >&2; exit 77; }
LIB=$(realpath "$(dirname "$0")/kvm_lib.sh")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-nokvm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
no() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The namespace's script: prints "CASE rc=N" lines and the messages.
cat >"$tmp/inner.sh" <<INNER
set -u
mount --make-rprivate / && mount -t tmpfs vp-nokvm /dev || exit 99
mknod -m 666 /dev/null c 1 3
for c in absent notkvm; do
	[ \$c = notkvm ] && : >/dev/kvm
	"$VMM" --kernel "$GUEST" --cmdline "exit 0" </dev/null >"$tmp/\$c.out" 2>"$tmp/\$c.err"
	echo "\$c vmm rc=\$?"
	( . "$LIB"; kvm_need ) 2>"$tmp/\$c.probe"
	echo "\$c probe rc=\$?"
	echo "\$c after: \$( [ -e /dev/kvm ] && stat -c %F /dev/kvm || echo none)"
done
INNER
unshare -m bash "$tmp/inner.sh" >"$tmp/res" 2>"$tmp/inner.err"
rc=$?
[ $rc = 0 ] || { cat "$tmp/inner.err"; echo "the namespace script failed (status $rc)"; exit 1; }
res=$(cat "$tmp/res")
want() { grep -qxF "$1" <<<"$res" || no "want '$1' in: $(tr '\n' ';' <<<"$res")"; }
has() {	# file substring
	grep -qF "$2" "$tmp/$1" || no "$1: want '$2', got: $(cat "$tmp/$1")"
}

want "absent vmm rc=1"
has absent.err "vmm: cannot open /dev/kvm: No such file or directory"
want "absent probe rc=77"
has absent.probe "no /dev/kvm on this machine"
want "absent after: none"
[ -s "$tmp/absent.out" ] && no "absent: vmm wrote to stdout: $(cat "$tmp/absent.out")"

want "notkvm vmm rc=1"
has notkvm.err "vmm: /dev/kvm is not the KVM device (KVM_GET_API_VERSION: "
grep -q "API version -1" "$tmp/notkvm.err" && no "notkvm: vmm still reports a bogus API version"
want "notkvm probe rc=77"
has notkvm.probe "/dev/kvm is not a character device"
want "notkvm after: regular empty file"

[ -e /dev/kvm ] && [ ! -c /dev/kvm ] && no "the real /dev/kvm is now a $(stat -c %F /dev/kvm)"
if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "vmm_nokvm: both cases refused clearly, the probe creates nothing"

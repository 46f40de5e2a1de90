#!/bin/bash
# vmm refuses bad input with exactly one line on stderr ("vmm: ...") and exit
# status 1, without opening /dev/kvm (checked with strace) and without output on
# stdout: missing/unreadable files, non-ELF, truncated, 32-bit and non-x86 ELF,
# segments outside RAM or on the boot area, bad --mem values, unknown options;
# Linux bzImages that are malformed, too old, 32-bit only, or do not fit with
# their initrd and command line; --initrd with an ELF guest.
set -u
BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guestlet
for f in "$VMM" "$GUEST"; do [ -x "$f" ] || { echo "missing $f (run make)"; exit 1; }; done
command -v strace >/dev/null || { echo "strace not installed (scripts/deps.sh installs it)" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-badinput.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

# le64 VALUE -> 8 raw little-endian bytes on stdout
le64() { local v=$1 i; for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(( (v >> (8*i)) & 255 )))"; done; }
# patch FILE OFFSET BYTES...
patch() { local f=$1 off=$2; shift 2; printf "$@" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none; }
patch64() { le64 "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
rd16() { od -An -t u2 -j "$2" -N 2 "$1" | tr -d ' '; }
rd64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }

# Offset of the first PT_LOAD program header of an ELF64 file.
first_load_phdr() {
	local f=$1 phoff phnum i off
	phoff=$(rd64 "$f" 32); phnum=$(rd16 "$f" 56)
	for ((i = 0; i < phnum; i++)); do
		off=$((phoff + i * 56))
		[ "$(od -An -t u4 -j "$off" -N 4 "$f" | tr -d ' ')" = 1 ] && { echo $off; return; }
	done
	echo "no PT_LOAD in $f" >&2; exit 1
}

expect_err() {	# description, expected stderr substring, vmm args...
	local what=$1 want=$2; shift 2
	local out=$tmp/out err=$tmp/err trace=$tmp/trace rc
	"$VMM" "$@" >"$out" 2>"$err"
	rc=$?
	# Second run under strace, only to see which files it opens (LeakSanitizer
	# cannot run under ptrace, so it is off for this run in SAN=1 builds).
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=open,openat -o "$trace" \
		"$VMM" "$@" >/dev/null 2>&1
	local lines; lines=$(wc -l <"$err")
	if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q "^vmm: .*$want" "$err" || [ -s "$out" ]; then
		echo "FAIL: $what: rc=$rc, stderr ($lines lines):"; sed 's/^/  | /' "$err"
		[ -s "$out" ] && { echo "  stdout:"; sed 's/^/  | /' "$out"; }
		echo "  wanted exit 1 and one line matching 'vmm: .*$want'"
		fails=$((fails + 1))
		return
	fi
	if grep -q '/dev/kvm' "$trace"; then
		echo "FAIL: $what: opened /dev/kvm before rejecting the input"; fails=$((fails + 1))
		return
	fi
	echo "ok: $what -> $(cat "$err")"
}

ph=$(first_load_phdr "$GUEST")

expect_err "missing file" "cannot open kernel '$tmp/nope': No such file" --kernel "$tmp/nope"
expect_err "directory" "not a regular file" --kernel "$tmp"
echo "hello, I am not an ELF" >"$tmp/text"
expect_err "non-ELF file" "not an ELF file" --kernel "$tmp/text"
: >"$tmp/empty"
expect_err "empty file" "not an ELF file" --kernel "$tmp/empty"
head -c 40 "$GUEST" >"$tmp/trunc-hdr"
expect_err "truncated header" "truncated ELF header" --kernel "$tmp/trunc-hdr"
head -c $((ph + 20)) "$GUEST" >"$tmp/trunc-ph"
expect_err "truncated program headers" "truncated ELF: program headers" --kernel "$tmp/trunc-ph"
seg_off=$(rd64 "$GUEST" $((ph + 8))); seg_filesz=$(rd64 "$GUEST" $((ph + 32)))
if [ "$seg_filesz" -gt 1 ]; then
	head -c $((seg_off + seg_filesz - 1)) "$GUEST" >"$tmp/trunc-seg"
	expect_err "truncated segment" "truncated ELF: segment" --kernel "$tmp/trunc-seg"
fi
cp "$GUEST" "$tmp/elf32"; patch "$tmp/elf32" 4 '\x01'
expect_err "32-bit ELF" "32-bit ELF" --kernel "$tmp/elf32"
cp "$GUEST" "$tmp/arm"; patch "$tmp/arm" 18 '\xb7\x00'
expect_err "non-x86 ELF" "machine 183, need x86-64" --kernel "$tmp/arm"
cp "$GUEST" "$tmp/far"; patch64 "$tmp/far" $((ph + 24)) $((1 << 30))
expect_err "segment outside RAM" "outside guest RAM" --kernel "$tmp/far" --mem 64M
cp "$GUEST" "$tmp/low"; patch64 "$tmp/low" $((ph + 24)) $((0x8000))
expect_err "segment on the boot info" "overlaps the boot area" --kernel "$tmp/low"
expect_err "--mem 0" "too small" --kernel "$GUEST" --mem 0
expect_err "--mem garbage" "not a size" --kernel "$GUEST" --mem lots
expect_err "--mem beyond what can be mapped" "larger than" --kernel "$GUEST" --mem 100T
expect_err "--mem overflowing" "larger than" --kernel "$GUEST" --mem 99999999999999999999G
expect_err "unknown option" "unknown option '--frobnicate'" --kernel "$GUEST" --frobnicate
expect_err "missing option value" "'--mem' needs a value" --kernel "$GUEST" --mem
expect_err "no kernel" "no guest image" --mem 64M
expect_err "too many cpus" "--cpus 9: need 1..8 vCPUs" --kernel "$GUEST" --cpus 9
expect_err "cmdline too long" "at most 4095" --kernel "$GUEST" --cmdline "$(head -c 5000 /dev/zero | tr '\0' a)"

# A bzImage header as Linux 6.1 builds it (setup 4 sectors, protocol 2.15,
# 64-bit entry, runs at 16 MiB in 32 MiB, command line up to 2047 bytes).
bz=$tmp/bzImage
head -c 8192 /dev/zero >"$bz"
patch "$bz" $((0x1f1)) '\x03'
patch "$bz" $((0x1fe)) '\x55\xaa\xeb\x6aHdrS'
patch "$bz" $((0x206)) '\x0f\x02'
patch "$bz" $((0x236)) '\x03\x00\xff\x07\x00\x00'
patch64 "$bz" $((0x258)) $((0x1000000))
patch64 "$bz" $((0x260)) $((0x2000000))
cp "$bz" "$tmp/bz-old"; patch "$tmp/bz-old" $((0x206)) '\x0b\x02'
expect_err "bzImage protocol 2.11" "protocol 2.11 is too old" --kernel "$tmp/bz-old"
cp "$bz" "$tmp/bz-32"; patch "$tmp/bz-32" $((0x236)) '\x02'
expect_err "bzImage without a 64-bit entry" "no 64-bit entry point" --kernel "$tmp/bz-32"
head -c 1024 "$bz" >"$tmp/bz-trunc"
expect_err "bzImage cut inside its setup code" "truncated bzImage" --kernel "$tmp/bz-trunc"
cp "$bz" "$tmp/bz-flag"; patch "$tmp/bz-flag" $((0x1fe)) '\x00\x00'
expect_err "bzImage boot flag" "boot flag is 0x0000" --kernel "$tmp/bz-flag"
expect_err "bzImage in too little RAM" "needs at least 48M of guest RAM" --kernel "$bz" --mem 40M
head -c $((20 << 20)) /dev/zero >"$tmp/initrd"
expect_err "initrd that does not fit" "initrd (20480K) does not fit" \
	--kernel "$bz" --mem 64M --initrd "$tmp/initrd"
expect_err "missing initrd" "cannot open initrd '$tmp/nope'" --kernel "$bz" --initrd "$tmp/nope"
expect_err "Linux command line too long" "this kernel takes at most 2047" \
	--kernel "$bz" --cmdline "$(head -c 2048 /dev/zero | tr '\0' a)"
expect_err "--initrd with an ELF guest" "--initrd needs a Linux kernel" \
	--kernel "$GUEST" --initrd "$tmp/initrd"

# --help is not an error: usage on stdout, exit 0.
if ! "$VMM" --help | grep -q '^usage: vmm --kernel FILE'; then
	echo "FAIL: --help"; fails=$((fails + 1))
fi

[ $fails -eq 0 ] || { echo "$fails case(s) failed"; exit 1; }
echo "all bad-input cases rejected"

#!/bin/bash
# lab_lib.sh: the lab, a real Linux kernel with nested KVM under QEMU's TCG
# emulator, so tests can boot a stock Linux guest in vmm (and use kernel
# devices this host lacks).  This host's KVM emulates guest CPL0 code (~0.6 us
# per instruction): a Linux guest cannot boot on it in useful time.  Inside the
# lab, Debian's kernel runs KVM on SVM (emulated by TCG, nested paging), where
# a Linux guest of vmm boots in seconds.  Source it; executed alone it is not
# a test and exits 0 at once.
#
# The outer machine ("the lab") boots Debian's kernel from /boot with an
# initramfs of busybox, the modules in LAB_MODULES and the files the test adds,
# runs the test's script /lab-test as root and powers off.  Its status comes
# back on the console as "VPLAB-STATUS=N".
#
#   lab_need                      skip (77) unless the lab can run here; sets
#                                 LAB_KVER and LAB_KERNEL
#   lab_root DIR                  an initramfs tree: busybox and its applets
#   lab_modules DIR MOD...        add modules and their dependencies (in load
#                                 order, decompressed) and DIR/lib/vp-mods.order
#   lab_bin DIR FILE [DEST]       add a program and the shared libraries it needs
#   lab_cpio DIR OUT              pack DIR as a newc cpio archive
#   lab_vmlinux OUT               LAB_KERNEL's uncompressed vmlinux (the ELF
#                                 inside the bzImage, as Firecracker boots it)
#   lab_run DIR LOG               boot the lab with DIR (which has /lab-test) as
#                                 its initramfs; console to LOG; returns the
#                                 status of /lab-test (124: timed out, 125: the
#                                 lab never reported one)
# For tests that boot a Linux guest in vmm inside the lab:
#   lab_begin PROGRAM...          lab_need, $BUILD has each PROGRAM, $tmp made
#                                 (and removed at exit)
#   lab_guest DIR MODULE...       the guest's initramfs tree: busybox, the
#                                 modules, vmm-exit, an /init that runs
#                                 /guest-test (the caller's) and ends vmm with
#                                 its status (or, on success with vpt.end=poweroff
#                                 on the command line, with `poweroff -f`)
#   lab_host DIR GUEST PROGRAM... the lab's tree: /vmlinuz and /inner.cpio
#                                 (GUEST packed) for vmm --kernel/--initrd,
#                                 the PROGRAMs, and /lib/vplab.sh for
#                                 /lab-test (the caller's) to source:
#                                 wait_for, boot_vmm, vmm_done, run_case
#   lab_report NAME ST LOG MSG PATTERN  print the LOG lines matching PATTERN
#                                 and MSG on success, else why and the
#                                 console's tail; exits 0, 1 (a case failed)
#                                 or 77 (the lab itself failed: timed out,
#                                 crashed or locked up; says how many cases
#                                 passed before)
# env: LAB_TIMEOUT (s, one boot, default 250), LAB_BUDGET (s, both boots
#      together when the first dies, default 270), LAB_RETRY_MIN (s: no
#      second boot with less left, default 120), LAB_SMP (the lab's CPUs,
#      default 2), LAB_MEM (MiB, default 2048),
#      LAB_MODULES (outer modules, default: kvm kvm_amd)
[[ ${BASH_SOURCE[0]} == "$0" ]] && exit 0

lab_need() {
	local f
	for f in qemu-system-x86_64 cpio modprobe; do
		command -v "$f" >/dev/null || { echo "$f not installed (scripts/deps.sh)" >&2; exit 77; }
	done
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
		{ echo "no static /bin/busybox (busybox-static; scripts/deps.sh)" >&2; exit 77; }
	LAB_KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$LAB_KERNEL" ] ||
		{ echo "no kernel in /boot (linux-image-amd64; scripts/deps.sh)" >&2; exit 77; }
	LAB_KVER=${LAB_KERNEL#/boot/vmlinuz-}
	[ -d "/lib/modules/$LAB_KVER" ] ||
		{ echo "no modules for $LAB_KVER in /lib/modules" >&2; exit 77; }
	modprobe -S "$LAB_KVER" --show-depends kvm_amd >/dev/null 2>&1 ||
		{ echo "kernel $LAB_KVER has no kvm_amd module: no nested KVM in the lab" >&2; exit 77; }
}

lab_root() {
	local d=$1 a
	mkdir -p "$d"/{bin,sbin,dev,proc,sys,tmp,run,lib}
	cp /bin/busybox "$d/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$d/bin/$a" ] || ln -s busybox "$d/bin/$a"
	done
}

lab_modules() {
	local d=$1 m kw path rest b
	shift
	mkdir -p "$d/lib/vp-mods"
	touch "$d/lib/vp-mods.order"
	for m in "$@"; do
		modprobe -S "$LAB_KVER" --show-depends "$m" >"$d/lib/vp-mods/.deps" 2>&1 ||
			{ echo "lab: module $m: $(cat "$d/lib/vp-mods/.deps")" >&2; return 1; }
		while read -r kw path rest; do
			[ "$kw" = insmod ] || continue	# "builtin foo": nothing to load
			b=$(basename "$path"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
			grep -qx "$b" "$d/lib/vp-mods.order" && continue
			case $path in
			*.xz)  xz -dc "$path" >"$d/lib/vp-mods/$b" ;;
			*.zst) zstd -qdc "$path" >"$d/lib/vp-mods/$b" ;;
			*.gz)  gzip -dc "$path" >"$d/lib/vp-mods/$b" ;;
			*)     cp "$path" "$d/lib/vp-mods/$b" ;;
			esac || return 1
			echo "$b" >>"$d/lib/vp-mods.order"
		done <"$d/lib/vp-mods/.deps"
	done
	rm -f "$d/lib/vp-mods/.deps"
}

lab_bin() {
	local d=$1 f=$2 dest=${3:-/bin/$(basename "$2")} lib
	mkdir -p "$d$(dirname "$dest")"
	cp "$f" "$d$dest" || return 1
	# "libfoo.so => /path (addr)" and the loader's own "/lib64/ld-... (addr)"
	for lib in $(ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
		[ -e "$d$lib" ] && continue
		mkdir -p "$d$(dirname "$lib")"
		cp -L "$lib" "$d$lib" || return 1
	done
}

lab_cpio() {
	(cd "$1" && find . | cpio -o -H newc --quiet) >"$2"
}

# The payload is where the setup header (boot protocol 2.08+) says, in the
# format its magic says; xz and zstd payloads carry the kernel build's 4-byte
# size after the stream, gzip's is its own trailer.
lab_u() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }	# FILE OFFSET BYTES
lab_vmlinux() {
	local k=$LAB_KERNEL out=$1 sects off len start magic
	sects=$(lab_u "$k" $((0x1f1)) 1); [ "$sects" = 0 ] && sects=4
	off=$(lab_u "$k" $((0x248)) 4) len=$(lab_u "$k" $((0x24c)) 4)
	start=$(((sects + 1) * 512 + off))
	magic=$(od -An -tx1 -j "$start" -N 4 "$k" | tr -d ' ')
	case $magic in
	fd377a58) tail -c +$((start + 1)) "$k" | head -c "$len" | xz -dc --single-stream ;;
	28b52ffd) tail -c +$((start + 1)) "$k" | head -c $((len - 4)) | zstd -qdc ;;
	1f8b*)    tail -c +$((start + 1)) "$k" | head -c "$len" | gzip -dc ;;
	*) echo "lab: $k: payload format with magic '$magic' not handled" >&2; return 1 ;;
	esac >"$out" || { echo "lab: cannot unpack $k's payload" >&2; return 1; }
	[ "$(od -An -tx1 -N 4 "$out" | tr -d ' ')" = 7f454c46 ] ||
		{ echo "lab: $k's payload did not unpack to an ELF" >&2; return 1; }
}

# The script both initramfs trees start with: mount, load modules, run.
lab_init_script() {	# WHAT-TO-RUN
	cat <<EOF
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in \$(cat /lib/vp-mods.order); do
	insmod /lib/vp-mods/\$m || echo "VPLAB-INSMOD-FAILED \$m"
done
$1
EOF
}

lab_run() {
	local d=$1 log=$2 cpio st qrc try qpid
	lab_modules "$d" ${LAB_MODULES:-kvm kvm_amd} || return 125
	lab_init_script '/lab-test; echo "VPLAB-STATUS=$?"; poweroff -f' >"$d/init"
	chmod 755 "$d/init"
	cpio=$(mktemp "${TMPDIR:-/tmp}/vplab.XXXXXX")
	lab_cpio "$d" "$cpio"
	local start=$SECONDS budget=${LAB_BUDGET:-270} limit=${LAB_TIMEOUT:-250} left
	local lockup='soft lockup - CPU|rcu_(preempt|sched) (self-)?detected stall|task [^ ]+ blocked for more than [0-9]+ seconds'
	for try in 1 2; do
		t0=$SECONDS
		timeout -k 5 "$limit" qemu-system-x86_64 \
			-accel tcg,thread=multi -cpu max -smp "${LAB_SMP:-2}" -m "${LAB_MEM:-2048}" \
			-nographic -monitor none -serial stdio -nic none -no-reboot \
			-kernel "$LAB_KERNEL" -initrd "$cpio" \
			-append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 mitigations=off nokaslr" \
			</dev/null >"$log" 2>&1 &
		qpid=$!
		# A lab kernel that locks up (nested SVM under TCG: soft lockups
		# and RCU stalls with vmm in KVM_RUN, seen; once khugepaged
		# blocked for 120 s in lab_linux_blk's 2-vCPU case) never
		# recovers: stop it when it says so rather than at the time limit.
		while kill -0 $qpid 2>/dev/null; do
			if grep -aqE "$lockup" "$log"; then
				echo "lab: the lab's kernel locked up $((SECONDS - t0)) s in: $(grep -aoE "($lockup).*" "$log" | head -n 1)" >&2
				kill $qpid 2>/dev/null
				break
			fi
			sleep 1
		done
		wait $qpid
		qrc=$?
		grep -aqE "$lockup" "$log" && qrc=125
		st=$(tr -d '\r' <"$log" | sed -n 's/^VPLAB-STATUS=\([0-9]*\)$/\1/p' | tail -n 1)
		# The lab boots without KASLR, the same way every time: with it, it
		# was seen to reset right after its real-mode setup, twice in a few
		# dozen boots.  Its own kernel (nested SVM under TCG) has also died
		# of "corrupted stack end" in KVM's vCPU reset, and (Debian's
		# 6.1.0-57) of a stack guard page hit in its exception entry while
		# vmm ran, 115 s in, after three cases had passed; the same boot
		# then passed all five.  Such deaths are the emulator's, not the
		# test's: boot it once more, saying so, when what is left of
		# LAB_BUDGET (inside the test runner's 300 s) still holds a whole
		# run.  A lab that hangs (timeout) is not booted again.
		left=$((budget - (SECONDS - start)))
		[ -z "$st" ] && [ $try = 1 ] && [ $qrc != 124 ] && [ $left -ge "${LAB_RETRY_MIN:-120}" ] ||
			break
		echo "lab: the lab died $((SECONDS - t0)) s into its run (QEMU status $qrc," \
			"console's end below); booting it once more (at most $left s)" >&2
		tr -d '\r' <"$log" | tail -n 4 >&2
		[ "$limit" -gt "$left" ] && limit=$left
	done
	rm -f "$cpio"
	[ $qrc = 124 ] && return 124
	[ -n "$st" ] || return 125
	return "$st"
}

lab_begin() {
	local f
	lab_need
	BUILD=${BUILD:-build}
	for f in "$@"; do
		[ -x "$BUILD/$f" ] || { echo "missing $BUILD/$f (run make)"; exit 1; }
	done
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}

lab_guest() {
	local d=$1
	shift
	lab_root "$d"
	lab_modules "$d" "$@" || return 1
	cp "$BUILD/vmm-exit" "$d/bin/vmm-exit"
	# vpt.end=poweroff: a guest whose checks passed powers off (ACPI S5)
	# instead of reporting 0 through vmm-exit.
	lab_init_script 'echo VPLAB-GUEST-INIT; /guest-test; st=$?
if [ $st = 0 ] && grep -q "vpt.end=poweroff" /proc/cmdline; then
	echo VPT-POWEROFF; poweroff -f
fi
vmm-exit $st' >"$d/init"
	chmod 755 "$d/init"
}

lab_host() {
	local d=$1 g=$2 f
	shift 2
	lab_root "$d"
	lab_cpio "$g" "$d/inner.cpio"
	cp "$LAB_KERNEL" "$d/vmlinuz"
	for f in "$@"; do
		lab_bin "$d" "$BUILD/$f" || return 1
	done
	cat >"$d/lib/vplab.sh" <<'EOF'
# Sourced by /lab-test in the lab.
# wait_for SECONDS COMMAND...: poll (every 0.1 s) until the command succeeds.
wait_for() {
	t=$(($1 * 10)); shift
	until "$@"; do t=$((t - 1)); [ $t -gt 0 ] || return 1; usleep 100000; done
}

# boot_vmm OUT VMM-ARGS...: start vmm in the background, its output in OUT,
# its PID in $vmm, and wait until the guest's /init runs (0).  Nested SVM
# under TCG now and then hangs or triple-faults a guest kernel's early boot
# (about one boot in twenty, before any virtio device is touched): if /init
# has not started after 60 s (it takes 5-15) or vmm ended first, say so and
# boot again, once.
# 1 if the second boot fails the same way (then vmm is gone).
boot_vmm() {
	bv_out=$1; shift
	for bv_try in 1 2; do
		: >"$bv_out"
		vmm "$@" >"$bv_out" 2>&1 <"${VMM_STDIN:-/dev/null}" &
		vmm=$!
		wait_for 60 bv_started
		grep -q VPLAB-GUEST-INIT "$bv_out" && return 0
		kill -9 $vmm 2>/dev/null
		wait $vmm 2>/dev/null
		echo "VPLAB-NOTE: boot $bv_try: the guest kernel did not reach /init:"
		tail -n 3 "$bv_out" | sed 's/^/VPLAB-NOTE:   /'
	done
	return 1
}
bv_started() { grep -q VPLAB-GUEST-INIT "$bv_out" || ! kill -0 $vmm 2>/dev/null; }
# vmm_done: the vmm boot_vmm started has ended (for wait_for).
vmm_done() { ! kill -0 $vmm 2>/dev/null; }

# run_case FN ARGS...: FN returns 0 (passed), 1 (failed, reported) or 2 (the
# guest never got going or hung; why in $why): on 2 run it once more, saying
# so; a second 2 goes to the test's fail().
run_case() {
	"$@"
	rc_case=$?
	[ $rc_case = 2 ] || return $rc_case
	echo "VPLAB-NOTE: case $case: the guest $why; running the case once more"
	"$@"
	rc_case=$?
	[ $rc_case = 2 ] || return $rc_case
	fail "the guest $why, twice"
}
EOF
}

lab_report() {	# NAME STATUS LOG SUCCESS-MESSAGE PATTERN
	tr -d '\r' <"$3" | grep -E "$5" || true
	case $2 in
	0)	echo "$1: $4"
		exit 0 ;;
	124|125)
		# Every wait inside the lab is bounded, so a lab that stops
		# answering is the emulator (QEMU TCG running nested SVM), which
		# lab_run has already booted twice when its kernel crashed.
		echo "--- lab console (last 60 lines) ---"
		tr -d '\r' <"$3" | tail -n 60
		local passed
		passed=$(tr -d '\r' <"$3" | grep -c '^VPLAB-CASE .* PASS')
		echo "the lab itself failed ($([ "$2" = 124 ] && echo "timed out" ||
			echo "its kernel crashed or it never reported"); see above):" \
			"$([ "$passed" = 0 ] && echo "nothing was tested" ||
			echo "$passed case(s) passed before, the rest did not run")" >&2
		exit 77 ;;
	*)	echo "FAIL: $2 case(s) failed" ;;
	esac
	echo "--- lab console (last 100 lines) ---"
	tr -d '\r' <"$3" | tail -n 100
	exit 1
}

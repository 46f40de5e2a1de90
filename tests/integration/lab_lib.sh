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
#   lab_run DIR LOG               boot the lab with DIR (which has /lab-test) as
#                                 its initramfs; console to LOG; returns the
#                                 status of /lab-test (124: timed out, 125: the
#                                 lab never reported one)
# env: LAB_TIMEOUT (s, default 240), LAB_MEM (MiB, default 2048),
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
	local d=$1 log=$2 cpio st qrc
	lab_modules "$d" ${LAB_MODULES:-kvm kvm_amd} || return 125
	lab_init_script '/lab-test; echo "VPLAB-STATUS=$?"; poweroff -f' >"$d/init"
	chmod 755 "$d/init"
	cpio=$(mktemp "${TMPDIR:-/tmp}/vplab.XXXXXX")
	lab_cpio "$d" "$cpio"
	timeout -k 5 "${LAB_TIMEOUT:-240}" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -smp 2 -m "${LAB_MEM:-2048}" \
		-nographic -monitor none -serial stdio -nic none -no-reboot \
		-kernel "$LAB_KERNEL" -initrd "$cpio" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 mitigations=off" \
		</dev/null >"$log" 2>&1
	qrc=$?
	rm -f "$cpio"
	st=$(tr -d '\r' <"$log" | sed -n 's/^VPLAB-STATUS=\([0-9]*\)$/\1/p' | tail -n 1)
	[ $qrc = 124 ] && return 124
	[ -n "$st" ] || return 125
	return "$st"
}

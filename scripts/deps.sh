#!/bin/sh
# Install the Debian packages vioplane needs to build, test and benchmark.
#
#   scripts/deps.sh               install whatever is missing (apt-get), then say so
#   scripts/deps.sh --if-missing  silent when everything is installed (used by make)
#   scripts/deps.sh --list        print the package list
#
# Idempotent: packages already installed are not touched.
set -eu

PKGS="
make gcc libc6-dev linux-libc-dev pkg-config
clang libclang-rt-14-dev
liburing-dev libaio-dev
libdpdk-dev dpdk dpdk-dev
qemu-system-x86 qemu-utils
linux-image-amd64 busybox-static cpio kmod xz-utils zstd
acpica-tools
fio
iproute2 procps util-linux coreutils strace bc gzip diffutils gawk sed
"

mode=${1:-install}
case "$mode" in
--list) for p in $PKGS; do echo "$p"; done; exit 0 ;;
--if-missing|install) ;;
-h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) echo "deps.sh: unknown option '$mode' (try --help)" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	[ "$mode" = --if-missing ] || echo "deps.sh: all packages installed"
	exit 0
fi

echo "deps.sh: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps.sh: not root and no sudo; install these packages:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; refresh them once before installing.
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps.sh: done"

#!/bin/bash
# lab_linux_blk: a stock Linux guest in vmm, with disks on each back-end.
#
# Debian's kernel (from /boot) boots in vmm with an initramfs of busybox and
# the kernel's own virtio_pci and virtio_blk modules: drivers nobody here
# wrote find vmm's virtio-pci devices by the standard PCI scan, negotiate,
# take MSI-X vectors and do I/O.  This host's KVM cannot run a Linux guest in
# useful time (guest CPL0 is emulated), so vmm runs inside the lab
# (lab_lib.sh: Debian's kernel under QEMU TCG with nested KVM).
#
# In one lab boot, four cases, each a fresh 64 MiB image whose first MiB is
# random and a 1 MiB read-only second disk:
#   inproc      vmm --disk (our vhost-user-blk back-end on a vmm thread);
#               the guest also reads a word the lab types on vmm's stdin
#   vhost-user  vmm --vhost-user=SOCK to the vhost-user-blk program
#   exits       vmm --disk --no-ioeventfd --no-irqfd (the emulated path)
#   exits       ... and pci=nomsi: the disk interrupts on INTx, which the
#               DSDT's _PRT routes to IOAPIC pin 17
#   smp         vmm --cpus 2 --disk ...,queues=2 --no-acpi and pci=nomsi:
#               Linux brings up the second vCPU and routes the disk's INTA
#               from the MP table, and gives each CPU a request queue
#   vmlinux     vmm --cpus 2 with the same kernel as an uncompressed vmlinux
#               ELF (unpacked from the bzImage here), CPUs from the ACPI
#               MADT; the guest ends with `poweroff -f`, which must end vmm
#               with status 0 through ACPI
# The guest checks: both disks found with the file's size; the first MiB reads
# back as the host wrote it (its md5 comes on the kernel command line); a MiB
# it writes with O_DIRECT and fsync reads back (caches dropped) and is in the
# image file afterwards (checked by the lab from the md5 the guest prints);
# four concurrent O_DIRECT readers spread over the CPUs; as many CPUs online
# and request queues as asked; a volatile write cache (FLUSH negotiated); each
# request queue completes on its MSI-X vector; the read-only disk is read-only;
# with ACPI, Linux took its CPUs from the MADT and its PCI root bridge from
# the DSDT and ACPI logged no error or firmware bug (without, no tables);
# after the driver is unbound and bound again (a device reset, the back-end
# stopped and set up anew) the disk still reads what was written.
# The lab checks vmm's exit status (the guest's, through vmm-exit) and, from
# vmm --stats, that notifications and interrupts took the path each case asks
# for.
set -u
cd "$(dirname "$0")/../.."
source tests/integration/lab_lib.sh
lab_begin vmm vhost-user-blk vmm-exit

# --- the Linux guest's initramfs ---------------------------------------------
inner=$tmp/inner
lab_guest "$inner" virtio_pci virtio_blk || exit 1
cat >"$inner/guest-test" <<'EOF'
#!/bin/sh
# Runs in the Linux guest; the exit status says which check failed.
arg() { sed -n "s/.*vpt\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
no() { echo "VPT-FAIL: $*"; }
# vpt.input=WORD: the lab types WORD on vmm's stdin once asked; it must come
# in on the console (ttyS0, interrupt-driven 8250).
if [ -n "$(arg input)" ]; then
	echo VPT-WANT-INPUT
	read -t 60 line || { no "nothing came in on the serial console"; exit 22; }
	[ "$line" = "$(arg input)" ] || { no "serial input '$line', typed '$(arg input)'"; exit 22; }
fi
[ -b /dev/vda ] && [ -b /dev/vdb ] || { no "disks not found: $(ls /sys/block)"; exit 10; }
[ "$(cat /sys/block/vda/size)" = "$(arg sectors)" ] ||
	{ no "vda has $(cat /sys/block/vda/size) sectors"; exit 11; }
got=$(dd if=/dev/vda bs=1M count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$got" = "$(arg md5)" ] || { no "first MiB reads $got, host wrote $(arg md5)"; exit 12; }
dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2>/dev/null
dd if=/tmp/pattern of=/dev/vda bs=1M seek=8 oflag=direct conv=fsync 2>/dev/null ||
	{ no "write failed"; exit 13; }
want=$(md5sum </tmp/pattern | cut -d' ' -f1)
echo "VPT-WROTE $want"
echo 3 >/proc/sys/vm/drop_caches
got=$(dd if=/dev/vda bs=1M skip=8 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || { no "wrote $want, read back $got"; exit 14; }
# CPUs and queues as the lab asked; readers spread over the CPUs, so with
# one queue per CPU (blk-mq's mapping) every queue carries requests.
cpus=$(arg cpus)
[ "$(nproc)" = "$cpus" ] || { no "$(nproc) CPUs online, vmm --cpus $cpus"; exit 19; }
[ "$(ls /sys/block/vda/mq | wc -l)" = "$cpus" ] ||
	{ no "vda has queues $(ls /sys/block/vda/mq), wanted $cpus"; exit 19; }
for i in 1 2 3 4; do
	taskset -c $((i % cpus)) dd if=/dev/vda of=/tmp/r$i bs=4k skip=$((i * 512)) count=512 \
		iflag=direct 2>/dev/null &
done
wait
for i in 1 2 3 4; do
	[ "$(stat -c %s /tmp/r$i)" = 2097152 ] || { no "concurrent reader $i fell short"; exit 15; }
done
[ "$(cat /sys/block/vda/queue/write_cache)" = "write back" ] ||
	{ no "write cache: $(cat /sys/block/vda/queue/write_cache)"; exit 16; }
irqs() { echo "$1" | awk -v c=$cpus '{ s = 0; for (i = 2; i <= c + 1; i++) s += $i; print s }'; }
if [ "$(arg intx)" = 1 ]; then
	# pci=nomsi: the disk's INTA, routed by the DSDT's _PRT (slot 1: GSI 17),
	# level-triggered on the IOAPIC.
	req=$(grep " virtio0\$" /proc/interrupts)
	echo "VPT-IRQ $req"
	case $req in *IO-APIC*17-fasteoi*) ;; *) no "virtio0 is not on IOAPIC pin 17, level"; exit 17 ;; esac
	[ "$(irqs "$req")" -gt 0 ] || { no "no interrupts on INTx"; exit 17; }
else
	q=0
	while [ $q -lt $cpus ]; do
		req=$(grep "virtio0-req.$q\$" /proc/interrupts)
		echo "VPT-IRQ $req"
		case $req in *PCI-MSI*) ;; *) no "no MSI-X vector for request queue $q"; exit 17 ;; esac
		[ "$(irqs "$req")" -gt 0 ] || { no "no interrupts on request queue $q"; exit 17; }
		q=$((q + 1))
	done
fi
# ACPI (vmm's default for Linux) or, with --no-acpi, the MP table alone.
if [ "$(arg acpi)" = 1 ]; then
	for t in FACP APIC DSDT; do
		[ -e /sys/firmware/acpi/tables/$t ] || { no "no ACPI $t table"; exit 21; }
	done
	dmesg | grep -E "ACPI( BIOS)? (Error|Warning)|ACPI: .*[Ff]irmware [Bb]ug" && { no "ACPI complained"; exit 21; }
	dmesg | grep -q "Using ACPI (MADT) for SMP configuration" || { no "CPUs not from the MADT"; exit 21; }
	dmesg | grep -q "PCI Root Bridge \[PCI0\]" || { no "no PCI root bridge from the DSDT"; exit 21; }
else
	[ ! -e /sys/firmware/acpi/tables/DSDT ] || { no "ACPI tables despite --no-acpi"; exit 21; }
	dmesg | grep -q "found SMP MP-table" || { no "no MP table"; exit 21; }
fi
[ "$(cat /sys/block/vdb/ro)" = 1 ] || { no "vdb is not read-only"; exit 18; }
if dd if=/dev/zero of=/dev/vdb bs=4k count=1 oflag=direct 2>/dev/null; then
	no "a write to the read-only disk succeeded"; exit 18
fi
# Unbind the driver (the device is reset, the back-end stops its queues) and
# bind it again (everything negotiated anew): the disk reads as before.
pci=$(basename "$(readlink -f /sys/block/vda/device/..)")
echo "$pci" >/sys/bus/pci/drivers/virtio-pci/unbind || { no "unbind $pci failed"; exit 20; }
[ ! -e /sys/block/vda ] || { no "vda still there after unbind"; exit 20; }
echo "$pci" >/sys/bus/pci/drivers/virtio-pci/bind || { no "bind $pci failed"; exit 20; }
i=0
until [ -b /dev/vda ]; do
	i=$((i + 1)); [ $i -lt 250 ] || { no "vda did not come back"; exit 20; }
	usleep 20000
done
got=$(dd if=/dev/vda bs=1M skip=8 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || { no "after a reset, read $got where $want was written"; exit 20; }
echo "VPT-PASS"
exit 0
EOF
chmod 755 "$inner/guest-test"

# --- the lab -----------------------------------------------------------------
outer=$tmp/outer
lab_host "$outer" "$inner" vmm vhost-user-blk || exit 1
lab_vmlinux "$outer/vmlinux" || exit 1
cat >"$outer/lab-test" <<'EOF'
#!/bin/sh
. /lib/vplab.sh
fails=0
cd /tmp
fail() { echo "VPLAB-CASE $case FAIL: $*"; sed 's/^/  | /' out; fails=$((fails + 1)); }
stat_of() { grep -o "\"$1\":[0-9]*" out | head -n 1 | cut -d: -f2; }

newdisks() {
	dd if=/dev/zero of=d.img bs=1M count=64 2>/dev/null
	dd if=/dev/urandom of=d.img bs=1M count=1 conv=notrunc 2>/dev/null
	dd if=/dev/urandom of=ro.img bs=1M count=1 2>/dev/null
	md5=$(dd if=d.img bs=1M count=1 2>/dev/null | md5sum | cut -d' ' -f1)
}

# guest VMM-ARGS...: the disks.  CPUS: --cpus (1); KERNEL (/vmlinuz); ACPI=0:
# --no-acpi; EXTRA: more kernel command line; END=poweroff: the guest ends
# with `poweroff -f`, which must end vmm with status 0; INPUT=WORD: typed on
# vmm's stdin (the FIFO on fd 3) when the guest asks.  One more try (said
# so) if the guest never gets going or hangs: see guest_once.
guest() { run_case guest_once "$@"; }

done_or_off() { vmm_done || grep -q VPT-POWEROFF out; }
want_input() { vmm_done || grep -q VPT-WANT-INPUT out; }

# 0 passed, 1 failed (reported), 2 the guest kernel never reached /init or
# did not finish within 120 s of it (in $why; nested SVM under TCG does that
# now and then, see boot_vmm).
guest_once() {
	noacpi=
	[ "${ACPI:-1}" = 0 ] && noacpi=--no-acpi
	boot_vmm out --kernel ${KERNEL:-/vmlinuz} --initrd /inner.cpio --mem 256M --stats \
		--cpus ${CPUS:-1} $noacpi "$@" \
		--cmdline "console=ttyS0 rdinit=/init panic=-1 loglevel=4 nokaslr mitigations=off vpt.sectors=131072 vpt.md5=$md5 vpt.cpus=${CPUS:-1} vpt.acpi=${ACPI:-1} vpt.end=${END:-exit} ${INPUT:+vpt.input=$INPUT} ${EXTRA:-}" ||
		{ why="kernel did not reach /init"; return 2; }
	if [ -n "${INPUT:-}" ]; then
		wait_for 60 want_input && echo "$INPUT" >&3
	fi
	wait_for 120 done_or_off
	if grep -q VPT-POWEROFF out && ! wait_for 20 vmm_done; then
		kill -9 $vmm 2>/dev/null
		wait $vmm 2>/dev/null
		fail "vmm still running 20 s after the guest's poweroff -f"
		return 1
	fi
	if ! vmm_done; then
		echo "VPLAB-NOTE: case $case: vmm still running 120 s after /init:"
		tail -n 5 out | sed 's/^/VPLAB-NOTE:   /'
		kill -9 $vmm 2>/dev/null
		wait $vmm 2>/dev/null
		why="did not finish its checks within 120 s"
		return 2
	fi
	wait $vmm
	rc=$?
	grep -q VPT-PASS out || { fail "guest checks failed (vmm status $rc)"; return 1; }
	[ $rc = 0 ] || { fail "vmm exited $rc"; return 1; }
	if [ "${END:-}" = poweroff ]; then
		grep -q VPT-POWEROFF out && grep -q "reboot: Power down" out &&
			[ "$(stat_of poweroffs)" = 1 ] ||
			{ fail "vmm ended, but not by the guest powering off (poweroffs: $(stat_of poweroffs))"; return 1; }
	fi
	wrote=$(sed -n 's/.*VPT-WROTE \([0-9a-f]*\).*/\1/p' out)
	got=$(dd if=d.img bs=1M skip=8 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	[ -n "$wrote" ] && [ "$got" = "$wrote" ] ||
		{ fail "the image holds $got where the guest wrote '$wrote'"; return 1; }
	return 0
}

# vmm's stdin for the cases that type: a FIFO held open here on fd 3.
mkfifo in.fifo
exec 3<>in.fifo

case=inproc
newdisks
if VMM_STDIN=in.fifo INPUT=typed-$$ guest --disk path=d.img --disk path=ro.img,readonly; then
	# irq_vmm: only interrupts held while the guest masked their vector
	ke=$(stat_of notify_exits); vi=$(stat_of irq_vmm); kk=$(stat_of backend_kicks)
	vm=$(stat_of irq_masked)
	if [ "$ke" = 0 ] && [ "${vi:-1}" -le "${vm:-0}" ] && [ "${kk:-0}" -gt 0 ]; then
		echo "VPLAB-CASE $case PASS (serial input, notify exits $ke, vmm-injected irqs $vi)"
	else
		fail "stats: notify_exits=$ke irq_vmm=$vi backend_kicks=$kk"
	fi
fi

case=vhost-user
newdisks
vhost-user-blk --socket /tmp/vub.sock --disk d.img >vub.log 2>&1 &
vub=$!
i=0
while [ ! -S /tmp/vub.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if guest --vhost-user=/tmp/vub.sock --disk path=ro.img,readonly; then
	echo "VPLAB-CASE $case PASS"
fi
kill $vub; wait $vub 2>/dev/null

case=exits
newdisks
if EXTRA="pci=nomsi vpt.intx=1" guest --disk path=d.img --disk path=ro.img,readonly \
	--no-ioeventfd --no-irqfd; then
	ke=$(stat_of notify_exits); vi=$(stat_of irq_vmm)
	if [ "${ke:-0}" -gt 0 ] && [ "${vi:-0}" -gt 0 ]; then
		echo "VPLAB-CASE $case PASS (INTx, notify exits $ke, vmm-injected irqs $vi)"
	else
		fail "stats: notify_exits=$ke irq_vmm=$vi"
	fi
fi
case=smp
newdisks
if ACPI=0 CPUS=2 EXTRA="pci=nomsi vpt.intx=1" guest --disk path=d.img,queues=2 \
	--disk path=ro.img,readonly; then
	echo "VPLAB-CASE $case PASS (2 vCPUs and INTx from the MP table, a request queue each)"
fi
case=vmlinux
newdisks
if KERNEL=/vmlinux CPUS=2 END=poweroff guest --disk path=d.img,queues=2 \
	--disk path=ro.img,readonly; then
	echo "VPLAB-CASE $case PASS (booted from its vmlinux ELF, 2 vCPUs from the MADT, powered off)"
fi
exit $fails
EOF
chmod 755 "$outer/lab-test"

lab_run "$outer" "$tmp/lab.log"
lab_report lab_linux_blk $? "$tmp/lab.log" "Linux's virtio drivers passed on all three back-end paths, with 2 vCPUs and booted from vmlinux" \
	'^VPLAB-CASE|^  \| (VPT|vmm)'

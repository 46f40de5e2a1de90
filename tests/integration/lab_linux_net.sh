#!/bin/bash
# lab_linux_net: a stock Linux guest's virtio-net driver through vmm's
# virtio-net device, on both net back-ends:
#   vhost-user  vmm --vhost-user=SOCK,type=net to vhost-user-net --port tap:vp0
#   vhost-net   vmm --net tap=vp1: the host kernel's vhost-net (the lab has
#               /dev/vhost-net; this host does not)
#   vhost-net-mq     2 vCPUs, --net tap=vp4,queues=2: a vhost-net device and a
#               tap queue per pair, pair 1 turned on through the control queue
#   vhost-net-exits  vhost-net with --no-ioeventfd --no-irqfd
#   vhost-user-mq    2 vCPUs, vhost-user-net --queues 2: the driver turns the
#               second pair on through vmm's control queue (MQ VQ_PAIRS_SET)
#               and sends on both
#
# Debian's kernel boots in vmm inside the lab (see lab_lib.sh for why the
# lab) with its own virtio_pci and virtio_net modules.  The lab gives the tap
# 10.1N.0.1, the guest's eth0 is 10.1N.0.2.  Checks, in the guest: ARP and
# ping, ping with 1400-byte payloads, 2 MiB over TCP to the lab and 1 MiB from
# it (GSO-sized packets; each compared by md5 at both ends), both queues'
# MSI-X vectors took interrupts, and after the driver is unbound and bound
# again (a device reset) ping works again; in the lab: vmm's status, the
# bytes received, vmm's counters (no notification exits, no interrupt
# injected by vmm) and, for vhost-user-net, its own packet counters.
set -u
cd "$(dirname "$0")/../.."
source tests/integration/lab_lib.sh
lab_begin vmm vhost-user-net vmm-exit

inner=$tmp/inner
lab_guest "$inner" virtio_pci virtio_net || exit 1
cat >"$inner/guest-test" <<'EOF'
#!/bin/sh
# Runs in the Linux guest; the exit status says which check failed.
arg() { sed -n "s/.*vpt\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
no() {
	echo "VPT-FAIL: $*"
	grep -E '^(Tcp|Udp|Ip):' /proc/net/snmp | sed 's/^/VPT-SNMP /'
	for f in rx_packets rx_bytes rx_dropped rx_errors tx_packets tx_bytes tx_dropped; do echo "VPT-LINK $f $(cat /sys/class/net/eth0/statistics/$f)"; done
}
ip link set lo up
net=$(arg net)
ip link set eth0 up && ip addr add $net.2/24 dev eth0 ||
	{ no "no eth0: $(ls /sys/class/net)"; exit 19; }
# The lab configures its end of the tap once the tap exists: try until it answers.
i=0
until ping -c 1 -W 2 $net.1 >/tmp/ping 2>&1; do
	i=$((i + 1)); [ $i -lt 30 ] || { no "ping: $(cat /tmp/ping)"; exit 20; }
done
ping -c 2 -W 10 -s 1400 $net.1 >/tmp/ping 2>&1 || { no "ping -s 1400: $(cat /tmp/ping)"; exit 21; }
# Queue pairs in use (the driver asked for them on the control queue), and
# a ping from each CPU, which sends on that CPU's queue.
pairs=$(arg pairs)
n=$(ls -d /sys/class/net/eth0/queues/tx-* | wc -l)
[ "$n" = "$pairs" ] || { no "eth0 runs $n TX queues, wanted $pairs"; exit 26; }
c=0
while [ $c -lt "$(nproc)" ]; do
	taskset -c $c ping -c 2 -W 5 $net.1 >/tmp/ping 2>&1 || { no "ping from CPU $c: $(cat /tmp/ping)"; exit 26; }
	c=$((c + 1))
done
dd if=/dev/urandom of=/tmp/blob bs=64k count=32 2>/dev/null
echo "VPT-SENT $(md5sum </tmp/blob | cut -d' ' -f1)"
# from the last CPU: with several pairs, that CPU's pair carries the flow
taskset -c $(($(nproc) - 1)) timeout 60 nc $net.1 5001 </tmp/blob || { no "TCP send failed"; exit 22; }
# A listener's stdin must not end: busybox nc half-closes the connection at
# stdin's EOF and the sender then stops.  A FIFO opened read-write never ends.
mkfifo /tmp/hold
timeout 120 nc -l -p 5002 >/tmp/rx <>/tmp/hold &
nc_pid=$!
# Say we listen only once the socket does (port 5002 = 0x138A, state 0A;
# busybox nc listens on IPv6's any address, which takes IPv4 too).
i=0
until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':138A [0:]*0000 0A'; do
	i=$((i + 1)); [ $i -lt 500 ] || { no "nc never listened"; exit 23; }
	usleep 20000
done
echo "VPT-LISTENING"
wait $nc_pid
got=$(md5sum </tmp/rx | cut -d' ' -f1)
[ "$got" = "$(arg md5)" ] || { no "received $got ($(stat -c %s /tmp/rx) bytes), lab sent $(arg md5)"; exit 23; }
for q in input output; do
	l=$(grep "virtio0-$q.0" /proc/interrupts)
	echo "VPT-IRQ $l"
	case $l in *PCI-MSI*) ;; *) no "no MSI-X vector for $q"; exit 24 ;; esac
done
# With several pairs, the last pair's queues took interrupts (its own vectors).
if [ "$pairs" -gt 1 ]; then
	last=$((pairs - 1))
	n=$(grep -E "virtio0-(input|output)\.$last\$" /proc/interrupts |
		awk '{ for (i = 2; i < NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }')
	echo "VPT-IRQ pair $last: $n interrupts"
	[ "$n" -gt 0 ] || { no "no interrupts on pair $last"; exit 24; }
fi
# Unbind the driver (device reset, the back-end stops both queues) and bind it
# again (everything negotiated anew): the link works as before.
pci=$(basename "$(readlink -f /sys/class/net/eth0/device/..)")
echo "$pci" >/sys/bus/pci/drivers/virtio-pci/unbind || { no "unbind $pci failed"; exit 25; }
echo "$pci" >/sys/bus/pci/drivers/virtio-pci/bind || { no "bind $pci failed"; exit 25; }
i=0
until [ -e /sys/class/net/eth0 ]; do
	i=$((i + 1)); [ $i -lt 250 ] || { no "eth0 did not come back"; exit 25; }
	usleep 20000
done
ip link set eth0 up && ip addr add $net.2/24 dev eth0 || { no "eth0 after rebind"; exit 25; }
i=0
until ping -c 1 -W 2 $net.1 >/tmp/ping 2>&1; do
	i=$((i + 1)); [ $i -lt 15 ] || { no "no ping after a reset: $(cat /tmp/ping)"; exit 25; }
done
echo "VPT-PASS"
exit 0
EOF
chmod 755 "$inner/guest-test"

outer=$tmp/outer
lab_host "$outer" "$inner" vmm vhost-user-net || exit 1
cat >"$outer/lab-test" <<'EOF'
#!/bin/sh
. /lib/vplab.sh
cd /tmp
fails=0
vun=
stat_of() { grep -o "\"$1\":[0-9]*" out | head -n 1 | cut -d: -f2; }
no() {
	echo "VPLAB-CASE $case FAIL: $*"; echo "--- vmm:"; cat out
	echo "--- lab:"; grep -E '^(Tcp|Ip):' /proc/net/snmp
	[ -n "$vun" ] && kill -TERM $vun && wait $vun && { echo "--- vhost-user-net:"; cat vun.log; }
	vun=
	fails=$((fails + 1))
	return 1
}
fail() { no "$@"; }	# for run_case

# guest TAP NET VMM-ARGS...: boot the guest, serve it from NET.1 on TAP.
# One more try (said so) if the guest never gets going or hangs: see guest_once.
guest() { run_case guest_once "$@"; }

# 0 passed, 1 failed (reported), 2 the guest kernel never reached /init or
# did not finish within 120 s of it (in $why; nested SVM under TCG does that
# now and then, see boot_vmm).
guest_once() {
	tap=$1 net=$2
	shift 2
	: >out
	rm -f hold rx
	dd if=/dev/urandom of=blob bs=64k count=16 2>/dev/null
	md5=$(md5sum <blob | cut -d' ' -f1)
	mkfifo hold	# the listener's stdin, never at EOF (see the guest's side)
	timeout 200 nc -l -p 5001 >rx <>hold &
	lis=$!
	if ! boot_vmm out --kernel /vmlinuz --initrd /inner.cpio --mem 256M --stats \
		--cpus ${CPUS:-1} "$@" \
		--cmdline "console=ttyS0 rdinit=/init panic=-1 loglevel=4 nokaslr mitigations=off vpt.md5=$md5 vpt.net=$net vpt.pairs=${PAIRS:-1}"; then
		kill $lis 2>/dev/null
		wait $lis 2>/dev/null
		why="kernel did not reach /init"
		return 2
	fi
	# The tap exists (vmm or the back-end made it); the guest pings until
	# this end answers.
	test -e /sys/class/net/$tap && ip addr add $net.1/24 dev $tap && ip link set $tap up ||
		echo "VPLAB-NOTE: could not configure $tap"
	# The guest says when it listens; stop waiting if vmm ends first.
	listening() { grep -q VPT-LISTENING out || ! kill -0 $vmm 2>/dev/null; }
	if wait_for 120 listening && grep -q VPT-LISTENING out; then
		timeout 60 nc $net.2 5002 <blob || echo "VPLAB-NOTE: sending to the guest failed"
	fi
	if ! wait_for 120 vmm_done; then
		echo "VPLAB-NOTE: case $case: vmm still running 120 s after /init:"
		tail -n 5 out | sed 's/^/VPLAB-NOTE:   /'
		kill -9 $vmm 2>/dev/null
		wait $vmm 2>/dev/null
		kill $lis 2>/dev/null
		wait $lis 2>/dev/null
		why="did not finish its checks within 120 s"
		return 2
	fi
	wait $vmm
	rc=$?
	# The listener is done once the guest's data is in; if the guest never
	# sent, stop it here so the next case can listen on the port.
	kill $lis 2>/dev/null
	wait $lis 2>/dev/null
	grep -q VPT-PASS out || { no "guest checks failed (vmm status $rc)"; return 1; }
	[ $rc = 0 ] || { no "vmm exited $rc"; return 1; }
	sent=$(sed -n 's/.*VPT-SENT \([0-9a-f]*\).*/\1/p' out)
	got=$(md5sum <rx | cut -d' ' -f1)
	[ -n "$sent" ] && [ "$got" = "$sent" ] || { no "the lab received $got, the guest sent '$sent'"; return 1; }
	# ioeventfd and irqfd: no notification exits, no interrupt injected by
	# vmm; with EXITS=1 (--no-ioeventfd --no-irqfd) both must be there.
	# (An interrupt raised while the guest had its vector masked, as Linux
	# does when it moves a vector to another CPU, is held pending and then
	# injected by vmm: irq_vmm may count those (at most irq_masked), no others.)
	ke=$(stat_of notify_exits); vi=$(stat_of irq_vmm); vm=$(stat_of irq_masked)
	if [ -n "${EXITS:-}" ]; then
		[ "${ke:-0}" -gt 0 ] && [ "${vi:-0}" -gt 0 ]
	else
		[ "$ke" = 0 ] && [ "${vi:-1}" -le "${vm:-0}" ]
	fi || { no "vmm stats: notify_exits=$ke irq_vmm=$vi irq_masked=$vm"; return 1; }
	echo "VPLAB-STATS $case: notify exits $ke, vmm-injected irqs $vi"
	grep VPT-IRQ out
	return 0
}

case=vhost-user
vhost-user-net --socket /tmp/vun.sock --port tap:vp0 --no-huge >vun.log 2>&1 &
vun=$!
if ! wait_for 30 test -S /tmp/vun.sock; then
	no "vhost-user-net did not listen"
elif guest vp0 10.11.0 --vhost-user=/tmp/vun.sock,type=net; then
	kill -TERM $vun
	wait $vun
	vun=
	grep '^{"device"' vun.log
	# The first queue's counters: 3 MiB moved, so well over 100 packets each way.
	tx=$(grep -o '"tx_packets":[0-9]*' vun.log | head -n 1 | cut -d: -f2)
	rx=$(grep -o '"rx_packets":[0-9]*' vun.log | head -n 1 | cut -d: -f2)
	if [ "${tx:-0}" -gt 100 ] && [ "${rx:-0}" -gt 100 ]; then
		echo "VPLAB-CASE $case PASS (vhost-user-net rx $rx, tx $tx packets)"
	else
		no "vhost-user-net counted rx=$rx tx=$tx"
	fi
fi
[ -n "$vun" ] && kill -TERM $vun && wait $vun

case=vhost-user-mq
vhost-user-net --socket /tmp/vunq.sock --port tap:vp3 --queues 2 --no-huge >vun.log 2>&1 &
vun=$!
if ! wait_for 30 test -S /tmp/vunq.sock; then
	no "vhost-user-net did not listen"
elif CPUS=2 PAIRS=2 guest vp3 10.14.0 --vhost-user=/tmp/vunq.sock,type=net; then
	kill -TERM $vun
	wait $vun
	vun=
	grep '^{"device"' vun.log
	# Each pair's counters: the guest sent on both, so both took packets.
	tx0=$(grep -o '"queue":0,"rx_packets":[0-9]*,"rx_bytes":[0-9]*,"tx_packets":[0-9]*' vun.log |
		head -n 1 | sed 's/.*://')
	tx1=$(grep -o '"queue":1,"rx_packets":[0-9]*,"rx_bytes":[0-9]*,"tx_packets":[0-9]*' vun.log |
		head -n 1 | sed 's/.*://')
	if [ "${tx0:-0}" -gt 0 ] && [ "${tx1:-0}" -gt 0 ]; then
		echo "VPLAB-CASE $case PASS (2 vCPUs, 2 pairs; guest TX on pair 0: $tx0, pair 1: $tx1)"
	else
		no "guest TX per pair: $tx0, $tx1"
	fi
fi
[ -n "$vun" ] && kill -TERM $vun && wait $vun

case=vhost-net
if guest vp1 10.12.0 --net tap=vp1,mac=52:54:00:12:34:56; then
	grep -q '"backend":"vhost-net"' out && echo "VPLAB-CASE $case PASS" ||
		no "vmm's stats do not name vhost-net"
fi
case=vhost-net-mq
if CPUS=2 PAIRS=2 guest vp4 10.15.0 --net tap=vp4,queues=2; then
	echo "VPLAB-CASE $case PASS (2 vCPUs, 2 pairs on 2 vhost-net devices)"
fi

case=vhost-net-exits
if EXITS=1 guest vp2 10.13.0 --net tap=vp2 --no-ioeventfd --no-irqfd; then
	echo "VPLAB-CASE $case PASS"
fi
exit $fails
EOF
chmod 755 "$outer/lab-test"

LAB_MODULES="kvm kvm_amd tun vhost_net" lab_run "$outer" "$tmp/lab.log"
lab_report lab_linux_net $? "$tmp/lab.log" "Linux's virtio-net driver passed on vhost-user-net and vhost-net" \
	'^VPLAB-|^VPT-IRQ|^\{'

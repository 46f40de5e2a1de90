#!/bin/bash
# net_lib.sh works: DPDK's vhost PMD (back-end, forwarding to and from a
# net_null port) and DPDK's virtio_user PMD (front-end, io forwarding its one
# port back to itself) exchange packets over a vhost-user socket, each
# testpmd on its own core without hugepages; both sides count packets
# received and sent, and nothing is left behind (processes, socket, EAL dirs).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/net_lib.sh
net_need_testpmd
net_lib_init
fails=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2 ($1)"; fails=$((fails + 1)); fi; }

ncpu=$(nproc)
cpu_b=0 cpu_d=$(( ncpu > 1 ? 1 : 0 ))
sock=$NET_TMP/vhost.sock

net_testpmd_start backend "$cpu_b" "--vdev net_vhost0,iface=$sock,queues=1 --vdev net_null0,size=64" \
	"--forward-mode=io" || exit 1
net_wait_socket "$sock" backend 30 || exit 1
net_testpmd_start driver "$cpu_d" "--vdev net_virtio_user0,path=$sock,queues=1" "--forward-mode=io" || exit 1
# Bounded waits on the driver's own periodic counters.
net_wait_stat driver RX-packets 1000 30 || fails=$((fails + 1))
net_wait_stat driver TX-packets 1000 30 || fails=$((fails + 1))

pid_b=${NET_PIDS[backend]} pid_d=${NET_PIDS[driver]}
net_testpmd_stop driver
net_testpmd_stop backend

drv_rx=$(net_fwd_stat driver 0 RX-packets) drv_tx=$(net_fwd_stat driver 0 TX-packets)
vh_rx=$(net_fwd_stat backend 0 RX-packets) vh_tx=$(net_fwd_stat backend 0 TX-packets)
echo "driver (virtio_user) rx=$drv_rx tx=$drv_tx; backend (vhost PMD) rx=$vh_rx tx=$vh_tx"
check '[ "$drv_rx" -gt 0 ]' "virtio_user received packets"
check '[ "$drv_tx" -gt 0 ]' "virtio_user sent packets"
check '[ "$vh_rx" -gt 0 ]' "vhost PMD received packets"
check '[ "$vh_tx" -gt 0 ]' "vhost PMD sent packets"
check 'grep -aq "Bye" "$NET_TMP/driver.log" && grep -aq "Bye" "$NET_TMP/backend.log"' "both testpmd exited cleanly on SIGINT"
check '! kill -0 $pid_b 2>/dev/null && ! kill -0 $pid_d 2>/dev/null' "both processes gone"
check '[ ! -e /var/run/dpdk/$(net_prefix backend) ] && [ ! -e /var/run/dpdk/$(net_prefix driver) ]' "EAL runtime dirs removed"
if [ $fails -gt 0 ]; then
	for n in backend driver; do echo "--- $n log (tail)"; tr -d '\r' <"$NET_TMP/$n.log" | tail -n 30; done
	exit 1
fi
echo "net_testpmd_peer: all checks passed"

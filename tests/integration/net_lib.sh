#!/bin/bash
# net_lib.sh: helpers for net interop tests and benchmarks that run DPDK's
# dpdk-testpmd as a peer (vhost PMD back-end, virtio_user front-end) without
# hugepages or PCI.  Source it; it is not a test by itself (the runner only
# runs tests/integration/*.sh files that are tests: this one exits 0 at once
# when executed).
#
#   net_lib_init                 temp dir $NET_TMP, EXIT trap -> net_lib_cleanup
#   net_need_testpmd             exit 77 (with the reason) if dpdk-testpmd is missing
#   net_testpmd_start NAME CPU EAL_ARGS APP_ARGS
#                                start testpmd in the background: main and
#                                forwarding lcore both on CPU, a fresh
#                                --file-prefix, --no-huge (NET_HUGE=1: huge
#                                pages, see net_eal_mem) --no-pci, a small
#                                mbuf pool, --stats-period so it runs without
#                                stdin; log in $NET_TMP/NAME.log;
#                                --file-prefix in $(net_prefix NAME)
#   net_prog_start NAME CMD ARGS...   any other program (vhost-user-net), same
#                                bookkeeping; stdout in $NET_TMP/NAME.out
#   net_wait_socket PATH NAME [SECS]   wait (bounded) for a unix socket to appear
#                                while NAME is alive
#   net_wait_log NAME REGEX [SECS]     wait (bounded) for a log line
#   net_wait_stat NAME FIELD MIN [SECS] wait until a periodic NIC stat (port 0)
#                                such as RX-packets reaches MIN
#   net_testpmd_stop NAME        SIGINT (testpmd prints its totals), bounded
#                                wait, then SIGKILL; removes its EAL runtime
#                                dir; exit status in ${NET_STATUS[NAME]}
#   net_fwd_stat NAME PORT FIELD print FIELD (RX-packets, TX-packets,
#                                TX-dropped...) of "Forward statistics for
#                                port PORT" printed at exit
#   net_pps NAME rx|tx [SKIP [median|max]]  median (or best) of the
#                                per-second Rx-pps / Tx-pps samples of
#                                port 0, skipping the first SKIP
#   net_lib_cleanup              stop everything started, remove sockets/dirs
#
# Everything is killed by PID; nothing is matched by name.

NET_TESTPMD=${NET_TESTPMD:-dpdk-testpmd}
NET_MBUFS=${NET_MBUFS:-8192}
NET_MEM_MB=${NET_MEM_MB:-256}
NET_HUGE=${NET_HUGE:-0}
declare -gA NET_PIDS=() NET_PREFIXES=() NET_STATUS=()
declare -ga NET_ORDER=()
NET_SEQ=0

net_log() { echo "net_lib: $*" >&2; }

net_lib_init() {
	NET_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vp-net.XXXXXX")
	trap net_lib_cleanup EXIT
	trap 'exit 130' INT TERM
}

net_need_testpmd() {
	command -v "$NET_TESTPMD" >/dev/null 2>&1 && return 0
	echo "dpdk-testpmd not installed (Debian package dpdk-dev; scripts/deps.sh installs it)" >&2
	exit 77
}

# EAL --file-prefix of NAME's current (or last) run: unique per start.
net_prefix() { echo "${NET_PREFIXES[$1]:-vp-$1-$$}"; }

# testpmd's EAL memory options: ordinary pages, or (NET_HUGE=1) huge pages
# in memfds (--in-memory: no hugetlbfs files to leave behind), one per
# memory list (--single-file-segments: a virtio_user driver's whole memory
# then fits vhost-user's table of 8 regions).
net_eal_mem() {
	if [ "$NET_HUGE" = 1 ]; then
		echo "--in-memory --single-file-segments -m $NET_MEM_MB"
	else
		echo "--no-huge -m $NET_MEM_MB"
	fi
}

net_testpmd_start() {	# NAME CPU EAL_ARGS APP_ARGS
	local name=$1 cpu=$2 eal=$3 app=$4 log=$NET_TMP/$1.log
	NET_SEQ=$((NET_SEQ + 1))
	NET_PREFIXES[$name]=vp-$name-$$-$NET_SEQ
	: >"$log"	# exists before anyone polls it
	# shellcheck disable=SC2086
	"$NET_TESTPMD" --lcores "0@$cpu,1@$cpu" --file-prefix "$(net_prefix "$name")" \
		--no-pci $(net_eal_mem) --no-telemetry $eal -- \
		--nb-cores=1 --total-num-mbufs="$NET_MBUFS" --stats-period 1 $app \
		</dev/null >"$log" 2>&1 &
	NET_PIDS[$name]=$!
	NET_ORDER+=("$name")
}

# Any other program (vhost-user-net...) under the same bookkeeping.
net_prog_start() {	# NAME CMD [ARGS...]; stdout in $NET_TMP/NAME.out, stderr in NAME.log
	local name=$1; shift
	: >"$NET_TMP/$name.log"
	"$@" </dev/null >"$NET_TMP/$name.out" 2>"$NET_TMP/$name.log" &
	NET_PIDS[$name]=$!
	NET_ORDER+=("$name")
}

net_alive() { local p=${NET_PIDS[$1]:-}; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

net_wait_socket() {	# PATH NAME [SECS]
	local path=$1 name=$2 i n=$(( ${3:-20} * 10 ))
	for ((i = 0; i < n; i++)); do
		[ -S "$path" ] && return 0
		net_alive "$name" || { net_log "$name exited before creating $path:"; tail -n 20 "$NET_TMP/$name.log" >&2; return 1; }
		sleep 0.1
	done
	net_log "timed out waiting for $path"; return 1
}

net_wait_log() {	# NAME REGEX [SECS]
	local name=$1 re=$2 i n=$(( ${3:-20} * 10 ))
	for ((i = 0; i < n; i++)); do
		grep -aqE "$re" "$NET_TMP/$name.log" 2>/dev/null && return 0
		net_alive "$name" || { net_log "$name exited while waiting for /$re/:"; tail -n 20 "$NET_TMP/$name.log" >&2; return 1; }
		sleep 0.1
	done
	net_log "timed out waiting for /$re/ in $name's log"; return 1
}

# Latest value of a periodic "NIC statistics" field (port 0 block).
net_nic_stat() {	# NAME FIELD
	tr -d '\r' <"$NET_TMP/$1.log" | awk -v f="$2:" '
		/NIC statistics for port/ { inport = ($0 ~ /port 0 /) }
		inport { for (i = 1; i < NF; i++) if ($i == f) v = $(i + 1) }
		END { print v + 0 }'
}

net_wait_stat() {	# NAME FIELD MIN [SECS]
	local name=$1 field=$2 min=$3 i n=$(( ${4:-20} * 10 ))
	for ((i = 0; i < n; i++)); do
		[ "$(net_nic_stat "$name" "$field")" -ge "$min" ] && return 0
		net_alive "$name" || { net_log "$name exited while waiting for $field >= $min"; tail -n 20 "$NET_TMP/$name.log" >&2; return 1; }
		sleep 0.1
	done
	net_log "timed out waiting for $name $field >= $min (now $(net_nic_stat "$name" "$field"))"; return 1
}

net_testpmd_stop() {	# NAME
	local name=$1 pid=${NET_PIDS[$1]:-} i
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			net_log "$name (pid $pid) ignored SIGINT for 10 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	NET_STATUS[$name]=$?
	unset "NET_PIDS[$name]"
	rm -rf "/var/run/dpdk/$(net_prefix "$name")" "/var/run/dpdk/vp-net-$pid"
}

net_fwd_stat() {	# NAME PORT FIELD
	tr -d '\r' <"$NET_TMP/$1.log" | awk -v p="$2" -v f="$3:" '
		/Forward statistics for port/ { inport = ($0 ~ ("port " p " ")) ; next }
		/^ *-+ *$/ { inport = 0 }
		inport { for (i = 1; i < NF; i++) if ($i == f) v = $(i + 1) }
		END { print v + 0 }'
}

net_pps() {	# NAME rx|tx [SKIP [median|max]]
	local key=Rx-pps
	[ "$2" = tx ] && key=Tx-pps
	tr -d '\r' <"$NET_TMP/$1.log" | awk -v k="$key:" -v skip="${3:-2}" -v how="${4:-median}" '
		/NIC statistics for port/ { inport = ($0 ~ /port 0 /) }
		inport { for (i = 1; i < NF; i++) if ($i == k) s[n++] = $(i + 1) }
		END {
			m = 0
			for (i = skip; i < n; i++) v[m++] = s[i]
			if (!m) { print 0; exit }
			for (i = 1; i < m; i++) for (j = i; j > 0 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			if (how == "max") print v[m - 1]
			else print (m % 2) ? v[int(m / 2)] : (v[m / 2 - 1] + v[m / 2]) / 2
		}'
}

net_lib_cleanup() {
	local i
	for ((i = ${#NET_ORDER[@]} - 1; i >= 0; i--)); do
		net_testpmd_stop "${NET_ORDER[$i]}"
	done
	NET_ORDER=()
	[ -n "${NET_TMP:-}" ] && [ -d "$NET_TMP" ] && rm -rf "$NET_TMP"
	return 0
}

# --- self-test of the parsers (when run, not sourced) --------------------
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	net_lib_init
	NET_PIDS[fake]=
	{
		for pps in 100 5 7 9 8 6; do
			printf '\033[2J\033[1;1H\r\n  ######################## NIC statistics for port 0  ########################\r\n'
			printf '  RX-packets: %d        RX-missed: 0          RX-bytes:  16384\r\n' $((pps * 10))
			printf '  Rx-pps:  %12d          Rx-bps:            0\r\n' "$pps"
			printf '  Tx-pps:  %12d          Tx-bps:            0\r\n' $((pps * 2))
			printf '  ######################## NIC statistics for port 1  ########################\r\n'
			printf '  RX-packets: 999999        RX-missed: 0\r\n  Rx-pps:  999999  Rx-bps: 0\r\n'
		done
		printf '  ---------------------- Forward statistics for port 0  ----------------------\n'
		printf '  RX-packets: 11             RX-dropped: 0             RX-total: 11\n'
		printf '  TX-packets: 22             TX-dropped: 33            TX-total: 55\n'
		printf '  ----------------------------------------------------------------------------\n'
		printf '  ---------------------- Forward statistics for port 1  ----------------------\n'
		printf '  RX-packets: 44             RX-dropped: 0             RX-total: 44\n'
		printf '  TX-packets: 66             TX-dropped: 0             TX-total: 66\n'
	} >"$NET_TMP/fake.log"
	bad=0
	expect() { [ "$2" = "$3" ] || { echo "FAIL: $1: got '$2', want '$3'"; bad=1; }; }
	expect "median rx skipping 2" "$(net_pps fake rx 2)" 7.5
	expect "median tx skipping 1" "$(net_pps fake tx 1)" 14
	expect "best tx skipping 1" "$(net_pps fake tx 1 max)" 18
	expect "latest RX-packets" "$(net_nic_stat fake RX-packets)" 60
	expect "fwd port 0 TX-dropped" "$(net_fwd_stat fake 0 TX-dropped)" 33
	expect "fwd port 1 RX-packets" "$(net_fwd_stat fake 1 RX-packets)" 44
	expect "fwd port 0 TX-packets" "$(net_fwd_stat fake 0 TX-packets)" 22
	[ $bad = 0 ] && echo "net_lib: parser self-test passed"
	exit $bad
fi

// SPDX-License-Identifier: MIT
/*
 * DPDK ethdev port: any device the EAL can probe from a --vdev string or a
 * PCI address.  The EAL is initialised here from our own options (one DPDK
 * port per process, and the EAL cannot be initialised twice in a process):
 *   --lcores LIST (the caller's; default "0@(cpus we may run on)": no pinning)
 *   --file-prefix vp-net-<pid> (unique), removed again on close
 *   --no-huge -m N when no hugepage is free (or conf->no_huge), else
 *     --huge-unlink -m N; N sized for the mempool
 *   --no-pci and --vdev SPEC, or -a SPEC for a PCI address
 *   --no-telemetry, EAL log lines to stderr (stdout is for results)
 *
 * Buffers are rte_mbufs from one mempool sized for every queue; a frame is
 * copied once between guest memory and an mbuf, never inside DPDK.
 *
 * Security model: mbuf contents come from the wire (or from net_tx_pkt(),
 * validated); the only fields used are the mbuf's own lengths and flags.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "internal.h"

#define DPDK_DEF_DESC	1024
#define DPDK_CACHE	256
#define DPDK_MAX_ARGS	24

struct dpdk_port {
	struct net_port port;
	u16 port_id;
	bool started;
	bool hw_tx_csum;
	struct rte_mempool *pool;
	char runtime_dir[256];
	u64 rx_multiseg __attribute__((aligned(64)));
};

static bool eal_used;		/* rte_eal_init() was called in this process */

static inline struct dpdk_port *to_dpdk(struct net_port *p)
{
	return container_of(p, struct dpdk_port, port);
}

static unsigned int dpdk_rx_burst(struct net_port *p, u16 queue,
				  struct net_pkt *pkts, unsigned int n)
{
	struct dpdk_port *dp = to_dpdk(p);
	struct rte_mbuf *m[NET_BURST];
	unsigned int got, i, out = 0;

	if (n > NET_BURST)
		n = NET_BURST;
	got = rte_eth_rx_burst(dp->port_id, queue, m, n);
	for (i = 0; i < got; i++) {
		struct rte_mbuf *mb = m[i];
		struct net_pkt *pk = &pkts[out];

		if (i + 1 < got)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		if (unlikely(mb->nb_segs != 1)) {
			/* Not configured for scattered RX: should not happen. */
			dp->rx_multiseg++;
			rte_pktmbuf_free(mb);
			continue;
		}
		pk->data = rte_pktmbuf_mtod(mb, u8 *);
		pk->len = mb->data_len;
		pk->room = p->max_frame;
		pk->flags = (mb->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			RTE_MBUF_F_RX_L4_CKSUM_GOOD ? NET_PKT_F_CSUM_VALID : 0;
		pk->priv = mb;
		out++;
	}
	return out;
}

static unsigned int dpdk_alloc(struct net_port *p, u16 queue,
			       struct net_pkt *pkts, unsigned int n)
{
	struct dpdk_port *dp = to_dpdk(p);
	struct rte_mbuf *m[NET_BURST];
	unsigned int i;

	(void)queue;
	if (n > NET_BURST)
		n = NET_BURST;
	/*
	 * Raw mbufs, as PMDs take them for RX: every mbuf in the pool has
	 * refcnt 1, nb_segs 1 and no next (rte_pktmbuf_pool_create() makes them
	 * so, and every free path, ours and the PMDs', puts them back so), so
	 * only the fields a transmit reads are set, all in the first cache
	 * line; the lengths are set by dpdk_tx_burst(), the offload fields by
	 * dpdk_tx_csum() when it asks for an offload.  rte_pktmbuf_reset()
	 * would also store to the second line of each mbuf, for nothing.
	 */
	if (rte_mempool_get_bulk(dp->pool, (void **)m, n)) {
		/* Pool low: take what is left one by one. */
		for (i = 0; i < n; i++)
			if (rte_mempool_get(dp->pool, (void **)&m[i]))
				break;
		n = i;
	}
	for (i = 0; i < n; i++) {
		struct rte_mbuf *mb = m[i];

		mb->data_off = RTE_PKTMBUF_HEADROOM;
		mb->ol_flags = 0;
		mb->packet_type = 0;
		mb->vlan_tci = 0;
		mb->port = RTE_MBUF_PORT_INVALID;
		pkts[i] = (struct net_pkt){
			.data = (u8 *)mb->buf_addr + RTE_PKTMBUF_HEADROOM,
			.room = p->max_frame,
			.priv = mb,
		};
	}
	return n;
}

/* Partial checksum: hardware if it can (IPv4/IPv6, TCP/UDP), else software. */
static void dpdk_tx_csum(struct dpdk_port *dp, struct net_pkt *pk,
			 struct rte_mbuf *mb)
{
	u16 etype;

	if (dp->hw_tx_csum && pk->csum_start > NET_ETH_HLEN &&
	    (pk->csum_offset == 16 || pk->csum_offset == 6)) {
		memcpy(&etype, pk->data + 12, 2);
		etype = rte_be_to_cpu_16(etype);
		if (etype == RTE_ETHER_TYPE_IPV4 || etype == RTE_ETHER_TYPE_IPV6) {
			mb->tx_offload = 0;	/* raw mbuf (dpdk_alloc): clear stale lengths */
			mb->l2_len = NET_ETH_HLEN;
			mb->l3_len = pk->csum_start - NET_ETH_HLEN;
			mb->ol_flags |= (etype == RTE_ETHER_TYPE_IPV4 ?
					 RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
				(pk->csum_offset == 16 ? RTE_MBUF_F_TX_TCP_CKSUM :
				 RTE_MBUF_F_TX_UDP_CKSUM);
			return;
		}
	}
	net_csum_finish(pk);
}

static unsigned int dpdk_tx_burst(struct net_port *p, u16 queue,
				  struct net_pkt *pkts, unsigned int n)
{
	struct dpdk_port *dp = to_dpdk(p);
	struct rte_mbuf *m[NET_BURST];
	unsigned int i;

	if (n > NET_BURST)
		n = NET_BURST;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *mb = pkts[i].priv;

		mb->data_len = pkts[i].len;
		mb->pkt_len = pkts[i].len;
		if (unlikely(pkts[i].flags & NET_PKT_F_NEEDS_CSUM))
			dpdk_tx_csum(dp, &pkts[i], mb);
		m[i] = mb;
	}
	return rte_eth_tx_burst(dp->port_id, queue, m, n);
}

/*
 * Give buffers back.  Those of a burst are mostly plain mbufs of our own pool
 * (one segment, one reference, direct: what dpdk_alloc() and a PMD's RX
 * hand out), which go straight back to the pool's per-lcore cache in one
 * call, the way rte_pktmbuf_free_bulk() would end up putting them but
 * without its per-mbuf work; that an mbuf of one segment has no next is the
 * pool's invariant, so the second cache line is not read.  Anything else
 * (shared, indirect, external, chained, another pool's) takes the full path.
 */
static void dpdk_free(struct net_port *p, u16 queue, struct net_pkt *pkts,
		      unsigned int n)
{
	struct dpdk_port *dp = to_dpdk(p);
	void *m[NET_BURST];
	unsigned int i, k, nm;

	(void)queue;
	while (n) {
		k = n > NET_BURST ? NET_BURST : n;
		for (i = 0, nm = 0; i < k; i++) {
			struct rte_mbuf *mb = pkts[i].priv;

			if (likely(mb->pool == dp->pool && mb->nb_segs == 1 &&
				   rte_mbuf_refcnt_read(mb) == 1 &&
				   !(mb->ol_flags & (RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT))))
				m[nm++] = mb;
			else
				rte_pktmbuf_free(mb);
		}
		if (nm)
			rte_mempool_put_bulk(dp->pool, m, nm);
		pkts += k;
		n -= k;
	}
}

static int dpdk_stats(struct net_port *p, struct net_port_stats *st)
{
	struct dpdk_port *dp = to_dpdk(p);
	struct rte_eth_stats s;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = rte_eth_stats_get(dp->port_id, &s);
	if (ret)
		return ret;
	st->rx_packets = s.ipackets;
	st->rx_bytes = s.ibytes;
	st->tx_packets = s.opackets;
	st->tx_bytes = s.obytes;
	st->rx_missed = s.imissed;
	st->rx_errors = s.ierrors + READ_ONCE(dp->rx_multiseg);
	st->tx_errors = s.oerrors;
	st->rx_nombuf = s.rx_nombuf;
	return 0;
}

static int dpdk_thread_init(struct net_port *p)
{
	(void)p;
	if (rte_lcore_id() != LCORE_ID_ANY)
		return 0;	/* an EAL thread already */
	return rte_thread_register() ? -rte_errno : 0;
}

static void dpdk_thread_fini(struct net_port *p)
{
	(void)p;
	/* Only threads we registered (not EAL lcores) give their id back. */
	if (rte_lcore_id() != LCORE_ID_ANY && rte_lcore_has_role(rte_lcore_id(), ROLE_NON_EAL))
		rte_thread_unregister();
}

/* Remove the EAL's runtime directory (config, sockets) of our prefix. */
static void rm_runtime_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (!dir[0] || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

static void dpdk_close(struct net_port *p)
{
	struct dpdk_port *dp = to_dpdk(p);

	if (dp->started)
		rte_eth_dev_stop(dp->port_id);
	if (dp->port_id != RTE_MAX_ETHPORTS)
		rte_eth_dev_close(dp->port_id);
	rte_mempool_free(dp->pool);
	rte_eal_cleanup();
	rm_runtime_dir(dp->runtime_dir);
	free(dp);
}

static const struct net_port_ops dpdk_ops = {
	.kind = "dpdk",
	.rx_burst = dpdk_rx_burst,
	.alloc = dpdk_alloc,
	.tx_burst = dpdk_tx_burst,
	.free = dpdk_free,
	.stats = dpdk_stats,
	.thread_init = dpdk_thread_init,
	.thread_fini = dpdk_thread_fini,
	.close = dpdk_close,
};

/* [dddd:]bb:dd.f */
static bool is_pci_addr(const char *s)
{
	unsigned int dom, bus, dev, fn;
	int n = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 && !s[n])
		return true;
	n = 0;
	return sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 && !s[n];
}

/* Free default-size huge pages, and that size in kB. */
static unsigned long free_hugepages(unsigned long *size_kb)
{
	char line[128];
	unsigned long v = 0, kb;
	FILE *f = fopen("/proc/meminfo", "r");

	*size_kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "HugePages_Free: %lu", &kb) == 1)
			v = kb;
		else if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			*size_kb = kb;
	}
	fclose(f);
	return v;
}

/*
 * Whether a hugetlbfs of @size_kb pages is mounted: the EAL needs one to use
 * reserved huge pages, and fails its init without (it cannot be retried in
 * the same process).  A mount without pagesize= has the default size.
 */
static bool hugetlbfs_mounted(unsigned long size_kb)
{
	char dev[256], dir[256], type[64], opts[512];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return false;
	while (!found && fscanf(f, "%255s %255s %63s %511s %*d %*d", dev, dir, type, opts) == 4) {
		const char *ps = strstr(opts, "pagesize=");
		unsigned long kb = size_kb;
		char unit = 0;

		if (strcmp(type, "hugetlbfs"))
			continue;
		if (ps && sscanf(ps + 9, "%lu%c", &kb, &unit) >= 1)
			kb <<= unit == 'G' ? 20 : unit == 'M' ? 10 : 0;
		found = kb == size_kb;
	}
	fclose(f);
	return found;
}

/* Huge pages if the EAL can use them for @mem_mb; else say why not. */
static bool use_hugepages(const struct net_port_conf *conf, const char *dev,
			  unsigned int mem_mb)
{
	unsigned long kb, n;

	if (conf->no_huge)
		return false;
	n = free_hugepages(&kb);
	if (!n || !kb)
		return false;
	if (n * kb < (unsigned long)mem_mb << 10) {
		net_log("%s: %lu free %lu kB huge pages, %u MiB needed: running without huge pages",
			dev, n, kb, mem_mb);
		return false;
	}
	if (!hugetlbfs_mounted(kb)) {
		net_log("%s: %lu free %lu kB huge pages but no hugetlbfs of that size mounted: "
			"running without huge pages (mount -t hugetlbfs nodev /dev/hugepages "
			"to use them)", dev, n, kb);
		return false;
	}
	return true;
}

/* "0@(0,1)": the main lcore may run on every CPU we are allowed. */
static void default_lcores(char *buf, size_t len)
{
	cpu_set_t set;
	size_t o;
	int c;

	o = snprintf(buf, len, "0@(");
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (c = 0; c < CPU_SETSIZE && o + 8 < len; c++)
			if (CPU_ISSET(c, &set))
				o += snprintf(buf + o, len - o, "%s%d",
					      buf[o - 1] == '(' ? "" : ",", c);
	} else {
		o += snprintf(buf + o, len - o, "0");
	}
	snprintf(buf + o, len - o, ")");
}

static int eal_start(const struct net_port_conf *conf, const char *dev,
		     unsigned int mem_mb, bool pci, char *err, size_t errlen)
{
	char *argv[DPDK_MAX_ARGS + 1];
	char lcores[512], prefix[64], mem[16], loglvl[64];
	int argc = 0, ret;
	bool no_huge = !use_hugepages(conf, dev, mem_mb);

	if (conf->lcores)
		snprintf(lcores, sizeof(lcores), "%s", conf->lcores);
	else
		default_lcores(lcores, sizeof(lcores));
	if (conf->file_prefix)
		snprintf(prefix, sizeof(prefix), "%s", conf->file_prefix);
	else
		snprintf(prefix, sizeof(prefix), "vp-net-%d", (int)getpid());
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(loglvl, sizeof(loglvl), "%s",
		 conf->eal_log_level ? conf->eal_log_level : "notice");

	argv[argc++] = "vunet";
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = no_huge ? "--no-huge" : "--huge-unlink";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--log-level";
	argv[argc++] = loglvl;
	if (pci) {
		argv[argc++] = "-a";
		argv[argc++] = (char *)conf->spec;
	} else {
		argv[argc++] = "--no-pci";
		argv[argc++] = "--vdev";
		argv[argc++] = (char *)conf->spec;
	}
	argv[argc] = NULL;

	/* EAL log lines go to stderr; stdout belongs to the program. */
	rte_openlog_stream(stderr);
	eal_used = true;
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		int e = rte_errno ? rte_errno : EINVAL;
		char dir[256];

		/* A failed init may have created our runtime dir: remove it. */
		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		if (dir[0] && strstr(dir, prefix))
			rm_runtime_dir(dir);
		return net_seterr(-e, err, errlen, "%s: EAL init failed (%s): %s", dev,
				  no_huge ? "--no-huge" : "hugepages", rte_strerror(e));
	}
	net_log("%s: EAL memory: %u MiB %s", dev, mem_mb,
		no_huge ? "of ordinary pages (--no-huge)" : "on huge pages");
	return 0;
}

int net_dpdk_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen)
{
	unsigned int nq = conf->nr_queues ? conf->nr_queues : 1;
	u16 nb_desc = conf->queue_size ? conf->queue_size : DPDK_DEF_DESC;
	u16 rxd = nb_desc, txd = nb_desc;
	struct rte_eth_conf ec;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	struct dpdk_port *dp;
	char dev[64], poolname[RTE_MEMPOOL_NAMESIZE];
	unsigned int nb_mbufs, mem_mb, q;
	u32 room;
	u16 mtu = conf->mtu ? conf->mtu : 1500;
	bool pci = is_pci_addr(conf->spec);
	int ret;

	snprintf(dev, sizeof(dev), "%.*s", (int)strcspn(conf->spec, ","), conf->spec);
	if (eal_used)
		return net_seterr(-EBUSY, err, errlen,
				  "%s: DPDK was already initialised in this process "
				  "(one DPDK port per process)", dev);
	/* Every descriptor filled, plus bursts in flight and per-lcore caches. */
	nb_mbufs = nq * (2u * nb_desc + 4 * NET_BURST) + 2 * DPDK_CACHE + 1024;
	room = RTE_PKTMBUF_HEADROOM + (u32)mtu + NET_ETH_HLEN + NET_VLAN_HLEN;
	if (room < RTE_MBUF_DEFAULT_BUF_SIZE)
		room = RTE_MBUF_DEFAULT_BUF_SIZE;
	room = (room + 63) & ~63u;
	/* The mempool, plus what the EAL and the drivers need. */
	mem_mb = (unsigned int)(((u64)nb_mbufs * (room + 256) >> 20) + 64);

	ret = eal_start(conf, dev, mem_mb, pci, err, errlen);
	if (ret)
		return ret;
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		rte_eal_cleanup();
		return net_seterr(-ENOMEM, err, errlen, "%s: out of memory", dev);
	}
	dp->port.ops = &dpdk_ops;
	dp->port_id = RTE_MAX_ETHPORTS;
	snprintf(dp->port.name, sizeof(dp->port.name), "%s", dev);
	snprintf(dp->runtime_dir, sizeof(dp->runtime_dir), "%s", rte_eal_get_runtime_dir());
	dp->port.nr_queues = nq;

	if (rte_eth_dev_get_port_by_name(dev, &dp->port_id) != 0) {
		u16 pid;

		dp->port_id = RTE_MAX_ETHPORTS;
		/* A PCI address may be spelled differently from DPDK's name. */
		if (pci && rte_eth_dev_count_avail() == 1)
			RTE_ETH_FOREACH_DEV(pid)
				dp->port_id = pid;
		if (dp->port_id == RTE_MAX_ETHPORTS) {
			ret = net_seterr(-ENODEV, err, errlen,
					 "%s: device probe failed: no such ethdev "
					 "(the EAL log above has the driver's reason)", dev);
			goto fail;
		}
	}
	ret = rte_eth_dev_info_get(dp->port_id, &info);
	if (ret) {
		ret = net_seterr(ret, err, errlen, "%s: rte_eth_dev_info_get failed: %s",
				 dev, rte_strerror(-ret));
		goto fail;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		ret = net_seterr(-EINVAL, err, errlen,
				 "%s: %u queue pairs requested, device supports %u rx / %u tx",
				 dev, nq, info.max_rx_queues, info.max_tx_queues);
		goto fail;
	}
	if (conf->mtu && (mtu < info.min_mtu || mtu > info.max_mtu)) {
		ret = net_seterr(-EINVAL, err, errlen, "%s: MTU %u outside the device's %u..%u",
				 dev, mtu, info.min_mtu, info.max_mtu);
		goto fail;
	}

	snprintf(poolname, sizeof(poolname), "vunet_%u", dp->port_id);
	dp->pool = rte_pktmbuf_pool_create(poolname, nb_mbufs, DPDK_CACHE, 0, room,
					   rte_socket_id());
	if (!dp->pool) {
		ret = net_seterr(-(rte_errno ? rte_errno : ENOMEM), err, errlen,
				 "%s: mempool of %u mbufs (%u MB) failed: %s", dev, nb_mbufs,
				 mem_mb, rte_strerror(rte_errno));
		goto fail;
	}

	memset(&ec, 0, sizeof(ec));
	if (conf->mtu)
		ec.rxmode.mtu = mtu;
	if ((info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) ==
	    (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM))
		ec.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if ((info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) ==
	    (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) {
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		dp->hw_tx_csum = true;
	}
	if (nq > 1 && info.flow_type_rss_offloads) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
						  RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	ret = rte_eth_dev_configure(dp->port_id, nq, nq, &ec);
	if (ret) {
		ret = net_seterr(ret, err, errlen, "%s: rte_eth_dev_configure (%u queue pairs) failed: %s",
				 dev, nq, rte_strerror(-ret));
		goto fail;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port_id, &rxd, &txd);
	if (ret) {
		ret = net_seterr(ret, err, errlen, "%s: descriptor count %u not usable: %s",
				 dev, nb_desc, rte_strerror(-ret));
		goto fail;
	}
	for (q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(dp->port_id, q, rxd, rte_eth_dev_socket_id(dp->port_id),
					     NULL, dp->pool);
		if (ret) {
			ret = net_seterr(ret, err, errlen, "%s: rx queue %u setup failed: %s",
					 dev, q, rte_strerror(-ret));
			goto fail;
		}
		ret = rte_eth_tx_queue_setup(dp->port_id, q, txd,
					     rte_eth_dev_socket_id(dp->port_id), NULL);
		if (ret) {
			ret = net_seterr(ret, err, errlen, "%s: tx queue %u setup failed: %s",
					 dev, q, rte_strerror(-ret));
			goto fail;
		}
	}
	ret = rte_eth_dev_start(dp->port_id);
	if (ret) {
		ret = net_seterr(ret, err, errlen, "%s: rte_eth_dev_start failed: %s",
				 dev, rte_strerror(-ret));
		goto fail;
	}
	dp->started = true;
	/* Not every device has promiscuous mode (net_null...): not fatal. */
	rte_eth_promiscuous_enable(dp->port_id);
	if (rte_eth_dev_get_mtu(dp->port_id, &mtu) == 0)
		dp->port.mtu = mtu;
	else
		dp->port.mtu = conf->mtu ? conf->mtu : 1500;
	dp->port.max_frame = (u32)dp->port.mtu + NET_ETH_HLEN + NET_VLAN_HLEN;
	if (dp->port.max_frame > room - RTE_PKTMBUF_HEADROOM)
		dp->port.max_frame = room - RTE_PKTMBUF_HEADROOM;
	/* Partial checksums are finished in hardware or in software. */
	dp->port.features = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	if (rte_eth_macaddr_get(dp->port_id, &mac) == 0)
		memcpy(dp->port.mac, mac.addr_bytes, 6);
	*out = &dp->port;
	return 0;
fail:
	dpdk_close(&dp->port);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* libvunet private header: the port constructors.  Nobody outside includes it. */
#ifndef VHOST_USER_NET_INTERNAL_H
#define VHOST_USER_NET_INTERNAL_H

#include <stdarg.h>
#include <vhost-user/net.h>

#define net_log(fmt, ...) fprintf(stderr, "vunet: " fmt "\n", ##__VA_ARGS__)

/* Each returns 0 and *out, or -errno with the reason in err. */
int net_loop_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen);
int net_discard_open(const struct net_port_conf *conf, struct net_port **out,
		     char *err, size_t errlen);
int net_tap_open(const struct net_port_conf *conf, const char *ifname,
		 struct net_port **out, char *err, size_t errlen);
int net_dpdk_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen);

/* snprintf into err (if non-NULL); returns @ret so callers can `return seterr(...)`. */
int net_seterr(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------------------ */
/* The vhost-user-net program (main.c, dev.c, datapath.c) */

#include <pthread.h>
#include <virtio/vq.h>
#include <vhost-user/backend.h>

#define VUN_MAX_SOCKETS	8
#define VUN_RX_USED	512	/* staged RX used entries per queue pair */
#define VUN_RX_MAX_CHAINS 256	/* chains one RX packet may take (MRG_RXBUF) */

#define vun_log(fmt, ...) fprintf(stderr, "vhost-user-net: " fmt "\n", ##__VA_ARGS__)

struct vun;
struct vun_dev;

/* Port -> guest work carried over between rounds (guest RX ring ran dry). */
struct vun_rx_state {
	struct net_pkt pk[NET_BURST];
	unsigned int n, i;	/* pk[i..n) not delivered yet */
	unsigned int freed;	/* pk[0..freed) given back to the port */
	bool mid;		/* pk[i] is partly written into chains */
	struct net_rx rx;
	struct net_copy_batch copies;	/* frame bytes of this round, run by rx_flush() */
	unsigned int first;	/* used[first..nused): pk[i]'s chains so far */
	unsigned int nused;
	struct vq_used used[VUN_RX_USED];
};

/* One queue pair of one socket, served by one thread. */
struct vun_qp {
	struct vun_dev *dev;
	struct net_port *port;	/* dev->app->port, at hand */
	unsigned int idx;	/* pair index: receiveq 2*idx, transmitq 2*idx+1 */
	u16 port_q;		/* port queue it uses */
	int cpu;		/* -1: not pinned */
	struct vq rxq, txq;
	bool rx_on, tx_on;
	bool rx_err_logged, tx_err_logged;
	u32 drop_logged;	/* 1 << reason: guest-fault drops already logged */
	int rx_kick, tx_kick, rx_call, tx_call;
	struct net_hdr_cfg cfg;
	pthread_t thread;
	bool running;
	bool stop;		/* atomic: ask the thread to return */
	int stop_fd;		/* eventfd: wakes the thread */
	struct net_queue_stats st;
	/* Time in rounds that moved packets / found none, in cycles_now() units;
	 * cyc0, ns0: the thread's start on both clocks (see vun_qp_times()). */
	u64 busy_cyc, idle_cyc, cyc0, ns0;
	struct net_tune tx_flush;	/* flush guest TX frames after the copy? */
	struct net_tune rx_prefetch;	/* prefetch a burst's RX chains first? */
	struct vun_rx_state rxs;
};

struct vun_dev {
	struct vun *app;
	const char *path;
	struct vhu_dev *vhu;
	struct vhu_dev_ops ops;
	unsigned int nr_qp;
	u64 features;		/* negotiated */
	int conn_fd;		/* registered in the control epoll, or -1 */
	struct vun_qp *qp;	/* nr_qp of them */
};

struct vun {
	struct net_port *port;
	unsigned int nr_dev;
	struct vun_dev dev[VUN_MAX_SOCKETS];
	bool poll;
	enum net_tune_mode tx_flush;	/* --tx-flush */
	enum net_tune_mode rx_prefetch;	/* --rx-prefetch */
	int cpus[256];
	unsigned int nr_cpus;
	u8 mac[6];
	bool has_mac;
};

/* dev.c: the vhost-user device around the data path. */
int vun_dev_init(struct vun *app, struct vun_dev *d, const char *path,
		 unsigned int nr_qp, u16 port_q0);
void vun_dev_fini(struct vun_dev *d);
u64 vun_dev_offered_features(const struct vun *app, unsigned int nr_qp);
int vun_dev_stats_json(struct vun_dev *d, FILE *f);

/* datapath.c: the per-queue-pair thread. */
int vun_qp_start(struct vun_qp *qp);
void vun_qp_stop(struct vun_qp *qp);
/* With the thread stopped: give back what the RX side holds. */
void vun_qp_rx_release(struct vun_qp *qp);
/* Its busy and idle time so far, in ns (while it runs: racy but untorn). */
void vun_qp_times(const struct vun_qp *qp, u64 *busy_ns, u64 *idle_ns);

#endif

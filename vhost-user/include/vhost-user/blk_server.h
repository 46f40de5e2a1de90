/* SPDX-License-Identifier: MIT */
/*
 * blk_server: the whole vhost-user-blk back-end as a library.
 *
 * libvublk (blk.h: disk, requests, I/O engines) + the vhost-user back-end
 * library (backend.h: protocol, memory table, inflight region) + virtio/'s
 * device-side ring (vq.h), with one data-path thread per queue and one
 * control loop.  build/vhost-user-blk is a thin main() around it; the VMM
 * runs the same thing in-process on its own thread over a socketpair:
 *
 *	struct blk_server_opts o = { .disk_path = "disk.img", .queues = 1 };
 *	char err[256];
 *	struct blk_server *s;
 *
 *	if (blk_server_new(&o, &s, err, sizeof(err)))
 *		fail(err);
 *	blk_server_set_conn_fd(s, sv[1]);	(or blk_server_listen(s, path))
 *	blk_server_start(s);			(or blk_server_run(s) here)
 *	...
 *	blk_server_free(s);			(stops, joins, closes, unlinks)
 *
 * Link with libvublk-server.a libvublk.a libvhost-user.a libvirtio.a and
 * $(VUBLK_LDLIBS) (-luring -laio).
 *
 * Device: VERSION_1, EVENT_IDX, INDIRECT_DESC, SEG_MAX, BLK_SIZE, FLUSH,
 * CONFIG_WCE, DISCARD / WRITE_ZEROES (writable disks, when the file allows),
 * RO, MQ (queues > 1).  Protocol: MQ, REPLY_ACK, CONFIG, INFLIGHT_SHMFD,
 * RESET_DEVICE, CONFIGURE_MEM_SLOTS.  Queue sizes up to 1024; each queue's
 * engine depth is its ring size.
 *
 * A front-end going away (or sending something invalid: connection dropped,
 * one log line) leaves the server waiting for the next one on the listening
 * socket.  A guest error on a ring (bad chain) marks that queue broken: one
 * log line, the err eventfd is signalled if the front-end gave one, and the
 * queue does nothing more until the front-end restarts it; other queues and
 * later connections are unaffected.
 *
 * Log lines go through the vhost-user library's rate-limited log
 * (vhu_set_log(), stderr by default).  Functions return 0 or -errno.
 */
#ifndef VHOST_USER_BLK_SERVER_H
#define VHOST_USER_BLK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <virtio/types.h>
#include <vhost-user/blk.h>

#define BLK_SERVER_MAX_QUEUES		64
#define BLK_SERVER_MAX_QUEUE_SIZE	1024
#define BLK_SERVER_MAX_POLL_US		1000000u

/*
 * The most a queue thread spins before sleeping unless told otherwise
 * (program and vmm --disk).  The window adapts below it: see
 * blk_server_poll_next().
 */
#define BLK_SERVER_DEFAULT_POLL_US	64
#define BLK_POLL_START_NS		4000u

struct blk_server_opts {
	const char *disk_path;
	enum blk_engine_kind engine;
	enum blk_cache_mode cache;
	bool readonly;
	unsigned int queues;		/* 1..BLK_SERVER_MAX_QUEUES; 0 = 1 */
	unsigned int poll_us;		/* busy-poll at most this long before sleeping; 0 = never */
	const char *serial;		/* GET_ID answer, <= 20 bytes; NULL = default */
};

struct blk_server;

/*
 * A queue thread's spin policy: after working it spins over the ring and
 * the completions for a window before it sleeps on the eventfds.  Given the
 * window it had (@poll_ns), the maximum (@poll_max, poll_us in ns) and how
 * long the idle spell that just ended lasted in all (@idle_ns, spin and
 * sleep), returns the next window: doubled (or BLK_POLL_START_NS from 0) up
 * to @poll_max when the spell was no longer than @poll_max, halved (0 below
 * BLK_POLL_START_NS) when it was longer.  Exposed for its unit test.
 */
u64 blk_server_poll_next(u64 poll_ns, u64 poll_max, u64 idle_ns);

/*
 * Open the disk and check the engine works.  On failure *out is NULL, the
 * return is -errno and @err (if not NULL) holds one line saying why (no
 * trailing newline), e.g. "cannot open disk /x.img: No such file or directory".
 */
int blk_server_new(const struct blk_server_opts *o, struct blk_server **out,
		   char *err, size_t errlen);
/*
 * Listen on a unix socket at @path (the program).  A stale socket file is
 * replaced; -EADDRINUSE when another back-end is accepting there, -EEXIST
 * when @path is not a socket.  Call before blk_server_run/start.
 */
int blk_server_listen(struct blk_server *s, const char *path);
/*
 * Serve one already-connected stream socket (in-process: one end of a
 * socketpair); ownership is taken, even on failure.  May be called again
 * (from any thread, also while the loop runs) to hand over the next
 * connection once the previous one ended.
 */
int blk_server_set_conn_fd(struct blk_server *s, int fd);
/* Control loop in the calling thread until blk_server_stop(); 0 or -errno. */
int blk_server_run(struct blk_server *s);
/* The same loop on a new thread (joined by blk_server_free). */
int blk_server_start(struct blk_server *s);
/*
 * Ask the loop to return (any thread; async-signal-safe: an atomic store and
 * an eventfd write).  The current front-end is disconnected when the loop
 * ends (queues drained and stopped).
 */
void blk_server_stop(struct blk_server *s);
/* Stop, join the loop thread (if started), stop every queue, close, unlink. */
void blk_server_free(struct blk_server *s);

/* Counters since blk_server_new(), summed over queues (any thread). */
struct blk_server_stats {
	u64 kicks;		/* kick eventfd wake-ups */
	u64 requests;		/* chains submitted (incl. inflight resubmits) */
	u64 completions;	/* used entries published */
	u64 calls;		/* call eventfd signals to the guest */
	u64 errors;		/* non-OK statuses + guest ring errors */
};
void blk_server_get_stats(struct blk_server *s, struct blk_server_stats *st);
/*
 * One JSON line (with '\n'):
 *   {"tool":"vhost-user-blk","disk":"...","engine":"io_uring","cache":"writeback",
 *    "queues":[{"q":0,"kicks":N,"requests":N,"completions":N,"calls":N,
 *      "errors":N,"flushes":N,"fdatasyncs":N,"broken":0},...],
 *    "kicks":N,"requests":N,"completions":N,"calls":N,"errors":N,
 *    "flushes":N,"fdatasyncs":N,"connections":N}
 */
void blk_server_stats_json(struct blk_server *s, FILE *f);

#endif

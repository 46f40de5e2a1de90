// SPDX-License-Identifier: MIT
/*
 * Interop: our vhost-user front-end against a real back-end,
 * qemu-storage-daemon's vhost-user-blk export (libvhost-user inside).
 * Handshake, config space (capacity), a memfd memory table, one split ring
 * built by hand in that memory, a real virtio-blk write and read through it,
 * GET_VRING_BASE, then a second front-end on the same socket.  Skips (77)
 * when qemu-storage-daemon is not installed.  The daemon is started with
 * --daemonize (its parent exits once the export listens: no polling for the
 * socket) and killed by the PID from its pidfile; a pidfd tells when it died.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/virtio_blk.h>

#include "vhu_test.h"

#define QSD	"/usr/bin/qemu-storage-daemon"
#define MB	(1ull << 20)
#define QSZ	128
#define DESC	0x1000ull
#define AVAIL	0x2000ull
#define USED	0x3000ull
#define HDR	0x10000ull
#define DATA	0x11000ull
#define STATUS	0x12000ull

static struct t_path p;
static char img[160], pidf[160];
static pid_t daemon_pid;

/* A failing CHECK exits: the daemon must not outlive the test. */
static void qsd_kill_at_exit(void)
{
	if (daemon_pid > 1)
		kill(daemon_pid, SIGTERM);
}

static void qsd_start(void)
{
	char bdev[256], exp[256];
	pid_t pid;
	int st;
	FILE *f;

	snprintf(bdev, sizeof(bdev), "driver=file,node-name=f,filename=%s", img);
	snprintf(exp, sizeof(exp),
		 "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=%s,writable=on",
		 p.sock);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		execl(QSD, QSD, "--blockdev", bdev, "--export", exp, "--pidfile", pidf,
		      "--daemonize", (char *)NULL);
		_exit(127);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	f = fopen(pidf, "r");
	CHECK(f && fscanf(f, "%d", &daemon_pid) == 1 && daemon_pid > 1);
	fclose(f);
	atexit(qsd_kill_at_exit);
}

static void qsd_stop(void)
{
	int pfd = syscall(SYS_pidfd_open, daemon_pid, 0);
	struct pollfd pf;

	CHECK(pfd >= 0);
	CHECK_EQ(kill(daemon_pid, SIGTERM), 0);
	pf = (struct pollfd){ .fd = pfd, .events = POLLIN };
	CHECK_EQ(poll(&pf, 1, 30000), 1);	/* readable = the process exited */
	close(pfd);
	daemon_pid = 0;
}

static void setup(struct vhost_dev *d, struct t_ram *ram, int kick, int call)
{
	struct vq_mem mem;
	struct vhost_vring_gpas a = { .desc = DESC, .avail = AVAIL, .used = USED };

	t_ram_table(ram, &mem);
	CHECK_EQ(d->ops->set_features(d, 1ull << VIRTIO_F_VERSION_1), 0);
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	CHECK_EQ(d->ops->set_vring_num(d, 0, QSZ), 0);
	CHECK_EQ(d->ops->set_vring_base(d, 0, 0), 0);
	CHECK_EQ(d->ops->set_vring_addr(d, 0, &a), 0);
	CHECK_EQ(d->ops->set_vring_kick(d, 0, kick), 0);
	CHECK_EQ(d->ops->set_vring_call(d, 0, call), 0);
	CHECK_EQ(d->ops->set_vring_enable(d, 0, true), 0);
}

/* One request: header, 512-byte data buffer, status; wait for completion. */
static void blk_io(struct t_ram *ram, u32 type, u64 sector, u16 n, int kick, int call)
{
	char *g = ram->hva;
	struct vring_desc *desc = (void *)(g + DESC);
	struct vring_avail *avail = (void *)(g + AVAIL);
	struct vring_used *used = (void *)(g + USED);
	struct virtio_blk_outhdr *h = (void *)(g + HDR);
	u64 one = 1, v;
	struct pollfd pf = { .fd = call, .events = POLLIN };

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	g[STATUS] = 0x55;
	desc[0] = (struct vring_desc){ HDR, sizeof(*h), VRING_DESC_F_NEXT, 1 };
	desc[1] = (struct vring_desc){ DATA, 512,
		VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0), 2 };
	desc[2] = (struct vring_desc){ STATUS, 1, VRING_DESC_F_WRITE, 0 };
	avail->ring[n % QSZ] = 0;
	/* the descriptors and ring entry are visible before the index moves */
	__atomic_store_n(&avail->idx, (u16)(n + 1), __ATOMIC_RELEASE);
	CHECK(write(kick, &one, 8) == 8);
	/* (libvhost-user also signals the call fd when it is set: loop) */
	while (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != (u16)(n + 1)) {
		CHECK_EQ(poll(&pf, 1, 30000), 1);
		CHECK(read(call, &v, 8) == 8);
	}
	CHECK_EQ(used->ring[n % QSZ].id, 0);
	CHECK_EQ((u8)g[STATUS], VIRTIO_BLK_S_OK);
}

int main(void)
{
	struct t_ram ram;
	struct vhost_dev *d;
	int fd, kick, call, fds0;
	u8 cfg[8], buf[512];
	u64 cap;
	unsigned int base;

	if (access(QSD, X_OK) != 0) {
		fprintf(stderr, "qemu-storage-daemon not installed\n");
		return 77;
	}
	t_log_capture();
	fds0 = t_count_fds();
	t_path_init(&p);
	snprintf(img, sizeof(img), "%s/disk.img", p.dir);
	snprintf(pidf, sizeof(pidf), "%s/qsd.pid", p.dir);
	t_path_add_file(img);
	t_path_add_file(pidf);
	fd = open(img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, MB) == 0);
	memset(buf, 0xc3, sizeof(buf));
	CHECK(pwrite(fd, buf, 512, 512 * 5) == 512);
	qsd_start();

	t_ram_init(&ram, 0, MB);
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC);
	CHECK(kick >= 0 && call >= 0);

	CHECK_EQ(vhu_fe_connect(p.sock, NULL, &d), 0);
	fprintf(stderr, "features 0x%llx, protocol 0x%llx, %u queues\n",
		(unsigned long long)d->features,
		(unsigned long long)vhu_fe_protocol_features(d), d->nr_queues);
	CHECK(d->features & (1ull << VIRTIO_F_VERSION_1));
	CHECK(d->nr_queues >= 1);
	CHECK(vhu_fe_protocol_features(d) & (1ull << VHU_PROTOCOL_F_CONFIG));
	CHECK(vhu_fe_protocol_features(d) & (1ull << VHU_PROTOCOL_F_REPLY_ACK));
	CHECK_EQ(d->ops->get_config(d, 0, cfg, sizeof(cfg)), 0);
	memcpy(&cap, cfg, 8);
	CHECK_EQ(cap, MB / 512);

	setup(d, &ram, kick, call);
	/* read sector 5 (0xc3 pattern written above) */
	blk_io(&ram, VIRTIO_BLK_T_IN, 5, 0, kick, call);
	memset(buf, 0xc3, sizeof(buf));
	CHECK_EQ(memcmp((char *)ram.hva + DATA, buf, 512), 0);
	/* write sector 9 */
	memset((char *)ram.hva + DATA, 0x3c, 512);
	blk_io(&ram, VIRTIO_BLK_T_OUT, 9, 1, kick, call);
	CHECK(pread(fd, buf, 512, 512 * 9) == 512);
	CHECK(buf[0] == 0x3c && buf[511] == 0x3c);
	CHECK_EQ(d->ops->get_vring_base(d, 0, &base), 0);
	CHECK_EQ(base, 2);
	d->ops->destroy(d);
	fprintf(stderr, "ok: handshake, config, read and write through one ring\n");

	/* The daemon takes the next front-end on the same socket. */
	CHECK_EQ(vhu_fe_connect(p.sock, NULL, &d), 0);
	memset(ram.hva, 0, MB);
	setup(d, &ram, kick, call);
	blk_io(&ram, VIRTIO_BLK_T_IN, 9, 0, kick, call);
	CHECK_EQ(((u8 *)ram.hva)[DATA], 0x3c);
	d->ops->destroy(d);
	fprintf(stderr, "ok: second front-end\n");

	qsd_stop();
	close(kick);
	close(call);
	close(fd);
	t_ram_fini(&ram);
	unlink(img);
	unlink(pidf);
	t_path_fini(&p);
	CHECK_EQ(t_count_fds(), fds0);
	fprintf(stderr, "vhu_qsd: all ok\n");
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore side of terminals: tty-info.img and tty-data.img are read once
 * (in criu, CP_STAGE_RESTORE_INIT; the tasks inherit the tables), a pty
 * is made again the first time one of its ends is opened, and a session
 * leader gets its controlling terminal back before it forks.
 *
 * A pty is made with its old index if that index is free: /dev/ptmx hands
 * out the lowest free index, so ptmx is opened until it gives the one
 * wanted (the opens below it are closed again), under a lock on /dev/pts
 * so that the tasks of one restore do not take each other's numbers. If
 * the index is taken, the pty gets another and a warning says so.
 *
 * The pair is made by one task (the core groups master and slave through
 * group(), see tty.c), which keeps the master at a high fd: the master's
 * file is a dup of it, each slave file a new open of the slave
 * (TIOCGPTPEER). Termios, locked termios and window size are set through
 * the master (which sets the slave's, there being one set per pty), then
 * the queued bytes are put back, then packet mode and the lock.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "devices.h"
#include "tty.h"

#define PTY_MAX_OPENS 1024

const struct tty_rst_info *tty_info_find(struct tty_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->n_infos; i++)
		if (st->infos[i].ie->id == id)
			return &st->infos[i];
	return NULL;
}

static int tty_check_info(const TtyInfoEntry *ie, unsigned long n)
{
	const TermiosEntry *tes[2] = { ie->termios, ie->termios_locked };

	if (ie->type == TTY_TYPE__PTY && (!ie->pty || ie->pty->index > TTY_MAX_PTY_INDEX ||
					  (ie->id >> 1) != ie->pty->index)) {
		pr_err("%s: entry %lu (terminal %u): a pty without a valid index", TTY_INFO_IMG, n, ie->id);
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		if (tes[i] && tes[i]->n_c_cc > NCCS) {
			pr_err("%s: entry %lu (terminal %u): %zu control characters, more than %d", TTY_INFO_IMG, n,
			       ie->id, tes[i]->n_c_cc, NCCS);
			return -EINVAL;
		}
	}
	return 0;
}

static int tty_load_info(struct cp_plugin *p, struct tty_state *st)
{
	struct cp_image *img = cp_image_open_read(p, TTY_INFO_IMG, TTY_INFO_MAGIC);
	TtyInfoEntry *ie;
	int ret;

	if (!img)
		return errno ? -errno : -EIO;
	for (unsigned long n = 1;; n++) {
		struct tty_rst_info *ni;

		ret = cp_image_read_msg(img, &tty_info_entry__descriptor, (ProtobufCMessage **)&ie);
		if (ret <= 0)
			break;
		ret = tty_check_info(ie, n);
		if (!ret && tty_info_find(st, ie->id)) {
			pr_err("%s: entry %lu: terminal %u appears twice", TTY_INFO_IMG, n, ie->id);
			ret = -EINVAL;
		}
		ni = ret ? NULL : realloc(st->infos, (st->n_infos + 1) * sizeof(*ni));
		if (!ni) {
			tty_info_entry__free_unpacked(ie, NULL);
			ret = ret ? ret : -ENOMEM;
			break;
		}
		st->infos = ni;
		st->infos[st->n_infos++] = (struct tty_rst_info){ .ie = ie };
	}
	cp_image_close(img);
	return ret < 0 ? ret : 0;
}

static int tty_load_data(struct cp_plugin *p, struct tty_state *st)
{
	struct cp_image *img = cp_image_open_read(p, TTY_DATA_IMG, TTY_DATA_MAGIC);
	TtyDataEntry *de;
	int ret;

	if (!img)
		return errno ? -errno : -EIO;
	for (unsigned long n = 1;; n++) {
		struct tty_rst_info *info;
		TtyDataEntry **nd;

		ret = cp_image_read_msg(img, &tty_data_entry__descriptor, (ProtobufCMessage **)&de);
		if (ret <= 0)
			break;
		info = (struct tty_rst_info *)tty_info_find(st, de->tty_id);
		if (!info || info->ie->type != TTY_TYPE__PTY || info->data.data) {
			pr_err("%s: entry %lu: bytes for terminal %u, which %s", TTY_DATA_IMG, n, de->tty_id,
			       !info ? "tty-info.img does not have" : info->data.data ? "already has bytes"
											: "is not a pty");
			tty_data_entry__free_unpacked(de, NULL);
			ret = -EINVAL;
			break;
		}
		nd = realloc(st->data, (st->n_data + 1) * sizeof(*nd));
		if (!nd) {
			tty_data_entry__free_unpacked(de, NULL);
			ret = -ENOMEM;
			break;
		}
		st->data = nd;
		st->data[st->n_data++] = de;
		info->data = de->data;
	}
	cp_image_close(img);
	return ret < 0 ? ret : 0;
}

int tty_load_images(struct cp_plugin *p)
{
	struct tty_state *st = tty_state(p);
	int ret;

	if (st->loaded)
		return 0;
	ret = tty_load_info(p, st);
	if (!ret)
		ret = tty_load_data(p, st);
	st->loaded = !ret;
	return ret;
}

int tty_termios_from(const TermiosEntry *te, struct termios *t)
{
	memset(t, 0, sizeof(*t));
	if (te->n_c_cc > NCCS)
		return -EINVAL;
	t->c_iflag = te->c_iflag;
	t->c_oflag = te->c_oflag;
	t->c_cflag = te->c_cflag;
	t->c_lflag = te->c_lflag;
	t->c_line = (cc_t)te->c_line;
	for (size_t i = 0; i < te->n_c_cc; i++)
		t->c_cc[i] = (cc_t)te->c_cc[i];
	cfsetispeed(t, te->c_ispeed);
	cfsetospeed(t, te->c_ospeed);
	return 0;
}

static int pty_write_all(int fd, const uint8_t *bytes, size_t len)
{
	while (len) {
		ssize_t n = write(fd, bytes, len);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		bytes += n;
		len -= (size_t)n;
	}
	return 0;
}

int pty_peer(int master, unsigned int flags)
{
	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), fd, err;
	char path[64];

	if (peer < 0)
		return -1;
	/* TIOCGPTPEER keeps O_CLOEXEC in the file's flags and leaves out O_LARGEFILE: open it as open() does. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", peer);
	fd = open(path, (int)((flags & ~(unsigned int)O_CLOEXEC) | O_NOCTTY | O_CLOEXEC));
	err = errno;
	close(peer);
	errno = err;
	return fd;
}

int pty_inject(int master, bool to_master, const uint8_t *bytes, size_t len)
{
	struct termios saved, quiet;
	int fd = master, ret;

	if (!len)
		return 0;
	if (tcgetattr(master, &saved))
		return -errno;
	quiet = saved;
	if (to_master) {
		/* The bytes were processed on their way in once: no echo, signals or mapping again. */
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE | ECHOPRT | ISIG |
					     IEXTEN);
		quiet.c_iflag &= ~(tcflag_t)(ICRNL | INLCR | IGNCR | IUCLC | ISTRIP | IXON | IXOFF | IMAXBEL);
	} else {
		quiet.c_oflag &= ~(tcflag_t)OPOST;
		fd = pty_peer(master, O_RDWR | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			return -errno;
	}
	if (tcsetattr(master, TCSANOW, &quiet)) {
		ret = -errno;
		goto out;
	}
	ret = pty_write_all(fd, bytes, len);
	if (tcsetattr(master, TCSANOW, &saved) && !ret)
		ret = -errno;
out:
	if (fd != master)
		close(fd);
	return ret;
}

/* Move FD out of the way of the fd numbers the core places (as the pipe kind does). */
static int pty_keep_high(int fd)
{
	struct rlimit rl;
	long base;
	int n;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 64)
		return fd;
	base = rl.rlim_cur > 1024 ? (long)rl.rlim_cur - 320 : (long)rl.rlim_cur / 2;
	if (base > fd) {
		n = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
		if (n >= 0) {
			close(fd);
			return n;
		}
	}
	return fd;
}

/*
 * A master of pty INDEX if that index is free, else of the lowest free
 * one (*GOT says which). ptmx gives the lowest free index: hold what it
 * gives below INDEX until INDEX comes.
 */
static int pty_open_ptmx(uint32_t index, unsigned int flags, uint32_t *got)
{
	int *held, n = 0, fd = -1, lock, ret;

	held = calloc(PTY_MAX_OPENS, sizeof(*held));
	if (!held)
		return -ENOMEM;
	lock = open("/dev/pts", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock >= 0 && flock(lock, LOCK_EX) < 0)
		pr_warn("cannot lock /dev/pts while making pty %u: %s", index, strerror(errno));
	for (;;) {
		int cur;

		fd = open("/dev/ptmx", (int)(flags | O_NOCTTY | O_CLOEXEC));
		if (fd < 0) {
			ret = -errno;
			pr_perror("cannot open /dev/ptmx to make pty %u", index);
			break;
		}
		if (ioctl(fd, TIOCGPTN, &cur) < 0) {
			ret = -errno;
			pr_perror("cannot read the index of a new pty");
			close(fd);
			fd = -1;
			break;
		}
		if ((uint32_t)cur >= index || n == PTY_MAX_OPENS) {
			ret = 0;
			break;
		}
		held[n++] = fd;
	}
	/* Index taken: the first pty we got is as good as any. */
	if (fd >= 0 && (*got = 0, ioctl(fd, TIOCGPTN, got) == 0) && *got != index && n) {
		close(fd);
		fd = held[0];
		held[0] = -1;
		ioctl(fd, TIOCGPTN, got);
	}
	for (int i = 0; i < n; i++)
		if (held[i] >= 0)
			close(held[i]);
	if (lock >= 0)
		close(lock);
	free(held);
	return fd >= 0 ? fd : ret;
}

/* Termios, locked termios and window size of the pty, from INFO or its other end. */
static int pty_set_params(int master, const TtyInfoEntry *ie, uint32_t index)
{
	struct termios t;
	struct winsize ws;

	if (ie->termios_locked && (tty_termios_from(ie->termios_locked, &t) || ioctl(master, TIOCSLCKTRMIOS, &t)))
		pr_warn("pty %u: locked termios not restored: %s", index, strerror(errno));
	if (ie->termios) {
		if (tty_termios_from(ie->termios, &t) || tcsetattr(master, TCSANOW, &t)) {
			pr_perror("pty %u: cannot set its termios", index);
			return errno ? -errno : -EINVAL;
		}
	}
	if (ie->winsize) {
		memset(&ws, 0, sizeof(ws));
		ws.ws_row = (unsigned short)ie->winsize->ws_row;
		ws.ws_col = (unsigned short)ie->winsize->ws_col;
		ws.ws_xpixel = (unsigned short)ie->winsize->ws_xpixel;
		ws.ws_ypixel = (unsigned short)ie->winsize->ws_ypixel;
		if (ioctl(master, TIOCSWINSZ, &ws)) {
			pr_perror("pty %u: cannot set its window size", index);
			return -errno;
		}
	}
	return 0;
}

static int pty_make(struct tty_state *st, uint32_t index, unsigned int flags, struct pty_pair *pp)
{
	const struct tty_rst_info *m = tty_info_find(st, (index << 1) | 1), *s = tty_info_find(st, index << 1);
	const TtyInfoEntry *ie = m ? m->ie : s->ie;
	int master, unlock = 0, one = 1, ret;
	struct stat sb;
	uint32_t got = index;

	master = pty_open_ptmx(index, flags, &got);
	if (master < 0)
		return master;
	if (got != index)
		pr_warn("pty %u is taken here: restored as pty %u (/dev/pts/%u)", index, got, got);
	ret = ioctl(master, TIOCSPTLCK, &unlock) ? -errno : 0;
	if (ret)
		pr_perror("pty %u: cannot unlock it", index);
	if (!ret)
		ret = pty_set_params(master, ie, index);
	/* Bytes the slave had not read yet, then bytes the master had not. */
	if (!ret && s && s->data.len)
		ret = pty_inject(master, true, s->data.data, s->data.len);
	if (!ret && m && m->data.len)
		ret = pty_inject(master, false, m->data.data, m->data.len);
	if (ret == 0 && ((s && s->data.len) || (m && m->data.len)))
		pr_debug("pty %u: %zu + %zu queued bytes put back", index, s ? s->data.len : 0,
			 m ? m->data.len : 0);
	if (!ret && ie->packet_mode && ioctl(master, TIOCPKT, &one)) {
		ret = -errno;
		pr_perror("pty %u: cannot set packet mode", index);
	}
	if (!ret && fstat(master, &sb))
		ret = -errno;
	if (ret) {
		pr_err("pty %u: cannot make it again: %s", index, strerror(-ret));
		close(master);
		return ret;
	}
	pp->index = index;
	pp->new_index = got;
	pp->master = pty_keep_high(master);
	pp->master_rdev = sb.st_rdev;
	pp->master_ino = sb.st_ino;
	pp->maker = getpid();
	pp->relock = ie->locked;
	return 0;
}

/* Is the kept master of PP still ours at its number (nobody put another file there)? */
static bool pty_master_ok(const struct pty_pair *pp)
{
	struct stat sb;

	return pp->master >= 0 && !fstat(pp->master, &sb) && sb.st_rdev == pp->master_rdev &&
	       sb.st_ino == pp->master_ino;
}

static struct pty_pair *pty_pair_find(struct tty_state *st, uint32_t index)
{
	for (size_t i = 0; i < st->n_pairs; i++)
		if (st->pairs[i].index == index)
			return &st->pairs[i];
	return NULL;
}

int pty_open_end(struct cp_plugin *p, const struct tty_rst_info *info, bool master, unsigned int flags,
		 int *out_fd)
{
	struct tty_state *st = tty_state(p);
	uint32_t index = info->ie->pty->index;
	unsigned int acc = flags & (O_ACCMODE | O_NONBLOCK | O_APPEND);
	struct pty_pair *pp = pty_pair_find(st, index);
	int fd, ret;

	if (!pp) {
		struct pty_pair *np = realloc(st->pairs, (st->n_pairs + 1) * sizeof(*np));

		if (!np)
			return -ENOMEM;
		st->pairs = np;
		ret = pty_make(st, index, master ? (flags & O_ACCMODE) : O_RDWR, &st->pairs[st->n_pairs]);
		if (ret)
			return ret;
		pp = &st->pairs[st->n_pairs++];
	}
	if (!pty_master_ok(pp)) {
		pr_err("pty %u: its master, kept at fd %d, is gone", index, pp->master);
		return -EBADF;
	}
	if (master) {
		fd = fcntl(pp->master, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0 && fcntl(fd, F_SETFL, acc & ~(unsigned int)O_ACCMODE) < 0) {
			close(fd);
			fd = -1;
		}
	} else {
		fd = pty_peer(pp->master, acc | O_NOCTTY);
	}
	if (fd < 0) {
		ret = -errno;
		pr_perror("pty %u: cannot open its %s", index, master ? "master" : "slave");
		return ret;
	}
	*out_fd = fd;
	return 0;
}

/* An fd of this process on pty PP, for ioctls: a new slave from the kept master, or one the task has. */
static int pty_slave_fd(const struct pty_pair *pp, bool *temp)
{
	struct dirent *de;
	int found = -1;
	DIR *d;

	*temp = true;
	if (pty_master_ok(pp)) {
		int fd = pty_peer(pp->master, O_RDWR | O_NOCTTY | O_NONBLOCK);

		if (fd >= 0)
			return fd;
	}
	*temp = false;
	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while (found < 0 && (de = readdir(d))) {
		struct stat sb;
		int fd = atoi(de->d_name), n;

		if (de->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &sb) || !S_ISCHR(sb.st_mode))
			continue;
		if (major(sb.st_rdev) >= 136 && major(sb.st_rdev) <= 143 &&
		    (major(sb.st_rdev) - 136) * 256 + minor(sb.st_rdev) == pp->new_index)
			found = fd;
		else if (!ioctl(fd, TIOCGPTN, &n) && (uint32_t)n == pp->new_index) {
			found = pty_peer(fd, O_RDWR | O_NOCTTY | O_NONBLOCK);
			*temp = found >= 0;
		}
	}
	closedir(d);
	return found >= 0 ? found : -ENOENT;
}

/* The pty whose session pid SID led, per the images (the master knows it). */
static const TtyInfoEntry *pty_ctty_of(struct tty_state *st, pid_t sid)
{
	for (size_t i = 0; i < st->n_infos; i++) {
		const TtyInfoEntry *ie = st->infos[i].ie;

		if (ie->type == TTY_TYPE__PTY && (ie->id & 1) && ie->sid == (uint32_t)sid)
			return ie;
	}
	return NULL;
}

int pty_set_ctty(struct tty_state *st, pid_t pid, bool early)
{
	const TtyInfoEntry *ie = pty_ctty_of(st, pid);
	struct pty_pair *pp;
	bool temp = false;
	int fd, ret = 0;

	if (!ie || getsid(0) != getpid())
		return -ENOENT;
	pp = pty_pair_find(st, ie->pty->index);
	fd = pp ? pty_slave_fd(pp, &temp) : -ENOENT;
	if (fd < 0 && early)
		return CP_RETRY; /* the pty may come with a later fd of the task */
	if (fd < 0) {
		pr_err("pid %d led the session of pty %u, its controlling terminal, but neither it nor an "
		       "ancestor holds that pty any more; that is not supported",
		       (int)pid, ie->pty->index);
		return -ENXIO;
	}
	if (ioctl(fd, TIOCSCTTY, 0)) {
		ret = -errno;
		pr_perror("pid %d: cannot make pty %u its controlling terminal again", (int)pid, pp->new_index);
	} else {
		pr_info("pid %d: pty %u (/dev/pts/%u) is its controlling terminal again", (int)pid, ie->pty->index,
			pp->new_index);
		/* The foreground group may be a child's, which exists only once the tree does. */
		st->ctty_pgrp = ie->pgrp ? (pid_t)ie->pgrp : 0;
		st->ctty_leader = getpid();
	}
	if (temp)
		close(fd);
	return ret;
}

int pty_restore_task_fds(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct tty_state *st = tty_state(p);
	int ret;

	/* Lock again what was locked, once this maker's slaves are open. */
	for (size_t i = 0; i < st->n_pairs; i++) {
		struct pty_pair *pp = &st->pairs[i];
		int one = 1;

		if (pp->maker == getpid() && pp->relock && pty_master_ok(pp) && ioctl(pp->master, TIOCSPTLCK, &one))
			pr_warn("pty %u: cannot lock it again: %s", pp->index, strerror(errno));
	}
	ret = pty_set_ctty(st, ctx->pid, false);
	return ret == -ENOENT ? 0 : ret;
}

int pty_restore_task(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct tty_state *st = tty_state(p);
	pid_t pgrp = st->ctty_pgrp;
	int fd, ret = 0;

	st->ctty_pgrp = 0;
	if (!pgrp || st->ctty_leader != getpid())
		return 0;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TIOCSPGRP, &pgrp)) {
		ret = -errno;
		pr_perror("pid %d: cannot make group %d the foreground group of its terminal again", (int)ctx->pid,
			  (int)pgrp);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

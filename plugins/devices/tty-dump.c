// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The end of a dump for terminals (CP_STAGE_POST_DUMP, tasks still
 * frozen): one TtyInfoEntry per terminal in tty-info.img, and the bytes
 * queued in each pty in tty-data.img.
 *
 * This waits for the end because a slave alone cannot tell its session,
 * foreground group, packet mode or lock: only the master answers those
 * (TIOCGSID and TIOCGPGRP work on a master for any caller), so the slave's
 * entry is filled from its master's once every fd of the tree was seen.
 * A slave whose master is not in the tree is the caller's terminal: fine
 * with --shell-job, an error without.
 *
 * Queued bytes are taken by reading them, as CRIU does: the master's
 * queue (what the slave wrote) from the task's master file, made
 * non-blocking for the moment; the slave's queue (what the master wrote)
 * from a new slave file (TIOCGPTPEER). tty_id says whose queue it was.
 * When the tasks go on running (--leave-running, --leave-stopped) the
 * bytes are put back (pty_inject in pty.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "devices.h"
#include "tty.h"

/* What one terminal's TtyInfoEntry needs, from its fd (and its master's). */
struct tty_params {
	TtyInfoEntry ie;
	TermiosEntry te, tl;
	WinsizeEntry we;
	TtyPtyEntry pe;
	uint32_t cc[NCCS], lcc[NCCS];
};

static void termios_to(TermiosEntry *te, uint32_t *cc, const struct termios *t)
{
	te->c_iflag = t->c_iflag;
	te->c_oflag = t->c_oflag;
	te->c_cflag = t->c_cflag;
	te->c_lflag = t->c_lflag;
	te->c_line = t->c_line;
	te->c_ispeed = (uint32_t)cfgetispeed(t);
	te->c_ospeed = (uint32_t)cfgetospeed(t);
	/* The kernel's control characters (CRIU's TERMIOS_NCC): glibc pads them to NCCS. */
	for (size_t i = 0; i < TTY_KERNEL_NCC; i++)
		cc[i] = t->c_cc[i];
	te->n_c_cc = TTY_KERNEL_NCC;
	te->c_cc = cc;
}

static const struct tty_dumped *tty_master_of(const struct tty_state *st, const struct tty_dumped *d)
{
	for (size_t i = 0; i < st->n_dumped; i++)
		if (st->dumped[i].type == TTY_TYPE__PTY && st->dumped[i].master && st->dumped[i].index == d->index)
			return &st->dumped[i];
	return NULL;
}

static int tty_fill(const struct tty_state *st, const struct tty_dumped *d, struct tty_params *tp)
{
	const struct tty_dumped *m = d->master ? d : NULL;
	struct termios t;
	struct winsize ws;
	int v;

	tty_info_entry__init(&tp->ie);
	termios_entry__init(&tp->te);
	termios_entry__init(&tp->tl);
	winsize_entry__init(&tp->we);
	tty_pty_entry__init(&tp->pe);
	tp->ie.id = d->info_id;
	tp->ie.type = d->type;
	tp->ie.rdev = (uint32_t)d->rdev;
	tp->ie.has_dev = true;
	tp->ie.dev = (uint32_t)d->dev;
	tp->ie.has_uid = tp->ie.has_gid = true;
	tp->ie.uid = d->uid;
	tp->ie.gid = d->gid;
	if (d->type == TTY_TYPE__PTY) {
		tp->pe.index = d->index;
		tp->ie.pty = &tp->pe;
		if (!m)
			m = tty_master_of(st, d);
	}
	if (d->type == TTY_TYPE__CTTY)
		return 0; /* /dev/tty itself has no state: its terminal has */
	if (m) {
		/* Asked of the master, these answer for any caller. */
		if (!ioctl(m->lfd, TIOCGSID, &v))
			tp->ie.sid = (uint32_t)v;
		if (!ioctl(m->lfd, TIOCGPGRP, &v))
			tp->ie.pgrp = (uint32_t)v;
		if (!ioctl(m->lfd, TIOCGPTLCK, &v))
			tp->ie.locked = v != 0;
		if (!ioctl(m->lfd, TIOCGPKT, &v))
			tp->ie.packet_mode = v != 0;
	}
	if (!ioctl(d->lfd, TIOCGEXCL, &v))
		tp->ie.exclusive = v != 0;
	if (tcgetattr(d->lfd, &t)) {
		/* A hung-up terminal: CRIU saves it without termios, as does this. */
		pr_warn("pid %d fd %d: terminal %u answers no termios (hung up?): %s", (int)d->pid, d->fd,
			d->info_id, strerror(errno));
		return 0;
	}
	termios_to(&tp->te, tp->cc, &t);
	tp->ie.termios = &tp->te;
	memset(&t, 0, sizeof(t));
	if (!ioctl(d->lfd, TIOCGLCKTRMIOS, &t)) {
		termios_to(&tp->tl, tp->lcc, &t);
		tp->ie.termios_locked = &tp->tl;
	}
	if (ioctl(d->lfd, TIOCGWINSZ, &ws)) {
		pr_perror("pid %d fd %d: cannot read the window size of terminal %u", (int)d->pid, d->fd,
			  d->info_id);
		return -errno;
	}
	tp->we.ws_row = ws.ws_row;
	tp->we.ws_col = ws.ws_col;
	tp->we.ws_xpixel = ws.ws_xpixel;
	tp->we.ws_ypixel = ws.ws_ypixel;
	tp->ie.winsize = &tp->we;
	return 0;
}

/*
 * Read what FD has queued, without waiting: FD is made non-blocking for
 * the moment and given back FLAGS. In packet mode each read starts with
 * a status byte, which is not data.
 */
static int tty_drain(int fd, unsigned int flags, bool packet, uint8_t *buf, size_t *len)
{
	int ret = 0;

	*len = 0;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	while (*len < TTY_DATA_MAX) {
		uint8_t tmp[4096 + 1];
		size_t want = TTY_DATA_MAX - *len + (packet ? 1 : 0);
		ssize_t n = read(fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp));

		if (n < 0) {
			if (errno != EAGAIN && errno != EIO)
				ret = -errno;
			break;
		}
		if (n == 0)
			break;
		if (packet) {
			if (tmp[0] != TIOCPKT_DATA)
				continue; /* a status report, not data */
			memcpy(buf + *len, tmp + 1, (size_t)n - 1);
			*len += (size_t)n - 1;
		} else {
			memcpy(buf + *len, tmp, (size_t)n);
			*len += (size_t)n;
		}
	}
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags) < 0 && !ret)
		ret = -errno;
	return ret;
}

/* Put BYTES back where they were read from, for tasks that go on running. */
static void tty_put_back(const struct tty_dumped *m, bool to_master, const uint8_t *bytes, size_t len)
{
	int ret = pty_inject(m->lfd, to_master, bytes, len);

	if (ret)
		pr_warn("pty %u: %zu queued bytes could not be put back: %s", m->index, len, strerror(-ret));
}

static bool tty_tasks_go_on(const struct cp_hook_ctx *ctx)
{
	bool r = false, s = false;

	cp_opt_bool("leave-running", &r);
	cp_opt_bool("leave-stopped", &s);
	return ctx->ret || r || s;
}

static int tty_write_data(struct cp_image **img, struct cp_plugin *p, uint32_t tty_id, const uint8_t *bytes,
			  size_t len)
{
	TtyDataEntry de = TTY_DATA_ENTRY__INIT;

	if (!*img) {
		*img = cp_image_open_write(p, TTY_DATA_IMG, TTY_DATA_MAGIC);
		if (!*img)
			return errno ? -errno : -EIO;
	}
	de.tty_id = tty_id;
	de.data.data = (uint8_t *)bytes;
	de.data.len = len;
	pr_debug("terminal %u: %zu bytes queued", tty_id, len);
	return cp_image_write_msg(*img, &de.base);
}

/*
 * Both queues of pty master M. The slave's queue is kept only if the tree
 * holds the slave: CRIU reads data only for terminals it has files of.
 */
static int tty_dump_queues(struct cp_plugin *p, const struct cp_hook_ctx *ctx, const struct tty_dumped *m,
			   bool slave_held, const struct tty_params *mp, struct cp_image **img)
{
	uint8_t *buf = malloc(TTY_DATA_MAX);
	size_t len = 0;
	int peer = -1, ret;

	if (!buf)
		return -ENOMEM;
	ret = tty_drain(m->lfd, m->flags, mp->ie.packet_mode, buf, &len);
	if (ret) {
		pr_err("pid %d fd %d: cannot read the bytes queued in pty master %u: %s", (int)m->pid, m->fd,
		       m->index, strerror(-ret));
		goto out;
	}
	if (len) {
		ret = tty_write_data(img, p, m->info_id, buf, len);
		if (ret || tty_tasks_go_on(ctx))
			tty_put_back(m, false, buf, len);
		if (ret)
			goto out;
	}
	if (!slave_held || mp->ie.locked)
		goto out;
	peer = pty_peer(m->lfd, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (peer < 0) {
		pr_warn("pty %u: cannot open its slave to read what it has queued: %s", m->index, strerror(errno));
		goto out;
	}
	ret = tty_drain(peer, O_RDWR | O_NONBLOCK, false, buf, &len);
	if (ret) {
		pr_err("pty %u: cannot read the bytes queued for its slave: %s", m->index, strerror(-ret));
		goto out;
	}
	if (len) {
		ret = tty_write_data(img, p, m->info_id & ~1u, buf, len);
		if (ret || tty_tasks_go_on(ctx))
			tty_put_back(m, true, buf, len);
	}
out:
	if (peer >= 0)
		close(peer);
	free(buf);
	return ret;
}

static bool tty_slave_held(const struct tty_state *st, uint32_t index)
{
	for (size_t i = 0; i < st->n_dumped; i++)
		if (st->dumped[i].type == TTY_TYPE__PTY && !st->dumped[i].master && st->dumped[i].index == index)
			return true;
	return false;
}

static int tty_write_images(struct cp_plugin *p, const struct cp_hook_ctx *ctx, struct tty_state *st)
{
	struct cp_image *info = NULL, *data = NULL;
	struct tty_params *tp;
	int ret = 0, r;

	/* Refuse before any queue is read. */
	for (size_t i = 0; i < st->n_dumped; i++) {
		const struct tty_dumped *d = &st->dumped[i];

		if (d->type == TTY_TYPE__PTY && !d->master && !tty_master_of(st, d) && !tty_shell_job()) {
			pr_err("pid %d fd %d: /dev/pts/%u is a pty slave whose master is not in the dumped tree "
			       "(dump the tree that holds the master, or use --shell-job for a task on the "
			       "caller's terminal)",
			       (int)d->pid, d->fd, d->index);
			return -EINVAL;
		}
	}
	tp = malloc(sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_dumped && !ret; i++) {
		const struct tty_dumped *d = &st->dumped[i];

		ret = tty_fill(st, d, tp);
		if (ret)
			break;
		if (!info) {
			info = cp_image_open_write(p, TTY_INFO_IMG, TTY_INFO_MAGIC);
			if (!info) {
				ret = errno ? -errno : -EIO;
				break;
			}
		}
		ret = cp_image_write_msg(info, &tp->ie.base);
		if (!ret && d->type == TTY_TYPE__PTY && d->master)
			ret = tty_dump_queues(p, ctx, d, tty_slave_held(st, d->index), tp, &data);
	}
	free(tp);
	r = info ? cp_image_close(info) : 0;
	ret = ret ? ret : r;
	r = data ? cp_image_close(data) : 0;
	return ret ? ret : r;
}

int tty_dump_finish(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct tty_state *st = tty_state(p);
	int ret = 0;

	if (!ctx->ret && st->n_dumped)
		ret = tty_write_images(p, ctx, st);
	for (size_t i = 0; i < st->n_dumped; i++)
		if (st->dumped[i].lfd >= 0)
			close(st->dumped[i].lfd);
	free(st->dumped);
	st->dumped = NULL;
	st->n_dumped = 0;
	return ret;
}

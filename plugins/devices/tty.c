// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Terminals of a shell job (--shell-job, -j), as CRIU does it minimally:
 * a task started from the caller's terminal keeps its stdin/stdout/stderr
 * on that tty. At dump the fd is described as a TtyFileEntry (FileEntry
 * type TTY, field "tty") with one TtyInfoEntry per terminal in
 * tty-info.img; at restore it becomes a dup of criu's own controlling
 * terminal, since the original one belongs to a session outside the tree.
 * Without --shell-job a tty is nobody's: the dump fails naming the fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "devices.h"
#include "fdinfo.pb-c.h"
#include "tty.pb-c.h"

#define TTY_INFO_IMG "tty-info.img"
#define TTY_INFO_MAGIC 0x59453036 /* CRIU's TTY_INFO */
#define TTY_MAX 64

/* The terminals already in tty-info.img of this dump, by rdev. */
static struct {
	struct cp_image *img;
	dev_t rdev[TTY_MAX];
	size_t n;
} tty_dumped;

static bool tty_shell_job(void)
{
	bool on = false;

	return !cp_opt_bool("shell-job", &on) && on;
}

static int tty_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	if (!S_ISCHR(fd->st.st_mode) || fd->local_fd < 0 || !isatty(fd->local_fd))
		return -ENOTSUP;
	if (!tty_shell_job()) {
		pr_debug("fd %d of pid %d is the terminal %s: only --shell-job restores it", fd->fd,
			 (int)fd->pid, fd->link);
		return -ENOTSUP;
	}
	return 0;
}

static TtyType tty_type(dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	if (ma >= 136 && ma <= 143)
		return TTY_TYPE__PTY;
	if (ma == 5 && mi == 0)
		return TTY_TYPE__CTTY;
	if (ma == 5 && mi == 1)
		return TTY_TYPE__CONSOLE;
	if (ma == 4 && mi < 64)
		return TTY_TYPE__VT;
	return TTY_TYPE__SERIAL;
}

static void tty_fill_termios(TermiosEntry *te, uint32_t *cc, const struct termios *t)
{
	te->c_iflag = t->c_iflag;
	te->c_oflag = t->c_oflag;
	te->c_cflag = t->c_cflag;
	te->c_lflag = t->c_lflag;
	te->c_line = t->c_line;
	te->c_ispeed = (uint32_t)cfgetispeed(t);
	te->c_ospeed = (uint32_t)cfgetospeed(t);
	for (size_t i = 0; i < NCCS; i++)
		cc[i] = t->c_cc[i];
	te->n_c_cc = NCCS;
	te->c_cc = cc;
}

/* One TtyInfoEntry per terminal, the first time one of its fds is dumped. */
static int tty_dump_info(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t info_id)
{
	TtyInfoEntry ie = TTY_INFO_ENTRY__INIT;
	TermiosEntry te = TERMIOS_ENTRY__INIT;
	WinsizeEntry we = WINSIZE_ENTRY__INIT;
	TtyPtyEntry pe = TTY_PTY_ENTRY__INIT;
	uint32_t cc[NCCS];
	struct termios t;
	struct winsize ws;
	pid_t sid = 0, pgrp = 0;
	int excl = 0, ret;

	for (size_t i = 0; i < tty_dumped.n; i++)
		if (tty_dumped.rdev[i] == fd->st.st_rdev)
			return 0;
	if (tty_dumped.n == TTY_MAX) {
		pr_err("fd %d of pid %d: more than %d terminals", fd->fd, (int)fd->pid, TTY_MAX);
		return -E2BIG;
	}
	if (!tty_dumped.img) {
		tty_dumped.img = cp_image_open_write(p, TTY_INFO_IMG, TTY_INFO_MAGIC);
		if (!tty_dumped.img)
			return errno ? -errno : -EIO;
	}
	ie.id = info_id;
	ie.type = tty_type(fd->st.st_rdev);
	if (ie.type == TTY_TYPE__PTY) {
		pe.index = (major(fd->st.st_rdev) - 136) * 256 + minor(fd->st.st_rdev);
		ie.pty = &pe;
	}
	/* Only answered for criu's own controlling terminal; 0 otherwise, as unknown. */
	if (ioctl(fd->local_fd, TIOCGSID, &sid) < 0)
		sid = 0;
	if (ioctl(fd->local_fd, TIOCGPGRP, &pgrp) < 0)
		pgrp = 0;
	if (ioctl(fd->local_fd, TIOCGEXCL, &excl) < 0)
		excl = 0;
	ie.sid = (uint32_t)sid;
	ie.pgrp = (uint32_t)pgrp;
	ie.exclusive = excl != 0;
	ie.rdev = (uint32_t)fd->st.st_rdev;
	ie.has_dev = true;
	ie.dev = (uint32_t)fd->st.st_dev;
	ie.has_uid = ie.has_gid = true;
	ie.uid = fd->st.st_uid;
	ie.gid = fd->st.st_gid;
	if (tcgetattr(fd->local_fd, &t) == 0) {
		tty_fill_termios(&te, cc, &t);
		ie.termios = &te;
	}
	if (ioctl(fd->local_fd, TIOCGWINSZ, &ws) == 0) {
		we.ws_row = ws.ws_row;
		we.ws_col = ws.ws_col;
		we.ws_xpixel = ws.ws_xpixel;
		we.ws_ypixel = ws.ws_ypixel;
		ie.winsize = &we;
	}
	ret = cp_image_write_msg(tty_dumped.img, &ie.base);
	if (ret) {
		pr_err("fd %d of pid %d: cannot write %s", fd->fd, (int)fd->pid, TTY_INFO_IMG);
		return ret;
	}
	tty_dumped.rdev[tty_dumped.n++] = fd->st.st_rdev;
	return 0;
}

static int tty_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	TtyFileEntry tf = TTY_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	/* CRIU's tty_info ids are its own; the rdev names the terminal uniquely here. */
	uint32_t info_id = (uint32_t)fd->st.st_rdev;
	int ret;

	ret = tty_dump_info(p, fd, info_id);
	if (ret)
		return ret;
	tf.id = id;
	tf.tty_info_id = info_id;
	tf.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	tf.fown = &fown;
	return cp_payload_pack(out, &tf.base);
}

static int tty_post_dump(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	int ret = 0;

	(void)p;
	(void)ctx;
	if (tty_dumped.img)
		ret = cp_image_close(tty_dumped.img);
	tty_dumped.img = NULL;
	tty_dumped.n = 0;
	return ret;
}

static int tty_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	int fd;

	(void)p;
	if (!tty_shell_job()) {
		pr_err("fd %d of pid %d is a terminal of the dumped shell job: restore it with --shell-job",
		       file->fd, (int)file->pid);
		return -EINVAL;
	}
	/* criu's own controlling terminal: the one on its stdin, else /dev/tty. */
	if (isatty(STDIN_FILENO))
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		pr_err("fd %d of pid %d: --shell-job needs criu to run on a terminal, and it has none "
		       "(stdin is not a tty, /dev/tty: %s)",
		       file->fd, (int)file->pid, strerror(err));
		return -err;
	}
	*out_fd = fd;
	return 0;
}

int devices_tty_init(struct cp_plugin *p)
{
	int ret;

	ret = cp_register_image(p, TTY_INFO_IMG, TTY_INFO_MAGIC);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, tty_post_dump);
	if (!ret)
		ret = cp_register_fd_kind(p, &devices_tty_ops);
	return ret;
}

const struct cp_fd_ops devices_tty_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "tty",
	.type = DEVICES_TYPE_TTY,
	.payload_field = DEVICES_FIELD_TTY,
	.match = tty_match,
	.dump = tty_dump,
	.open = tty_open,
};

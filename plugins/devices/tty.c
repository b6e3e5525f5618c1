// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "tty": terminals, saved as CRIU saves them. Each open file is a
 * TtyFileEntry (FileEntry type TTY 11, field 19 "tty") naming its
 * terminal's TtyInfoEntry in tty-info.img; bytes queued in a pty go to
 * tty-data.img (tty-dump.c).
 *
 * Pty masters (/dev/ptmx) and slaves (/dev/pts/N) are always ours: a pty
 * whose master the tree holds is made again as one pair (pty.c), its
 * slave the controlling terminal of its session leader again. A slave
 * whose master is outside the tree, and other terminals (console, VT,
 * serial), belong to the caller: only --shell-job takes them, and on
 * restore they become a dup of criu's own terminal. /dev/tty is opened
 * again once the task has its controlling terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "devices.h"
#include "fdinfo.pb-c.h"
#include "tty.h"

struct tty_state *tty_state(struct cp_plugin *p)
{
	return cp_plugin_get_data(p);
}

bool tty_shell_job(void)
{
	bool on = false;

	return !cp_opt_bool("shell-job", &on) && on;
}

TtyType tty_type_of(dev_t rdev, bool *master)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	*master = false;
	if ((ma == 5 && mi == 2) || (ma >= 128 && ma <= 135)) {
		*master = true;
		return TTY_TYPE__PTY;
	}
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

static int tty_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	bool master;
	TtyType type;

	(void)p;
	if (!S_ISCHR(fd->st.st_mode) || fd->local_fd < 0 || !isatty(fd->local_fd))
		return -ENOTSUP;
	type = tty_type_of(fd->st.st_rdev, &master);
	if (type == TTY_TYPE__PTY || type == TTY_TYPE__CTTY || tty_shell_job())
		return 0;
	pr_debug("fd %d of pid %d is the terminal %s: only --shell-job restores it", fd->fd, (int)fd->pid,
		 fd->link);
	return -ENOTSUP;
}

/* The pty index of FD: the master tells it, a slave's minor is it. */
static int tty_pty_index(const struct cp_fd_desc *fd, bool master, uint32_t *index)
{
	int n = 0;

	if (master) {
		if (ioctl(fd->local_fd, TIOCGPTN, &n) < 0) {
			pr_perror("fd %d of pid %d: cannot read the index of pty master %s", fd->fd, (int)fd->pid,
				  fd->link);
			return -errno;
		}
	} else {
		n = (int)((major(fd->st.st_rdev) - 136) * 256 + minor(fd->st.st_rdev));
	}
	if (n < 0 || n > TTY_MAX_PTY_INDEX) {
		pr_err("fd %d of pid %d: pty index %d of %s is above %d, which the images cannot hold", fd->fd,
		       (int)fd->pid, n, fd->link, TTY_MAX_PTY_INDEX);
		return -E2BIG;
	}
	*index = (uint32_t)n;
	return 0;
}

static uint32_t tty_info_id_of(TtyType type, bool master, uint32_t index)
{
	switch (type) {
	case TTY_TYPE__PTY:
		return (index << 1) + (master ? 1 : 0);
	case TTY_TYPE__CTTY:
		return TTY_ID_CTTY;
	case TTY_TYPE__CONSOLE:
		return TTY_ID_CONSOLE;
	case TTY_TYPE__VT:
		return TTY_ID_VT;
	default:
		return TTY_ID_SERIAL;
	}
}

/* Remember the terminal of FD the first time one of its files is dumped. */
static int tty_note(struct tty_state *st, const struct cp_fd_desc *fd, uint32_t info_id, TtyType type,
		    bool master, uint32_t index)
{
	struct tty_dumped *d;

	for (size_t i = 0; i < st->n_dumped; i++) {
		if (st->dumped[i].info_id != info_id)
			continue;
		if (type == TTY_TYPE__SERIAL && st->dumped[i].rdev != fd->st.st_rdev) {
			pr_err("fd %d of pid %d: %s is a second serial terminal; only one can be saved",
			       fd->fd, (int)fd->pid, fd->link);
			return -EINVAL;
		}
		return 0;
	}
	d = realloc(st->dumped, (st->n_dumped + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	st->dumped = d;
	d = &st->dumped[st->n_dumped];
	memset(d, 0, sizeof(*d));
	d->lfd = fcntl(fd->local_fd, F_DUPFD_CLOEXEC, 0);
	if (d->lfd < 0) {
		pr_perror("fd %d of pid %d: cannot keep %s", fd->fd, (int)fd->pid, fd->link);
		return -errno;
	}
	d->info_id = info_id;
	d->type = type;
	d->master = master;
	d->index = index;
	d->flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	d->rdev = fd->st.st_rdev;
	d->dev = fd->st.st_dev;
	d->uid = fd->st.st_uid;
	d->gid = fd->st.st_gid;
	d->pid = fd->pid;
	d->fd = fd->fd;
	st->n_dumped++;
	return 0;
}

static int tty_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	TtyFileEntry tf = TTY_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint32_t index = 0, info_id;
	bool master;
	TtyType type;
	int ret;

	type = tty_type_of(fd->st.st_rdev, &master);
	if (type == TTY_TYPE__PTY) {
		ret = tty_pty_index(fd, master, &index);
		if (ret)
			return ret;
	}
	info_id = tty_info_id_of(type, master, index);
	ret = tty_note(tty_state(p), fd, info_id, type, master, index);
	if (ret)
		return ret;
	pr_debug("fd %d of pid %d: terminal %s, tty-info id %u", fd->fd, (int)fd->pid, fd->link, info_id);
	tf.id = id;
	tf.tty_info_id = info_id;
	tf.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	tf.fown = &fown;
	return cp_payload_pack(out, &tf.base);
}

/* criu's own terminal, for a shell job: the one on its stdin, else /dev/tty. */
static int tty_open_callers(const struct cp_file *file, int *out_fd)
{
	int fd;

	if (!tty_shell_job()) {
		pr_err("fd %d of pid %d is a terminal from outside the dumped tree (a shell job's): restore "
		       "it with --shell-job",
		       file->fd, (int)file->pid);
		return -EINVAL;
	}
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

/*
 * /dev/tty: the task's controlling terminal, which it has once its
 * session leader set it: a task forked after that inherits it; the
 * leader itself sets it here, as soon as the pty is there.
 */
static int tty_open_ctty(struct tty_state *st, const struct cp_file *file, unsigned int flags, int *out_fd)
{
	int oflags = (int)((flags & (O_ACCMODE | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC);
	int fd = open("/dev/tty", oflags), ret;

	if (fd < 0 && errno == ENXIO) {
		ret = pty_set_ctty(st, file->pid, true);
		if (ret == CP_RETRY)
			return ret;
		if (!ret)
			fd = open("/dev/tty", oflags);
		else
			errno = ENXIO;
	}
	if (fd < 0) {
		int err = errno;

		pr_err("fd %d of pid %d: cannot open /dev/tty: %s%s", file->fd, (int)file->pid, strerror(err),
		       err == ENXIO ? " (the task has no controlling terminal: it is restored only for a "
				      "pty of the tree whose session leader is a process of the tree)" : "");
		return -err;
	}
	*out_fd = fd;
	return 0;
}

static int tty_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	struct tty_state *st = tty_state(p);
	const struct tty_rst_info *info;
	TtyFileEntry *tf;
	bool master;
	int ret;

	tf = tty_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!tf) {
		pr_err("files.img: file id %u: malformed TtyFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	ret = tty_load_images(p);
	if (ret)
		goto out;
	info = tty_info_find(st, tf->tty_info_id);
	if (!info) {
		pr_err("%s has no terminal %u (file id %u, fd %d of pid %d)", TTY_INFO_IMG, tf->tty_info_id,
		       file->id, file->fd, (int)file->pid);
		ret = -EINVAL;
		goto out;
	}
	switch (info->ie->type) {
	case TTY_TYPE__PTY:
		tty_type_of((dev_t)info->ie->rdev, &master);
		/* A slave without its master in the images is the caller's terminal. */
		if (!master && !tty_info_find(st, tf->tty_info_id | 1)) {
			ret = tty_open_callers(file, out_fd);
			break;
		}
		ret = pty_open_end(p, info, master, tf->flags, out_fd);
		break;
	case TTY_TYPE__CTTY:
		ret = tty_open_ctty(st, file, tf->flags, out_fd);
		break;
	default:
		ret = tty_open_callers(file, out_fd);
		break;
	}
out:
	tty_file_entry__free_unpacked(tf, NULL);
	return ret;
}

/* A pty's two ends are one group: one task makes the pair (core/restore/shared.c). */
static int tty_group(struct cp_plugin *p, const struct cp_file *file, uint64_t *key)
{
	const struct tty_rst_info *info;
	TtyFileEntry *tf;
	int ret;

	*key = 0;
	tf = tty_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!tf) {
		pr_err("files.img: file id %u: malformed TtyFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	ret = tty_load_images(p);
	info = ret ? NULL : tty_info_find(tty_state(p), tf->tty_info_id);
	if (info && info->ie->type == TTY_TYPE__PTY)
		*key = (1ull << 32) | (tf->tty_info_id >> 1);
	tty_file_entry__free_unpacked(tf, NULL);
	return ret;
}

static void tty_state_free(void *data)
{
	struct tty_state *st = data;

	for (size_t i = 0; i < st->n_dumped; i++)
		if (st->dumped[i].lfd >= 0)
			close(st->dumped[i].lfd);
	free(st->dumped);
	for (size_t i = 0; i < st->n_infos; i++)
		tty_info_entry__free_unpacked(st->infos[i].ie, NULL);
	free(st->infos);
	for (size_t i = 0; i < st->n_data; i++)
		tty_data_entry__free_unpacked(st->data[i], NULL);
	free(st->data);
	free(st->pairs);
	free(st);
}

static int tty_restore_init(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	(void)ctx;
	return tty_load_images(p);
}

int devices_tty_init(struct cp_plugin *p)
{
	struct tty_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	cp_plugin_set_data(p, st, tty_state_free);
	ret = cp_register_image(p, TTY_INFO_IMG, TTY_INFO_MAGIC);
	if (!ret)
		ret = cp_register_image(p, TTY_DATA_IMG, TTY_DATA_MAGIC);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, tty_dump_finish);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_INIT, tty_restore_init);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_TASK_FDS, pty_restore_task_fds);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_TASK, pty_restore_task);
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
	.group = tty_group,
};

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "eventpoll": an epoll instance, saved as CRIU's
 * EventpollFileEntry (FileEntry type EVENTPOLL, field 9) with one
 * EventpollTfdEntry per target: the target's fd number, its events and
 * data, and its device, inode and position as the fdinfo "tfd:" line
 * shows them.
 *
 * A target is registered by the fd number it had; the dump checks, with
 * kcmp(KCMP_EPOLL_TFD), that the task's fd of that number is still that
 * file. If not (the task closed it, or put another file there), the
 * target can no longer be reached by number and the dump fails naming it.
 *
 * Restore makes the instance in open() and adds the targets in
 * post_open(), when every fd of the task is in place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include <criu/plugin.h>

#include "eventpoll.pb-c.h"
#include "files.h"

static int ep_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link && !strcmp(fd->link, "anon_inode:[eventpoll]") ? 0 : -ENOTSUP;
}

/* Parse one "tfd:" LINE into T. */
static int ep_parse_tfd(const char *line, EventpollTfdEntry *t)
{
	uint64_t tfd, events, data, pos, ino, sdev;

	if (!files_field_u64(line, "tfd", 10, &tfd) || !files_field_u64(line, "events", 16, &events) ||
	    !files_field_u64(line, "data", 16, &data) || !files_field_u64(line, "pos", 10, &pos) ||
	    !files_field_u64(line, "ino", 16, &ino) || !files_field_u64(line, "sdev", 16, &sdev) ||
	    tfd > INT32_MAX || events > UINT32_MAX)
		return -EINVAL;
	t->tfd = (uint32_t)tfd;
	t->events = (uint32_t)events;
	t->data = data;
	t->has_pos = t->has_inode = t->has_dev = true;
	t->pos = pos;
	t->inode = ino;
	t->dev = (uint32_t)sdev;
	return 0;
}

/*
 * Is target T (the NTH registration of its fd number) still fd T->tfd of
 * the task? 0 if so, -ESTALE if not (logged), another errno on failure.
 */
static int ep_check_target(const struct cp_fd_desc *fd, const EventpollTfdEntry *t, unsigned int nth)
{
	struct kcmp_epoll_slot slot = { .efd = (uint32_t)fd->fd, .tfd = t->tfd, .toff = nth };
	char path[64];
	struct stat st;
	long ret;

	ret = syscall(SYS_kcmp, fd->pid, fd->pid, KCMP_EPOLL_TFD, (unsigned long)t->tfd, (unsigned long)&slot);
	if (ret == 0)
		return 0;
	if (ret < 0 && errno == ENOSYS) {
		/* No kcmp: the same device and inode will do. */
		snprintf(path, sizeof(path), "/proc/%d/fd/%u", (int)fd->pid, t->tfd);
		if (!stat(path, &st) && st.st_ino == t->inode && st.st_dev == files_kdev_to_dev(t->dev))
			return 0;
	} else if (ret < 0 && errno != EBADF && errno != ENOENT) {
		ret = -errno;
		pr_perror("epoll fd %d of pid %d: cannot compare its target %u with the task's fd", fd->fd,
			  (int)fd->pid, t->tfd);
		return (int)ret;
	}
	pr_err("epoll fd %d of pid %d watches a file registered as fd %u (inode %" PRIu64
	       "), but the task has %s fd %u: a target that is no longer open cannot be restored",
	       fd->fd, (int)fd->pid, t->tfd, t->inode, ret < 0 ? "closed" : "another file at", t->tfd);
	return -ESTALE;
}

static void ep_free_tfds(EventpollTfdEntry **tfds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(tfds[i]);
	free(tfds);
}

static int ep_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	EventpollFileEntry efe = EVENTPOLL_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	EventpollTfdEntry **tfds = NULL;
	const char *line = NULL;
	size_t n = 0;
	int ret = 0;

	(void)p;
	if (!fd->fdinfo) {
		pr_err("fd %d of pid %d: no fdinfo for the epoll", fd->fd, (int)fd->pid);
		return -EINVAL;
	}
	while (files_fdinfo_next(fd->fdinfo, "tfd:", &line)) {
		EventpollTfdEntry **nt, *t;
		unsigned int nth = 0;

		nt = realloc(tfds, (n + 1) * sizeof(*nt));
		t = malloc(sizeof(*t));
		if (nt)
			tfds = nt;
		if (!nt || !t) {
			free(t);
			ret = -ENOMEM;
			goto out;
		}
		eventpoll_tfd_entry__init(t);
		tfds[n++] = t;
		t->id = id;
		ret = ep_parse_tfd(line, t);
		if (ret) {
			pr_err("fd %d of pid %d: cannot parse the epoll target line \"%.*s\"", fd->fd, (int)fd->pid,
			       (int)strcspn(line, "\n"), line);
			goto out;
		}
		for (size_t i = 0; i + 1 < n; i++)
			nth += tfds[i]->tfd == t->tfd;
		ret = ep_check_target(fd, t, nth);
		if (ret)
			goto out;
		pr_debug("fd %d of pid %d: epoll target fd %u, events %#x, data %#" PRIx64, fd->fd, (int)fd->pid,
			 t->tfd, t->events, t->data);
	}
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		goto out;
	efe.id = id;
	efe.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	efe.fown = &fown;
	efe.n_tfd = n;
	efe.tfd = tfds;
	ret = cp_payload_pack(out, &efe.base);
out:
	ep_free_tfds(tfds, n);
	return ret;
}

static EventpollFileEntry *ep_unpack(const struct cp_file *file)
{
	EventpollFileEntry *efe = eventpoll_file_entry__unpack(NULL, file->payload_len, file->payload);

	if (!efe)
		pr_err("files.img: file id %u: malformed EventpollFileEntry (%zu bytes)", file->id, file->payload_len);
	return efe;
}

static int ep_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	EventpollFileEntry *efe;
	char what[48];
	int fd = -1, ret;

	(void)p;
	efe = ep_unpack(file);
	if (!efe)
		return -EINVAL;
	snprintf(what, sizeof(what), "epoll (file id %u)", file->id);
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: cannot make it", what);
		goto out;
	}
	ret = files_open_done(&fd, efe->flags, efe->fown, what, out_fd);
out:
	if (fd >= 0)
		close(fd);
	eventpoll_file_entry__free_unpacked(efe, NULL);
	return ret;
}

/* Every fd of the task is in place: register the targets by their numbers. */
static int ep_post_open(struct cp_plugin *p, const struct cp_file *file, int fd)
{
	EventpollFileEntry *efe;
	int ret = 0;

	(void)p;
	efe = ep_unpack(file);
	if (!efe)
		return -EINVAL;
	for (size_t i = 0; i < efe->n_tfd; i++) {
		const EventpollTfdEntry *t = efe->tfd[i];
		struct epoll_event ev = { .events = t->events, .data.u64 = t->data };

		if (epoll_ctl(fd, EPOLL_CTL_ADD, (int)t->tfd, &ev)) {
			ret = -errno;
			pr_perror("epoll (file id %u) at fd %d: cannot add target fd %u (events %#x)", file->id, fd,
				  t->tfd, t->events);
			break;
		}
	}
	eventpoll_file_entry__free_unpacked(efe, NULL);
	return ret;
}

const struct cp_fd_ops files_epoll_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "eventpoll",
	.type = FILES_TYPE_EVENTPOLL,
	.payload_field = FILES_FIELD_EPFD,
	.match = ep_match,
	.dump = ep_dump,
	.open = ep_open,
	.post_open = ep_post_open,
};

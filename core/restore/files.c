// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "fds", in the new task (stage 1): every fd of
 * fdinfo-N.img is opened by the plugin registered for its FileEntry type
 * and moved to its number. criu's own fds (the log, the channel to criu,
 * the images dir) are first moved above every number the task uses, and
 * whatever else the task inherited from criu is closed at the end.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/log.h>

#include "images/image.h"
#include "log/log.h"
#include "plugins/plugins.h"
#include "restore/files.h"

/*
 * FILE for file ID at TARGET_FD with FLAGS, for USE (an fd, or one of the
 * core's own files with TARGET_FD -1). FILE->payload is malloc'd: the
 * caller frees it.
 */
static int file_prepare(struct rst_ctx *c, uint32_t id, int target_fd, unsigned int flags,
			enum cp_file_use use, struct cp_file *file)
{
	const struct rst_file *f = rst_file_find(c, id);
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;
	void *payload = NULL;
	size_t len = 0;
	int ret;

	memset(file, 0, sizeof(*file));
	if (!f) {
		pr_err("files.img: no file with id %u (needed for fd %d of pid %d)", id, target_fd,
		       c->pid);
		return -ENOENT;
	}
	ret = plugins_find_fd_type(f->type, &ops, &owner);
	if (ret) {
		err_ctx_set_remedy("load the plugin that handles this kind of file (see `criu plugins`)");
		pr_err("files.img: file id %u has type %u, which no loaded plugin restores", id,
		       f->type);
		return -ENOTSUP;
	}
	ret = rst_file_payload(f, ops->payload_field, &payload, &len);
	if (ret) {
		pr_err("files.img: file id %u (%s): field %u is %s", id, ops->name,
		       ops->payload_field, ret == -ENOENT ? "missing" : "malformed");
		return ret == -ENOENT ? -EINVAL : ret;
	}
	file->size = sizeof(*file);
	file->id = id;
	file->type = f->type;
	file->payload = payload;
	file->payload_len = len;
	file->pid = c->pid;
	file->fd = target_fd;
	file->flags = flags;
	file->use = use;
	file->keep_fd_min = c->keep_fd_min;
	return 0;
}

static int open_file(struct rst_ctx *c, uint32_t id, int target_fd, unsigned int flags,
		     enum cp_file_use use, int *out, const struct plugin_fd_kind **kind)
{
	const struct rst_file *f = rst_file_find(c, id);
	struct cp_file file;
	int ret;

	/* An external resource the caller gave criu an fd for replaces the file. */
	ret = f ? rst_inherit_open(c, f, out) : 0;
	if (ret)
		return ret < 0 ? ret : 0;
	ret = file_prepare(c, id, target_fd, flags, use, &file);
	if (ret)
		return ret;
	ret = plugins_open_file(&file, out, kind);
	free((void *)file.payload);
	return ret;
}

int rst_open_file(struct rst_ctx *c, uint32_t id, int target_fd, unsigned int flags, int *out)
{
	return open_file(c, id, target_fd, flags, CP_USE_FD, out, NULL);
}

/* cp_file_open_id(): a file another one refers to, not placed at an fd number. */
static int open_id(void *arg, uint32_t id, unsigned int flags, int *out)
{
	return open_file(arg, id, -1, flags, CP_USE_FD, out, NULL);
}

static int shmem_restore(void *arg, int fd, uint64_t shmid, uint64_t size)
{
	return rst_shmem_file_fill(arg, fd, shmid, size);
}

void rst_file_services(struct rst_ctx *c)
{
	struct plugin_file_services s = { .arg = c, .open_id = open_id, .shmem_restore = shmem_restore };

	plugins_set_file_services(c ? &s : NULL);
}

int rst_file_group(struct rst_ctx *c, uint32_t id, int target_fd, uint64_t *key,
		   const void **owner)
{
	const struct cp_plugin *o = NULL;
	struct cp_file file;
	int ret;

	*key = 0;
	*owner = NULL;
	ret = file_prepare(c, id, target_fd, 0, CP_USE_FD, &file);
	if (ret)
		return ret == -ENOTSUP ? 0 : ret; /* rst_open_file() names it later */
	ret = plugins_file_group(&file, key, &o);
	free((void *)file.payload);
	*owner = o;
	return ret;
}

/*
 * The files the core itself refers to (exe, cwd, root, files behind
 * mappings) are opened by the kinds that took them at dump time (the files
 * plugin for regular files, with their checks), as entries of USE.
 */
int rst_open_core_file(struct rst_ctx *c, uint32_t id, enum cp_file_use use, unsigned int flags,
		       int *out)
{
	int ret;

	if (!rst_file_find(c, id)) {
		pr_err("files.img: no file with id %u (pid %d refers to it)", id, c->pid);
		return -ENOENT;
	}
	ret = open_file(c, id, -1, flags, use, out, NULL);
	if (ret > 0) {
		pr_err("pid %d: file id %u waits for another file, which a file the core opens "
		       "cannot do", c->pid, id);
		ret = -EINVAL;
	}
	return ret;
}

/* Put NEWFD at number TARGET with the fdinfo's close-on-exec flag. */
static int place_fd(int newfd, int target, unsigned int flags, pid_t pid)
{
	if (newfd != target) {
		if (dup2(newfd, target) < 0) {
			int err = -errno;

			pr_perror("pid %d: cannot move fd %d to %d", pid, newfd, target);
			close(newfd);
			return err;
		}
		close(newfd);
	}
	/* FdinfoEntry.flags holds the fd flags (FD_CLOEXEC), as CRIU writes them. */
	if (fcntl(target, F_SETFD, (flags & FD_CLOEXEC) ? FD_CLOEXEC : 0) < 0) {
		pr_perror("pid %d: cannot set the fd flags of fd %d", pid, target);
		return -errno;
	}
	return 0;
}

static int max_target_fd(const struct rst_ctx *c)
{
	int max = 2;

	for (size_t i = 0; i < c->nr_fdinfo; i++)
		if ((int)c->fdinfo[i]->fd > max)
			max = (int)c->fdinfo[i]->fd;
	return max;
}

static int move_high(int *fd, int min, const char *what)
{
	int n;

	if (*fd < 0 || *fd >= min)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, min);
	if (n < 0) {
		pr_perror("cannot move criu's %s fd %d above %d", what, *fd, min);
		return -errno;
	}
	close(*fd);
	*fd = n;
	return 0;
}

void rst_close_foreign_channels(struct rst_ctx *c)
{
	struct rst_tree *t = c->tree;
	int *fds[4];

	for (size_t i = 0; t && i < t->nr_tasks; i++) {
		struct rst_ctx *d = &t->tasks[i];
		bool ours = rst_task_under(c, d);

		fds[0] = &d->report_rd;
		fds[1] = &d->go_wr;
		fds[2] = ours ? NULL : &d->report_wr;
		fds[3] = ours ? NULL : &d->go_rd;
		for (size_t k = 0; k < 4; k++) {
			if (fds[k] && *fds[k] >= 0) {
				close(*fds[k]);
				*fds[k] = -1;
			}
		}
	}
}

int rst_service_min(const struct rst_ctx *c)
{
	int min = max_target_fd(c) + 1;

	return min < 16 ? 16 : min;
}

int rst_move_service_fds(struct rst_ctx *c, int *service_min)
{
	struct rst_tree *t = c->tree;
	int min = rst_service_min(c);
	int logfd = log_get_fd(), dirfd, ret = 0;
	struct img_dir *nd;

	*service_min = min;
	c->keep_fd_min = min;
	/* The channels of this task and of the tasks it will fork, and what they inherit. */
	for (size_t i = 0; t && i < t->nr_tasks && !ret; i++) {
		struct rst_ctx *d = &t->tasks[i];

		if (!rst_task_under(c, d))
			continue;
		ret = move_high(&d->report_wr, min, "report");
		if (!ret)
			ret = move_high(&d->go_rd, min, "go");
	}
	for (size_t i = 0; t && i < t->nr_shared && !ret; i++)
		ret = move_high(&t->shared[i].fd, min, "shared object");
	if (!ret)
		ret = rst_inherit_move_high(t, min);
	if (ret)
		return ret;
	if (logfd >= 0 && logfd < min) {
		int n = fcntl(logfd, F_DUPFD_CLOEXEC, min);

		if (n < 0) {
			pr_perror("cannot move the log fd %d above %d", logfd, min);
			return -errno;
		}
		log_set_fd(n);
	}
	dirfd = img_dir_fd(c->dir);
	if (dirfd < min) {
		int n = fcntl(dirfd, F_DUPFD_CLOEXEC, min);

		if (n < 0) {
			pr_perror("cannot move the images dir fd %d above %d", dirfd, min);
			return -errno;
		}
		ret = img_dir_adopt(n, img_dir_path(c->dir), &nd);
		if (ret)
			return ret;
		img_set_default_dir(nd);
		img_dir_close(c->dir);
		/* Every task's copy in this process points at the one dir object. */
		if (t) {
			t->dir = nd;
			for (size_t i = 0; i < t->nr_tasks; i++)
				t->tasks[i].dir = nd;
		}
		c->dir = nd;
	}
	return 0;
}

/*
 * Every fd is in place: let the kinds that opened a file finish what
 * needs the task's other fds (KINDS[i] opened fdinfo entry i, or NULL).
 */
static int post_open_fds(struct rst_ctx *c, const struct plugin_fd_kind **kinds)
{
	for (size_t i = 0; i < c->nr_fdinfo; i++) {
		FdinfoEntry *e = c->fdinfo[i];
		struct cp_file file;
		int ret;

		if (!kinds[i])
			continue;
		err_ctx_set_fd((int)e->fd, NULL);
		err_ctx_set_image("fdinfo", (int)i + 1);
		ret = file_prepare(c, e->id, (int)e->fd, e->flags, CP_USE_FD, &file);
		if (!ret)
			ret = plugins_post_open_file(kinds[i], &file, (int)e->fd);
		free((void *)file.payload);
		if (ret)
			return ret;
	}
	return 0;
}

static const FdinfoEntry *const *sort_base;

static int cmp_fdinfo_id(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint32_t ix = sort_base[x]->id, iy = sort_base[y]->id;

	if (ix != iy)
		return ix < iy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * FIRST[i]: the first fdinfo entry with the same file id as entry i (i
 * itself when it is the first). fds that shared an open file description
 * share it again: the others dup that one. Sorting keeps this O(n log n)
 * for a task with 10,000 fds.
 */
static int first_of_ids(const struct rst_ctx *c, size_t *first)
{
	size_t n = c->nr_fdinfo, *idx = malloc((n + 1) * sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_base = (const FdinfoEntry *const *)c->fdinfo;
	qsort(idx, n, sizeof(*idx), cmp_fdinfo_id);
	for (size_t k = 0; k < n; k++) {
		bool head = !k || c->fdinfo[idx[k]]->id != c->fdinfo[idx[k - 1]]->id;

		first[idx[k]] = head ? idx[k] : first[idx[k - 1]];
	}
	free(idx);
	return 0;
}

int rst_restore_fds(struct rst_ctx *c)
{
	size_t left = c->nr_fdinfo, i, *first;
	const struct plugin_fd_kind **kinds;
	bool *done;
	int ret = 0;

	err_ctx_set_stage("restore fds");
	done = calloc(c->nr_fdinfo + 1, sizeof(*done));
	kinds = calloc(c->nr_fdinfo + 1, sizeof(*kinds));
	first = calloc(c->nr_fdinfo + 1, sizeof(*first));
	if (!done || !kinds || !first || first_of_ids(c, first)) {
		free(done);
		free(kinds);
		free(first);
		return -ENOMEM;
	}
	/* A plugin may ask to be called again (CP_RETRY) until what it needs exists. */
	while (left) {
		size_t progress = 0;

		for (i = 0; i < c->nr_fdinfo; i++) {
			FdinfoEntry *e = c->fdinfo[i];
			int fd = -1, shared;

			if (done[i])
				continue;
			err_ctx_set_fd((int)e->fd, NULL);
			err_ctx_set_image("fdinfo", (int)i + 1);
			/* Another fd of the same open file: dup it once it is there. */
			if (first[i] != i) {
				const FdinfoEntry *f = c->fdinfo[first[i]];

				if (!done[first[i]])
					continue; /* its plugin asked to retry */
				fd = dup((int)f->fd);
				if (fd < 0) {
					ret = -errno;
					pr_perror("pid %d: cannot dup fd %u for fd %u", c->pid, f->fd, e->fd);
					goto out;
				}
			}
			/* One open file description with other tasks: the ancestor made it. */
			if (fd < 0 && (shared = rst_shared_file_fd(c, e->id)) >= 0) {
				fd = fcntl(shared, F_DUPFD_CLOEXEC, 0);
				if (fd < 0) {
					ret = -errno;
					pr_perror("pid %d: cannot dup shared file id %u for fd %u",
						  c->pid, e->id, e->fd);
					goto out;
				}
			}
			ret = fd >= 0 ? 0 : open_file(c, e->id, (int)e->fd, e->flags, CP_USE_FD, &fd, &kinds[i]);
			if (ret == CP_RETRY)
				continue;
			if (ret)
				goto out;
			ret = place_fd(fd, (int)e->fd, e->flags, c->pid);
			if (ret)
				goto out;
			done[i] = true;
			progress++;
			left--;
		}
		if (left && !progress) {
			pr_err("pid %d: %zu fds wait for each other (the plugins keep asking to retry)",
			       c->pid, left);
			ret = -ELOOP;
			goto out;
		}
	}
	ret = post_open_fds(c, kinds);
out:
	err_ctx_set_fd(-1, NULL);
	err_ctx_set_image(NULL, -1);
	free(kinds);
	free(done);
	free(first);
	return ret;
}

/* Is FD one of the task's (TASK[fd], sized NR_TASK) or in KEEP[]? */
static bool fd_kept(const bool *task, size_t nr_task, int fd, const int *keep, size_t nr_keep)
{
	if ((size_t)fd < nr_task && task[fd])
		return true;
	for (size_t i = 0; i < nr_keep; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

int rst_close_other_fds(struct rst_ctx *c, const int *keep, size_t nr_keep)
{
	size_t n = 0, cap = 0, nr_task = (size_t)max_target_fd(c) + 1;
	bool *task = calloc(nr_task, sizeof(*task));
	int *victims = NULL;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!task)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_fdinfo; i++)
		task[c->fdinfo[i]->fd] = true;
	d = opendir("/proc/self/fd");
	if (!d) {
		pr_perror("pid %d: cannot list its fds", c->pid);
		free(task);
		return -errno;
	}
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d) || fd_kept(task, nr_task, fd, keep, nr_keep))
			continue;
		if (n == cap) {
			int *t = realloc(victims, (cap = cap ? cap * 2 : 32) * sizeof(*t));

			if (!t) {
				ret = -ENOMEM;
				break;
			}
			victims = t;
		}
		victims[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n && !ret; i++)
		close(victims[i]);
	free(victims);
	free(task);
	return ret;
}

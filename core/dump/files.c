// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The files of a task: its fds (each described by the plugin that owns its
 * kind), and the files the core refers to itself: exe, cwd, root and the
 * files behind mappings, which go to the kinds that take those uses
 * (cp_fd_ops.uses; regular files are the files plugin's).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include <criu/log.h>

#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"

#include "dump/dump.h"
#include "images/file-entry.h"
#include "log/log.h"
#include "plugins/plugins.h"

/* What a desc is, for messages: "fd 3", "its exe", "the file mapped at 7f..-7f..". */
static const char *desc_what(const struct cp_fd_desc *d, char *buf, size_t len)
{
	switch (d->use) {
	case CP_USE_FD:
		snprintf(buf, len, "fd %d", d->fd);
		break;
	case CP_USE_EXE:
		snprintf(buf, len, "its exe");
		break;
	case CP_USE_CWD:
		snprintf(buf, len, "its cwd");
		break;
	case CP_USE_ROOT:
		snprintf(buf, len, "its root");
		break;
	case CP_USE_MAP:
		snprintf(buf, len, "the file mapped at %#llx-%#llx", (unsigned long long)d->map_start,
			 (unsigned long long)d->map_end);
		break;
	}
	return buf;
}

/* No plugin took D: say which one would, and how to get it. */
static int report_unhandled(const struct cp_fd_desc *d)
{
	const char *hint = plugins_hint_for_fd(d);
	bool loaded = hint && plugins_is_loaded(hint);
	static char remedy[160];
	char what[96];

	desc_what(d, what, sizeof(what));
	if (hint && !loaded) {
		snprintf(remedy, sizeof(remedy),
			 "install and enable the \"%s\" plugin ([plugins] enable = %s)", hint, hint);
		err_ctx_set_remedy(remedy);
	}
	if (!hint)
		pr_err("pid %d: %s (%s) cannot be dumped: no loaded plugin handles it", d->pid, what,
		       d->link);
	else if (loaded)
		pr_err("pid %d: %s (%s) cannot be dumped: the \"%s\" plugin does not handle this "
		       "kind yet", d->pid, what, d->link, hint);
	else
		pr_err("pid %d: %s (%s) cannot be dumped: no loaded plugin handles it (the \"%s\" "
		       "plugin would)", d->pid, what, d->link, hint);
	return -EOPNOTSUPP;
}

/* Have OWNER's kind OPS describe D under a new id, and write the FileEntry. */
static int write_entry(struct dump_ctx *dc, const struct cp_fd_desc *d, const struct cp_fd_ops *ops,
		       struct cp_plugin *owner, uint32_t *id)
{
	void *payload = NULL;
	uint32_t nid = ++dc->next_file_id;
	size_t len = 0;
	int ret;

	ret = plugins_call_fd_dump(owner, ops, d, nid, &payload, &len);
	if (ret)
		return ret;
	ret = img_write_file_entry(dc->files, ops->type, nid, ops->payload_field, payload, len);
	free(payload);
	if (ret)
		return ret;
	dump_note_plugin(dc, cp_plugin_name(owner));
	*id = nid;
	return 0;
}

/* cp_file_dump_as(): D as an entry of OWNER's kind OPS. */
static int dump_as(void *arg, const struct cp_fd_desc *d, const struct cp_fd_ops *ops,
		   struct cp_plugin *owner, uint32_t *id)
{
	return write_entry(arg, d, ops, owner, id);
}

static int shmem_dump(void *arg, int fd, uint64_t shmid, uint64_t size)
{
	return dump_shmem_file(arg, fd, shmid, size);
}

void dump_file_services(struct dump_ctx *dc)
{
	struct plugin_file_services s = { .arg = dc, .dump_as = dump_as, .shmem_dump = shmem_dump };

	plugins_set_file_services(dc ? &s : NULL);
}

int dump_core_file(struct dump_ctx *dc, pid_t pid, enum cp_file_use use, unsigned int flags,
		   uint64_t start, uint64_t end, uint32_t *id)
{
	static const char *const names[] = { [CP_USE_EXE] = "exe", [CP_USE_CWD] = "cwd",
					     [CP_USE_ROOT] = "root" };
	static char name[PATH_MAX];
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;
	struct cp_fd_desc d;
	char link[96];
	ssize_t n;
	int ret;

	if (use == CP_USE_FD || use > CP_USE_MAP)
		return -EINVAL;
	if (use == CP_USE_MAP)
		snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", pid,
			 (unsigned long long)start, (unsigned long long)end);
	else
		snprintf(link, sizeof(link), "/proc/%d/%s", pid, names[use]);
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.pid = pid;
	d.fd = -1;
	d.mnt_id = -1;
	d.flags = flags;
	d.fdinfo = "";
	d.use = use;
	d.map_start = start;
	d.map_end = end;
	n = readlink(link, name, sizeof(name) - 1);
	if (n < 0) {
		ret = -errno;
		pr_perror("cannot read link %s of pid %d", link, pid);
		return ret;
	}
	name[n] = 0;
	d.link = name;
	/* O_PATH: a handle on the very file, whatever its mode; plugins reopen it to read. */
	d.local_fd = open(link, O_PATH | O_CLOEXEC);
	if (d.local_fd < 0 || fstat(d.local_fd, &d.st)) {
		ret = -errno;
		pr_perror("cannot open %s (%s) of pid %d", link, name, pid);
		goto out;
	}
	ret = plugins_match_fd(&d, &ops, &owner);
	if (ret == -ENOTSUP)
		ret = report_unhandled(&d);
	if (!ret)
		ret = write_entry(dc, &d, ops, owner, id);
out:
	if (d.local_fd >= 0)
		close(d.local_fd);
	return ret;
}

int dump_task_fs(struct dump_ctx *dc, struct dump_task *dt)
{
	FsEntry fe = FS_ENTRY__INIT;
	struct image *img;
	int ret;

	ret = dump_core_file(dc, dt->pid, CP_USE_CWD, O_RDONLY | O_DIRECTORY, 0, 0, &fe.cwd_id);
	if (ret)
		return ret;
	ret = dump_core_file(dc, dt->pid, CP_USE_ROOT, O_RDONLY | O_DIRECTORY, 0, 0, &fe.root_id);
	if (ret)
		return ret;
	fe.has_umask = dt->status.has_umask;
	fe.umask = dt->status.umask;

	ret = dump_img_open(dc, FS_MAGIC, &img, "fs-%d.img", dt->vpid);
	if (ret)
		return ret;
	ret = img_write_msg(img, &fe.base);
	return img_close(img) ?: ret;
}

/* pos, flags (octal, O_CLOEXEC included) and mnt_id from fdinfo text. */
static void parse_fdinfo(const char *text, struct cp_fd_desc *d)
{
	const char *p;

	if ((p = strstr(text, "pos:")))
		d->pos = strtoull(p + 4, NULL, 10);
	if ((p = strstr(text, "flags:")))
		d->flags = (unsigned int)strtoul(p + 6, NULL, 8);
	if ((p = strstr(text, "mnt_id:")))
		d->mnt_id = atoi(p + 7);
}

/*
 * The open file of S against that of D: <0, 0 (the same open file
 * description) or >0. fds_seen is kept sorted by device, inode, then the
 * order kcmp(KCMP_FILE) gives the kernel's file objects, so finding the
 * one an fd shares takes a binary search, not a kcmp per fd seen (10,000
 * eventfds share one inode). A kcmp failure goes to *ERR.
 */
static int seen_cmp(const struct dump_fd_seen *s, const struct cp_fd_desc *d, int *err)
{
	long r;

	if (s->dev != d->st.st_dev)
		return s->dev < d->st.st_dev ? -1 : 1;
	if (s->ino != d->st.st_ino)
		return s->ino < d->st.st_ino ? -1 : 1;
	r = syscall(SYS_kcmp, s->pid, d->pid, KCMP_FILE, s->fd, d->fd);
	if (r == 0)
		return 0;
	if (r == 1 || r == 2)
		return r == 1 ? -1 : 1;
	*err = r < 0 ? -errno : -EINVAL;
	pr_perror("cannot compare fd %d of pid %d with fd %d of pid %d", s->fd, s->pid, d->fd, d->pid);
	return 1;
}

/*
 * An fd sharing the open file description of one dumped before, in this
 * process or another of the tree (fork shares them), gets that entry's id
 * and the plugin is not asked again. 0 and *SAME (or NULL, then *AT is
 * where D goes in fds_seen), or a negative errno.
 */
static int same_file(const struct dump_ctx *dc, const struct cp_fd_desc *d,
		     const struct dump_fd_seen **same, size_t *at)
{
	size_t lo = 0, hi = dc->n_fds_seen;
	int err = 0;

	*same = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = seen_cmp(&dc->fds_seen[mid], d, &err);

		if (err)
			return err;
		if (!c) {
			*same = &dc->fds_seen[mid];
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

static int note_file(struct dump_ctx *dc, const struct cp_fd_desc *d, uint32_t id, uint32_t type,
		     size_t at)
{
	if (dc->n_fds_seen == dc->cap_fds_seen) {
		size_t cap = dc->cap_fds_seen ? dc->cap_fds_seen * 2 : 64;
		struct dump_fd_seen *ns = realloc(dc->fds_seen, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		dc->fds_seen = ns;
		dc->cap_fds_seen = cap;
	}
	memmove(&dc->fds_seen[at + 1], &dc->fds_seen[at], (dc->n_fds_seen - at) * sizeof(*dc->fds_seen));
	dc->n_fds_seen++;
	dc->fds_seen[at] = (struct dump_fd_seen){
		.pid = d->pid, .fd = d->fd, .dev = d->st.st_dev, .ino = d->st.st_ino,
		.flags = d->flags & ~(unsigned int)O_CLOEXEC, .pos = d->pos, .id = id, .type = type,
	};
	return 0;
}

static int read_fd_desc(pid_t pid, int fd, struct cp_fd_desc *d, char *link, size_t link_len,
			char *info, size_t info_len)
{
	char path[64], name[32];
	ssize_t n;
	int ret;

	memset(d, 0, sizeof(*d));
	d->size = sizeof(*d);
	d->pid = pid;
	d->fd = fd;
	d->local_fd = -1;
	d->mnt_id = -1;
	d->use = CP_USE_FD;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, link_len - 1);
	if (n < 0) {
		ret = -errno;
		pr_perror("cannot read link %s", path);
		return ret;
	}
	link[n] = 0;
	d->link = link;
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	ret = proc_read_text(pid, name, info, info_len);
	if (ret)
		return ret;
	d->fdinfo = info;
	parse_fdinfo(info, d);

	d->local_fd = infect_steal_fd(pid, fd);
	if (d->local_fd < 0)
		return d->local_fd;
	if (fstat(d->local_fd, &d->st)) {
		ret = -errno;
		pr_perror("cannot stat fd %d of pid %d (%s)", fd, pid, link);
		return ret;
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int list_fds(pid_t pid, int **out, size_t *n)
{
	char path[64];
	struct dirent *de;
	int *fds = NULL;
	size_t nr = 0, cap = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		int err = -errno;

		pr_perror("cannot open %s", path);
		return err;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (nr == cap) {
			int *nf;

			cap = cap ? cap * 2 : 64;
			nf = realloc(fds, cap * sizeof(*nf));
			if (!nf) {
				free(fds);
				closedir(d);
				return -ENOMEM;
			}
			fds = nf;
		}
		fds[nr++] = atoi(de->d_name);
	}
	closedir(d);
	if (nr)
		qsort(fds, nr, sizeof(*fds), cmp_int);
	*out = fds;
	*n = nr;
	return 0;
}

static int dump_one_fd(struct dump_ctx *dc, struct dump_task *dt, const struct cp_fd_desc *d,
		       struct image *fdinfo)
{
	FdinfoEntry fe = FDINFO_ENTRY__INIT;
	const struct dump_fd_seen *same;
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;
	size_t at = 0;
	int ret;

	ret = same_file(dc, d, &same, &at);
	if (ret)
		return ret;
	if (same) {
		if (same->pid != d->pid)
			pr_info("pid %d: fd %d shares file %u with fd %d of pid %d", d->pid, d->fd,
				same->id, same->fd, same->pid);
		fe.id = same->id;
		fe.type = (FdTypes)same->type;
	} else {
		ret = plugins_match_fd(d, &ops, &owner);
		if (ret == -ENOTSUP)
			return report_unhandled(d);
		if (ret)
			return ret;
		ret = write_entry(dc, d, ops, owner, &fe.id);
		if (ret)
			return ret;
		fe.type = (FdTypes)ops->type;
		ret = note_file(dc, d, fe.id, fe.type, at);
		if (ret)
			return ret;
	}
	/* FdinfoEntry.flags holds the fd flags (FD_CLOEXEC), as fcntl(F_GETFD) gives them. */
	fe.flags = (d->flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	fe.fd = (uint32_t)d->fd;
	return img_write_msg(fdinfo, &fe.base);
}

int dump_task_fds(struct dump_ctx *dc, struct dump_task *dt)
{
	static char link[PATH_MAX + 32], info[16384];
	struct image *fdinfo = NULL;
	size_t n = 0;
	int *fds = NULL, ret;

	err_ctx_set_stage("dump fds");
	ret = list_fds(dt->pid, &fds, &n);
	if (ret)
		return ret;
	ret = dump_img_open(dc, FDINFO_MAGIC, &fdinfo, "fdinfo-%u.img", dt->ids.files_id);
	if (ret)
		goto out;
	for (size_t i = 0; i < n && !ret; i++) {
		struct cp_fd_desc d;

		err_ctx_set_fd(fds[i], NULL);
		ret = read_fd_desc(dt->pid, fds[i], &d, link, sizeof(link), info, sizeof(info));
		if (ret == -ENOENT || ret == -EBADF) {
			/* Closed between readdir and now: the task is frozen, so it was ours. */
			ret = 0;
		} else if (!ret) {
			err_ctx_set_fd(fds[i], link);
			ret = dump_one_fd(dc, dt, &d, fdinfo);
		}
		if (d.local_fd >= 0)
			close(d.local_fd);
	}
	err_ctx_set_fd(-1, NULL);
	ret = img_close(fdinfo) ?: ret;
out:
	free(fds);
	return ret;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The files of a task: its fds (each described by the plugin that owns its
 * kind), and the files the core refers to itself: exe, cwd, root and the
 * files behind mappings, saved as regular-file entries of files.img.
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
#include "fown.pb-c.h"
#include "fs.pb-c.h"
#include "regfile.pb-c.h"

#include "dump/dump.h"
#include "images/file-entry.h"
#include "log/log.h"
#include "plugins/plugins.h"

#define FD_TYPE_REG 1
#define FILE_ENTRY_REG_FIELD 3
#define DELETED_SUFFIX " (deleted)"

int dump_reg_path(struct dump_ctx *dc, pid_t pid, const char *link, unsigned int flags,
		  uint32_t *id)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	char name[PATH_MAX];
	struct stat st;
	uint8_t *buf;
	size_t len, nl;
	ssize_t n;
	int ret;

	n = readlink(link, name, sizeof(name) - 1);
	if (n < 0) {
		ret = -errno;
		pr_perror("cannot read link %s of pid %d", link, pid);
		return ret;
	}
	name[n] = 0;
	if (stat(link, &st)) {
		ret = -errno;
		pr_perror("cannot stat %s (%s) of pid %d", link, name, pid);
		return ret;
	}
	nl = strlen(name);
	if (nl > strlen(DELETED_SUFFIX) && !strcmp(name + nl - strlen(DELETED_SUFFIX), DELETED_SUFFIX) &&
	    st.st_nlink == 0) {
		/* Ghost files belong to the files plugin; the core saves only the name. */
		pr_warn("pid %d uses the deleted file %s; it must exist again on restore", pid, name);
		name[nl - strlen(DELETED_SUFFIX)] = 0;
	}

	re.id = ++dc->next_file_id;
	re.flags = flags;
	re.pos = 0;
	re.fown = &fown;
	re.name = name;
	re.has_size = S_ISREG(st.st_mode);
	re.size = (uint64_t)st.st_size;
	re.has_mode = true;
	re.mode = st.st_mode;

	len = reg_file_entry__get_packed_size(&re);
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	reg_file_entry__pack(&re, buf);
	ret = img_write_file_entry(dc->files, FD_TYPE_REG, re.id, FILE_ENTRY_REG_FIELD, buf, len);
	free(buf);
	if (!ret)
		*id = re.id;
	return ret;
}

int dump_task_fs(struct dump_ctx *dc, struct dump_task *dt)
{
	FsEntry fe = FS_ENTRY__INIT;
	struct image *img;
	char link[64];
	int ret;

	snprintf(link, sizeof(link), "/proc/%d/cwd", dt->pid);
	ret = dump_reg_path(dc, dt->pid, link, O_RDONLY | O_DIRECTORY, &fe.cwd_id);
	if (ret)
		return ret;
	snprintf(link, sizeof(link), "/proc/%d/root", dt->pid);
	ret = dump_reg_path(dc, dt->pid, link, O_RDONLY | O_DIRECTORY, &fe.root_id);
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
	void *payload = NULL;
	size_t len = 0, at = 0;
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
		if (ret == -ENOTSUP) {
			const char *hint = plugins_hint_for_fd(d);
			bool loaded = hint && plugins_is_loaded(hint);
			static char remedy[160];

			if (hint && !loaded) {
				snprintf(remedy, sizeof(remedy),
					 "install and enable the \"%s\" plugin ([plugins] enable = %s)",
					 hint, hint);
				err_ctx_set_remedy(remedy);
			}
			if (!hint)
				pr_err("pid %d: fd %d (%s) cannot be dumped: no loaded plugin handles it",
				       dt->pid, d->fd, d->link);
			else if (loaded)
				pr_err("pid %d: fd %d (%s) cannot be dumped: the \"%s\" plugin does not "
				       "handle this kind yet", dt->pid, d->fd, d->link, hint);
			else
				pr_err("pid %d: fd %d (%s) cannot be dumped: no loaded plugin handles it "
				       "(the \"%s\" plugin would)", dt->pid, d->fd, d->link, hint);
			return -EOPNOTSUPP;
		}
		if (ret)
			return ret;
		fe.id = ++dc->next_file_id;
		fe.type = (FdTypes)ops->type;
		ret = plugins_call_fd_dump(owner, ops, d, fe.id, &payload, &len);
		if (ret)
			return ret;
		ret = img_write_file_entry(dc->files, ops->type, fe.id, ops->payload_field, payload,
					   len);
		free(payload);
		if (ret)
			return ret;
		dump_note_plugin(dc, cp_plugin_name(owner));
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

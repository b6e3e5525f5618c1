// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "inotify": saved as CRIU's InotifyFileEntry (FileEntry type
 * INOTIFY, field 13) with one InotifyWdEntry per watch, from the fdinfo
 * lines "inotify wd:W ino:I sdev:D mask:M ignored_mask:0 fhandle-bytes:B
 * fhandle-type:T f_handle:H" (all hex): the watch descriptor, the inode,
 * its mask and its file handle, plus the path it is reached by (see
 * fsnotify.c).
 *
 * Restore adds the watches in the order of their numbers and makes each
 * get its old number: the kernel hands out numbers upwards from the last
 * one, so a watch that got a lower number is removed and added again
 * until it gets the right one (the IN_IGNORED events that leaves are
 * read away). Events queued and not yet read are lost, as with CRIU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "files.h"
#include "fsnotify.pb-c.h"

/* What the kernel shows of a watch's mask (inotify_mark_user_mask) and inotify_add_watch takes back. */
#define INOTIFY_MASK (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)

static int ify_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link && !strcmp(fd->link, "anon_inode:inotify") ? 0 : -ENOTSUP;
}

/* One watch: the entry, and the handle words and path it points to. */
struct ify_wd {
	InotifyWdEntry e;
	FhEntry fh;
	uint64_t words[FH_ENTRY_SIZES__min_entries];
};

static int ify_parse(const struct cp_fd_desc *fd, const char *line, struct ify_wd *w, uint32_t id)
{
	uint64_t wd, ino, sdev, mask, ign;
	char what[96];
	int ret;

	inotify_wd_entry__init(&w->e);
	fh_entry__init(&w->fh);
	if (!files_field_u64(line, "wd", 16, &wd) || !files_field_u64(line, "ino", 16, &ino) ||
	    !files_field_u64(line, "sdev", 16, &sdev) || !files_field_u64(line, "mask", 16, &mask) ||
	    !files_field_u64(line, "ignored_mask", 16, &ign) || wd > INT32_MAX) {
		pr_err("fd %d of pid %d: cannot parse the inotify watch \"%.*s\"", fd->fd, (int)fd->pid,
		       (int)strcspn(line, "\n"), line);
		return -EINVAL;
	}
	ret = files_field_handle(line, &w->fh, w->words, FH_ENTRY_SIZES__min_entries);
	if (ret) {
		pr_err("fd %d of pid %d: inotify watch %" PRIu64 " has no usable file handle in fdinfo", fd->fd,
		       (int)fd->pid, wd);
		return ret;
	}
	snprintf(what, sizeof(what), "inotify fd %d of pid %d, watch %" PRIu64, fd->fd, (int)fd->pid, wd);
	ret = files_fsnotify_path(what, ino, files_kdev_to_dev(sdev), &w->fh, &w->fh.path);
	if (ret)
		return ret;
	w->e.id = id;
	w->e.i_ino = ino;
	w->e.mask = (uint32_t)mask;
	w->e.ignored_mask = (uint32_t)ign;
	w->e.s_dev = (uint32_t)sdev;
	w->e.wd = (uint32_t)wd;
	w->e.f_handle = &w->fh;
	pr_debug("%s: %s, mask %#" PRIx64, what, w->fh.path, mask);
	return 0;
}

static int ify_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	InotifyFileEntry ife = INOTIFY_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	InotifyWdEntry **ents = NULL;
	struct ify_wd *wds = NULL;
	const char *line = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	(void)p;
	while (fd->fdinfo && files_fdinfo_next(fd->fdinfo, "inotify wd:", &line)) {
		if (n == cap) {
			struct ify_wd *nw = realloc(wds, (cap = cap ? cap * 2 : 8) * sizeof(*nw));

			if (!nw) {
				ret = -ENOMEM;
				goto out;
			}
			wds = nw;
		}
		ret = ify_parse(fd, line, &wds[n], id);
		if (ret)
			goto out;
		n++;
	}
	ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		wds[i].e.f_handle = &wds[i].fh; /* wds moved while growing */
		wds[i].fh.handle = wds[i].words;
		ents[i] = &wds[i].e;
	}
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		goto out;
	ife.id = id;
	ife.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	ife.fown = &fown;
	ife.n_wd = n;
	ife.wd = ents;
	ret = cp_payload_pack(out, &ife.base);
out:
	for (size_t i = 0; i < n; i++)
		free(wds[i].fh.path);
	free(ents);
	free(wds);
	return ret;
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWdEntry *x = *(InotifyWdEntry *const *)a, *y = *(InotifyWdEntry *const *)b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

/* Add watch W to FD so that it gets its old number. */
static int ify_add(int fd, const InotifyWdEntry *w, const char *what)
{
	char path[64];
	int tfd, wd, ret = 0;

	if (!w->f_handle) {
		pr_err("%s: watch %u has no file handle", what, w->wd);
		return -EINVAL;
	}
	tfd = files_fsnotify_open(what, w->f_handle, w->s_dev, w->i_ino);
	if (tfd < 0)
		return tfd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tfd);
	for (;;) {
		wd = inotify_add_watch(fd, path, w->mask & INOTIFY_MASK);
		if (wd < 0) {
			ret = -errno;
			pr_perror("%s: cannot watch %s (mask %#x)", what, w->f_handle->path ? w->f_handle->path : path,
				  w->mask);
			break;
		}
		if ((uint32_t)wd == w->wd)
			break;
		inotify_rm_watch(fd, wd);
		if ((uint32_t)wd > w->wd) {
			/* Two watches of one inode in the image, or numbers the kernel has passed. */
			pr_err("%s: watch %u came back as %d", what, w->wd, wd);
			ret = -EINVAL;
			break;
		}
	}
	close(tfd);
	return ret;
}

static void ify_drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int ify_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	InotifyFileEntry *ife;
	char what[48];
	int fd = -1, ret = 0;

	(void)p;
	ife = inotify_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!ife) {
		pr_err("files.img: file id %u: malformed InotifyFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "inotify (file id %u)", file->id);
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: cannot make it", what);
		goto out;
	}
	if (ife->n_wd)
		qsort(ife->wd, ife->n_wd, sizeof(*ife->wd), cmp_wd);
	for (size_t i = 0; i < ife->n_wd && !ret; i++)
		ret = ify_add(fd, ife->wd[i], what);
	/* Each watch removed to get the numbers right left an IN_IGNORED: drop them. */
	if (!ret)
		ify_drain(fd);
	if (!ret)
		ret = files_open_done(&fd, ife->flags, ife->fown, what, out_fd);
out:
	if (fd >= 0)
		close(fd);
	inotify_file_entry__free_unpacked(ife, NULL);
	return ret;
}

const struct cp_fd_ops files_inotify_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "inotify",
	.type = FILES_TYPE_INOTIFY,
	.payload_field = FILES_FIELD_IFY,
	.match = ify_match,
	.dump = ify_dump,
	.open = ify_open,
};

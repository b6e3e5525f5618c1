// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "fanotify": saved as CRIU's FanotifyFileEntry (FileEntry type
 * FANOTIFY, field 14): the fanotify_init() flags and event file flags
 * ("fanotify flags:F event-flags:E"), and one FanotifyMarkEntry per mark:
 *   inode marks  "fanotify ino:I sdev:D mflags:F mask:M ignored_mask:G
 *                fhandle-bytes:B fhandle-type:T f_handle:H", found by
 *                their handle and saved with their path (fsnotify.c);
 *   mount marks  "fanotify mnt_id:N mflags:F mask:M ignored_mask:G",
 *                saved with the mount's mount point.
 * Filesystem marks (FAN_MARK_FILESYSTEM: "fanotify sdev:D ...") have no
 * place in CRIU's format: the dump stops naming them. Events queued and
 * not yet read, and permission events not yet answered, are lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "files.h"
#include "fsnotify.pb-c.h"

#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif
#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif

/* Mark flags fdinfo shows (fanotify_mark_user_flags) that fanotify_mark() takes back. */
#define FAN_MFLAGS (FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE | FAN_MARK_IGNORE)

static int ffy_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link && !strcmp(fd->link, "anon_inode:[fanotify]") ? 0 : -ENOTSUP;
}

/* One mark with what it points to. */
struct ffy_mark {
	FanotifyMarkEntry e;
	FanotifyInodeMarkEntry ie;
	FanotifyMountMarkEntry me;
	FhEntry fh;
	uint64_t words[FH_ENTRY_SIZES__min_entries];
	char *path; /* malloc'd: fh.path or me.path */
};

/* The mount point of mount MNT_ID, as criu sees it. */
static int ffy_mount_path(int mnt_id, char **path)
{
	char line[PATH_MAX + 256], mnt[PATH_MAX];
	int id, ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %*d %*s %*s %4095s", &id, mnt) != 2 || id != mnt_id)
			continue;
		if (strchr(mnt, '\\')) {
			ret = -EINVAL; /* an escaped blank or newline: not worth undoing here */
			break;
		}
		*path = strdup(mnt);
		ret = *path ? 0 : -ENOMEM;
		break;
	}
	fclose(f);
	return ret;
}

static int ffy_parse(const struct cp_fd_desc *fd, const char *line, struct ffy_mark *m, uint32_t id)
{
	uint64_t mflags, mask, ign, ino, sdev, mnt_id;
	char what[96];
	int ret;

	memset(m, 0, sizeof(*m));
	fanotify_mark_entry__init(&m->e);
	fanotify_inode_mark_entry__init(&m->ie);
	fanotify_mount_mark_entry__init(&m->me);
	fh_entry__init(&m->fh);
	if (!files_field_u64(line, "mflags", 16, &mflags) || !files_field_u64(line, "mask", 16, &mask) ||
	    !files_field_u64(line, "ignored_mask", 16, &ign)) {
		pr_err("fd %d of pid %d: cannot parse the fanotify mark \"%.*s\"", fd->fd, (int)fd->pid,
		       (int)strcspn(line, "\n"), line);
		return -EINVAL;
	}
	m->e.id = id;
	m->e.mflags = (uint32_t)mflags;
	m->e.mask = (uint32_t)mask;
	m->e.ignored_mask = (uint32_t)ign;
	if (files_field_u64(line, "ino", 16, &ino)) {
		if (!files_field_u64(line, "sdev", 16, &sdev))
			return -EINVAL;
		ret = files_field_handle(line, &m->fh, m->words, FH_ENTRY_SIZES__min_entries);
		if (ret) {
			pr_err("fd %d of pid %d: fanotify mark on inode %" PRIu64 " has no usable file handle", fd->fd,
			       (int)fd->pid, ino);
			return ret;
		}
		snprintf(what, sizeof(what), "fanotify fd %d of pid %d, mark on inode %" PRIu64, fd->fd, (int)fd->pid,
			 ino);
		ret = files_fsnotify_path(what, ino, files_kdev_to_dev(sdev), &m->fh, &m->path);
		if (ret)
			return ret;
		m->e.type = MARK_TYPE__INODE;
		m->e.s_dev = (uint32_t)sdev;
		m->ie.i_ino = ino;
		m->ie.f_handle = &m->fh;
		m->fh.path = m->path;
		m->e.ie = &m->ie;
	} else if (files_field_u64(line, "mnt_id", 16, &mnt_id)) {
		ret = ffy_mount_path((int)mnt_id, &m->path);
		if (ret) {
			pr_err("fd %d of pid %d: fanotify mark on mount %" PRIu64 ": cannot find its mount point: %s",
			       fd->fd, (int)fd->pid, mnt_id, strerror(-ret));
			return ret;
		}
		m->e.type = MARK_TYPE__MOUNT;
		m->me.mnt_id = (uint32_t)mnt_id;
		m->me.path = m->path;
		m->e.me = &m->me;
	} else {
		pr_err("fd %d of pid %d: fanotify mark \"%.*s\" is a filesystem mark (FAN_MARK_FILESYSTEM) or "
		       "another kind that CRIU's image format cannot hold",
		       fd->fd, (int)fd->pid, (int)strcspn(line, "\n"), line);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int ffy_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	FanotifyFileEntry ffe = FANOTIFY_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	FanotifyMarkEntry **ents = NULL;
	struct ffy_mark *marks = NULL;
	uint64_t faflags, evflags;
	const char *line = NULL, *hdr = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	(void)p;
	if (!fd->fdinfo || !files_fdinfo_next(fd->fdinfo, "fanotify flags:", &hdr) ||
	    !files_field_u64(hdr, "flags", 16, &faflags) || !files_field_u64(hdr, "event-flags", 16, &evflags)) {
		pr_err("fd %d of pid %d: no fanotify flags in its fdinfo", fd->fd, (int)fd->pid);
		return -EINVAL;
	}
	while (files_fdinfo_next(fd->fdinfo, "fanotify ", &line)) {
		if (line == hdr)
			continue;
		if (n == cap) {
			struct ffy_mark *nm = realloc(marks, (cap = cap ? cap * 2 : 8) * sizeof(*nm));

			if (!nm) {
				ret = -ENOMEM;
				goto out;
			}
			marks = nm;
		}
		ret = ffy_parse(fd, line, &marks[n], id);
		n++; /* even on failure: its path is freed below */
		if (ret)
			goto out;
	}
	ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ffy_mark *m = &marks[i];

		/* marks moved while growing: point the entries at their parts again. */
		m->fh.handle = m->words;
		if (m->e.type == MARK_TYPE__INODE) {
			m->ie.f_handle = &m->fh;
			m->e.ie = &m->ie;
		} else {
			m->e.me = &m->me;
		}
		ents[i] = &m->e;
	}
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		goto out;
	ffe.id = id;
	ffe.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	ffe.fown = &fown;
	ffe.faflags = (uint32_t)faflags;
	ffe.evflags = (uint32_t)evflags;
	ffe.n_mark = n;
	ffe.mark = ents;
	pr_debug("fd %d of pid %d: fanotify, flags %#" PRIx64 ", event flags %#" PRIx64 ", %zu marks", fd->fd,
		 (int)fd->pid, faflags, evflags, n);
	ret = cp_payload_pack(out, &ffe.base);
out:
	for (size_t i = 0; i < n; i++)
		free(marks[i].path);
	free(ents);
	free(marks);
	return ret;
}

/* Put mark M back on FD. */
static int ffy_add(int fd, const FanotifyMarkEntry *m, const char *what)
{
	unsigned int flags = FAN_MARK_ADD | (m->mflags & (FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE));
	const char *path;
	char proc[64];
	int tfd = -1, ret = 0;

	if (m->mflags & ~(uint32_t)FAN_MFLAGS) {
		pr_err("%s: unknown mark flags %#x", what, m->mflags);
		return -EINVAL;
	}
	if (m->type == MARK_TYPE__INODE && m->ie && m->ie->f_handle) {
		tfd = files_fsnotify_open(what, m->ie->f_handle, m->s_dev, m->ie->i_ino);
		if (tfd < 0)
			return tfd;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tfd);
		path = proc;
	} else if (m->type == MARK_TYPE__MOUNT && m->me && m->me->path) {
		flags |= FAN_MARK_MOUNT;
		path = m->me->path;
	} else {
		pr_err("%s: mark of type %d without what it marks", what, (int)m->type);
		return -EINVAL;
	}
	if (m->mask && fanotify_mark(fd, flags, m->mask, AT_FDCWD, path)) {
		ret = -errno;
		pr_perror("%s: cannot mark %s (mask %#x)", what, path, m->mask);
	}
	flags |= m->mflags & FAN_MARK_IGNORE ? FAN_MARK_IGNORE : FAN_MARK_IGNORED_MASK;
	if (!ret && m->ignored_mask && fanotify_mark(fd, flags, m->ignored_mask, AT_FDCWD, path)) {
		ret = -errno;
		pr_perror("%s: cannot set the ignored mask %#x of %s", what, m->ignored_mask, path);
	}
	if (tfd >= 0)
		close(tfd);
	return ret;
}

static int ffy_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	FanotifyFileEntry *ffe;
	char what[48];
	int fd = -1, ret = 0;

	(void)p;
	ffe = fanotify_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!ffe) {
		pr_err("files.img: file id %u: malformed FanotifyFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "fanotify (file id %u)", file->id);
	/*
	 * The flags as they were, FAN_CLOEXEC included or not: the group keeps
	 * them and fdinfo shows them (the core sets the fd's own flag).
	 */
	fd = fanotify_init(ffe->faflags, ffe->evflags);
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: cannot make it (flags %#x, event flags %#x)", what, ffe->faflags, ffe->evflags);
		goto out;
	}
	for (size_t i = 0; i < ffe->n_mark && !ret; i++)
		ret = ffy_add(fd, ffe->mark[i], what);
	if (!ret)
		ret = files_open_done(&fd, ffe->flags, ffe->fown, what, out_fd);
out:
	if (fd >= 0)
		close(fd);
	fanotify_file_entry__free_unpacked(ffe, NULL);
	return ret;
}

const struct cp_fd_ops files_fanotify_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "fanotify",
	.type = FILES_TYPE_FANOTIFY,
	.payload_field = FILES_FIELD_FFY,
	.match = ffy_match,
	.dump = ffy_dump,
	.open = ffy_open,
};

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Link-remap, as CRIU does it: a file open (or mapped) under a name that
 * is gone, but that can still be linked. That is a file that lives on
 * under other names (always), or, with --link-remap, an O_TMPFILE file
 * (the kernel refuses to link any other file with no name left; those
 * stay ghosts). Dump links the file, through criu's handle on it, to
 * "link_remap.ID" in the directory of the old name, saves that name as a
 * regular-file entry of its own and ties the open file to it in
 * remap-fpath.img (type LINKED). The link stays until the restore is
 * done, so the same images can be restored again after a failure; a
 * failed dump removes the links it made.
 *
 * Restore links link_remap.ID to the old name for the open and unlinks
 * the old name again, so the fd is the same inode under the same
 * "NAME (deleted)"; criu removes link_remap.ID once the tree is restored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "files.h"

/* Remember NAME, made by this dump, to remove it if the dump fails. */
static int note_link(struct files_state *st, const char *name)
{
	char **l = realloc(st->links, (st->n_links + 1) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	st->links = l;
	l[st->n_links] = strdup(name);
	if (!l[st->n_links])
		return -ENOMEM;
	st->n_links++;
	return 0;
}

/* Link the file behind FD to a new "link_remap.N" next to PATH; its name in LINK. */
static int make_link(struct files_state *st, const struct cp_fd_desc *fd, uint32_t id, const char *path,
		     char *link, size_t len)
{
	const char *slash = strrchr(path, '/');
	char proc[64];
	struct stat sb;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd->local_fd);
	for (unsigned int n = 0; n < 100; n++) {
		if (n)
			snprintf(link, len, "%.*s/link_remap.%u.%u", (int)(slash - path), path, id, n);
		else
			snprintf(link, len, "%.*s/link_remap.%u", (int)(slash - path), path, id);
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, link, AT_SYMLINK_FOLLOW))
			return note_link(st, link);
		if (errno == ENOENT && fd->st.st_nlink == 0)
			return -ENOENT; /* not linkable: the caller saves a ghost */
		if (errno != EEXIST) {
			int err = -errno;

			pr_perror("%s of pid %d: cannot link %s back as %s", files_what(fd), (int)fd->pid, path,
				  link);
			return err;
		}
		/* Left by an earlier dump (-R) of the same file: use it again. */
		if (!stat(link, &sb) && sb.st_dev == fd->st.st_dev && sb.st_ino == fd->st.st_ino)
			return 0;
	}
	pr_err("%s of pid %d: no free link_remap name next to %s", files_what(fd), (int)fd->pid, path);
	return -EEXIST;
}

int files_link_remap_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, const char *path)
{
	struct files_state *st = files_state(p);
	char link[PATH_MAX + 32];
	struct cp_fd_desc ld;
	uint32_t rid = 0;
	int ret;

	if (!S_ISREG(fd->st.st_mode)) {
		pr_err("%s of pid %d: the %s %s was unlinked while open; only regular files can be "
		       "linked back",
		       files_what(fd), (int)fd->pid, S_ISDIR(fd->st.st_mode) ? "directory" : "file", path);
		return -EOPNOTSUPP;
	}
	ret = make_link(st, fd, id, path, link, sizeof(link));
	if (ret)
		return ret;
	/* The link's own entry: the same file under its new name. */
	ld = *fd;
	ld.link = link;
	ret = cp_file_dump_as(p, &files_reg_ops, &ld, &rid);
	if (!ret)
		ret = files_remap_write(p, id, rid, FILES_REMAP_LINKED);
	if (!ret)
		pr_info("%s of pid %d: %s, unlinked, is linked back as %s (file id %u)", files_what(fd), (int)fd->pid,
			path, link, rid);
	return ret;
}

void files_link_remap_dump_done(struct files_state *st, bool failed)
{
	for (size_t i = 0; i < st->n_links; i++) {
		if (failed && unlink(st->links[i]) && errno != ENOENT)
			pr_warn("cannot remove the link-remap %s: %s", st->links[i], strerror(errno));
		free(st->links[i]);
	}
	free(st->links);
	st->links = NULL;
	st->n_links = 0;
}

int files_link_remap_open(struct cp_plugin *p, const char *path, uint32_t remap_id, unsigned int flags, uint32_t id)
{
	char *name = files_reg_name_of(p, remap_id);
	char rpath[PATH_MAX + 1];

	if (!name) {
		pr_err("files.img: no regular-file entry %u, the link-remap of file id %u", remap_id, id);
		return -ENOENT;
	}
	snprintf(rpath, sizeof(rpath), "%s%s", name[0] == '/' ? "" : "/", name);
	free(name);
	return files_open_linked(rpath, path, flags, id);
}

void files_link_remap_remove(struct cp_plugin *p, uint32_t remap_id)
{
	char *name = files_reg_name_of(p, remap_id);
	char rpath[PATH_MAX + 1];

	if (!name)
		return;
	snprintf(rpath, sizeof(rpath), "%s%s", name[0] == '/' ? "" : "/", name);
	free(name);
	if (!unlink(rpath))
		pr_debug("removed the link-remap %s", rpath);
	else if (errno != ENOENT)
		pr_warn("cannot remove the link-remap %s: %s", rpath, strerror(errno));
}

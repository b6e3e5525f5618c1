// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What inotify watches and fanotify marks point at: an inode known only
 * by its device and a file handle (fdinfo's "sdev", "f_handle"). Dump
 * opens the handle (open_by_handle_at, which needs CAP_DAC_READ_SEARCH)
 * on a mount of that device and keeps the path it is reached by, as
 * CRIU's FhEntry.path; restore opens that path, or the handle again when
 * the path is gone.
 *
 * Mounts are those criu sees (its /proc/self/mountinfo); a task in
 * another mount namespace is not handled here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <criu/log.h>

#include "files.h"

/* Undo mountinfo's octal escapes (\040 for a blank) in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

/* Open the handle FH on a mount of DEV with FLAGS; a negative errno if no mount of it can. */
static int open_handle(dev_t dev, const FhEntry *fh, int flags)
{
	struct file_handle *h;
	char line[PATH_MAX + 256], mnt[PATH_MAX];
	unsigned int ma, mi;
	int ret = -ENODEV;
	FILE *f;

	if (fh->bytes > fh->n_handle * 8 || fh->bytes > MAX_HANDLE_SZ)
		return -EINVAL;
	h = calloc(1, sizeof(*h) + fh->bytes);
	if (!h)
		return -ENOMEM;
	h->handle_bytes = fh->bytes;
	h->handle_type = (int)fh->type;
	memcpy(h->f_handle, fh->handle, fh->bytes);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		ret = -errno;
		free(h);
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		int mfd, fd;

		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &ma, &mi, mnt) != 3 || makedev(ma, mi) != dev)
			continue;
		unescape(mnt);
		mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mfd < 0)
			continue;
		fd = open_by_handle_at(mfd, h, flags | O_CLOEXEC);
		close(mfd);
		if (fd >= 0) {
			ret = fd;
			break;
		}
		ret = -errno;
	}
	fclose(f);
	free(h);
	return ret;
}

int files_fsnotify_path(const char *what, uint64_t ino, dev_t dev, FhEntry *fh, char **path)
{
	char link[64], buf[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	*path = NULL;
	fd = open_handle(dev, fh, O_PATH);
	if (fd < 0) {
		pr_err("%s: cannot open inode %" PRIu64 " of device %u:%u by its handle: %s", what, ino, major(dev),
		       minor(dev), strerror(-fd));
		return fd;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		pr_perror("%s: cannot read the path of inode %" PRIu64, what, ino);
		return -errno;
	}
	buf[n] = 0;
	/* The name must lead to the same inode, or restore would watch another file. */
	if (buf[0] != '/' || stat(buf, &st) || st.st_ino != ino || st.st_dev != dev) {
		pr_err("%s: inode %" PRIu64 " of device %u:%u is not reachable by a name (found \"%s\"); "
		       "a deleted or hidden file cannot be watched again",
		       what, ino, major(dev), minor(dev), buf);
		return -ENOENT;
	}
	*path = strdup(buf);
	return *path ? 0 : -ENOMEM;
}

int files_fsnotify_open(const char *what, const FhEntry *fh, uint32_t s_dev, uint64_t ino)
{
	dev_t dev = files_kdev_to_dev(s_dev);
	struct stat st;
	int fd = -1;

	if (fh->path) {
		fd = open(fh->path, O_PATH | O_CLOEXEC);
		if (fd >= 0 && !fstat(fd, &st) && (st.st_ino != ino || st.st_dev != dev))
			pr_warn("%s: %s is another file now (inode %ju, was %" PRIu64 "); watching it",
				what, fh->path, (uintmax_t)st.st_ino, ino);
		if (fd >= 0)
			return fd;
	}
	/* No name, or gone: the inode may still be there under another one. */
	fd = open_handle(dev, fh, O_PATH);
	if (fd < 0)
		pr_err("%s: cannot open %s (inode %" PRIu64 " of device %u:%u) by name or by handle: %s", what,
		       fh->path ? fh->path : "(no path saved)", ino, major(dev), minor(dev), strerror(-fd));
	return fd;
}

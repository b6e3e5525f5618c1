// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An inotify instance (non-blocking) with two watches: the directory
 * "watched" (IN_CREATE | IN_DELETE | IN_EXCL_UNLINK, watch 2) and the
 * file "file" (IN_MODIFY | IN_ONESHOT, watch 3); watch 1 was removed
 * before, so the numbers have a gap. After restore: the fdinfo lists the
 * same watches (number, inode, device, mask, file handle), nothing is
 * queued, a directory made in "watched" gives IN_CREATE on watch 2, a
 * write to "file" gives IN_MODIFY on watch 3, and a new watch gets 4.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

static void watches(int fd, char *buf, size_t len)
{
	char path[64], info[4096] = "", *s;
	size_t used = 0;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0 || read(f, info, sizeof(info) - 1) < 0)
		fail("cannot read %s: %m", path);
	close(f);
	buf[0] = 0;
	for (s = strstr(info, "inotify wd:"); s; s = strstr(s + 1, "inotify wd:"))
		used += (size_t)snprintf(buf + used, len - used, "%.*s\n", (int)strcspn(s, "\n"), s);
}

/* The watch number of the next event, or -errno. */
static int next_event(int fd, uint32_t *mask)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *ev = (struct inotify_event *)buf;

	if (read(fd, buf, sizeof(buf)) < (ssize_t)sizeof(*ev))
		return -errno;
	*mask = ev->mask;
	return ev->wd;
}

int main(int argc, char **argv)
{
	char before[2048], after[2048], buf[4096];
	int fd, gone, wd, f;
	uint32_t mask = 0;

	test_init(argc, argv);
	if (mkdir("watched", 0700) || (f = open("file", O_CREAT | O_WRONLY, 0600)) < 0)
		fail("setup: %m");
	close(f);
	fd = inotify_init1(IN_NONBLOCK);
	if (fd < 0)
		fail("inotify_init1: %m");
	gone = inotify_add_watch(fd, ".", IN_ATTRIB);
	if (gone != 1 || inotify_add_watch(fd, "watched", IN_CREATE | IN_DELETE | IN_EXCL_UNLINK) != 2 ||
	    inotify_rm_watch(fd, gone) || inotify_add_watch(fd, "file", IN_MODIFY | IN_ONESHOT) != 3)
		fail("inotify_add_watch: %m");
	while (read(fd, buf, sizeof(buf)) > 0) /* the IN_IGNORED of watch 1 */
		;
	watches(fd, before, sizeof(before));

	test_daemon();
	test_waitsig();

	watches(fd, after, sizeof(after));
	if (strcmp(before, after))
		test_error("watches before:\n%safter:\n%s", before, after);
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		test_error("O_NONBLOCK is gone");
	if ((wd = next_event(fd, &mask)) != -EAGAIN)
		test_error("an event (watch %d, mask %#x) before anything happened", wd, mask);
	if (mkdir("watched/new", 0700))
		test_error("mkdir: %m");
	if ((wd = next_event(fd, &mask)) != 2 || mask != (IN_CREATE | IN_ISDIR))
		test_error("after mkdir: watch %d, mask %#x; expected watch 2, IN_CREATE|IN_ISDIR", wd, mask);
	f = open("file", O_WRONLY);
	if (f < 0 || write(f, "x", 1) != 1)
		test_error("write to file: %m");
	close(f);
	if ((wd = next_event(fd, &mask)) != 3 || !(mask & IN_MODIFY))
		test_error("after the write: watch %d, mask %#x; expected watch 3, IN_MODIFY", wd, mask);
	if ((wd = inotify_add_watch(fd, ".", IN_ATTRIB)) != 4)
		test_error("a new watch got %d, expected 4", wd);
	test_finish();
}

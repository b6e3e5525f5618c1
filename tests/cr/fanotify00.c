// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A fanotify group (FAN_CLASS_NOTIF | FAN_NONBLOCK, events opened
 * O_RDONLY) with three marks: the directory "marked" (FAN_OPEN |
 * FAN_EVENT_ON_CHILD), the file "marked/quiet" with FAN_OPEN in its
 * ignored mask (FAN_MARK_IGNORED_SURV_MODIFY), and the mount /sys
 * (FAN_CLOSE_WRITE). After restore: fdinfo lists the same group flags,
 * event flags and marks (inode, device, flags, masks, file handles,
 * mount id); opening "marked/loud" is reported as FAN_OPEN of that file,
 * and opening "marked/quiet" is not reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "fanotify" lines of FD's fdinfo, sorted, into BUF. */
static void marks(int fd, char *buf, size_t len)
{
	char path[64], info[4096] = "", *s, *lines[16];
	size_t n = 0, used = 0;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0 || read(f, info, sizeof(info) - 1) < 0)
		fail("cannot read %s: %m", path);
	close(f);
	for (s = strstr(info, "fanotify"); s && n < 16; s = strstr(s, "fanotify")) {
		lines[n++] = s;
		s += strcspn(s, "\n");
		if (*s)
			*s++ = 0;
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\n", lines[i]);
}

/* Read every queued event; count the FAN_OPEN ones of marked/quiet and marked/loud. */
static void count_opens(int fd, int *quiet, int *loud)
{
	char buf[4096] __attribute__((aligned(8))), link[64], path[PATH_MAX];
	struct fanotify_event_metadata *ev;
	ssize_t r, l, n;

	*quiet = *loud = 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ev = (void *)buf; FAN_EVENT_OK(ev, r); ev = FAN_EVENT_NEXT(ev, r)) {
			if (ev->fd < 0)
				continue;
			snprintf(link, sizeof(link), "/proc/self/fd/%d", ev->fd);
			l = readlink(link, path, sizeof(path) - 1);
			close(ev->fd);
			path[l > 0 ? l : 0] = 0;
			if (!(ev->mask & FAN_OPEN))
				continue;
			n = (ssize_t)strlen(path);
			*quiet += n >= 13 && !strcmp(path + n - 13, "/marked/quiet");
			*loud += n >= 12 && !strcmp(path + n - 12, "/marked/loud");
		}
	}
}

int main(int argc, char **argv)
{
	char before[2048], after[2048];
	int fd, t, quiet, loud;

	test_init(argc, argv);
	if (mkdir("marked", 0700))
		fail("mkdir: %m");
	close(open("marked/quiet", O_CREAT | O_WRONLY, 0600));
	close(open("marked/loud", O_CREAT | O_WRONLY, 0600));
	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (fd < 0)
		fail("fanotify_init: %m");
	if (fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, "marked") ||
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_OPEN,
			  AT_FDCWD, "marked/quiet") ||
	    fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_WRITE, AT_FDCWD, "/sys"))
		fail("fanotify_mark: %m");
	marks(fd, before, sizeof(before));

	test_daemon();
	test_waitsig();

	marks(fd, after, sizeof(after));
	if (strcmp(before, after))
		test_error("marks before:\n%safter:\n%s", before, after);
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		test_error("O_NONBLOCK is gone");
	count_opens(fd, &quiet, &loud); /* whatever came before */
	t = open("marked/quiet", O_RDONLY);
	close(t);
	t = open("marked/loud", O_RDONLY);
	close(t);
	count_opens(fd, &quiet, &loud);
	if (loud != 1 || quiet != 0)
		test_error("FAN_OPEN events: %d for marked/loud (expected 1), %d for marked/quiet (expected 0)", loud,
			   quiet);
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * --inherit-fd: two fds whose other side is outside the dumped tree. Fd
 * 10 is the write end of a pipe the runner holds the read end of (as a
 * shell holds a job's stdout); fd 11 is the file inherit.file, opened
 * here for appending. The desc's `inherit` lines make the runner swap
 * both on restore for fds it hands criu (a new pipe; a copy of the file
 * put in its place) and check, with kcmp, that fds 10 and 11 are those
 * very open files, and in the end that what this program writes after
 * the restore went there and not to the old pipe and file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

#define BEFORE "inherit-before\n"
#define AFTER "inherit-after\n"

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		fail("write to fd %d: %m", fd);
}

int main(int argc, char **argv)
{
	struct stat sb;
	int fd;

	test_init(argc, argv);
	if (fstat(10, &sb) || !S_ISFIFO(sb.st_mode) || (fcntl(10, F_GETFL) & O_ACCMODE) != O_WRONLY)
		fail("fd 10 is not the write end of a pipe (run me from the runner)");
	fd = open("inherit.file", O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 11) != 11)
		fail("cannot open inherit.file at fd 11: %m");
	close(fd);
	put(10, BEFORE);
	put(11, BEFORE);

	test_daemon();
	test_waitsig();

	if (fstat(10, &sb) || !S_ISFIFO(sb.st_mode))
		test_error("fd 10 is no pipe after restore");
	if ((fcntl(11, F_GETFL) & (O_ACCMODE | O_APPEND)) != (O_WRONLY | O_APPEND))
		test_error("fd 11 lost its flags: %#x", fcntl(11, F_GETFL));
	put(10, AFTER);
	put(11, AFTER);
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A named pipe (FIFO) with both ends open, a second read-write fd of it,
 * and bytes queued. After restore the fds are the FIFO at its path
 * again, with their access modes and O_NONBLOCK, the queued bytes come
 * out of the read end in order, and a write on the write end reaches the
 * read end (one pipe, not three).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

int main(int argc, char **argv)
{
	static const char msg[] = "queued in the fifo";
	char buf[64];
	struct stat a, b;
	int r, w, rw;

	test_init(argc, argv);
	if (mkfifo("fifo00.fifo", 0600))
		fail("mkfifo: %m");
	r = open("fifo00.fifo", O_RDONLY | O_NONBLOCK);
	w = open("fifo00.fifo", O_WRONLY);
	rw = open("fifo00.fifo", O_RDWR);
	if (r < 0 || w < 0 || rw < 0)
		fail("open: %m");
	if (write(w, msg, sizeof(msg)) != sizeof(msg))
		fail("write: %m");

	test_daemon();
	test_waitsig();

	if (fstat(r, &a) || stat("fifo00.fifo", &b) || !S_ISFIFO(a.st_mode) || a.st_ino != b.st_ino)
		test_error("the read end is not the FIFO at its path");
	if ((fcntl(r, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK) ||
	    (fcntl(w, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != O_WRONLY ||
	    (fcntl(rw, F_GETFL) & O_ACCMODE) != O_RDWR)
		test_error("the fds lost their access modes or O_NONBLOCK");
	memset(buf, 0, sizeof(buf));
	if (read(r, buf, sizeof(buf)) != sizeof(msg) || memcmp(buf, msg, sizeof(msg)))
		test_error("the queued bytes were lost: \"%s\"", buf);
	if (write(w, "w", 1) != 1 || read(r, buf, 2) != 1 || buf[0] != 'w')
		test_error("the write end does not reach the read end");
	if (write(rw, "x", 1) != 1 || read(r, buf, 2) != 1 || buf[0] != 'x')
		test_error("the read-write fd is not the same FIFO");
	test_finish();
}

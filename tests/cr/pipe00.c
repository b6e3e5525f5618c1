// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pipe held by the task with both ends open, bytes still queued in it
 * and a non-default capacity (F_SETPIPE_SZ). After restore the queued
 * bytes are read out in order, the capacity is the same, O_NONBLOCK on
 * the read end is kept, and the pipe still carries new data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/crtest.h"

#define QUEUED "bytes still in the pipe at dump time"

int main(int argc, char **argv)
{
	int p[2], size, flags;
	char buf[128];
	ssize_t n;

	test_init(argc, argv);
	if (pipe(p))
		fail("pipe: %m");
	if (fcntl(p[0], F_SETFL, O_NONBLOCK))
		fail("O_NONBLOCK: %m");
	if (fcntl(p[1], F_SETPIPE_SZ, 256 * 1024) < 0)
		fail("F_SETPIPE_SZ: %m");
	size = fcntl(p[1], F_GETPIPE_SZ);
	if (write(p[1], QUEUED, strlen(QUEUED)) != (ssize_t)strlen(QUEUED))
		fail("write: %m");

	test_daemon();
	test_waitsig();

	n = read(p[0], buf, sizeof(buf));
	if (n != (ssize_t)strlen(QUEUED) || memcmp(buf, QUEUED, n))
		test_error("the queued bytes came back as %zd bytes", n);
	if (fcntl(p[1], F_GETPIPE_SZ) != size)
		test_error("pipe size %d, was %d", fcntl(p[1], F_GETPIPE_SZ), size);
	flags = fcntl(p[0], F_GETFL);
	if (!(flags & O_NONBLOCK))
		test_error("the read end lost O_NONBLOCK");
	if (read(p[0], buf, 1) != -1 || errno != EAGAIN)
		test_error("an empty non-blocking pipe did not answer EAGAIN");
	if (write(p[1], "new", 3) != 3 || read(p[0], buf, 3) != 3 || memcmp(buf, "new", 3))
		test_error("the pipe no longer carries data");
	test_finish();
}

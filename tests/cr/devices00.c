// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Character devices opened by path: /dev/null (read-write), /dev/zero,
 * /dev/full and /dev/urandom. After restore each is the same device
 * (same rdev) and behaves as such: /dev/null swallows writes and reads
 * EOF, /dev/zero reads zeros, /dev/full refuses writes with ENOSPC,
 * /dev/urandom gives bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

static const char *const paths[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/urandom" };
#define NDEV (sizeof(paths) / sizeof(paths[0]))

int main(int argc, char **argv)
{
	dev_t rdev[NDEV];
	int fd[NDEV];
	char buf[64], zeros[64] = { 0 };
	struct stat st;

	test_init(argc, argv);
	for (size_t i = 0; i < NDEV; i++) {
		fd[i] = open(paths[i], i == 0 ? O_RDWR : (i == 2 ? O_WRONLY : O_RDONLY));
		if (fd[i] < 0 || fstat(fd[i], &st))
			fail("%s: %m", paths[i]);
		rdev[i] = st.st_rdev;
	}

	test_daemon();
	test_waitsig();

	for (size_t i = 0; i < NDEV; i++)
		if (fstat(fd[i], &st) || !S_ISCHR(st.st_mode) || st.st_rdev != rdev[i])
			test_error("%s is not the same device after restore", paths[i]);
	if (write(fd[0], "x", 1) != 1 || read(fd[0], buf, 1) != 0)
		test_error("/dev/null does not behave");
	memset(buf, 1, sizeof(buf));
	if (read(fd[1], buf, sizeof(buf)) != sizeof(buf) || memcmp(buf, zeros, sizeof(buf)))
		test_error("/dev/zero does not read zeros");
	if (write(fd[2], "x", 1) != -1 || errno != ENOSPC)
		test_error("/dev/full accepted a write");
	if (read(fd[3], buf, sizeof(buf)) != sizeof(buf))
		test_error("/dev/urandom gives no bytes");
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A file opened before fork: parent and child share one open file
 * description (one offset). Before the dump the offset is 10. After
 * restore the child reads 5 bytes (offset 15) and writes "XYZ" (offset
 * 18) and exits; the parent must see its own offset at 18 and "XYZ" at
 * 15. Two separate descriptions would leave the parent at 10.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define DATA "0123456789abcdefghijklmnopqrstuvwxyz"

int main(int argc, char **argv)
{
	char buf[16] = { 0 };
	pid_t child;
	off_t off;
	int fd;

	test_init(argc, argv);
	fd = open("fd_shared00.data", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, DATA, strlen(DATA)) != (ssize_t)strlen(DATA) ||
	    lseek(fd, 10, SEEK_SET) != 10)
		fail("set up fd_shared00.data: %m");

	child = test_fork();
	if (child == 0) {
		test_ready();
		test_waitsig();
		if (lseek(fd, 0, SEEK_CUR) != 10)
			test_error("child: offset %lld, want 10", (long long)lseek(fd, 0, SEEK_CUR));
		if (read(fd, buf, 5) != 5 || memcmp(buf, "abcde", 5))
			test_error("child: read \"%.5s\", want \"abcde\"", buf);
		if (write(fd, "XYZ", 3) != 3)
			test_error("child: write: %m");
		test_child_exit();
	}

	test_daemon();
	test_waitsig();

	test_wait_children(&child, 1);
	off = lseek(fd, 0, SEEK_CUR);
	if (off != 18)
		test_error("parent: offset %lld after the child's read and write, want 18 (one open "
			   "file description)", (long long)off);
	if (pread(fd, buf, 3, 15) != 3 || memcmp(buf, "XYZ", 3))
		test_error("parent: \"%.3s\" at 15, want \"XYZ\"", buf);
	test_finish();
}

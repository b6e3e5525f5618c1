// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A file deleted while still open (a "ghost"): one read-write fd at an
 * offset and one O_APPEND fd of the same file. The dump saves its
 * contents in the images; after restore both fds see the same deleted
 * file (nlink 0) with the same contents and offset, and the old name does
 * not exist again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

int main(int argc, char **argv)
{
	char buf[16];
	struct stat st;
	int fd, wo;

	test_init(argc, argv);
	fd = open("ghost00.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16 || lseek(fd, 5, SEEK_SET) != 5)
		fail("open: %m");
	wo = open("ghost00.data", O_WRONLY | O_APPEND);
	if (wo < 0 || unlink("ghost00.data"))
		fail("unlink: %m");

	test_daemon();
	test_waitsig();

	if (read(fd, buf, 4) != 4 || memcmp(buf, "5678", 4))
		test_error("the contents or the offset were lost");
	if (fstat(fd, &st) || st.st_nlink != 0 || st.st_size != 16)
		test_error("nlink %lu size %lld, expected 0 and 16", (unsigned long)st.st_nlink,
			   (long long)st.st_size);
	if (write(wo, "X", 1) != 1 || pread(fd, buf, 1, 16) != 1 || buf[0] != 'X')
		test_error("the two fds are not one file any more");
	if (access("ghost00.data", F_OK) == 0)
		test_error("the deleted name exists again");
	test_finish();
}

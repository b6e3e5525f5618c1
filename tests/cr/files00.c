// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Regular files open across the dump, at their offsets:
 *   - O_RDWR at offset 4321, and a dup() of it (same open file: the
 *     offset is shared);
 *   - O_WRONLY | O_APPEND, with data written;
 *   - O_RDONLY | O_CLOEXEC at offset 777;
 *   - a file opened twice (two open files, two offsets).
 * After restore the offsets, status flags and close-on-exec flags are as
 * they were, a write through the O_RDWR fd lands at 4321 and moves the
 * dup's offset too, an append lands at the end, and reads return the
 * bytes at the offset.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define SIZE 10000

static void check_fd(int fd, const char *what, off_t off, int flags, int fdflags)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);
	int fl = fcntl(fd, F_GETFL), fdf = fcntl(fd, F_GETFD);

	if (pos != off)
		test_error("%s (fd %d): offset %lld, want %lld", what, fd, (long long)pos, (long long)off);
	if (fl < 0 || (fl & (O_ACCMODE | O_APPEND)) != flags)
		test_error("%s (fd %d): flags %#o, want %#o", what, fd, fl & (O_ACCMODE | O_APPEND), flags);
	if (fdf != fdflags)
		test_error("%s (fd %d): fd flags %d, want %d", what, fd, fdf, fdflags);
}

int main(int argc, char **argv)
{
	static unsigned char buf[SIZE], rd[64];
	int rw, rw_dup, app, ro, twice1, twice2;
	off_t app_end;

	test_init(argc, argv);
	test_fill(buf, SIZE, 0xf11e);

	rw = open("files00.rw", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (rw < 0 || write(rw, buf, SIZE) != SIZE || lseek(rw, 4321, SEEK_SET) != 4321)
		fail("files00.rw: %m");
	rw_dup = dup(rw);
	app = open("files00.append", O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
	if (app < 0 || write(app, buf, 1000) != 1000)
		fail("files00.append: %m");
	app_end = 1000;
	ro = open("files00.rw", O_RDONLY | O_CLOEXEC);
	if (ro < 0 || lseek(ro, 777, SEEK_SET) != 777)
		fail("files00.rw read-only: %m");
	twice1 = open("files00.rw", O_RDONLY);
	twice2 = open("files00.rw", O_RDONLY);
	if (twice1 < 0 || twice2 < 0 || lseek(twice1, 100, SEEK_SET) != 100 || lseek(twice2, 200, SEEK_SET) != 200)
		fail("files00.rw twice: %m");
	if (rw_dup < 0)
		fail("dup: %m");

	test_daemon();
	test_waitsig();

	check_fd(rw, "O_RDWR", 4321, O_RDWR, 0);
	check_fd(rw_dup, "dup of O_RDWR", 4321, O_RDWR, 0);
	check_fd(app, "O_APPEND", app_end, O_WRONLY | O_APPEND, 0);
	check_fd(ro, "O_RDONLY|O_CLOEXEC", 777, O_RDONLY, FD_CLOEXEC);
	check_fd(twice1, "first of two opens", 100, O_RDONLY, 0);
	check_fd(twice2, "second of two opens", 200, O_RDONLY, 0);

	/* Reads return the bytes at the offset. */
	if (read(ro, rd, 16) != 16 || memcmp(rd, buf + 777, 16))
		test_error("read at 777 returned other bytes");
	if (read(twice2, rd, 16) != 16 || memcmp(rd, buf + 200, 16))
		test_error("read at 200 returned other bytes");

	/* A write lands at the offset, and the dup shares it. */
	if (write(rw, "XYZ", 3) != 3)
		test_error("write: %m");
	if (pread(ro, rd, 3, 4321) != 3 || memcmp(rd, "XYZ", 3))
		test_error("the write after restore did not land at offset 4321");
	if (lseek(rw_dup, 0, SEEK_CUR) != 4324)
		test_error("the dup does not share the offset any more");
	/* An append lands at the end. */
	if (write(app, "END", 3) != 3)
		test_error("append: %m");
	if (lseek(app, 0, SEEK_CUR) != app_end + 3)
		test_error("append did not land at the end");
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * --file-validation: files that changed between dump and restore are
 * refused. The task holds filevalid00.data open and maps
 * filevalid00.elf (a copy of this program, which has a GNU build-id).
 * With the desc's before-restore step changing one of them (the size of
 * the data file, or the build-id of the ELF file at the same size), the
 * restore must fail naming the file and leave nothing behind; run
 * without a change (filevalid00 itself is only that set-up: its desc
 * changes the data file) the test passes when restored.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

/* Copy FROM to TO, the whole file. */
static void copy(const char *from, const char *to)
{
	static char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	if (in < 0 || out < 0)
		fail("copy %s to %s: %m", from, to);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			fail("write %s: %m", to);
	close(in);
	close(out);
}

int main(int argc, char **argv)
{
	struct stat st;
	char buf[8];
	void *map;
	int fd, efd;

	test_init(argc, argv);
	fd = open("filevalid00.data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "0123456789", 10) != 10)
		fail("data file: %m");
	copy("/proc/self/exe", "filevalid00.elf");
	efd = open("filevalid00.elf", O_RDONLY);
	if (efd < 0 || fstat(efd, &st))
		fail("elf: %m");
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, efd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	close(efd);

	test_daemon();
	test_waitsig();

	if (pread(fd, buf, 4, 0) != 4 || memcmp(buf, "0123", 4) || memcmp(map, "\177ELF", 4))
		test_error("the files are not what they were");
	test_finish();
}

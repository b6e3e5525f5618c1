// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Files open under a name that is gone (link-remap). A: "a" has a second
 * name "b"; the task holds "a" open and mapped MAP_SHARED, then unlinks
 * "a". B: an O_TMPFILE file with contents (no name ever), linked back
 * because the dump runs with --link-remap. C: a file deleted for good,
 * which no link can bring back, so it stays a ghost even with
 * --link-remap. After restore A is still the inode of "b" (writes
 * through the fd and the mapping show in "b"), B and C keep their
 * contents with no name, and no link_remap.* or ghost file is left in
 * the directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

static int make(const char *name, const char *text)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("create %s: %m", name);
	return fd;
}

int main(int argc, char **argv)
{
	char buf[32];
	struct stat sa, sb, st;
	struct dirent *de;
	char *map;
	int a, b, c;
	DIR *d;

	test_init(argc, argv);
	a = make("link_remap00.a", "alpha");
	if (link("link_remap00.a", "link_remap00.b") || ftruncate(a, 4096))
		fail("link: %m");
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	if (map == MAP_FAILED || unlink("link_remap00.a"))
		fail("mmap, unlink: %m");
	b = open(".", O_TMPFILE | O_RDWR, 0600);
	if (b < 0 || write(b, "tmpfile", 7) != 7)
		fail("O_TMPFILE: %m");
	{
		/* The same inode in an open file without O_TMPFILE, which no restore could set again. */
		char proc[64];
		int nb;

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", b);
		nb = open(proc, O_RDWR);
		if (nb < 0 || dup2(nb, b) != b)
			fail("reopen: %m");
		close(nb);
	}
	c = make("link_remap00.c", "gone");
	if (unlink("link_remap00.c"))
		fail("unlink: %m");

	test_daemon();
	test_waitsig();

	if (fstat(a, &sa) || stat("link_remap00.b", &sb) || sa.st_ino != sb.st_ino || sa.st_nlink != 1)
		test_error("A is not the inode of its other name any more");
	if (pwrite(a, "A", 1, 0) != 1 || map[0] != 'A')
		test_error("A's fd and mapping are not one file");
	map[1] = 'M';
	memset(buf, 0, sizeof(buf));
	{
		int fb = open("link_remap00.b", O_RDONLY);

		if (fb < 0 || read(fb, buf, 5) != 5 || memcmp(buf, "AMpha", 5))
			test_error("writes to A do not show in its other name: \"%s\"", buf);
		if (fb >= 0)
			close(fb);
	}
	if (pread(b, buf, 7, 0) != 7 || memcmp(buf, "tmpfile", 7) || fstat(b, &st) || st.st_nlink != 0)
		test_error("B lost its contents or got a name");
	if (pread(c, buf, 4, 0) != 4 || memcmp(buf, "gone", 4) || fstat(c, &st) || st.st_nlink != 0)
		test_error("C lost its contents or got a name");
	d = opendir(".");
	while (d && (de = readdir(d)))
		if (strstr(de->d_name, "link_remap.") || strstr(de->d_name, ".ghost") ||
		    !strcmp(de->d_name, "link_remap00.a") || !strcmp(de->d_name, "link_remap00.c"))
			test_error("%s was left in the directory", de->d_name);
	if (d)
		closedir(d);
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Deleted files behind mappings. File A has no fd left: it is mapped
 * MAP_SHARED twice and MAP_PRIVATE once (the private copy has one page
 * written, the other page is the file's). File B keeps an fd and a
 * MAP_SHARED mapping. The dump saves both as ghost files; after restore
 * every mapping shows the contents it had, a write through one shared
 * mapping of A shows in the other (one file object again), a write
 * through B's fd shows in B's mapping, the private page of A kept its
 * own bytes, and neither name exists again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

#define LEN (2 * 4096)

static char *map(int fd, int flags)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED)
		fail("mmap: %m");
	return p;
}

static int make(const char *name, uint64_t seed)
{
	static char buf[LEN];
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	test_fill(buf, LEN, seed);
	if (fd < 0 || write(fd, buf, LEN) != LEN)
		fail("create %s: %m", name);
	return fd;
}

int main(int argc, char **argv)
{
	static char want[LEN];
	char *a1, *a2, *ap, *b;
	struct stat st;
	int fa, fb;

	test_init(argc, argv);
	fa = make("ghost_mmap00.a", 1);
	fb = make("ghost_mmap00.b", 2);
	a1 = map(fa, MAP_SHARED);
	a2 = map(fa, MAP_SHARED);
	ap = map(fa, MAP_PRIVATE);
	b = map(fb, MAP_SHARED);
	memset(ap, 'p', 4096); /* the private copy's own page */
	a1[100] = 'S';	       /* through the file */
	close(fa);
	if (unlink("ghost_mmap00.a") || unlink("ghost_mmap00.b"))
		fail("unlink: %m");

	test_daemon();
	test_waitsig();

	test_fill(want, LEN, 1);
	want[100] = 'S';
	if (memcmp(a1, want, LEN) || memcmp(a2, want, LEN))
		test_error("the shared mappings of the deleted file lost its contents");
	if (memcmp(ap + 4096, want + 4096, 4096))
		test_error("the private mapping lost the file's page");
	memset(want, 'p', 4096);
	if (memcmp(ap, want, 4096))
		test_error("the private mapping lost its own page");
	a1[200] = 'T';
	if (a2[200] != 'T')
		test_error("the two shared mappings are not one file any more");
	test_fill(want, LEN, 2);
	if (memcmp(b, want, LEN))
		test_error("the mapping of the deleted file with an fd lost its contents");
	if (pwrite(fb, "W", 1, 300) != 1 || b[300] != 'W')
		test_error("the fd and the mapping are not one file any more");
	if (fstat(fb, &st) || st.st_nlink != 0 || st.st_size != LEN)
		test_error("nlink %lu size %lld, expected 0 and %d", (unsigned long)st.st_nlink,
			   (long long)st.st_size, LEN);
	if (access("ghost_mmap00.a", F_OK) == 0 || access("ghost_mmap00.b", F_OK) == 0)
		test_error("a deleted name exists again");
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * memfds. A: named "memfd00-sealed", two pages of content, sealed with
 * F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL, an fd at an offset and a
 * read-only MAP_SHARED mapping. B: named "memfd00-shared", no seals, an
 * fd and a writable MAP_SHARED mapping. C: only mapped (its fd closed),
 * MAP_SHARED twice, and MAP_PRIVATE with a page of its own. After restore:
 * the names in /proc/self/fd are kept; A has its seals and still refuses
 * writes and growth, its content and offset; B's fd and mapping see each
 * other's writes (one object); C's two shared mappings are one object,
 * and the private one kept its own page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/crtest.h"

#define LEN (2 * 4096)

static int make(const char *name, unsigned int flags, uint64_t seed)
{
	static char buf[LEN];
	int fd = memfd_create(name, flags);

	test_fill(buf, LEN, seed);
	if (fd < 0 || write(fd, buf, LEN) != LEN)
		fail("memfd %s: %m", name);
	return fd;
}

static char *map(int fd, int prot, int flags)
{
	char *p = mmap(NULL, LEN, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		fail("mmap: %m");
	return p;
}

static void check_name(int fd, const char *name)
{
	char path[64], link[128], want[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	if (strcmp(link, want))
		test_error("fd %d is \"%s\", expected \"%s\"", fd, link, want);
}

int main(int argc, char **argv)
{
	static char want[LEN];
	char *ma, *mb, *mc1, *mc2, *mcp, buf[8];
	int a, b, c, seals;

	test_init(argc, argv);
	a = make("memfd00-sealed", MFD_ALLOW_SEALING, 1);
	b = make("memfd00-shared", 0, 2);
	c = make("memfd00-mapped", 0, 3);
	/* Sealed first: a shared mapping of a write-sealed memfd is read-only for good. */
	if (fcntl(a, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL) || lseek(a, 100, SEEK_SET) != 100)
		fail("seal: %m");
	ma = map(a, PROT_READ, MAP_SHARED);
	mb = map(b, PROT_READ | PROT_WRITE, MAP_SHARED);
	mc1 = map(c, PROT_READ | PROT_WRITE, MAP_SHARED);
	mc2 = map(c, PROT_READ | PROT_WRITE, MAP_SHARED);
	mcp = map(c, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	memset(mcp, 'p', 4096);
	mc1[10] = 'S';
	close(c);

	test_daemon();
	test_waitsig();

	check_name(a, "memfd00-sealed");
	check_name(b, "memfd00-shared");
	seals = fcntl(a, F_GET_SEALS);
	if (seals != (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL))
		test_error("seals %#x, expected %#x", seals, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL);
	if (write(a, "x", 1) != -1 || errno != EPERM)
		test_error("the write seal does not refuse a write");
	if (ftruncate(a, 4 * LEN) != -1 || errno != EPERM)
		test_error("the grow seal does not refuse growth");
	if (lseek(a, 0, SEEK_CUR) != 100)
		test_error("A's offset was lost");
	test_fill(want, LEN, 1);
	if (memcmp(ma, want, LEN) || pread(a, buf, 4, 4096) != 4 || memcmp(buf, want + 4096, 4))
		test_error("A's content was lost");
	test_fill(want, LEN, 2);
	if (memcmp(mb, want, LEN))
		test_error("B's content was lost");
	mb[5] = 'M';
	if (pread(b, buf, 1, 5) != 1 || buf[0] != 'M')
		test_error("a write through B's mapping does not reach its fd");
	if (pwrite(b, "F", 1, 6) != 1 || mb[6] != 'F')
		test_error("a write through B's fd does not reach its mapping");
	test_fill(want, LEN, 3);
	want[10] = 'S';
	if (memcmp(mc1, want, LEN) || memcmp(mc2, want, LEN))
		test_error("C's content was lost");
	if (memcmp(mcp + 4096, want + 4096, 4096))
		test_error("C's private mapping lost the file's page");
	mc1[20] = 'T';
	if (mc2[20] != 'T')
		test_error("C's two shared mappings are not one object any more");
	memset(want, 'p', 4096);
	if (memcmp(mcp, want, 4096))
		test_error("C's private mapping lost its own page");
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory contents in every kind of mapping a plain process has, each
 * filled with its own pattern before the dump and checked after restore:
 *   - anonymous private, with some pages never touched (must read zero);
 *   - anonymous shared (MAP_SHARED | MAP_ANONYMOUS);
 *   - a private mapping of a file, some pages written (copy-on-write,
 *     must keep our bytes) and some only read (must show the file);
 *   - a shared mapping of a file (writes land in the file too);
 *   - the stack (a large local array) and the heap (malloc and sbrk);
 *   - regions mprotect'ed read-only and read-exec after being filled;
 *   - PROT_NONE guard pages around a region, and a PROT_NONE region that
 *     holds data (made readable again after restore to check it).
 * The runner compares /proc/PID/maps too, so layout and protections are
 * checked there.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define NPAGES 16

static void check(const char *what, const void *p, size_t len, uint64_t seed)
{
	long bad = test_check(p, len, seed);

	if (bad >= 0)
		test_error("%s: pattern broken at offset %ld of %zu", what, bad, len);
}

static void check_zero(const char *what, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i]) {
			test_error("%s: byte %zu is %#x, want 0", what, i, p[i]);
			return;
		}
}

static void *map(size_t len, int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		fail("mmap %zu bytes: %m", len);
	return p;
}

/* A file of LEN bytes with pattern SEED, opened and then closed again. */
static int make_file(const char *name, size_t len, uint64_t seed)
{
	void *buf = malloc(len);
	int fd;

	if (!buf)
		fail("malloc");
	test_fill(buf, len, seed);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		fail("create %s: %m", name);
	free(buf);
	return fd;
}

static void check_on_stack(void)
{
	/* The array lives in this frame all along, across the dump. */
	volatile unsigned char stack_buf[64 * 1024];
	unsigned char copy[sizeof(stack_buf)];

	test_fill((void *)stack_buf, sizeof(stack_buf), 0x57ac);
	test_daemon();
	test_waitsig();
	memcpy(copy, (void *)stack_buf, sizeof(copy));
	check("stack", copy, sizeof(copy), 0x57ac);
}

int main(int argc, char **argv)
{
	unsigned char *anon, *shared, *fpriv, *fshared, *ro, *rx, *guarded, *none, *heap;
	unsigned char *brk_area, filebuf[NPAGES * PG];
	int fd1, fd2;

	test_init(argc, argv);

	anon = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	test_fill(anon, NPAGES / 2 * PG, 1); /* the second half stays untouched */

	shared = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
	test_fill(shared, NPAGES * PG, 2);

	fd1 = make_file("mem_vmas00.private", NPAGES * PG, 3);
	fpriv = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd1);
	close(fd1);
	test_fill(fpriv, NPAGES / 2 * PG, 4); /* COW the first half */

	fd2 = make_file("mem_vmas00.shared", NPAGES * PG, 5);
	fshared = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2);
	close(fd2);
	test_fill(fshared, NPAGES * PG, 6); /* the file now holds pattern 6 */
	if (msync(fshared, NPAGES * PG, MS_SYNC))
		fail("msync: %m");

	ro = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	test_fill(ro, NPAGES * PG, 7);
	if (mprotect(ro, NPAGES * PG, PROT_READ))
		fail("mprotect ro: %m");

	rx = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	test_fill(rx, NPAGES * PG, 8);
	/* Only the middle becomes r-x: one mapping split into three VMAs. */
	if (mprotect(rx + 4 * PG, 8 * PG, PROT_READ | PROT_EXEC))
		fail("mprotect rx: %m");

	/* [guard][data x 8][guard] */
	guarded = map(10 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (mprotect(guarded + PG, 8 * PG, PROT_READ | PROT_WRITE))
		fail("mprotect guarded: %m");
	test_fill(guarded + PG, 8 * PG, 9);

	none = map(NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	test_fill(none, NPAGES * PG, 10);
	if (mprotect(none, NPAGES * PG, PROT_NONE))
		fail("mprotect none: %m");

	heap = malloc(256 * 1024 - 64); /* below the mmap threshold: from brk */
	if (!heap)
		fail("malloc");
	test_fill(heap, 256 * 1024 - 64, 11);
	brk_area = sbrk(64 * 1024);
	if (brk_area == (void *)-1)
		fail("sbrk: %m");
	test_fill(brk_area, 64 * 1024, 12);

	/* test_daemon() and the wait happen with a big array on the stack. */
	check_on_stack();

	check("anon private", anon, NPAGES / 2 * PG, 1);
	check_zero("anon private, untouched half", anon + NPAGES / 2 * PG, NPAGES / 2 * PG);
	check("anon shared", shared, NPAGES * PG, 2);
	check("file private, written half", fpriv, NPAGES / 2 * PG, 4);
	/* The untouched half shows the file: offsets continue from the start. */
	test_fill(filebuf, NPAGES * PG, 3);
	if (memcmp(fpriv + NPAGES / 2 * PG, filebuf + NPAGES / 2 * PG, NPAGES / 2 * PG))
		test_error("file private, read half: does not match the file");
	check("file shared", fshared, NPAGES * PG, 6);
	fd2 = open("mem_vmas00.shared", O_RDONLY);
	if (fd2 < 0 || read(fd2, filebuf, sizeof(filebuf)) != (ssize_t)sizeof(filebuf))
		test_error("read back mem_vmas00.shared: %m");
	else
		check("file behind the shared mapping", filebuf, sizeof(filebuf), 6);
	if (fd2 >= 0)
		close(fd2);
	/* A shared file mapping must still be shared: a write reaches the file. */
	fshared[0] ^= 0xff;
	if (msync(fshared, PG, MS_SYNC))
		test_error("msync after restore: %m");
	fd2 = open("mem_vmas00.shared", O_RDONLY);
	if (fd2 < 0 || pread(fd2, filebuf, 1, 0) != 1 || filebuf[0] != fshared[0])
		test_error("a write to the shared file mapping did not reach the file");
	if (fd2 >= 0)
		close(fd2);
	fshared[0] ^= 0xff;

	check("read-only", ro, NPAGES * PG, 7);
	check("r-x split", rx, NPAGES * PG, 8);
	check("between guards", guarded + PG, 8 * PG, 9);
	if (mprotect(none, NPAGES * PG, PROT_READ))
		test_error("mprotect none back to read: %m");
	else
		check("PROT_NONE data", none, NPAGES * PG, 10);
	check("heap (malloc)", heap, 256 * 1024 - 64, 11);
	check("heap (sbrk)", brk_area, 64 * 1024, 12);
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pipes whose ends are in different processes of the tree.
 *
 * Pipe A (size set to 256 KiB with F_SETPIPE_SZ): the parent holds the
 * write end, two children the read end (one open file description, from
 * fork). Before the dump the parent queues records 0..29 (100 bytes each,
 * written atomically); after the restore it writes records 30..39, and
 * each child reads 20 records. Every record must be read exactly once,
 * by one child, each child's in increasing order: two pipes (one per
 * child) would give the queued records twice, and the parent's new
 * records to one child only. Each child writes the numbers it read to
 * pipe_shared00.N, which the parent checks.
 *
 * Pipe B: the first child holds the write end, the parent the read end.
 * The child queues "before;" before the dump and writes "after" after the
 * restore; the parent must read "before;after".
 *
 * Pipe C: only the two children hold it, the first the write end, the
 * second the read end (the parent closed both): "sib;" queued before the
 * dump, "ling" written after; the second child must read "sib;ling".
 *
 * The second child also has its ends of A and C at fds 16..31, just above
 * the parent's fds, where the restore of the parent keeps spare pipe ends
 * (a task forked during the restore must not take those for its own).
 *
 * Every process checks that its ends still have the pipe's size.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC 100
#define NR_QUEUED 30
#define NR_RECS 40
#define PER_CHILD (NR_RECS / 2)
#define PIPE_SIZE (256 * 1024)

static void make_rec(char *buf, int n)
{
	for (int i = 0; i < REC; i++)
		buf[i] = (char)('a' + (n * 7 + i) % 26);
	snprintf(buf, 12, "rec %04d", n);
}

static int rec_number(const char *buf)
{
	char want[REC];
	int n;

	if (sscanf(buf, "rec %04d", &n) != 1 || n < 0 || n >= NR_RECS)
		return -1;
	make_rec(want, n);
	return memcmp(buf, want, REC) ? -1 : n;
}

static void check_size(int fd, const char *who)
{
	int sz = fcntl(fd, F_GETPIPE_SZ);

	if (sz != PIPE_SIZE)
		test_error("%s: pipe size %d, want %d", who, sz, PIPE_SIZE);
}

static void reader(int idx, int a_rd, int b_wr, int c_fd)
{
	char buf[REC], name[32], sib[16] = { 0 };
	int last = -1;
	size_t got = 0;
	FILE *out;

	test_ready();
	test_waitsig();
	check_size(a_rd, "child's read end of A");
	check_size(c_fd, "child's end of C");
	for (int fd = 16; idx == 1 && fd < 32; fd++) {
		struct stat sa, sb;

		if (fstat(fd, &sa) || fstat(fd % 2 ? a_rd : c_fd, &sb) || sa.st_ino != sb.st_ino)
			test_error("child 1: fd %d is not the pipe it was", fd);
	}
	if (idx == 0 && write(c_fd, "ling", 4) != 4)
		test_error("child 0: write to C: %m");
	while (idx == 1 && got < 8) {
		ssize_t r = read(c_fd, sib + got, 8 - got);

		if (r <= 0) {
			test_error("child 1: read from C: %zd (%m)", r);
			break;
		}
		got += (size_t)r;
	}
	if (idx == 1 && strcmp(sib, "sib;ling"))
		test_error("child 1: pipe C gave \"%s\", want \"sib;ling\"", sib);
	snprintf(name, sizeof(name), "pipe_shared00.%d", idx);
	out = fopen(name, "w");
	if (!out)
		test_error("child %d: cannot create %s: %m", idx, name);
	if (b_wr >= 0 && write(b_wr, "after", 5) != 5)
		test_error("child %d: write to B: %m", idx);
	for (int i = 0; i < PER_CHILD; i++) {
		ssize_t r = read(a_rd, buf, REC);
		int n = r == REC ? rec_number(buf) : -1;

		if (n < 0) {
			test_error("child %d: read %zd bytes, not a record (record %d)", idx, r, i);
			break;
		}
		if (n <= last)
			test_error("child %d: record %d after %d", idx, n, last);
		last = n;
		if (out)
			fprintf(out, "%d\n", n);
	}
	if (out)
		fclose(out);
	test_child_exit();
}

int main(int argc, char **argv)
{
	int a[2], b[2], c[2], seen[NR_RECS] = { 0 };
	char buf[REC], got[32] = { 0 };
	pid_t kids[2];
	ssize_t n;

	test_init(argc, argv);
	if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC) || pipe2(c, O_CLOEXEC))
		fail("pipe: %m");
	if (fcntl(a[1], F_SETPIPE_SZ, PIPE_SIZE) != PIPE_SIZE ||
	    fcntl(b[1], F_SETPIPE_SZ, PIPE_SIZE) != PIPE_SIZE ||
	    fcntl(c[1], F_SETPIPE_SZ, PIPE_SIZE) != PIPE_SIZE)
		fail("F_SETPIPE_SZ %d: %m", PIPE_SIZE);
	if (write(c[1], "sib;", 4) != 4)
		fail("write to C: %m");
	for (int i = 0; i < NR_QUEUED; i++) {
		make_rec(buf, i);
		if (write(a[1], buf, REC) != REC)
			fail("write record %d: %m", i);
	}
	for (int k = 0; k < 2; k++) {
		kids[k] = test_fork();
		if (kids[k] == 0) {
			close(a[1]);
			close(b[0]);
			if (k == 0) {
				if (write(b[1], "before;", 7) != 7)
					fail("child: write to B: %m");
				check_size(b[1], "child's write end of B");
			} else {
				close(b[1]);
			}
			close(c[k == 0 ? 0 : 1]);
			/* Numbers just above the parent's fds, where a restore keeps spare ends. */
			for (int fd = 16; k == 1 && fd < 32; fd++)
				if (fd != a[0] && fd != c[0] && dup2(fd % 2 ? a[0] : c[0], fd) != fd)
					fail("dup2 to %d: %m", fd);
			reader(k, a[0], k == 0 ? b[1] : -1, c[k == 0 ? 1 : 0]);
		}
	}
	close(a[0]);
	close(b[1]);
	close(c[0]);
	close(c[1]);

	test_daemon();
	test_waitsig();

	check_size(a[1], "parent's write end of A");
	check_size(b[0], "parent's read end of B");
	for (int i = NR_QUEUED; i < NR_RECS; i++) {
		make_rec(buf, i);
		if (write(a[1], buf, REC) != REC)
			test_error("write record %d: %m", i);
	}
	test_wait_children(kids, 2);
	for (int k = 0; k < 2; k++) {
		char name[32];
		FILE *f;
		int r;

		snprintf(name, sizeof(name), "pipe_shared00.%d", k);
		f = fopen(name, "r");
		if (!f) {
			test_error("no %s: %m", name);
			continue;
		}
		while (fscanf(f, "%d", &r) == 1)
			if (r >= 0 && r < NR_RECS)
				seen[r]++;
		fclose(f);
	}
	for (int i = 0; i < NR_RECS; i++)
		if (seen[i] != 1)
			test_error("record %d was read %d times (one pipe shared by both children: once)", i,
				   seen[i]);
	n = read(b[0], got, sizeof(got) - 1);
	if (n != 12 || strcmp(got, "before;after"))
		test_error("pipe B gave \"%s\", want \"before;after\"", got);
	test_finish();
}

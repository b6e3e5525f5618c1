// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 10,000 fds in one process, at numbers scattered over 3..12002 (slot i
 * gets 3 + i * 7919 mod 12000): by pairs of slots, 40% regular files
 * (20 files, read-only or read-write with O_APPEND, each fd at its own
 * offset), 20% eventfds (counter = the slot, some non-blocking or in
 * semaphore mode) and 40% pipe ends (2000 pipes, the read end and the
 * write end in the two slots; every tenth holds one byte). A third of
 * the fds are close-on-exec. RLIMIT_NOFILE's soft limit is raised to the
 * hard one (at least 16384 is needed: fds are made above 15000 first).
 *
 * After restore every fd is checked: its kind, for a file its inode and
 * offset, for a pipe that both ends are one pipe and the byte queued in
 * it, for an eventfd its counter and flags, and for all the status flags
 * (F_GETFL) and FD_CLOEXEC. The test doubles as the task of the fds
 * benchmark (make bench).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

#define NR_FDS 10000
#define SPREAD 12000
#define NR_FILES 20
#define STAGING 15000

enum kind { K_REG, K_EVENTFD, K_PIPE_RD, K_PIPE_WR };

struct slot {
	int fd;
	enum kind kind;
	ino_t ino;	/* file: its inode */
	off_t pos;	/* file: its offset */
	int fl;		/* F_GETFL */
	int fdfl;	/* F_GETFD */
	uint64_t count; /* eventfd: its counter; pipe: 1 + the byte queued, or 0 */
};

static struct slot slots[NR_FDS];

/* Put NEWFD at slot I's number (made free), via a staging number above every slot. */
static void place(int newfd, int i)
{
	int hi;

	if (newfd < 0)
		fail("slot %d: cannot make the fd: %m", i);
	hi = fcntl(newfd, F_DUPFD, STAGING);
	if (hi < 0)
		fail("slot %d: F_DUPFD above %d: %m", i, STAGING);
	close(newfd);
	if (dup2(hi, slots[i].fd) != slots[i].fd)
		fail("slot %d: dup2 to %d: %m", i, slots[i].fd);
	close(hi);
}

static void make_pipe(int i)
{
	int p[2], hi[2];

	if (pipe(p))
		fail("pipe: %m");
	/* Both ends above the slots first: dup2 of one must not hit the other. */
	hi[0] = fcntl(p[0], F_DUPFD, STAGING);
	hi[1] = fcntl(p[1], F_DUPFD, STAGING);
	close(p[0]);
	close(p[1]);
	slots[i].kind = K_PIPE_RD;
	slots[i + 1].kind = K_PIPE_WR;
	place(hi[0], i);
	place(hi[1], i + 1);
	if ((i / 2) % 10 == 3) {
		unsigned char b = (unsigned char)(i / 2);

		if (write(slots[i + 1].fd, &b, 1) != 1)
			fail("write to pipe: %m");
		slots[i].count = 1 + b;
	}
	if ((i / 2) % 4 == 1)
		fcntl(slots[i].fd, F_SETFL, O_NONBLOCK);
}

static void make_slot(int i)
{
	struct slot *s = &slots[i];
	char name[32];

	switch ((i / 2) % 5) {
	case 0:
	case 1:
		s->kind = K_REG;
		snprintf(name, sizeof(name), "fds10k.%d", i % NR_FILES);
		if (i % 2)
			place(open(name, O_RDWR | O_APPEND), i);
		else
			place(open(name, O_RDONLY), i);
		if (lseek(s->fd, i, SEEK_SET) != i)
			fail("lseek: %m");
		break;
	case 2:
		s->kind = K_EVENTFD;
		place(eventfd((unsigned int)i, (i % 3 ? EFD_NONBLOCK : 0) | (i % 7 ? 0 : EFD_SEMAPHORE)), i);
		s->count = (uint64_t)i;
		break;
	default:
		if (i % 2 == 0)
			make_pipe(i);
		break;
	}
}

static void record(struct slot *s)
{
	struct stat sb;

	if (fstat(s->fd, &sb))
		fail("fstat %d: %m", s->fd);
	s->ino = sb.st_ino;
	s->pos = s->kind == K_REG ? lseek(s->fd, 0, SEEK_CUR) : 0;
	if (s->fd % 3 == 0 && fcntl(s->fd, F_SETFD, FD_CLOEXEC))
		fail("F_SETFD %d: %m", s->fd);
	s->fl = fcntl(s->fd, F_GETFL);
	s->fdfl = fcntl(s->fd, F_GETFD);
}

/* The counter of eventfd FD, from its fdinfo (reading it would change it). */
static int eventfd_count(int fd, uint64_t *out)
{
	char path[64], line[128];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "eventfd-count: %" SCNx64, out) == 1)
			ret = 0;
	fclose(f);
	return ret;
}

static void check(const struct slot *s, const struct slot *peer)
{
	struct stat sb, pb;
	uint64_t v;

	if (fstat(s->fd, &sb)) {
		test_error("fd %d is gone: %m", s->fd);
		return;
	}
	if (fcntl(s->fd, F_GETFL) != s->fl || fcntl(s->fd, F_GETFD) != s->fdfl)
		test_error("fd %d: flags %#o/%d, were %#o/%d", s->fd, fcntl(s->fd, F_GETFL),
			   fcntl(s->fd, F_GETFD), s->fl, s->fdfl);
	switch (s->kind) {
	case K_REG:
		if (!S_ISREG(sb.st_mode) || sb.st_ino != s->ino || lseek(s->fd, 0, SEEK_CUR) != s->pos)
			test_error("fd %d: not the file (inode %lu, offset %lld) it was", s->fd,
				   (unsigned long)s->ino, (long long)s->pos);
		break;
	case K_EVENTFD:
		if (eventfd_count(s->fd, &v) || v != s->count)
			test_error("fd %d: not the eventfd with counter %" PRIu64, s->fd, s->count);
		break;
	case K_PIPE_RD:
		if (!S_ISFIFO(sb.st_mode) || fstat(peer->fd, &pb) || pb.st_ino != sb.st_ino)
			test_error("fds %d and %d are not the two ends of one pipe", s->fd, peer->fd);
		if (s->count) {
			unsigned char b = 0;

			fcntl(s->fd, F_SETFL, O_NONBLOCK);
			if (read(s->fd, &b, 1) != 1 || b + 1U != s->count)
				test_error("pipe at fd %d lost its byte", s->fd);
		}
		break;
	case K_PIPE_WR:
		if (!S_ISFIFO(sb.st_mode))
			test_error("fd %d is not a pipe", s->fd);
		break;
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	char name[32];
	int fd;

	test_init(argc, argv);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		fail("getrlimit: %m");
	if (rl.rlim_max < STAGING + 1024)
		fail("RLIMIT_NOFILE hard limit %llu is below %d", (unsigned long long)rl.rlim_max,
		     STAGING + 1024);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fail("setrlimit: %m");
	for (int i = 0; i < NR_FILES; i++) {
		snprintf(name, sizeof(name), "fds10k.%d", i);
		fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, name, strlen(name)) < 0)
			fail("cannot make %s: %m", name);
		close(fd);
	}
	for (int i = 0; i < NR_FDS; i++)
		slots[i].fd = 3 + (int)(((long)i * 7919) % SPREAD);
	for (int i = 0; i < NR_FDS; i++)
		make_slot(i);
	for (int i = 0; i < NR_FDS; i++)
		record(&slots[i]);

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_FDS; i++)
		check(&slots[i], slots[i].kind == K_PIPE_RD ? &slots[i + 1] : NULL);
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An epoll instance (non-blocking) watching, each with its own data:
 *   a pipe's read end holding bytes (EPOLLIN: ready),
 *   a signalled eventfd (EPOLLIN | EPOLLET: ready once),
 *   an eventfd at zero (EPOLLIN: not ready),
 *   the pipe's write end (EPOLLOUT | EPOLLONESHOT: ready once),
 *   a second epoll instance that watches the signalled eventfd
 *   (EPOLLIN: ready).
 * The epoll fd has a lower number than most of its targets, so the
 * targets must exist before it is filled. After restore: the fdinfo
 * shows the same targets (fd, events, data), epoll_wait reports exactly
 * the ready ones with their data and events, the edge-triggered and
 * one-shot ones only once, and the idle eventfd once it is written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/crtest.h"

#define D_PIPE 0x1000000000000001ULL
#define D_READY 0x22
#define D_IDLE 0x33
#define D_OUT 0x44
#define D_INNER 0x55

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The "tfd: N events: E data: D" parts of EP's fdinfo, one line each,
 * sorted (the kernel lists them in the order of its tree of files), into BUF.
 */
static void targets(int ep, char *buf, size_t len)
{
	char path[64], info[4096] = "", *s, *pos, *lines[16];
	size_t used = 0, n = 0;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	f = open(path, O_RDONLY);
	if (f < 0 || read(f, info, sizeof(info) - 1) < 0)
		fail("cannot read %s: %m", path);
	close(f);
	buf[0] = 0;
	for (s = strstr(info, "tfd:"); s; s = strstr(s + 1, "tfd:")) {
		pos = strstr(s, " pos:");
		if (!pos)
			fail("no pos in \"%s\"", s);
		if (n == 16)
			fail("more targets than expected");
		*pos = 0;
		lines[n++] = s;
		s = pos;
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\n", lines[i]);
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	char before[2048], after[2048];
	struct epoll_event evs[8];
	int ep, inner, p[2], ready, idle, n;
	uint64_t one = 1, seen = 0;

	test_init(argc, argv);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe(p) || fcntl(ep, F_SETFL, O_NONBLOCK))
		fail("setup: %m");
	ready = eventfd(5, 0);
	idle = eventfd(0, 0);
	inner = epoll_create1(0);
	if (ready < 0 || idle < 0 || inner < 0)
		fail("setup: %m");
	if (write(p[1], "data", 4) != 4)
		fail("write: %m");
	if (add(ep, p[0], EPOLLIN, D_PIPE) || add(ep, ready, EPOLLIN | EPOLLET, D_READY) ||
	    add(ep, idle, EPOLLIN, D_IDLE) || add(ep, p[1], EPOLLOUT | EPOLLONESHOT, D_OUT) ||
	    add(inner, ready, EPOLLIN, 1) || add(ep, inner, EPOLLIN, D_INNER))
		fail("epoll_ctl: %m");
	targets(ep, before, sizeof(before));

	test_daemon();
	test_waitsig();

	targets(ep, after, sizeof(after));
	if (strcmp(before, after))
		test_error("targets before:\n%safter:\n%s", before, after);
	if (!(fcntl(ep, F_GETFL) & O_NONBLOCK) || !(fcntl(ep, F_GETFD) & FD_CLOEXEC))
		test_error("the epoll fd lost O_NONBLOCK or FD_CLOEXEC");
	n = epoll_wait(ep, evs, 8, 0);
	for (int i = 0; i < n; i++) {
		uint64_t d = evs[i].data.u64;

		if (d == D_PIPE && evs[i].events == EPOLLIN)
			seen |= 1;
		else if (d == D_READY && evs[i].events == EPOLLIN)
			seen |= 2;
		else if (d == D_OUT && evs[i].events == EPOLLOUT)
			seen |= 4;
		else if (d == D_INNER && evs[i].events == EPOLLIN)
			seen |= 8;
		else
			test_error("unexpected event %#x with data %#" PRIx64, evs[i].events, d);
	}
	if (n != 4 || seen != 15)
		test_error("epoll_wait gave %d events (seen %#" PRIx64 "), expected the pipe, the ready eventfd, "
			   "the write end and the inner epoll", n, seen);
	/* Level-triggered ones again; the edge-triggered and one-shot ones not. */
	n = epoll_wait(ep, evs, 8, 0);
	if (n != 2)
		test_error("the second epoll_wait gave %d events, expected 2", n);
	if (write(idle, &one, sizeof(one)) != sizeof(one))
		test_error("write to the idle eventfd: %m");
	n = epoll_wait(ep, evs, 8, 0);
	if (n != 3)
		test_error("after signalling the idle eventfd epoll_wait gave %d events, expected 3", n);
	test_finish();
}

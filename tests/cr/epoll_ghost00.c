// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A dump that must fail. An epoll watches an eventfd registered as fd
 * 40; the task then closes fd 40 but keeps the eventfd open as fd 41, so
 * the epoll still watches a file that no fd 40 leads to any more. Such a
 * target cannot be put back by number: the dump has to stop with a
 * message naming the pid, the epoll fd and fd 40, and leave the task as
 * it was: after SIGUSR1 the epoll still reports the eventfd once it is
 * written.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/crtest.h"

#define FD_EP 39
#define FD_GONE 40
#define FD_KEPT 41

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };
	uint64_t one = 1;
	int e, ep;

	test_init(argc, argv);
	e = eventfd(0, 0);
	ep = epoll_create1(0);
	if (e < 0 || ep < 0 || dup2(ep, FD_EP) != FD_EP || dup2(e, FD_GONE) != FD_GONE ||
	    dup2(e, FD_KEPT) != FD_KEPT)
		fail("setup: %m");
	close(e);
	close(ep);
	if (epoll_ctl(FD_EP, EPOLL_CTL_ADD, FD_GONE, &ev))
		fail("epoll_ctl: %m");
	close(FD_GONE);

	test_daemon();
	test_waitsig();

	if (epoll_wait(FD_EP, &ev, 1, 0) != 0)
		test_error("the epoll reports an event before the eventfd was written");
	if (write(FD_KEPT, &one, sizeof(one)) != sizeof(one))
		test_error("write: %m");
	if (epoll_wait(FD_EP, &ev, 1, 0) != 1 || ev.data.u64 != 77)
		test_error("the epoll does not report the eventfd any more");
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Two signalfds: a non-blocking one for SIGUSR2 and SIGRTMIN+1, and a
 * blocking one for SIGHUP (all three blocked). After restore: each shows
 * its mask in fdinfo and its flags; the first reads nothing (EAGAIN), then
 * reads SIGRTMIN+1 and SIGUSR2 once they are sent, but not SIGHUP, which
 * the second one reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/crtest.h"

/* The "sigmask:" of FD's fdinfo, or 0. */
static uint64_t fdinfo_mask(int fd)
{
	char path[64], buf[1024] = "", *s;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0 || read(f, buf, sizeof(buf) - 1) < 0)
		test_error("cannot read %s: %m", path);
	if (f >= 0)
		close(f);
	s = strstr(buf, "sigmask:");
	return s ? strtoull(s + 8, NULL, 16) : 0;
}

static int read_sig(int fd)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return -errno;
	return (int)si.ssi_signo;
}

int main(int argc, char **argv)
{
	uint64_t want1 = (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 1 - 1)), want2 = 1ULL << (SIGHUP - 1);
	sigset_t m1, m2, all;
	int s1, s2, sig;

	test_init(argc, argv);
	sigemptyset(&m1);
	sigaddset(&m1, SIGUSR2);
	sigaddset(&m1, SIGRTMIN + 1);
	sigemptyset(&m2);
	sigaddset(&m2, SIGHUP);
	sigemptyset(&all);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGRTMIN + 1);
	sigaddset(&all, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &all, NULL))
		fail("sigprocmask: %m");
	s1 = signalfd(-1, &m1, SFD_NONBLOCK);
	s2 = signalfd(-1, &m2, SFD_CLOEXEC);
	if (s1 < 0 || s2 < 0)
		fail("signalfd: %m");

	test_daemon();
	test_waitsig();

	if (fdinfo_mask(s1) != want1)
		test_error("fd %d: sigmask %#" PRIx64 ", expected %#" PRIx64, s1, fdinfo_mask(s1), want1);
	if (fdinfo_mask(s2) != want2)
		test_error("fd %d: sigmask %#" PRIx64 ", expected %#" PRIx64, s2, fdinfo_mask(s2), want2);
	if (!(fcntl(s1, F_GETFL) & O_NONBLOCK) || (fcntl(s2, F_GETFL) & O_NONBLOCK))
		test_error("O_NONBLOCK is not as it was");
	if (!(fcntl(s2, F_GETFD) & FD_CLOEXEC) || (fcntl(s1, F_GETFD) & FD_CLOEXEC))
		test_error("FD_CLOEXEC is not as it was");
	if ((sig = read_sig(s1)) != -EAGAIN)
		test_error("the first signalfd read %d before any signal was sent", sig);
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGRTMIN + 1);
	if ((sig = read_sig(s1)) != SIGRTMIN + 1)
		test_error("read %d from the first signalfd, expected SIGRTMIN+1 (%d)", sig, SIGRTMIN + 1);
	if ((sig = read_sig(s1)) != -EAGAIN)
		test_error("the first signalfd read %d (SIGHUP is not in its mask)", sig);
	kill(getpid(), SIGUSR2);
	if ((sig = read_sig(s1)) != SIGUSR2)
		test_error("read %d from the first signalfd, expected SIGUSR2", sig);
	if ((sig = read_sig(s2)) != SIGHUP)
		test_error("read %d from the second signalfd, expected SIGHUP", sig);
	test_finish();
}

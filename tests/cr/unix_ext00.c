// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A datagram socket connected to a socket outside the dumped tree. A
 * helper process, detached from the test (it is not in the tree), holds
 * a datagram socket bound to an abstract name and answers "ping" with
 * "pong". The test's socket, bound to a name of its own, is connected to
 * the helper's, and the helper's first answer waits in it at dump time.
 *
 * unix_ext00 dumps with --ext-unix-sk. The runner ends every process it
 * has after the dump, the helper too, so a new helper is started before
 * the restore (this program with --helper PID, which binds the same name
 * and detaches). After restore the queued answer is read back, and the
 * socket is connected to the helper's name again: a new ping gets its
 * pong from the new helper. unix_ext01 (the same program) dumps without
 * it: the dump must fail, naming the socket outside the tree, and the
 * test runs on with its socket as it was.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/crtest.h"

static socklen_t abstract_addr(struct sockaddr_un *sa, const char *what, int pid)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "criu-unix_ext00-%s-%d", what, pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* The helper: answers pings until "bye" (or two minutes). */
static void helper(int srv, int ready)
{
	char buf[64];

	alarm(120);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	for (;;) {
		struct sockaddr_un from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(srv, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen);

		if (n < 0)
			_exit(1);
		buf[n] = 0;
		if (!strcmp(buf, "bye"))
			_exit(0);
		if (!strncmp(buf, "ping", 4)) {
			buf[1] = 'o';
			sendto(srv, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
		}
	}
}

/* Start the helper outside our tree (double fork, own session). */
static void start_helper(const struct sockaddr_un *sa, socklen_t len)
{
	int p[2], srv, status;
	pid_t c;
	char b;

	srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (srv < 0 || bind(srv, (const struct sockaddr *)sa, len) || pipe(p))
		fail("helper socket: %m");
	c = fork();
	if (c < 0)
		fail("fork: %m");
	if (c == 0) {
		setsid();
		if (fork() == 0) {
			close(p[0]);
			helper(srv, p[1]);
		}
		_exit(0);
	}
	close(srv);
	close(p[1]);
	if (waitpid(c, &status, 0) != c || read(p[0], &b, 1) != 1)
		fail("the helper did not start");
	close(p[0]);
}

static bool wait_in(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	return poll(&pf, 1, 10000) == 1;
}

static void expect(int fd, const char *want)
{
	char buf[64];
	ssize_t n;

	if (!wait_in(fd)) {
		test_error("no answer \"%s\" from the helper", want);
		return;
	}
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0) {
		test_error("recv: %m, want \"%s\"", want);
		return;
	}
	buf[n] = 0;
	if (strcmp(buf, want))
		test_error("got \"%s\", want \"%s\"", buf, want);
}

int main(int argc, char **argv)
{
	struct sockaddr_un srv, me;
	socklen_t slen, mlen;
	int sk;

	/* unix_ext00.desc's before-restore: a new helper for the test PID, bound before we return. */
	if (argc == 3 && !strcmp(argv[1], "--helper")) {
		slen = abstract_addr(&srv, "helper", atoi(argv[2]));
		start_helper(&srv, slen);
		return 0;
	}
	test_init(argc, argv);
	slen = abstract_addr(&srv, "helper", getpid());
	mlen = abstract_addr(&me, "test", getpid());
	start_helper(&srv, slen);
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sk < 0 || bind(sk, (struct sockaddr *)&me, mlen) || connect(sk, (struct sockaddr *)&srv, slen))
		fail("bind and connect: %m");
	if (send(sk, "ping1", 5, 0) != 5)
		fail("send: %m");
	if (!wait_in(sk))
		fail("no answer from the helper");

	test_daemon();
	test_waitsig();

	expect(sk, "pong1");
	if (send(sk, "ping2", 5, 0) != 5)
		test_error("send after restore: %m");
	else
		expect(sk, "pong2");
	send(sk, "bye", 3, 0);
	test_finish();
}

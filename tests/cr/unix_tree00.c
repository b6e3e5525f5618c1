// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unix socketpairs across a process tree: the parent holds one end of a
 * stream pair and of a datagram pair, its child the other ends (each
 * closed the end it does not use), with messages queued both ways. After
 * restore the child reads the parent's queued messages and answers on
 * both sockets; the parent reads the child's queued messages, then the
 * answers. The two ends must be one pair again, made once for the tree.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/crtest.h"

static void send_str(int fd, const char *s)
{
	if (send(fd, s, strlen(s), 0) != (ssize_t)strlen(s))
		fail("send \"%s\": %m", s);
}

/* The next message of FD must be WANT (waits for it). */
static void expect(int fd, const char *what, const char *want)
{
	char buf[128];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0) {
		test_error("%s: recv: %m, want \"%s\"", what, want);
		return;
	}
	buf[n] = 0;
	if (strcmp(buf, want))
		test_error("%s: got \"%s\", want \"%s\"", what, buf, want);
}

int main(int argc, char **argv)
{
	int st[2], dg[2];
	pid_t child;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg))
		fail("socketpair: %m");

	child = test_fork();
	if (child == 0) {
		close(st[0]);
		close(dg[0]);
		send_str(st[1], "child's queued stream");
		send_str(dg[1], "child's queued dgram");
		test_ready();
		test_waitsig();
		expect(st[1], "child, stream", "parent's queued stream");
		expect(dg[1], "child, dgram", "parent's queued dgram");
		send_str(st[1], "child answers");
		send_str(dg[1], "child answers dgram");
		test_child_exit();
	}
	close(st[1]);
	close(dg[1]);
	send_str(st[0], "parent's queued stream");
	send_str(dg[0], "parent's queued dgram");

	test_daemon();
	test_waitsig();

	expect(dg[0], "parent, dgram", "child's queued dgram");
	test_wait_children(&child, 1); /* SIGUSR1 to the child, which answers and exits */
	expect(dg[0], "parent, dgram", "child answers dgram");
	expect(st[0], "parent, stream", "child's queued streamchild answers");
	test_finish();
}

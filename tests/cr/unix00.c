// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unix sockets held by one process. Three socketpairs (stream, datagram,
 * seqpacket) with messages queued in both directions; the stream pair
 * with O_NONBLOCK on one end and SO_PASSCRED on the other; the seqpacket
 * pair with one end shut down for writing after its last message. A
 * stream socket bound to a path (its socket file of mode 0640) and
 * listening, with a connection not accepted yet; a datagram socket bound
 * to an abstract name with a datagram from a sender that is gone waiting
 * in it. After restore every queued message is read back in order and
 * with its boundaries, the flags and the shutdown are kept, the pairs
 * still carry data both ways, the socket file has its mode again, and
 * the listening socket accepts the
 * waiting connection (which then carries data) and a new one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/crtest.h"

static void send_str(int fd, const char *s)
{
	if (send(fd, s, strlen(s), 0) != (ssize_t)strlen(s))
		fail("send \"%s\": %m", s);
}

/* The next message of FD must be WANT (one recv: message boundaries count). */
static void expect(int fd, const char *what, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		test_error("%s: recv: %m, want \"%s\"", what, want);
		return;
	}
	buf[n] = 0;
	if (strcmp(buf, want))
		test_error("%s: got \"%s\", want \"%s\"", what, buf, want);
}

static void expect_empty(int fd, const char *what)
{
	char c;

	if (recv(fd, &c, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
		test_error("%s: more was queued than was sent", what);
}

static socklen_t addr_of(struct sockaddr_un *sa, const char *path, bool abstract)
{
	size_t n = strlen(path);

	if (n > sizeof(sa->sun_path) - 2)
		fail("the name %s is too long for a unix socket", path);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path + abstract, path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + n + !abstract);
}

int main(int argc, char **argv)
{
	int st[2], dg[2], gone[2], sq[2], lst, pending, ab, tmp, c, a, on = 1, v;
	struct sockaddr_un la, aa;
	socklen_t llen, alen, len = sizeof(v);
	char cwd[200], path[260], name[64];
	struct stat sb;

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)))
		fail("getcwd: %m");
	snprintf(path, sizeof(path), "%s/unix00.sock", cwd);
	snprintf(name, sizeof(name), "criu-unix00-%d", (int)getpid());
	unlink(path);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq))
		fail("socketpair: %m");
	send_str(st[0], "stream 0 to 1, ");
	send_str(st[0], "in two writes");
	send_str(st[1], "stream 1 to 0");
	if (fcntl(st[1], F_SETFL, O_NONBLOCK) || setsockopt(st[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)))
		fail("O_NONBLOCK, SO_PASSCRED: %m");
	send_str(dg[0], "dgram 0 to 1, first");
	send_str(dg[0], "dgram 0 to 1, second");
	send_str(dg[1], "dgram 1 to 0");
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, gone))
		fail("socketpair: %m");
	send_str(gone[1], "from a peer that is gone");
	close(gone[1]);
	send_str(sq[0], "seqpacket 0 to 1, first");
	send_str(sq[0], "seqpacket 0 to 1, second");
	send_str(sq[1], "seqpacket 1 to 0, last");
	if (shutdown(sq[1], SHUT_WR))
		fail("shutdown: %m");

	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	llen = addr_of(&la, path, false);
	if (lst < 0 || bind(lst, (struct sockaddr *)&la, llen) || listen(lst, 7))
		fail("bind and listen on %s: %m", path);
	if (chmod(path, 0640))
		fail("chmod %s: %m", path);
	pending = socket(AF_UNIX, SOCK_STREAM, 0);
	if (pending < 0 || connect(pending, (struct sockaddr *)&la, llen))
		fail("connect to %s: %m", path);
	ab = socket(AF_UNIX, SOCK_DGRAM, 0);
	alen = addr_of(&aa, name, true);
	if (ab < 0 || bind(ab, (struct sockaddr *)&aa, alen))
		fail("bind @%s: %m", name);
	tmp = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (tmp < 0 || sendto(tmp, "to the abstract name", 20, 0, (struct sockaddr *)&aa, alen) != 20)
		fail("sendto @%s: %m", name);
	close(tmp);

	test_daemon();
	test_waitsig();

	expect(st[1], "stream 1", "stream 0 to 1, in two writes");
	expect_empty(st[1], "stream 1");
	expect(st[0], "stream 0", "stream 1 to 0");
	if (!(fcntl(st[1], F_GETFL) & O_NONBLOCK) || (fcntl(st[0], F_GETFL) & O_NONBLOCK))
		test_error("O_NONBLOCK is not as it was");
	if (getsockopt(st[0], SOL_SOCKET, SO_PASSCRED, &v, &len) || !v)
		test_error("SO_PASSCRED was lost");
	send_str(st[1], "new");
	expect(st[0], "stream 0 after restore", "new");

	expect(dg[1], "dgram 1", "dgram 0 to 1, first");
	expect(dg[1], "dgram 1", "dgram 0 to 1, second");
	expect_empty(dg[1], "dgram 1");
	expect(dg[0], "dgram 0", "dgram 1 to 0");
	send_str(dg[1], "new dgram");
	expect(dg[0], "dgram 0 after restore", "new dgram");

	expect(gone[0], "dgram whose peer is gone", "from a peer that is gone");
	expect_empty(gone[0], "dgram whose peer is gone");

	expect(sq[1], "seqpacket 1", "seqpacket 0 to 1, first");
	expect(sq[1], "seqpacket 1", "seqpacket 0 to 1, second");
	expect(sq[0], "seqpacket 0", "seqpacket 1 to 0, last");
	if (recv(sq[0], name, 1, MSG_DONTWAIT) != 0)
		test_error("seqpacket 0: no end of file after the peer's shutdown");
	if (send(sq[1], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		test_error("seqpacket 1: may write after its shutdown");
	send_str(sq[0], "seqpacket new");
	expect(sq[1], "seqpacket 1 after restore", "seqpacket new");

	expect(ab, "abstract dgram", "to the abstract name");
	expect_empty(ab, "abstract dgram");

	if (stat(path, &sb) || !S_ISSOCK(sb.st_mode) || (sb.st_mode & 07777) != 0640)
		test_error("%s is not a socket file of mode 0640 any more", path);
	/* The connection that waited at dump time comes first, then a new one. */
	a = accept4(lst, NULL, NULL, SOCK_NONBLOCK);
	if (a < 0) {
		test_error("no connection waits on the listening socket: %m");
	} else {
		send_str(pending, "was pending");
		expect(a, "the pending connection, accepted", "was pending");
		send_str(a, "and back");
		expect(pending, "the pending connection", "and back");
	}
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&la, llen)) {
		test_error("connect to the listening socket %s: %m", path);
	} else {
		a = accept(lst, NULL, NULL);
		if (a < 0)
			test_error("accept: %m");
		else if (send(c, "hi", 2, 0) != 2)
			test_error("send to the accepted connection: %m");
		else
			expect(a, "accepted", "hi");
	}
	unlink(path);
	test_finish();
}

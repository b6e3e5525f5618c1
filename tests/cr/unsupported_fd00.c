// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A dump that must fail. The task holds a connected AF_UNIX socketpair
 * (at fds 37 and 38) and the runner dumps it with the sockets plugin
 * disabled (unsupported_fd00.conf), so nothing handles those fds. The
 * dump has to stop with a message naming the pid, the fd and the sockets
 * plugin (unsupported_fd00.desc lists what the runner looks for), and
 * leave the task running as it was: after SIGUSR1 the task checks the
 * pair still carries data both ways and its fds are still in place.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FD_A 37
#define FD_B 38

int main(int argc, char **argv)
{
	char buf[16];
	int sk[2];

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
		fail("socketpair: %m");
	if (dup2(sk[0], FD_A) != FD_A || dup2(sk[1], FD_B) != FD_B)
		fail("dup2: %m");
	close(sk[0]);
	close(sk[1]);
	/* Some data queued in one direction across the dump attempt. */
	if (write(FD_A, "queued", 6) != 6)
		fail("write: %m");

	test_daemon();
	test_waitsig();

	if (read(FD_B, buf, 6) != 6 || memcmp(buf, "queued", 6))
		test_error("the data queued before the dump is gone");
	if (write(FD_B, "back", 4) != 4 || read(FD_A, buf, 4) != 4 || memcmp(buf, "back", 4))
		test_error("the socketpair does not carry data any more");
	test_finish();
}

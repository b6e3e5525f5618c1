// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Orphaned pty masters: the process holds two masters and no slave. The
 * first was unlocked, given termios and a window size through its slave,
 * whose fd was then closed; the second was never unlocked. After restore
 * the first is still unlocked with its termios and window size, a slave
 * opened now by its name (ptsname) is its pair and passes data both
 * ways; the second is still locked (TIOCGPTLCK), so its slave cannot be
 * opened.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int read_exact(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 3000) <= 0)
			return -1;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 11, .ws_col = 77 }, ws2;
	struct termios t, t2;
	int m1, m2, s, lock = 0;
	char buf[16];

	test_init(argc, argv);
	m1 = posix_openpt(O_RDWR | O_NOCTTY);
	m2 = posix_openpt(O_RDWR | O_NOCTTY);
	if (m1 < 0 || m2 < 0 || grantpt(m1) || unlockpt(m1))
		fail("posix_openpt: %m");
	s = open(ptsname(m1), O_RDWR | O_NOCTTY);
	if (s < 0 || tcgetattr(s, &t))
		fail("open %s: %m", ptsname(m1));
	cfmakeraw(&t);
	if (tcsetattr(s, TCSANOW, &t) || ioctl(s, TIOCSWINSZ, &ws) || tcgetattr(s, &t))
		fail("tcsetattr: %m");
	close(s);

	test_daemon();
	test_waitsig();

	if (ioctl(m1, TIOCGPTLCK, &lock) || lock)
		fail("the first master is locked now (%d): %m", lock);
	if (ioctl(m2, TIOCGPTLCK, &lock) || !lock)
		fail("the second master lost its lock (%d): %m", lock);
	s = open(ptsname(m1), O_RDWR | O_NOCTTY);
	if (s < 0)
		fail("cannot open the slave %s after restore: %m", ptsname(m1));
	if (tcgetattr(s, &t2) || t2.c_lflag != t.c_lflag || t2.c_iflag != t.c_iflag || t2.c_oflag != t.c_oflag)
		fail("termios changed");
	if (ioctl(s, TIOCGWINSZ, &ws2) || ws2.ws_row != ws.ws_row || ws2.ws_col != ws.ws_col)
		fail("window size changed: %ux%u", ws2.ws_row, ws2.ws_col);
	if (write(m1, "down", 4) != 4 || read_exact(s, buf, 4) || memcmp(buf, "down", 4))
		fail("master -> slave after restore");
	if (write(s, "up", 2) != 2 || read_exact(m1, buf, 2) || memcmp(buf, "up", 2))
		fail("slave -> master after restore");
	close(s);
	pass();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pty pair held by one process: the master (/dev/ptmx) and its slave
 * (/dev/pts/N). Before the dump the slave is put in raw mode with custom
 * control characters and a custom window size, the master in packet
 * mode, and bytes are left queued both ways: written by the master and
 * not read by the slave, and written by the slave and not read by the
 * master. After restore the test checks that the two fds are still one
 * pair (the slave's index is the master's TIOCGPTN, and the slave is the
 * pty of that index), the termios, window size and packet mode are kept,
 * both queued messages are read out intact, and new bytes pass both ways.
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static const char to_slave[] = "bytes the master wrote before the dump";
static const char to_master[] = "bytes the slave wrote before the dump";

/* Read exactly LEN bytes from FD within a few seconds (stripping packet-mode status bytes). */
static int read_exact(int fd, char *buf, size_t len, bool packet)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char tmp[512];
		ssize_t n;

		if (poll(&pfd, 1, 3000) <= 0)
			return -1;
		n = read(fd, tmp, packet ? sizeof(tmp) : len - got);
		if (n <= 0)
			return -1;
		if (packet) {
			if (tmp[0] != TIOCPKT_DATA)
				continue;
			if ((size_t)(n - 1) > len - got)
				return -1;
			memcpy(buf + got, tmp + 1, (size_t)n - 1);
			got += (size_t)n - 1;
		} else {
			memcpy(buf + got, tmp, (size_t)n);
			got += (size_t)n;
		}
	}
	return 0;
}

static int slave_index(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	return (int)((major(st.st_rdev) - 136) * 256 + minor(st.st_rdev));
}

int main(int argc, char **argv)
{
	struct termios t, t2;
	struct winsize ws = { .ws_row = 37, .ws_col = 123, .ws_xpixel = 7, .ws_ypixel = 9 }, ws2;
	int master, slave, idx, idx2, pkt = 1, pkt2 = 0;
	char buf[128];

	test_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		fail("posix_openpt: %m");
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail("open %s: %m", ptsname(master));
	if (ioctl(master, TIOCGPTN, &idx))
		fail("TIOCGPTN: %m");
	if (tcgetattr(slave, &t))
		fail("tcgetattr: %m");
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 3;
	t.c_cc[VINTR] = 0x0b;
	cfsetspeed(&t, B9600);
	if (tcsetattr(slave, TCSANOW, &t) || ioctl(slave, TIOCSWINSZ, &ws))
		fail("tcsetattr/TIOCSWINSZ: %m");
	if (tcgetattr(slave, &t))
		fail("tcgetattr: %m");
	if (ioctl(master, TIOCPKT, &pkt))
		fail("TIOCPKT: %m");
	if (write(master, to_slave, sizeof(to_slave)) != sizeof(to_slave) ||
	    write(slave, to_master, sizeof(to_master)) != sizeof(to_master))
		fail("write: %m");

	test_daemon();
	test_waitsig();

	if (ioctl(master, TIOCGPTN, &idx2))
		fail("TIOCGPTN after restore: %m");
	if (slave_index(slave) != idx2)
		fail("the slave is /dev/pts/%d but the master's index is %d: not one pair", slave_index(slave), idx2);
	if (idx2 != idx)
		test_msg("note: the pty index changed from %d to %d", idx, idx2);
	if (tcgetattr(slave, &t2))
		fail("tcgetattr after restore: %m");
	if (t2.c_iflag != t.c_iflag || t2.c_oflag != t.c_oflag || t2.c_cflag != t.c_cflag ||
	    t2.c_lflag != t.c_lflag || memcmp(t2.c_cc, t.c_cc, sizeof(t.c_cc)) ||
	    cfgetospeed(&t2) != cfgetospeed(&t))
		fail("termios changed: iflag %#x/%#x oflag %#x/%#x cflag %#x/%#x lflag %#x/%#x", t2.c_iflag,
		     t.c_iflag, t2.c_oflag, t.c_oflag, t2.c_cflag, t.c_cflag, t2.c_lflag, t.c_lflag);
	if (ioctl(slave, TIOCGWINSZ, &ws2) || ws2.ws_row != ws.ws_row || ws2.ws_col != ws.ws_col ||
	    ws2.ws_xpixel != ws.ws_xpixel || ws2.ws_ypixel != ws.ws_ypixel)
		fail("window size changed: %ux%u", ws2.ws_row, ws2.ws_col);
	if (ioctl(master, TIOCGPKT, &pkt2) || !pkt2)
		fail("packet mode lost (%d)", pkt2);
	if (read_exact(slave, buf, sizeof(to_slave), false) || memcmp(buf, to_slave, sizeof(to_slave)))
		fail("the bytes queued for the slave are lost or changed");
	if (read_exact(master, buf, sizeof(to_master), true) || memcmp(buf, to_master, sizeof(to_master)))
		fail("the bytes queued for the master are lost or changed");
	if (write(master, "ping", 4) != 4 || read_exact(slave, buf, 4, false) || memcmp(buf, "ping", 4))
		fail("master -> slave after restore");
	if (write(slave, "pong", 4) != 4 || read_exact(master, buf, 4, true) || memcmp(buf, "pong", 4))
		fail("slave -> master after restore");
	pass();
}

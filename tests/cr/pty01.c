// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pty shared by a tree, with a session on it:
 *
 *   P  holds the master
 *   `- C  setsid(): session C, its controlling terminal the slave (fd 0-2
 *      |  and one more fd on it, and a /dev/tty fd), echo off
 *      `- G  its own process group, the foreground group of the terminal
 *
 * Before the dump P writes a line that C does not read yet, and C writes
 * one that P does not read yet. After restore: C's and G's controlling
 * terminal is the slave again (tty_nr of /proc/self/stat is what it was),
 * its foreground group is G's (tcgetpgrp), G (in the foreground) reads
 * the queued line through the /dev/tty fd it held across the dump and
 * writes a reply, P reads C's queued
 * line and then G's reply, and every pid, group and session is what it
 * was.
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

static const char down[] = "from the master before the dump\n";
static const char up[] = "from the slave before the dump\n";
static const char up_crlf[] = "from the slave before the dump\r\n";
static const char reply[] = "reply after restore\n";
static const char reply_crlf[] = "reply after restore\r\n";

/* Field 7 of /proc/self/stat: the controlling terminal's device number. */
static long tty_nr(void)
{
	char buf[1024], *p;
	long nr = -1;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %ld", &nr);
	fclose(f);
	return nr;
}

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

/* The controlling terminal is the one it was, and its foreground group is FG. */
static void check_ctty(const char *who, long nr, pid_t fg)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	long now = tty_nr();

	if (now != nr)
		test_error("%s: controlling terminal %#lx, was %#lx", who, now, nr);
	if (fd < 0) {
		test_error("%s: no controlling terminal: %m", who);
		return;
	}
	if (tcgetpgrp(fd) != fg)
		test_error("%s: foreground group %d, want %d", who, (int)tcgetpgrp(fd), (int)fg);
	close(fd);
}

/* G is in the foreground: it reads and writes the terminal (C would get SIGTTIN). */
static void grandchild(long nr)
{
	char buf[64];
	pid_t me;
	int fd;

	if (setpgid(0, 0))
		fail("setpgid: %m");
	me = getpid();
	/* Held across the dump: /dev/tty is opened again once G has its terminal. */
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fail("G: cannot open its terminal: %m");
	test_ready();
	test_waitsig();
	check_ctty("G", nr, me);
	if (getsid(0) != getppid())
		test_error("G: session %d, want its parent's %d", (int)getsid(0), (int)getppid());
	if (read_exact(fd, buf, sizeof(down) - 1) || memcmp(buf, down, sizeof(down) - 1))
		test_error("G: the line queued for the slave is lost or changed");
	if (write(fd, reply, sizeof(reply) - 1) != (ssize_t)(sizeof(reply) - 1))
		test_error("G: write after restore: %m");
	close(fd);
	test_child_exit();
}

static void child(const char *pts)
{
	struct termios t;
	pid_t g, sid;
	long nr;
	int fd, ctty;

	sid = setsid();
	if (sid < 0)
		fail("setsid: %m");
	/* Opening it without O_NOCTTY makes it the controlling terminal of the new session. */
	fd = open(pts, O_RDWR);
	if (fd < 0)
		fail("open %s: %m", pts);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		fail("dup2: %m");
	if (tcgetattr(fd, &t))
		fail("tcgetattr: %m");
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (tcsetattr(fd, TCSANOW, &t))
		fail("tcsetattr: %m");
	nr = tty_nr();
	if (nr <= 0)
		fail("no controlling terminal after open");
	/* The session leader holds /dev/tty too: it has to get its terminal before this fd. */
	ctty = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (ctty < 0)
		fail("C: /dev/tty: %m");
	if (write(fd, up, sizeof(up) - 1) != (ssize_t)(sizeof(up) - 1))
		fail("write: %m");
	g = test_fork();
	if (g == 0)
		grandchild(nr);
	if (tcsetpgrp(fd, g))
		fail("tcsetpgrp: %m");
	test_ready();
	test_waitsig();
	check_ctty("C", nr, g);
	if (tcgetpgrp(ctty) != g)
		test_error("C: its /dev/tty fd says foreground group %d, want %d", (int)tcgetpgrp(ctty), (int)g);
	if (getsid(0) != sid || getpid() != sid)
		test_error("C: session %d, want %d", (int)getsid(0), (int)sid);
	test_wait_children(&g, 1);
	test_child_exit();
}

int main(int argc, char **argv)
{
	char pts[64], buf[64];
	int master;
	pid_t c;

	test_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		fail("posix_openpt: %m");
	snprintf(pts, sizeof(pts), "%s", ptsname(master));
	c = test_fork();
	if (c == 0)
		child(pts);
	if (write(master, down, sizeof(down) - 1) != (ssize_t)(sizeof(down) - 1))
		fail("write: %m");
	/* Let C's line reach the master's queue before the dump. */
	usleep(100000);

	test_daemon();
	test_waitsig();

	if (read_exact(master, buf, sizeof(up_crlf) - 1) || memcmp(buf, up_crlf, sizeof(up_crlf) - 1))
		test_error("P: the line queued for the master is lost or changed");
	test_wait_children(&c, 1);
	if (read_exact(master, buf, sizeof(reply_crlf) - 1) || memcmp(buf, reply_crlf, sizeof(reply_crlf) - 1))
		test_error("P: C's reply after restore did not arrive");
	test_finish();
}

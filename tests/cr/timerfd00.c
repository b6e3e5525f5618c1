// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Four timerfds, one per thing to keep:
 *   slow  CLOCK_MONOTONIC, one-shot, 30 s, set 1 s before the dump: after
 *         restore less than 29.2 s is left, and no less than 29 s minus
 *         the time the test spent waiting (generous: 2 s slack); no tick.
 *   tick  CLOCK_BOOTTIME, periodic 1.5 s: after restore a blocking read
 *         returns after about the time gettime() says is left (0.3 s
 *         early to 3 s late), with at least one expiration.
 *   fired CLOCK_BOOTTIME, one-shot 10 ms, expired unread before the
 *         dump: after restore it reads 1, then EAGAIN (non-blocking).
 *   abs   CLOCK_REALTIME, TFD_TIMER_ABSTIME one hour ahead, interval
 *         60 s, 5 ticks put there with TFD_IOC_SET_TICKS: after restore
 *         fdinfo shows clockid 0 and settime flags 01, and it reads 5.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/crtest.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double left(int fd, double *interval)
{
	struct itimerspec its;

	if (timerfd_gettime(fd, &its))
		test_error("timerfd_gettime(%d): %m", fd);
	if (interval)
		*interval = (double)its.it_interval.tv_sec + (double)its.it_interval.tv_nsec / 1e9;
	return (double)its.it_value.tv_sec + (double)its.it_value.tv_nsec / 1e9;
}

static void check_fdinfo(int fd, const char *want)
{
	char path[64], buf[1024] = "";
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0 || read(f, buf, sizeof(buf) - 1) < 0)
		test_error("cannot read %s: %m", path);
	if (f >= 0)
		close(f);
	if (!strstr(buf, want))
		test_error("fd %d: fdinfo lacks \"%s\":\n%s", fd, want, buf);
}

int main(int argc, char **argv)
{
	struct itimerspec its_slow = { .it_value = { 30, 0 } };
	struct itimerspec its_tick = { .it_value = { 1, 500000000 }, .it_interval = { 1, 500000000 } };
	struct itimerspec its_fired = { .it_value = { 0, 10000000 } };
	struct itimerspec its_abs = { .it_interval = { 60, 0 } };
	struct timespec second = { 1, 0 };
	int slow, tick, fired, abs_fd;
	double t_daemon, t_back, r, iv, t0;
	uint64_t ticks = 5, v;

	test_init(argc, argv);
	slow = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	tick = timerfd_create(CLOCK_BOOTTIME, 0);
	fired = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	abs_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (slow < 0 || tick < 0 || fired < 0 || abs_fd < 0)
		fail("timerfd_create: %m");
	clock_gettime(CLOCK_REALTIME, &its_abs.it_value);
	its_abs.it_value.tv_sec += 3600;
	if (timerfd_settime(slow, 0, &its_slow, NULL) || timerfd_settime(tick, 0, &its_tick, NULL) ||
	    timerfd_settime(fired, 0, &its_fired, NULL) ||
	    timerfd_settime(abs_fd, TFD_TIMER_ABSTIME, &its_abs, NULL))
		fail("timerfd_settime: %m");
	if (ioctl(abs_fd, TFD_IOC_SET_TICKS, &ticks))
		fail("TFD_IOC_SET_TICKS: %m");
	nanosleep(&second, NULL);

	t_daemon = now_mono();
	test_daemon();
	test_waitsig();
	t_back = now_mono();

	r = left(slow, NULL);
	if (r > 29.2 || r < 29.0 - (t_back - t_daemon) - 2.0)
		test_error("slow: %.3f s left; expected 29 s minus at most the %.3f s waited", r, t_back - t_daemon);
	if (read(slow, &v, sizeof(v)) != -1 || errno != EAGAIN)
		test_error("slow: it fired already");

	r = left(tick, &iv);
	if (iv < 1.49 || iv > 1.51)
		test_error("tick: interval %.3f s, expected 1.5 s", iv);
	t0 = now_mono();
	if (read(tick, &v, sizeof(v)) != sizeof(v) || v < 1)
		test_error("tick: read: %m");
	t0 = now_mono() - t0;
	if (t0 < r - 0.3 || t0 > r + 3.0)
		test_error("tick: fired after %.3f s, but %.3f s were left", t0, r);

	v = 0;
	if (read(fired, &v, sizeof(v)) != sizeof(v) || v != 1)
		test_error("fired: read gave %" PRIu64 " (%m), expected 1", v);
	if (read(fired, &v, sizeof(v)) != -1 || errno != EAGAIN)
		test_error("fired: a second expiration");

	check_fdinfo(abs_fd, "clockid: 0\n");
	check_fdinfo(abs_fd, "settime flags: 01\n");
	check_fdinfo(tick, "clockid: 7\n");
	r = left(abs_fd, &iv);
	if (r < 3500 || r > 3600 || iv != 60)
		test_error("abs: %.3f s left, interval %.3f s; expected about 3600 and 60", r, iv);
	v = 0;
	if (read(abs_fd, &v, sizeof(v)) != sizeof(v) || v != 5)
		test_error("abs: read gave %" PRIu64 ", expected the 5 ticks set", v);
	test_finish();
}

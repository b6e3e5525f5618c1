// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task asleep in nanosleep() across the dump. The sleep (one hour) is
 * interrupted only by the runner's SIGUSR1 after restore: nanosleep must
 * then fail with EINTR and report a remaining time that is positive and
 * not more than what was asked. A sleep that ended by itself, or that
 * came back with anything else, means the restarted syscall was lost.
 * Then a short sleep must take as long as it should.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct timespec req = { .tv_sec = 3600 }, rem = { 0 }, shortreq = { 0, 200 * 1000 * 1000 };
	double t0, t1;
	int ret;

	test_init(argc, argv);
	test_daemon();

	ret = nanosleep(&req, &rem);
	if (ret == 0)
		fail("nanosleep of an hour returned 0");
	if (errno != EINTR)
		fail("nanosleep: %s, want EINTR", strerror(errno));
	if (test_go())
		fail("nanosleep interrupted, but not by SIGUSR1");
	if (rem.tv_sec < 0 || rem.tv_nsec < 0 || rem.tv_nsec >= 1000000000L)
		fail("nanosleep left a bad remaining time %lld.%09ld", (long long)rem.tv_sec, rem.tv_nsec);
	if (rem.tv_sec > req.tv_sec || (rem.tv_sec == 0 && rem.tv_nsec == 0))
		fail("remaining time %lld.%09ld is not within (0, %lld]", (long long)rem.tv_sec, rem.tv_nsec,
		     (long long)req.tv_sec);
	test_msg("woken with %lld.%09ld s left", (long long)rem.tv_sec, rem.tv_nsec);

	t0 = mono();
	if (nanosleep(&shortreq, NULL))
		fail("short nanosleep: %m");
	t1 = mono();
	if (t1 - t0 < 0.2 || t1 - t0 > 5.0)
		fail("a 0.2 s sleep took %.3f s", t1 - t0);
	pass();
}

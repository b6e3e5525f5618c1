// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Interval timers and POSIX timers across the dump:
 *   - ITIMER_REAL, periodic 50 ms: SIGALRM must keep arriving after
 *     restore, and getitimer() must give back the same interval;
 *   - ITIMER_VIRTUAL armed for 100 s of CPU time: still armed, with no
 *     more than 100 s left;
 *   - a periodic POSIX timer on CLOCK_MONOTONIC (20 ms) whose signal is
 *     blocked: after restore it is still armed with the same interval and
 *     id, and once unblocked its one pending signal carries the sigev
 *     value and an overrun count above zero;
 *   - a one-shot POSIX timer on CLOCK_REALTIME an hour away: still armed,
 *     at most an hour left;
 *   - a one-shot POSIX timer (CLOCK_MONOTONIC, 1.5 s from setup) that
 *     fires once, with its value (after restore when C/R is quick).
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define SIG_PERIODIC (SIGRTMIN + 3)
#define SIG_ONESHOT (SIGRTMIN + 4)

static volatile int nr_alrm, nr_periodic, nr_oneshot, periodic_overrun, periodic_value, oneshot_value;

static void on_alrm(int sig)
{
	(void)sig;
	nr_alrm++;
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIG_PERIODIC) {
		nr_periodic++;
		periodic_overrun = si->si_overrun;
		periodic_value = si->si_value.sival_int;
	} else {
		nr_oneshot++;
		oneshot_value = si->si_value.sival_int;
	}
}

static timer_t make_timer(clockid_t clk, int sig, int value)
{
	struct sigevent sev;
	timer_t t;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = value;
	if (timer_create(clk, &sev, &t))
		fail("timer_create: %m");
	return t;
}

static void arm(timer_t t, long value_ms, long interval_ms)
{
	struct itimerspec its = {
		.it_value = { value_ms / 1000, (value_ms % 1000) * 1000000L },
		.it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
	};

	if (timer_settime(t, 0, &its, NULL))
		fail("timer_settime: %m");
}

/* Sleep MS milliseconds of real time, through signal interruptions. */
static void wait_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

int main(int argc, char **argv)
{
	struct itimerval real = { { 0, 50000 }, { 0, 50000 } }, virt = { { 0, 0 }, { 100, 0 } }, cur;
	timer_t periodic, far, oneshot;
	struct itimerspec its;
	struct sigaction sa;
	sigset_t block;
	int alrm_before;

	test_init(argc, argv);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL))
		fail("sigaction: %m");
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIG_PERIODIC, &sa, NULL) || sigaction(SIG_ONESHOT, &sa, NULL))
		fail("sigaction: %m");

	sigemptyset(&block);
	sigaddset(&block, SIG_PERIODIC);
	if (sigprocmask(SIG_BLOCK, &block, NULL))
		fail("sigprocmask: %m");

	periodic = make_timer(CLOCK_MONOTONIC, SIG_PERIODIC, 0x5a5a);
	far = make_timer(CLOCK_REALTIME, SIG_ONESHOT, 0x7777);
	oneshot = make_timer(CLOCK_MONOTONIC, SIG_ONESHOT, 0x1234);
	arm(periodic, 20, 20);
	arm(far, 3600 * 1000L, 0);
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_VIRTUAL, &virt, NULL))
		fail("setitimer: %m");
	/* Let the periodic timer fire once so its signal is pending. */
	wait_ms(50);
	arm(oneshot, 1500, 0);

	test_daemon();
	test_waitsig();

	/* The one-shot timer was 1.5 s away at setup: wait up to 3 s for it. */
	alrm_before = nr_alrm;
	wait_ms(500);
	for (int i = 0; i < 25 && !nr_oneshot; i++)
		wait_ms(100);
	if (nr_alrm <= alrm_before)
		test_error("no SIGALRM in 500 ms after restore (ITIMER_REAL lost)");
	if (getitimer(ITIMER_REAL, &cur) || cur.it_interval.tv_sec != 0 || cur.it_interval.tv_usec != 50000)
		test_error("ITIMER_REAL interval is %ld.%06ld, want 0.050000", (long)cur.it_interval.tv_sec,
			   (long)cur.it_interval.tv_usec);
	if (getitimer(ITIMER_VIRTUAL, &cur) || (cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0) ||
	    cur.it_value.tv_sec > 100)
		test_error("ITIMER_VIRTUAL is %ld.%06ld, want armed within 100 s", (long)cur.it_value.tv_sec,
			   (long)cur.it_value.tv_usec);

	if (timer_gettime(periodic, &its))
		test_error("timer_gettime(periodic): %m (timer id lost)");
	else if (its.it_interval.tv_sec != 0 || its.it_interval.tv_nsec != 20000000L)
		test_error("periodic timer interval %ld.%09ld, want 0.020000000", (long)its.it_interval.tv_sec,
			   its.it_interval.tv_nsec);
	if (timer_gettime(far, &its))
		test_error("timer_gettime(far): %m (timer id lost)");
	else if (its.it_value.tv_sec > 3600 || (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0))
		test_error("far timer has %ld s left, want (0, 3600]", (long)its.it_value.tv_sec);
	if (nr_oneshot != 1 || oneshot_value != 0x1234)
		test_error("one-shot timer: %d signals with value %#x, want 1 with 0x1234", nr_oneshot, oneshot_value);

	/* One pending signal for the periodic timer, which has overrun since. */
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (nr_periodic != 1)
		test_error("periodic timer: %d signals on unblock, want 1", nr_periodic);
	else if (periodic_value != 0x5a5a || periodic_overrun <= 0)
		test_error("periodic timer: value %#x overrun %d, want 0x5a5a and > 0", periodic_value,
			   periodic_overrun);
	test_msg("SIGALRM %d, periodic overrun %d", nr_alrm, periodic_overrun);
	test_finish();
}

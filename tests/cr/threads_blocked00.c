// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Threads blocked in system calls across the dump, which must resume
 * correctly after restore:
 *  - futex: FUTEX_WAIT on a word that is 0; after restore the main thread
 *    sets it and wakes it. It must not return before that (0, or EAGAIN
 *    if it re-entered after the store; any other error fails).
 *  - nanosleep: 3 s, looping on EINTR with the remaining time (an
 *    interrupted restart block comes back as EINTR, facts 5.17); it must
 *    end no earlier than 3 s after it started.
 *  - read: on an empty pipe; the main thread writes after restore and the
 *    read must return exactly those bytes.
 *  - poll: POLLIN on another empty pipe (looping on EINTR); it must see
 *    the event the main thread makes after restore, and not before.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_S 3

static int fword;		/* the futex */
static int after_restore;	/* set by main before it wakes, writes or pokes */
static int rd_pipe[2], poll_pipe[2];

enum { T_FUTEX, T_SLEEP, T_READ, T_POLL, NR_T };

static const char *const names[NR_T] = { "futex", "nanosleep", "read", "poll" };

struct thr {
	pid_t tid;
	volatile int ready, done;
	char err[256];
};

static struct thr thrs[NR_T];

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_ready(struct thr *t)
{
	t->tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&t->ready, 1, __ATOMIC_SEQ_CST);
}

static bool restored(void)
{
	return __atomic_load_n(&after_restore, __ATOMIC_SEQ_CST);
}

static void t_futex(struct thr *t)
{
	long r;

	set_ready(t);
	r = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (r && errno != EAGAIN)
		snprintf(t->err, sizeof(t->err), "futex wait: %s", strerror(errno));
	else if (!__atomic_load_n(&fword, __ATOMIC_SEQ_CST))
		snprintf(t->err, sizeof(t->err), "futex wait returned %ld before the wake", r);
}

static void t_sleep(struct thr *t)
{
	struct timespec req = { SLEEP_S, 0 }, rem;
	double start = mono();
	int r;

	set_ready(t);
	while ((r = nanosleep(&req, &rem)) && errno == EINTR)
		req = rem;
	if (r)
		snprintf(t->err, sizeof(t->err), "nanosleep: %s", strerror(errno));
	else if (mono() - start < SLEEP_S - 0.01)
		snprintf(t->err, sizeof(t->err), "slept %.3f s, want %d", mono() - start, SLEEP_S);
}

static void t_read(struct thr *t)
{
	char buf[32] = { 0 };
	ssize_t n;

	set_ready(t);
	do
		n = read(rd_pipe[0], buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		snprintf(t->err, sizeof(t->err), "read: %s", strerror(errno));
	else if (!restored())
		snprintf(t->err, sizeof(t->err), "read returned %zd before the write", n);
	else if (n != 6 || memcmp(buf, "after!", 6))
		snprintf(t->err, sizeof(t->err), "read %zd bytes \"%s\", want \"after!\"", n, buf);
}

static void t_poll(struct thr *t)
{
	struct pollfd p = { .fd = poll_pipe[0], .events = POLLIN };
	int r;

	set_ready(t);
	do
		r = poll(&p, 1, -1);
	while (r < 0 && errno == EINTR);
	if (r != 1 || !(p.revents & POLLIN))
		snprintf(t->err, sizeof(t->err), "poll returned %d, revents %#x: %s", r, p.revents,
			 r < 0 ? strerror(errno) : "no POLLIN");
	else if (!restored())
		snprintf(t->err, sizeof(t->err), "poll saw POLLIN before the write");
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	int which = (int)(t - thrs);
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* SIGUSR1 is the main thread's */
	switch (which) {
	case T_FUTEX:
		t_futex(t);
		break;
	case T_SLEEP:
		t_sleep(t);
		break;
	case T_READ:
		t_read(t);
		break;
	default:
		t_poll(t);
		break;
	}
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Is thread TID inside a system call now (its stat state is S)? */
static bool sleeping(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool s = false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			s = p[2] == 'S';
		fclose(f);
	}
	return s;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_T];
	double start;

	test_init(argc, argv);
	if (pipe(rd_pipe) || pipe(poll_pipe))
		fail("pipe: %m");
	for (int i = 0; i < NR_T; i++)
		if (pthread_create(&th[i], NULL, thread_main, &thrs[i]))
			fail("pthread_create %s", names[i]);
	/* Dump them blocked, not on their way there. */
	start = mono();
	for (int i = 0; i < NR_T; i++)
		while (!__atomic_load_n(&thrs[i].ready, __ATOMIC_SEQ_CST) || !sleeping(thrs[i].tid)) {
			if (mono() - start > 2)
				fail("thread %s did not block", names[i]);
			usleep(1000);
		}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_T; i++)
		if (i != T_SLEEP && thrs[i].done)
			test_error("%s: returned before it was woken: %s", names[i],
				   thrs[i].err[0] ? thrs[i].err : "no error");
	__atomic_store_n(&after_restore, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fword, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (write(rd_pipe[1], "after!", 6) != 6 || write(poll_pipe[1], "x", 1) != 1)
		test_error("write to the pipes: %m");

	start = mono();
	for (int i = 0; i < NR_T; i++) {
		while (!__atomic_load_n(&thrs[i].done, __ATOMIC_SEQ_CST) && mono() - start < SLEEP_S + 10)
			usleep(10000);
		if (!thrs[i].done) {
			test_error("%s (tid %d): still blocked %d s after the wake", names[i],
				   thrs[i].tid, SLEEP_S + 10);
			continue;
		}
		pthread_join(th[i], NULL);
		if (thrs[i].err[0])
			test_error("%s (tid %d): %s", names[i], thrs[i].tid, thrs[i].err);
	}
	test_finish();
}

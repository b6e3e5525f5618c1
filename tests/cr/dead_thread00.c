// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Dead threads: two joinable threads have ended before the dump (one
 * returned a value, one called pthread_exit() with another), and are not
 * joined yet; a third one still runs. After restore the main thread joins
 * the dead ones and gets their values, and the live one is still there
 * with its tid and then joins too. The kernel has forgotten dead threads,
 * so this proves the dump leaves their memory (glibc's thread structs,
 * their cleared tid futex words) as it was.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/crtest.h"

static volatile int stop;
static volatile pid_t live_tid;

static void *returns(void *arg)
{
	return (void *)((uintptr_t)arg * 3);
}

static void *exits(void *arg)
{
	pthread_exit((void *)((uintptr_t)arg + 1000));
}

static void *lives(void *arg)
{
	(void)arg;
	live_tid = (pid_t)syscall(SYS_gettid);
	while (!stop)
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	return (void *)(uintptr_t)syscall(SYS_gettid);
}

static int nr_threads(void)
{
	char buf[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	pthread_t a, b, c;
	void *ra, *rb, *rc;
	pid_t tid;

	test_init(argc, argv);
	if (pthread_create(&a, NULL, returns, (void *)7) || pthread_create(&b, NULL, exits, (void *)5) ||
	    pthread_create(&c, NULL, lives, NULL))
		fail("pthread_create failed");
	/* The dead ones are gone from the kernel's view when only 2 threads are left. */
	for (int i = 0; i < 5000 && (nr_threads() != 2 || !live_tid); i++)
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	if (nr_threads() != 2)
		fail("%d threads, want 2 (main and the live one)", nr_threads());
	tid = live_tid;

	test_daemon();
	test_waitsig();

	if (nr_threads() != 2)
		test_error("%d threads after restore, want 2", nr_threads());
	if (pthread_join(a, &ra) || ra != (void *)21)
		test_error("joining the thread that returned: %p, want 0x15", ra);
	if (pthread_join(b, &rb) || rb != (void *)1005)
		test_error("joining the thread that called pthread_exit: %p, want 0x3ed", rb);
	stop = 1;
	if (pthread_join(c, &rc) || rc != (void *)(uintptr_t)tid)
		test_error("the live thread had tid %d, now says %ld", tid, (long)(uintptr_t)rc);
	test_finish();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task for bench-mem --label ...: with BENCH_TREE=procs (the default) a
 * tree of BENCH_TREE_N (default 100) processes: the root, 9 children,
 * and the rest spread as their children; with BENCH_TREE=threads one
 * process with BENCH_TREE_N threads. After SIGUSR1 every process checks
 * its pid and parent, every thread its tid, and the root says PASS.
 */
#define _GNU_SOURCE
#include "../cr/lib/crtest.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_N 10000
#define FANOUT 9

static pid_t tids[MAX_N];
static volatile int ready[MAX_N], bad_tid;
static int go;

static void *thread_main(void *arg)
{
	long i = (long)arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	tids[i] = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&ready[i], 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		usleep(10000);
	if ((pid_t)syscall(SYS_gettid) != tids[i])
		bad_tid = 1;
	return NULL;
}

static void threads(long n)
{
	pthread_t th[MAX_N];

	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)i))
			fail("pthread_create %ld", i);
	for (long i = 0; i < n; i++)
		while (!__atomic_load_n(&ready[i], __ATOMIC_SEQ_CST))
			usleep(1000);
	test_daemon();
	test_waitsig();
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	for (long i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (bad_tid)
		fail("a thread has another tid after restore");
	pass();
}

/* A child with N more processes below it (its own children, leaves). */
static pid_t subtree(long n)
{
	pid_t kids[MAX_N], me, parent, pid = test_fork();

	if (pid)
		return pid;
	for (long i = 0; i < n; i++) {
		kids[i] = test_fork();
		if (kids[i] == 0) {
			me = getpid();
			parent = getppid();
			test_ready();
			test_waitsig();
			if (getpid() != me || getppid() != parent)
				test_error("leaf %d: pid %d ppid %d, was %d %d", me, getpid(), getppid(),
					   me, parent);
			test_child_exit();
		}
	}
	me = getpid();
	parent = getppid();
	test_ready();
	test_waitsig();
	if (getpid() != me || getppid() != parent)
		test_error("child %d: pid %d ppid %d, was %d %d", me, getpid(), getppid(), me, parent);
	test_wait_children(kids, (unsigned int)n);
	test_child_exit();
}

static void procs(long n)
{
	pid_t kids[FANOUT];
	long rest = n - 1 - FANOUT, nk = 0;

	for (long i = 0; i < FANOUT && i < n - 1; i++, nk++) {
		long below = rest > 0 ? rest / (FANOUT - i) : 0;

		rest -= below;
		kids[i] = subtree(below);
	}
	test_daemon();
	test_waitsig();
	test_wait_children(kids, (unsigned int)nk);
	test_finish();
}

int main(int argc, char **argv)
{
	const char *mode = getenv("BENCH_TREE"), *env = getenv("BENCH_TREE_N");
	long n = env ? strtol(env, NULL, 10) : 100;

	test_init(argc, argv);
	if (n < 1 || n > MAX_N)
		fail("BENCH_TREE_N must be 1..%d", MAX_N);
	if (mode && !strcmp(mode, "threads"))
		threads(n);
	else if (!mode || !strcmp(mode, "procs"))
		procs(n);
	else
		fail("BENCH_TREE is \"procs\" or \"threads\", not \"%s\"", mode);
}

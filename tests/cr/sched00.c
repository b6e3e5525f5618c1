// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Scheduling policy, rt priority and nice per thread, and oom_score_adj,
 * across the dump. The leader runs SCHED_BATCH with nice 7; one thread
 * SCHED_IDLE with nice 3; one SCHED_FIFO priority 11 (needs CAP_SYS_NICE,
 * as root has) with SCHED_RESET_ON_FORK; one SCHED_OTHER with nice 12.
 * oom_score_adj is raised to 500 (raising needs no privilege). After
 * restore every thread must show exactly its own values: a restore that
 * gives all threads the leader's settings, or criu's, fails.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OOM_ADJ 500

struct want {
	const char *name;
	int policy; /* as sched_getscheduler() returns it */
	int prio;
	int nice;
	pid_t tid;
	volatile int ready;
};

static struct want wants[] = {
	{ "leader", SCHED_BATCH, 0, 7, 0, 0 },
	{ "idle", SCHED_IDLE, 0, 3, 0, 0 },
	{ "fifo", SCHED_FIFO | SCHED_RESET_ON_FORK, 11, 0, 0, 0 },
	{ "other", SCHED_OTHER, 0, 12, 0, 0 },
};

#define NR (sizeof(wants) / sizeof(wants[0]))

static void apply(struct want *w)
{
	struct sched_param sp = { .sched_priority = w->prio };

	w->tid = (pid_t)syscall(SYS_gettid);
	/* The nice first: under SCHED_IDLE and FIFO it is kept, and read back. */
	if (setpriority(PRIO_PROCESS, (id_t)w->tid, w->nice))
		fail("%s: setpriority %d: %m", w->name, w->nice);
	if (sched_setscheduler(0, w->policy, &sp))
		fail("%s: sched_setscheduler %#x/%d: %m", w->name, w->policy, w->prio);
}

static void *thread_main(void *arg)
{
	struct want *w = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	apply(w);
	__atomic_store_n(&w->ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

static int read_oom_adj(void)
{
	char buf[16] = { 0 };
	int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		fail("read /proc/self/oom_score_adj: %m");
	close(fd);
	return atoi(buf);
}

static void write_oom_adj(int v)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	int len = snprintf(buf, sizeof(buf), "%d", v);

	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		fail("write /proc/self/oom_score_adj: %m");
	close(fd);
}

static void check(const struct want *w)
{
	struct sched_param sp;
	int policy, nice;

	policy = sched_getscheduler(w->tid);
	if (policy < 0 || sched_getparam(w->tid, &sp)) {
		test_error("%s (tid %d): cannot read its policy: %m", w->name, w->tid);
		return;
	}
	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)w->tid);
	if (nice == -1 && errno) {
		test_error("%s (tid %d): getpriority: %m", w->name, w->tid);
		return;
	}
	if (policy != w->policy || sp.sched_priority != w->prio || nice != w->nice)
		test_error("%s (tid %d): policy %#x prio %d nice %d, want %#x prio %d nice %d",
			   w->name, w->tid, policy, sp.sched_priority, nice, w->policy, w->prio,
			   w->nice);
}

int main(int argc, char **argv)
{
	pthread_t th;
	int adj;

	test_init(argc, argv);
	write_oom_adj(OOM_ADJ);
	for (size_t i = 1; i < NR; i++) {
		if (pthread_create(&th, NULL, thread_main, &wants[i]))
			fail("pthread_create %s", wants[i].name);
		while (!__atomic_load_n(&wants[i].ready, __ATOMIC_SEQ_CST))
			usleep(1000);
	}
	apply(&wants[0]);
	/* Check before the dump too: a value the kernel did not take proves nothing. */
	for (size_t i = 0; i < NR; i++)
		check(&wants[i]);
	if (read_oom_adj() != OOM_ADJ)
		fail("oom_score_adj did not take %d before the dump", OOM_ADJ);
	if (test_errors())
		fail("the settings did not take before the dump");

	test_daemon();
	test_waitsig();

	for (size_t i = 0; i < NR; i++)
		check(&wants[i]);
	adj = read_oom_adj();
	if (adj != OOM_ADJ)
		test_error("oom_score_adj is %d, want %d", adj, OOM_ADJ);
	test_finish();
}

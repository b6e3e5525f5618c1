/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target processes for the infection tests: forked children that share a
 * page with the test, so the test can see that they keep running (a
 * counter) and what their interrupted system calls returned.
 */
#ifndef TESTS_UNIT_INFECT_TARGET_H
#define TESTS_UNIT_INFECT_TARGET_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct shared {
	volatile long counter;
	volatile int ready;
	volatile long result;
	volatile int err;
	volatile long elapsed_ms;
	volatile uint64_t expect[16]; /* values the target reports for checking */
	char buf[64];
};

static inline struct shared *shared_new(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Fork a child that runs FN(SH) and exits 0. */
static inline pid_t target_start(struct shared *sh, void (*fn)(struct shared *))
{
	pid_t pid = fork();

	if (pid == 0) {
		fn(sh);
		_exit(0);
	}
	return pid;
}

static inline void target_wait_ready(struct shared *sh)
{
	while (!sh->ready)
		usleep(1000);
}

/* The counter moved by at least one step within a second. */
static inline int target_is_running(struct shared *sh)
{
	long before = sh->counter;

	for (int i = 0; i < 1000; i++) {
		if (sh->counter != before)
			return 1;
		usleep(1000);
	}
	return 0;
}

static inline char proc_state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : 0;
}

/* Wait until the task's state letter is one of STATES (up to 2 s). */
static inline int wait_state(pid_t pid, const char *states)
{
	for (int i = 0; i < 2000; i++) {
		char s = proc_state_of(pid);

		if (s && strchr(states, s))
			return 1;
		usleep(1000);
	}
	return 0;
}

static inline long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static inline void busy_counter(struct shared *sh)
{
	sh->ready = 1;
	for (;;)
		sh->counter++;
}

#endif /* TESTS_UNIT_INFECT_TARGET_H */

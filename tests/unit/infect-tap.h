/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TAP harness for the infection tests. Every test runs in its own process
 * (a crash or a hang fails that test only) with a timeout of
 * $CRIU_TEST_TIMEOUT seconds (default 30). Targets are forked by the test
 * process and killed by it. Needs root (ptrace of children works for any
 * user, but the tests also use map_files and SUSPEND_SECCOMP paths).
 */
#ifndef TESTS_UNIT_INFECT_TAP_H
#define TESTS_UNIT_INFECT_TAP_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log.h"

struct itap_test {
	const char *name;
	void (*fn)(void);
};

#define ITAP(fn) { #fn, fn }

static int itap_failed;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			fflush(stdout);                                                  \
			itap_failed = 1;                                                 \
		}                                                                        \
	} while (0)

#define CHECK_EQ(a, b)                                                                    \
	do {                                                                              \
		long long itap_a_ = (long long)(a), itap_b_ = (long long)(b);             \
		if (itap_a_ != itap_b_) {                                                 \
			printf("#   %s:%d: check failed: %s == %s (%lld != %lld)\n",  \
			       __FILE__, __LINE__, #a, #b, itap_a_, itap_b_);             \
			fflush(stdout);                                                   \
			itap_failed = 1;                                                  \
		}                                                                         \
	} while (0)

/* Give up on the test right here (the process exits; its children die with it). */
#define REQUIRE(cond)                                                                     \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("#   %s:%d: required: %s\n", __FILE__, __LINE__, #cond);      \
			fflush(stdout);                                                   \
			exit(1);                                                          \
		}                                                                         \
	} while (0)

static int itap_run(const struct itap_test *tests, size_t n)
{
	const char *t = getenv("CRIU_TEST_TIMEOUT");
	unsigned int timeout = t ? (unsigned int)atoi(t) : 30;
	int failures = 0;

	printf("1..%zu\n", n);
	fflush(stdout);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (size_t i = 0; i < n; i++) {
		int status = 0;
		pid_t pid = fork();

		if (pid == 0) {
			/* Our targets are our children; make their orphans ours too. */
			prctl(PR_SET_CHILD_SUBREAPER, 1);
			setpgid(0, 0);
			log_set_level(getenv("CRIU_TEST_VERBOSE") ? 4 : 1);
			alarm(timeout);
			tests[i].fn();
			fflush(stdout);
			_exit(itap_failed ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			status = -1;
		/* Whatever the test left behind goes with it. */
		if (pid > 0)
			kill(-pid, SIGKILL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (status == 0) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else {
			failures++;
			if (WIFSIGNALED(status))
				printf("not ok %zu - %s (signal %d)\n", i + 1, tests[i].name,
				       WTERMSIG(status));
			else
				printf("not ok %zu - %s\n", i + 1, tests[i].name);
		}
		fflush(stdout);
	}
	return failures ? 1 : 0;
}

#endif /* TESTS_UNIT_INFECT_TAP_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TAP harness for the restore tests. Each test runs in its own process,
 * which is a child subreaper and reaps what it made, with a timeout of
 * $CRIU_TEST_TIMEOUT seconds (default 30). They need root (clone3
 * set_tid, ptrace, PR_SET_MM_MAP).
 */
#ifndef TESTS_UNIT_RESTORE_TAP_H
#define TESTS_UNIT_RESTORE_TAP_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct rtap_test {
	const char *name;
	void (*fn)(void);
};

#define RTAP(fn) { #fn, fn }

static int rtap_failed;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			fflush(stdout);                                                  \
			rtap_failed = 1;                                                 \
		}                                                                        \
	} while (0)

#define CHECK_EQ(a, b)                                                                   \
	do {                                                                             \
		unsigned long long rtap_a_ = (unsigned long long)(a);                    \
		unsigned long long rtap_b_ = (unsigned long long)(b);                    \
		if (rtap_a_ != rtap_b_) {                                                \
			printf("#   %s:%d: check failed: %s == %s (%#llx != %#llx)\n", \
			       __FILE__, __LINE__, #a, #b, rtap_a_, rtap_b_);            \
			fflush(stdout);                                                  \
			rtap_failed = 1;                                                 \
		}                                                                        \
	} while (0)

/* Reap every child and grandchild that is left (we are a subreaper). */
static void rtap_reap_all(void)
{
	while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
		;
}

static int rtap_run(const struct rtap_test *t, size_t n)
{
	const char *tmo = getenv("CRIU_TEST_TIMEOUT");
	int timeout = tmo ? atoi(tmo) : 30;
	int fails = 0;

	printf("1..%zu\n", n);
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		int status = 0;
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_CHILD_SUBREAPER, 1);
			alarm((unsigned int)timeout);
			t[i].fn();
			rtap_reap_all();
			fflush(stdout);
			_exit(rtap_failed ? 1 : 0);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %zu - %s\n", i + 1, t[i].name);
		} else {
			printf("not ok %zu - %s (status %#x)\n", i + 1, t[i].name, status);
			fails++;
		}
		fflush(stdout);
	}
	return fails ? 1 : 0;
}

#endif /* TESTS_UNIT_RESTORE_TAP_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TAP harness for the core/check and core/cpu unit tests. Each test runs
 * in its own process with a timeout of $CRIU_TEST_TIMEOUT seconds
 * (default 60) and ends with exit(), so LeakSanitizer checks it. A test
 * may call CTAP_SKIP() when this host cannot run it.
 */
#ifndef TESTS_UNIT_CHECK_TAP_H
#define TESTS_UNIT_CHECK_TAP_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log.h"

struct ctap_test {
	const char *name;
	void (*fn)(void);
};

#define CTAP(fn)        \
	{               \
#fn, fn \
	}

static int ctap_failed;

#define CTAP_SKIP_STATUS 77

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			fflush(stdout);                                                     \
			ctap_failed = 1;                                                    \
		}                                                                           \
	} while (0)

#define CHECK_EQ(a, b)                                                                                           \
	do {                                                                                                     \
		long long ctap_a_ = (long long)(a), ctap_b_ = (long long)(b);                                    \
		if (ctap_a_ != ctap_b_) {                                                                        \
			printf("#   %s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, \
			       ctap_a_, ctap_b_);                                                                \
			fflush(stdout);                                                                          \
			ctap_failed = 1;                                                                         \
		}                                                                                                \
	} while (0)

#define REQUIRE(cond)                                                                   \
	do {                                                                            \
		if (!(cond)) {                                                          \
			printf("#   %s:%d: required: %s\n", __FILE__, __LINE__, #cond); \
			fflush(stdout);                                                 \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

#define CTAP_SKIP(why)                              \
	do {                                        \
		printf("#   skipped: %s\n", (why)); \
		fflush(stdout);                     \
		exit(CTAP_SKIP_STATUS);             \
	} while (0)

static int ctap_run(const struct ctap_test *tests, size_t n)
{
	const char *t = getenv("CRIU_TEST_TIMEOUT");
	unsigned int timeout = t ? (unsigned int)atoi(t) : 60;
	int failures = 0;

	printf("1..%zu\n", n);
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		int status = 0;
		pid_t pid = fork();

		if (pid == 0) {
			log_set_level(getenv("CRIU_TEST_VERBOSE") ? 4 : 1);
			alarm(timeout);
			tests[i].fn();
			fflush(stdout);
			exit(ctap_failed ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			status = -1;
		if (status == 0) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == CTAP_SKIP_STATUS) {
			printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
		} else {
			failures++;
			if (WIFSIGNALED(status))
				printf("not ok %zu - %s (signal %d)\n", i + 1, tests[i].name, WTERMSIG(status));
			else
				printf("not ok %zu - %s\n", i + 1, tests[i].name);
		}
		fflush(stdout);
	}
	return failures ? 1 : 0;
}

#endif /* TESTS_UNIT_CHECK_TAP_H */

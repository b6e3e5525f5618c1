/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small TAP harness for the plugin unit tests. Each test runs in its own
 * child process (so a crash, a leak found by LeakSanitizer at exit, or a
 * hang fails that test only), under a timeout of $CRIU_TEST_TIMEOUT
 * seconds (default 30; raise it for slow sanitizer builds).
 *
 * A test is "static void t_name(void)" that calls CHECK(); tests_run()
 * prints the plan and one "ok"/"not ok" line per test.
 */
#ifndef TESTS_UNIT_PLUGINS_TAP_H
#define TESTS_UNIT_PLUGINS_TAP_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log.h"

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_TEST(fn)    \
	{               \
#fn, fn \
	}

static int tap_check_failed;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			tap_check_failed = 1;                                               \
		}                                                                           \
	} while (0)

/* The same, with an int shown when it differs. */
#define CHECK_EQ(a, b)                                                                                           \
	do {                                                                                                     \
		long long tap_a_ = (a), tap_b_ = (b);                                                            \
		if (tap_a_ != tap_b_) {                                                                          \
			printf("#   %s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, \
			       tap_a_, tap_b_);                                                                  \
			tap_check_failed = 1;                                                                    \
		}                                                                                                \
	} while (0)

/* The log goes to a temporary file that tap_log_text() reads back. */
static int tap_log_fd = -1;
static char tap_log_buf[65536];

static inline void tap_log_capture(void)
{
	char path[] = "/tmp/criu-plugins-test-log.XXXXXX";

	tap_log_fd = mkstemp(path);
	if (tap_log_fd < 0) {
		perror("mkstemp");
		exit(99);
	}
	unlink(path);
	log_set_fd(tap_log_fd);
	log_set_level(4);
}

/* Everything logged so far, NUL-terminated (truncated if huge). */
static inline const char *tap_log_text(void)
{
	ssize_t n = pread(tap_log_fd, tap_log_buf, sizeof(tap_log_buf) - 1, 0);

	tap_log_buf[n > 0 ? n : 0] = '\0';
	return tap_log_buf;
}

#define CHECK_LOG(needle)                                                                            \
	do {                                                                                         \
		if (!strstr(tap_log_text(), (needle))) {                                             \
			printf("#   %s:%d: log lacks \"%s\"; log:\n", __FILE__, __LINE__, (needle)); \
			tap_log_dump();                                                              \
			tap_check_failed = 1;                                                        \
		}                                                                                    \
	} while (0)

static inline void tap_log_dump(void)
{
	const char *text = tap_log_text();

	while (*text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);

		printf("#     | %.*s\n", len, text);
		text += len + (nl ? 1 : 0);
	}
}

static inline int tap_run_one(const struct tap_test *t)
{
	const char *env = getenv("CRIU_TEST_TIMEOUT");
	unsigned int timeout = env ? (unsigned int)atoi(env) : 30;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		alarm(timeout ? timeout : 30);
		tap_log_capture();
		t->fn();
		if (tap_check_failed)
			tap_log_dump();
		fflush(stdout);
		close(tap_log_fd);
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(tap_check_failed ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	if (WIFSIGNALED(status)) {
		printf("#   killed by signal %d%s\n", WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout; see CRIU_TEST_TIMEOUT)" : "");
		return 1;
	}
	return WEXITSTATUS(status) != 0;
}

static inline int tests_run(const struct tap_test *tests, size_t n)
{
	int failed = 0;

	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		int bad = tap_run_one(&tests[i]);

		printf("%sok %zu - %s\n", bad ? "not " : "", i + 1, tests[i].name);
		failed += bad;
	}
	return failed ? 1 : 0;
}

#endif /* TESTS_UNIT_PLUGINS_TAP_H */

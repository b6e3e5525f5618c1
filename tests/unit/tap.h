/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TAP harness of every unit test (tests/unit, plugins/NAME/tests).
 *
 * A test is "static void t_name(void)" that calls CHECK*() and REQUIRE();
 * tests go in a table of TAP_TEST(t_name) and tap_run() runs each in its
 * own child process, so a crash, a hang or a leak found by LeakSanitizer
 * at exit fails that test only. It prints the plan, then one
 * "ok N - name" or "not ok N - name (reason)" line per test; a test that
 * calls TAP_SKIP(why) gives "ok N - name # SKIP why".
 *
 * Timeout of one test: struct tap_opts.timeout seconds (default 30), or
 * $CRIU_TEST_TIMEOUT when set, times $TAP_TIMEOUT_SCALE (an integer,
 * default 1; raise it for slow sanitizer builds).
 *
 * Tests that are a flat list of checks rather than a table may instead
 * print their points with tap_ok() and end with tap_done().
 *
 * Area headers (options-tap.h, plugins-tap.h, ...) include this one and
 * add their own helpers and a struct tap_opts with setup/teardown hooks.
 */
#ifndef TESTS_UNIT_TAP_H
#define TESTS_UNIT_TAP_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Not every test uses every helper. */
#define TAP_FN static __attribute__((unused))

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_TEST(fn) { #fn, fn }
#define TAP_COUNT(table) (sizeof(table) / sizeof((table)[0]))

struct tap_opts {
	/* Seconds before the test is killed (see above); 0: 30. */
	unsigned int timeout;
	/*
	 * The test process is a child subreaper in its own process group:
	 * it reaps what is left when the test returns, and the group is
	 * killed after it (for tests that fork targets or restore tasks).
	 */
	bool subreaper;
	/* End the test with _exit(): no atexit handlers, no leak check. */
	bool quick_exit;
	/* Called in the test process before and after the test. */
	void (*setup)(void);
	void (*teardown)(void);
};

/* Set by a failed CHECK in the test process. */
static int tap_failed __attribute__((unused));

#define TAP_SKIP_STATUS 77

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			fflush(stdout);                                                     \
			tap_failed = 1;                                                     \
		}                                                                           \
	} while (0)

/* Integers (and pointers) compared as 64-bit; both values shown when they differ. */
#define CHECK_EQ(a, b)                                                                                       \
	do {                                                                                                 \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);                                  \
		if (tap_a_ != tap_b_) {                                                                      \
			printf("#   %s:%d: check failed: %s == %s (%lld != %lld; %#llx != %#llx)\n", __FILE__, \
			       __LINE__, #a, #b, tap_a_, tap_b_, (unsigned long long)tap_a_,                 \
			       (unsigned long long)tap_b_);                                                  \
			fflush(stdout);                                                                      \
			tap_failed = 1;                                                                      \
		}                                                                                            \
	} while (0)

/* Strings; NULL never matches. */
#define CHECK_STR(a, b)                                                                                    \
	do {                                                                                               \
		const char *tap_sa_ = (a), *tap_sb_ = (b);                                                 \
		if (!tap_sa_ || !tap_sb_ || strcmp(tap_sa_, tap_sb_)) {                                    \
			printf("#   %s:%d: check failed: %s == %s:\n#     got  \"%s\"\n#     want \"%s\"\n", \
			       __FILE__, __LINE__, #a, #b, tap_sa_ ? tap_sa_ : "(null)",                   \
			       tap_sb_ ? tap_sb_ : "(null)");                                              \
			fflush(stdout);                                                                    \
			tap_failed = 1;                                                                    \
		}                                                                                          \
	} while (0)

/* Give up on the test right here: it fails (teardown does not run). */
#define REQUIRE(cond)                                                                   \
	do {                                                                            \
		if (!(cond)) {                                                          \
			printf("#   %s:%d: required: %s\n", __FILE__, __LINE__, #cond); \
			fflush(stdout);                                                 \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

/* This host cannot run the test: end it as skipped, saying WHY. */
static char *tap_skip_reason __attribute__((unused));

#define TAP_SKIP(why)                                                                   \
	do {                                                                            \
		if (tap_skip_reason)                                                    \
			snprintf(tap_skip_reason, 256, "%s", (why));                    \
		printf("#   skipped: %s\n", (why));                                 \
		fflush(stdout);                                                         \
		exit(TAP_SKIP_STATUS);                                                  \
	} while (0)

TAP_FN unsigned int tap_timeout(const struct tap_opts *o)
{
	const char *env = getenv("CRIU_TEST_TIMEOUT");
	const char *scale_env = getenv("TAP_TIMEOUT_SCALE");
	int base = o && o->timeout ? (int)o->timeout : 30;
	int scale = scale_env ? atoi(scale_env) : 1;

	if (env && atoi(env) > 0)
		base = atoi(env);
	if (scale < 1)
		scale = 1;
	return (unsigned int)(base * scale);
}

/* Run test T in a child; 0: passed, 1: failed, TAP_SKIP_STATUS: skipped. */
TAP_FN int tap_run_one(const struct tap_test *t, const struct tap_opts *o, char *reason, size_t size)
{
	unsigned int timeout = tap_timeout(o);
	int status = 0;
	pid_t pid;

	fflush(stdout);
	reason[0] = '\0';
	if (tap_skip_reason)
		tap_skip_reason[0] = '\0';
	pid = fork();
	if (pid < 0) {
		snprintf(reason, size, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (o->subreaper) {
			prctl(PR_SET_CHILD_SUBREAPER, 1);
			setpgid(0, 0);
		}
		alarm(timeout);
		if (o->setup)
			o->setup();
		t->fn();
		if (o->teardown)
			o->teardown();
		if (o->subreaper)
			while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
				;
		fflush(stdout);
		if (o->quick_exit)
			_exit(tap_failed ? 1 : 0);
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(tap_failed ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(reason, size, "waitpid: %s", strerror(errno));
			return 1;
		}
	}
	if (o->subreaper) {
		/* Whatever the test left behind goes with it. */
		kill(-pid, SIGKILL);
		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			;
	}
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			snprintf(reason, size, "timeout after %us; raise TAP_TIMEOUT_SCALE", timeout);
		else
			snprintf(reason, size, "killed by signal %d", WTERMSIG(status));
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_SKIP_STATUS) {
		snprintf(reason, size, "%s", tap_skip_reason && tap_skip_reason[0] ? tap_skip_reason : "skipped");
		return TAP_SKIP_STATUS;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(reason, size, "exit status %d", WEXITSTATUS(status));
		return 1;
	}
	return 0;
}

/* Run the N TESTS with options O (NULL: defaults); the exit status of main(). */
TAP_FN int tap_run(const struct tap_test *tests, size_t n, const struct tap_opts *o)
{
	static const struct tap_opts defaults;
	int failures = 0;

	if (!o)
		o = &defaults;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Shared with the test processes: the reason a test was skipped. */
	tap_skip_reason = mmap(NULL, 256, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tap_skip_reason == MAP_FAILED)
		tap_skip_reason = NULL;
	if (o->subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	printf("1..%zu\n", n);
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		char reason[300];
		int ret = tap_run_one(&tests[i], o, reason, sizeof(reason));

		if (ret == 0)
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		else if (ret == TAP_SKIP_STATUS)
			printf("ok %zu - %s # SKIP %s\n", i + 1, tests[i].name, reason);
		else
			printf("not ok %zu - %s (%s)\n", i + 1, tests[i].name, reason);
		fflush(stdout);
		failures += ret == 1;
	}
	if (tap_skip_reason)
		munmap(tap_skip_reason, 256);
	return failures ? 1 : 0;
}

/* main() running TABLE with options OPTS (NULL: defaults). */
#define TAP_MAIN(table, opts) \
	int main(void) { return tap_run(table, TAP_COUNT(table), opts); }

/* --- A flat list of points, no table -------------------------------------- */

static int tap_n __attribute__((unused)), tap_nfailed __attribute__((unused));

/* Print point "ok N - what" (or "not ok") for COND. */
TAP_FN void tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
TAP_FN void tap_ok(bool cond, const char *fmt, ...)
{
	va_list args;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_nfailed++;
}

TAP_FN void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
TAP_FN void tap_diag(const char *fmt, ...)
{
	va_list args;

	printf("# ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
}

/* Print the plan (after the points); the exit status of main(). */
TAP_FN int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_nfailed ? 1 : 0;
}

#endif /* TESTS_UNIT_TAP_H */

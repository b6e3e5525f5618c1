/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plugin unit tests: tap.h with the log of each test captured, so
 * CHECK_LOG() can look for what an error said; a failed test shows it.
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
#include "tap.h"

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
			tap_failed = 1;                                                        \
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

/* tap.h hooks: the log of each test captured, and shown if the test fails. */
static void plugins_tap_setup(void)
{
	tap_log_capture();
}

static void plugins_tap_teardown(void)
{
	if (tap_failed)
		tap_log_dump();
	close(tap_log_fd);
}

static const struct tap_opts plugins_tap_opts = {
	.timeout = 30,
	.setup = plugins_tap_setup,
	.teardown = plugins_tap_teardown,
};

#endif /* TESTS_UNIT_PLUGINS_TAP_H */

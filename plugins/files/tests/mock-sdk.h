/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A mock of the core for plugin unit tests (the way collectd tests its
 * plugins against plugin_mock.c): the cp_* functions of
 * include/criu/plugin.h and log.h, implemented just enough for a plugin's
 * kind sources to be compiled into a test program and driven the way the
 * core drives them: match and dump on the dump side, open on the restore
 * side, with every kind registered for a FileEntry type asked in turn
 * until one does not answer -ENOTSUP.
 *
 * Tests run under tests/unit/tap.h: each in its own process, with
 * mock_setup() before it and mock_teardown() after it.
 */
#ifndef PLUGINS_FILES_TESTS_MOCK_SDK_H
#define PLUGINS_FILES_TESTS_MOCK_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

#include <criu/plugin.h>

/* --- TAP (tests/unit/tap.h) ------------------------------------------ */

/* Set by the mock when the core would have failed (a plugin's init). */
extern int mock_check_failed;

/* Does the log hold NEEDLE? Prints the log when it does not. */
#define CHECK_LOG(needle)                                                                                             \
	do {                                                                                                          \
		if (!strstr(mock_log_text(), (needle))) {                                                             \
			printf("#   %s:%d: log lacks \"%s\"; log:\n%s", __FILE__, __LINE__, needle, mock_log_text()); \
			fflush(stdout);                                                                               \
			tap_failed = 1;                                                                               \
		}                                                                                                     \
	} while (0)

/* A fresh mock core and scratch dir for one test, and their cleanup. */
void mock_setup(void);
void mock_teardown(void);

TAP_FN void mock_tap_teardown(void)
{
	mock_teardown();
	if (mock_check_failed)
		tap_failed = 1;
}

/* Run a table with tap_run(tests, n, &mock_tap_opts): each test gets mock_setup()/mock_teardown(). */
static const struct tap_opts mock_tap_opts __attribute__((unused)) = {
	.timeout = 30,
	.setup = mock_setup,
	.teardown = mock_tap_teardown,
};

/* --- The mock core --------------------------------------------------- */

/*
 * Start a plugin named NAME: its init function INIT is called as the core
 * would call it. May be called once per plugin, in load order; returns
 * the plugin handle (owned by the mock).
 */
struct cp_plugin *mock_plugin_start(const char *name, int (*init)(struct cp_plugin *p));

/* A core option as criu would give it (NULL: unset). */
void mock_set_opt(const char *name, const char *value);
/* Append a value of the plugin's own list key KEY. */
void mock_add_plugin_opt(const char *key, const char *value);

/* Everything logged since the test began, one line per message. */
const char *mock_log_text(void);
void mock_log_clear(void);

/* The scratch dir of the test (removed after it) and the images dir in it. */
const char *mock_tmpdir(void);
const char *mock_images_dir(void);

/*
 * Describe FD of this process as the core describes a task's fd: link,
 * fdinfo text, pos, flags and mnt_id from fdinfo, fstat, local_fd = a dup.
 * Free with mock_fd_desc_free().
 */
int mock_fd_desc(int fd, struct cp_fd_desc *d);
void mock_fd_desc_free(struct cp_fd_desc *d);

/* A dumped file: what the core would put in files.img. */
struct mock_file {
	uint32_t id;
	uint32_t type;
	uint32_t field;
	const char *kind; /* name of the kind that dumped it */
	void *payload;
	size_t len;
};

/*
 * Dump side: find the kind whose match() takes D (in registration order)
 * and call its dump(). Returns 0, -ENOTSUP when no kind matched, or the
 * error of match()/dump().
 */
int mock_dump_fd(const struct cp_fd_desc *d, uint32_t id, struct mock_file *out);
/* Dump this process's FD (mock_fd_desc + mock_dump_fd). */
int mock_dump_own_fd(int fd, uint32_t id, struct mock_file *out);
void mock_file_free(struct mock_file *f);

/*
 * Restore side: ask every kind registered for F->type, in registration
 * order, to open F as fd TARGET_FD, until one answers other than -ENOTSUP.
 * KIND (may be NULL) gets the name of the kind that answered.
 */
int mock_open_file(const struct mock_file *f, int target_fd, int *out_fd, const char **kind);

/*
 * Restore side, once every fd is in place: call post_open() (if any) of
 * the first kind registered for F->type that has one, with the fd FD.
 */
int mock_post_open_file(const struct mock_file *f, int fd);

/* What cp_rpc_service_sk_ino() answers (0: -ENOENT, not over RPC). */
void mock_set_rpc_sk_ino(uint64_t ino);

/* Run the hooks registered for STAGE. */
int mock_run_hooks(enum cp_stage stage);
/* The same, with ctx->ret RESULT (the result so far, for the final stages). */
int mock_run_hooks_ret(enum cp_stage stage, int result);

#endif /* PLUGINS_FILES_TESTS_MOCK_SDK_H */

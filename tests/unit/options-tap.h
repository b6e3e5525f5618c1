/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The option tests: tap.h (each test in its own child process, so
 * environment changes fail or pass that test only) with, per test, a
 * scratch directory and every config location pointed into it.
 *
 * Helpers: a scratch directory per test, files written into it, stderr
 * captured into a buffer, and the criu binary of the build tree run with
 * its stdout, stderr and exit status captured.
 */
#ifndef TESTS_UNIT_OPTIONS_TAP_H
#define TESTS_UNIT_OPTIONS_TAP_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* --- scratch files ------------------------------------------------------ */

static char tap_dir[256];

static inline const char *tap_path(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", tap_dir, name);
	return p;
}

/* Write TEXT to NAME in the scratch dir (creating subdirectories); returns its path. */
static inline const char *tap_write(const char *name, const char *text)
{
	const char *path = tap_path(name);
	char dir[512], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = strchr(dir + strlen(tap_dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0700);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		printf("#   can't write %s: %s\n", path, strerror(errno));
		tap_failed = 1;
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static inline char *tap_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t len = 0;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	if (buf) {
		len = fread(buf, 1, (1 << 20) - 1, f);
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

static inline int tap_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * Point every config location into the scratch dir, so no test reads the
 * real /etc/criu or ~/.criu.
 */
static inline void tap_isolate_config(void)
{
	setenv("CRIU_DEFAULT_CONFIG_DIR", tap_path("etc"), 1);
	setenv("HOME", tap_path("home"), 1);
	unsetenv("CRIU_CONFIG_FILE");
	unsetenv("CRIU_DEPRECATED");
	unsetenv("CRIU_LIBS_DIR");
}

/* --- stderr capture -------------------------------------------------------- */

static int tap_saved_stderr = -1;

static inline void tap_stderr_begin(void)
{
	int fd = open(tap_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	tap_saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Stop capturing; returns what was written (free it). */
static inline char *tap_stderr_end(void)
{
	fflush(stderr);
	dup2(tap_saved_stderr, 2);
	close(tap_saved_stderr);
	return tap_read_file(tap_path("stderr.txt"));
}

/* --- running criu ---------------------------------------------------------- */

struct criu_run {
	int status; /* exit status, or 128 + signal */
	char *out;
	char *err;
};

static inline const char *tap_criu_path(void)
{
	static char path[1024];
	const char *top = getenv("top_builddir");

	snprintf(path, sizeof(path), "%s/criu", top ? top : ".");
	return path;
}

/* Run criu with the NULL-terminated ARGS (without argv[0]). */
static inline void tap_run_criu(struct criu_run *r, const char *const *args)
{
	const char *argv[64] = { "criu" };
	pid_t pid;
	int st = 0, n = 1;

	while (args[n - 1] && n < 63) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int o = open(tap_path("run.out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(tap_path("run.err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(o, 1);
		dup2(e, 2);
		execv(tap_criu_path(), (char **)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = tap_read_file(tap_path("run.out"));
	r->err = tap_read_file(tap_path("run.err"));
	if (!r->out)
		r->out = strdup("");
	if (!r->err)
		r->err = strdup("");
}

static inline void tap_run_free(struct criu_run *r)
{
	free(r->out);
	free(r->err);
}

/* --- tap.h hooks: a scratch dir and an isolated config per test ---------- */

static void options_tap_setup(void)
{
	snprintf(tap_dir, sizeof(tap_dir), "/tmp/criu-options-test.XXXXXX");
	if (!mkdtemp(tap_dir))
		_exit(2);
	tap_isolate_config();
}

static void options_tap_teardown(void)
{
	nftw(tap_dir, tap_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct tap_opts options_tap_opts = {
	.timeout = 30,
	.setup = options_tap_setup,
	.teardown = options_tap_teardown,
};

#endif /* TESTS_UNIT_OPTIONS_TAP_H */

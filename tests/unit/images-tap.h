/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A few helpers shared by the images-* unit tests (which print their
 * points with tap.h's tap_ok()): a scratch images dir, and a captured log
 * so tests can check what an error said.
 */
#ifndef TESTS_UNIT_IMAGES_TAP_H
#define TESTS_UNIT_IMAGES_TAP_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"
#include "tap.h"

/* The log goes to a memfd; log_take() returns what was logged since the last call. */
static int tap_log_fd = -1;
static char tap_log_buf[16384];

TAP_FN void tap_log_capture(void)
{
	tap_log_fd = memfd_create("images-test-log", MFD_CLOEXEC);
	if (tap_log_fd < 0) {
		perror("memfd_create");
		exit(2);
	}
	log_set_fd(tap_log_fd);
	log_set_level(4);
}

TAP_FN const char *log_take(void)
{
	ssize_t n;

	n = pread(tap_log_fd, tap_log_buf, sizeof(tap_log_buf) - 1, 0);
	if (n < 0)
		n = 0;
	tap_log_buf[n] = '\0';
	if (ftruncate(tap_log_fd, 0) || lseek(tap_log_fd, 0, SEEK_SET))
		tap_log_buf[0] = '\0';
	return tap_log_buf;
}

TAP_FN bool log_has(const char *log, const char *needle)
{
	return strstr(log, needle) != NULL;
}

/* A scratch directory, removed (with its files) by tap_rmdir(). */
static char tap_dir[64];

TAP_FN const char *tap_mkdir(void)
{
	snprintf(tap_dir, sizeof(tap_dir), "/tmp/images-test.XXXXXX");
	if (!mkdtemp(tap_dir)) {
		perror("mkdtemp");
		exit(2);
	}
	return tap_dir;
}

TAP_FN void tap_rmdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tap_dir);
	if (system(cmd))
		fprintf(stderr, "can't remove %s\n", tap_dir);
}

/* Write LEN bytes as file NAME of DIRFD. */
TAP_FN void tap_put_file(int dirfd, const char *name, const void *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror(name);
		exit(2);
	}
	close(fd);
}

/* Read file NAME of DIRFD into BUF (at most SIZE bytes); returns the length. */
TAP_FN size_t tap_get_file(int dirfd, const char *name, void *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		perror(name);
		exit(2);
	}
	n = read(fd, buf, size);
	close(fd);
	return n < 0 ? 0 : (size_t)n;
}

#endif /* TESTS_UNIT_IMAGES_TAP_H */

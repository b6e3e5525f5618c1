// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The runner's page-server variant (run-ps.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run-ps.h"

static bool is_page_image(const char *name)
{
	return (!strncmp(name, "pagemap-", 8) || !strncmp(name, "pages-", 6)) &&
	       strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".img");
}

int ps_start(const char *criu, const char *dir, pid_t *pid, int *port, char *err, size_t len)
{
	char log[PATH_MAX], out[PATH_MAX], line[128] = "";
	struct pollfd p;
	size_t got = 0;
	int fds[2];

	mkdir(dir, 0755);
	snprintf(log, sizeof(log), "%s/page-server.log", dir);
	snprintf(out, sizeof(out), "%s/page-server.out", dir);
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, len, "pipe: %s", strerror(errno));
		return -1;
	}
	*pid = fork();
	if (*pid < 0) {
		snprintf(err, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (*pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fds[1], STDOUT_FILENO);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		execl(criu, criu, "page-server", "-D", dir, "-o", log, "-v4", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* "Port: N" comes once it listens. */
	p.fd = fds[0];
	p.events = POLLIN;
	while (!strchr(line, '\n') && got < sizeof(line) - 1 && poll(&p, 1, 10000) > 0) {
		ssize_t n = read(fds[0], line + got, sizeof(line) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	close(fds[0]);
	if (sscanf(line, "Port: %d", port) != 1 || *port <= 0 || *port > 65535) {
		snprintf(err, len, "the page server said no port (\"%.40s\"); see %s", line, out);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		return -1;
	}
	return 0;
}

static int wait_exit(pid_t pid, int timeout_sec, char *err, size_t len)
{
	struct timespec t0, t;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t ret = waitpid(pid, &status, WNOHANG);

		if (ret == pid)
			break;
		if (ret < 0 && errno != EINTR) {
			snprintf(err, len, "waitpid on the page server: %s", strerror(errno));
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > timeout_sec) {
			snprintf(err, len, "the page server (pid %d) did not exit after the dump", pid);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(20000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, len, "the page server ended with status %#x", status);
		return -1;
	}
	return 0;
}

int ps_collect(pid_t pid, const char *ps_dir, const char *dump_dir, int timeout_sec, char *err, size_t len)
{
	struct dirent *de;
	int moved = 0, ret = 0;
	DIR *d;

	if (wait_exit(pid, timeout_sec, err, len))
		return -1;
	d = opendir(dump_dir);
	if (!d) {
		snprintf(err, len, "opendir %s: %s", dump_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (is_page_image(de->d_name)) {
			snprintf(err, len, "the dump wrote %s itself despite --page-server", de->d_name);
			ret = -1;
		}
	closedir(d);
	if (ret)
		return ret;
	d = opendir(ps_dir);
	if (!d) {
		snprintf(err, len, "opendir %s: %s", ps_dir, strerror(errno));
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		char from[PATH_MAX], to[PATH_MAX];

		if (!is_page_image(de->d_name))
			continue;
		snprintf(from, sizeof(from), "%s/%s", ps_dir, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", dump_dir, de->d_name);
		if (rename(from, to)) {
			snprintf(err, len, "rename %s: %s", from, strerror(errno));
			ret = -1;
		}
		moved++;
	}
	closedir(d);
	if (!ret && moved < 2) {
		snprintf(err, len, "the page server wrote %d page images (a pagemap and its pages expected)", moved);
		ret = -1;
	}
	return ret;
}

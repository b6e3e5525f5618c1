// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Daemon helpers shared by criu service and criu page-server.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "daemon: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <criu/log.h>

#include "options/options.h"
#include "rpc/daemon.h"
#include "rpc/notify.h"

int daemon_write_pidfile(const char *path)
{
	char buf[32];
	int fd, len, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_perror("Can't create the pidfile %s", path);
		return ret;
	}
	len = snprintf(buf, sizeof(buf), "%d", (int)getpid());
	if (write(fd, buf, len) != len) {
		ret = -EIO;
		pr_perror("Can't write the pidfile %s", path);
	}
	close(fd);
	return ret;
}

int daemon_status_ready(struct options *o)
{
	int ret, fd;

	ret = notify_event(o, "status-ready", 0);
	if (ret)
		return ret;
	if (!opt_is_set(o, OPT_STATUS_FD))
		return 0;
	fd = opt_int(o, OPT_STATUS_FD);
	if (write(fd, "", 1) != 1) {
		ret = -errno;
		pr_perror("Can't write to the status fd %d", fd);
	}
	close(fd);
	return ret;
}

int daemon_detach(int *ready_fd)
{
	int p[2], devnull;
	pid_t pid;
	char byte;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int ret = -errno;

		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &byte, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		/* A daemon logs with -o FILE; its stderr goes nowhere. */
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	*ready_fd = p[1];
	return 0;
}

void daemon_release_parent(int *ready_fd)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, "", 1) != 1)
		pr_perror("Can't tell the parent that the daemon is ready");
	close(*ready_fd);
	*ready_fd = -1;
}

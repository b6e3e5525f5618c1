// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Services a plugin uses to reach a task being dumped: read its memory and
 * take a copy of one of its fds. The task is frozen by the core.
 */
#define _GNU_SOURCE /* process_vm_readv() */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "plugins/plugins.h"

/* glibc 2.36 has no wrappers; the numbers are the same on every arch. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/*
 * /proc/PID/mem reads pages that process_vm_readv() refuses (PROT_NONE,
 * or a kernel without CMA), so it finishes whatever the fast path left.
 */
static ssize_t read_proc_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	size_t done = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		done += n;
	}
	close(fd);
	if (!done && err)
		return -err;
	return done;
}

CP_EXPORT ssize_t cp_task_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local, remote;
	ssize_t n, rest;

	if (pid <= 0 || (!buf && len) || len > SSIZE_MAX) {
		pr_err("cp_task_read_mem(): bad arguments (pid %d, %zu bytes)", (int)pid, len);
		return -EINVAL;
	}
	if (!len)
		return 0;

	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = len;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return n;
	if (n < 0) {
		pr_debug("process_vm_readv(pid %d, 0x%llx, %zu): %s; trying /proc/%d/mem", (int)pid,
			 (unsigned long long)addr, len, strerror(errno), (int)pid);
		n = 0;
	}

	rest = read_proc_mem(pid, addr + n, (char *)buf + n, len - n);
	if (rest < 0 && !n) {
		errno = -rest;
		pr_perror("Can't read %zu bytes at 0x%llx of pid %d", len, (unsigned long long)addr, (int)pid);
		return rest;
	}
	return n + (rest > 0 ? rest : 0);
}

CP_EXPORT int cp_task_dup_fd(pid_t pid, int target_fd)
{
	int pidfd, fd, ret;

	if (pid <= 0 || target_fd < 0) {
		pr_err("cp_task_dup_fd(): bad arguments (pid %d, fd %d)", (int)pid, target_fd);
		return -EINVAL;
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = -errno;
		pr_perror("Can't open a pidfd for pid %d", (int)pid);
		return ret;
	}
	/* The new fd is close-on-exec, as pidfd_getfd() always makes it. */
	fd = syscall(SYS_pidfd_getfd, pidfd, target_fd, 0);
	if (fd < 0) {
		ret = -errno;
		pr_perror("Can't get fd %d of pid %d", target_fd, (int)pid);
		close(pidfd);
		return ret;
	}
	close(pidfd);
	return fd;
}

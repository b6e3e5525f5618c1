// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Signal-driven I/O state of an open file: its owner (F_SETOWN_EX), the
 * signal it sends (F_SETSIG), the uids the owner was set with, and
 * O_ASYNC, which open() ignores and only F_SETFL sets.
 *
 * Dump reads it through criu's dup of the task's fd: the owner belongs to
 * the open file description, which the dup shares.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "files.h"

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

int files_fown_dump(int lfd, pid_t pid, int fd, FownEntry *fown)
{
	struct f_owner_ex owner = { 0 };
	uid_t uids[2] = { 0, 0 };
	int sig, fl;

	if (lfd < 0)
		return 0;
	fl = fcntl(lfd, F_GETFL);
	if (fl < 0) {
		pr_perror("cannot read the status flags of fd %d of pid %d", fd, (int)pid);
		return -errno;
	}
	/* An O_PATH file has no owner: fcntl answers EBADF. */
	if (fl & O_PATH)
		return 0;
	if (fcntl(lfd, F_GETOWN_EX, &owner) < 0) {
		pr_perror("cannot read the owner (F_GETOWN_EX) of fd %d of pid %d", fd, (int)pid);
		return -errno;
	}
	sig = fcntl(lfd, F_GETSIG);
	if (sig < 0) {
		pr_perror("cannot read the signal (F_GETSIG) of fd %d of pid %d", fd, (int)pid);
		return -errno;
	}
	/* Needs CONFIG_CHECKPOINT_RESTORE; without it the uids stay 0. */
	if (owner.pid && fcntl(lfd, F_GETOWNER_UIDS, uids) < 0)
		pr_debug("no owner uids for fd %d of pid %d (F_GETOWNER_UIDS: %s)", fd, (int)pid, strerror(errno));

	/* CRIU stores the F_OWNER_* type as it is (f_owner_ex.type). */
	fown->pid_type = (uint32_t)owner.type;
	fown->pid = (uint32_t)owner.pid;
	fown->signum = (uint32_t)sig;
	fown->uid = (uint32_t)uids[0];
	fown->euid = (uint32_t)uids[1];
	return 0;
}

int files_fown_restore(int fd, const FownEntry *fown, const char *path)
{
	struct f_owner_ex owner;

	if (!fown)
		return 0;
	if (fown->signum && fcntl(fd, F_SETSIG, (int)fown->signum) < 0) {
		pr_perror("%s: cannot set signal %u (F_SETSIG)", path, fown->signum);
		return -errno;
	}
	if (!fown->pid)
		return 0;
	owner.type = (int)fown->pid_type;
	owner.pid = (pid_t)fown->pid;
	if (fcntl(fd, F_SETOWN_EX, &owner) < 0) {
		pr_perror("%s: cannot set owner %u (type %u, F_SETOWN_EX)", path, fown->pid, fown->pid_type);
		return -errno;
	}
	return 0;
}

int files_set_async(int fd, unsigned int flags, const char *what)
{
	int fl;

	if (!(flags & O_ASYNC))
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC) < 0) {
		pr_perror("%s: cannot set O_ASYNC", what);
		return -errno;
	}
	return 0;
}

int files_open_done(int *fd, unsigned int flags, const FownEntry *fown, const char *what,
		    int *out_fd)
{
	int ret;

	if (fcntl(*fd, F_SETFL, flags & O_NONBLOCK) < 0) {
		pr_perror("%s: cannot set its flags", what);
		return -errno;
	}
	ret = files_fown_restore(*fd, fown, what);
	if (!ret)
		ret = files_set_async(*fd, flags, what);
	if (ret)
		return ret;
	*out_fd = *fd;
	*fd = -1;
	return 0;
}

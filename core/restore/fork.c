// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "fork": create the task with its dumped pid (clone3 with
 * set_tid, fact 5.1), seize it before it does anything, and let it start
 * stage 1. criu stays its tracer until the task runs its own code again.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>

#include "log/log.h"
#include "restore/fault.h"
#include "restore/restore.h"

#ifndef CLONE_FILES
#define CLONE_FILES 0x00000400
#endif
#ifndef CLONE_NEWPID
#define CLONE_NEWPID 0x20000000
#endif
#ifndef CLONE_PARENT
#define CLONE_PARENT 0x00008000
#endif
#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

/* struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1, 80 bytes). */
struct rst_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
};

static int read_pid_max(void)
{
	int v = 0;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Is PID a zombie? Its parent may reap it any moment (pid 1 can take seconds). */
static bool is_zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	bool z = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		z = p[2] == 'Z';
	fclose(f);
	return z;
}

#define RST_ZOMBIE_WAIT_MS 5000

static bool needs_suspend_seccomp(const struct rst_ctx *c)
{
	const ThreadCoreEntry *th = c->core->thread_core;

	return th && th->has_seccomp_mode && th->seccomp_mode != SECCOMP_MODE__disabled;
}

static int clone_error(struct rst_ctx *c, int err)
{
	int pid_max;

	switch (err) {
	case EEXIST:
		err_ctx_set_remedy("stop the process that now has this pid, or restore in a new pid "
				   "namespace");
		pr_err("pid %d is in use", c->pid);
		break;
	case EINVAL:
		pid_max = read_pid_max();
		if (pid_max && c->pid >= pid_max) {
			err_ctx_set_remedy("raise /proc/sys/kernel/pid_max");
			pr_err("pid %d is not below pid_max (%d)", c->pid, pid_max);
			break;
		}
		/* fall through */
	default:
		if (err == EPERM)
			err_ctx_set_remedy("run criu as root (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)");
		pr_err("cannot create pid %d with clone3(set_tid): %s", c->pid, strerror(err));
		break;
	}
	return -err;
}

int rst_fork(struct rst_ctx *c)
{
	struct rst_clone_args ca;
	pid_t want = c->pid;
	long pid;

	memset(&ca, 0, sizeof(ca));
	if (!c->parent && c->opts.restore_sibling) {
		/* The kernel takes the exit signal from criu's own for CLONE_PARENT. */
		ca.flags = CLONE_PARENT;
	} else {
		ca.exit_signal = SIGCHLD;
	}
	if (c->shares_files)
		ca.flags |= CLONE_FILES;
	if (!c->parent && c->tree && c->tree->new_pidns) {
		/* The init of a new pid namespace is pid 1 there by itself. */
		ca.flags |= CLONE_NEWPID;
	} else {
		/* In the task's own pid namespace, the innermost level (5.1). */
		ca.set_tid = (uint64_t)(uintptr_t)&want;
		ca.set_tid_size = 1;
	}
	for (int waited = 0;; waited += 50) {
		fflush(NULL);
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			rst_stage1(c);
		if (pid >= 0 || errno != EEXIST || waited >= RST_ZOMBIE_WAIT_MS || !is_zombie(want))
			break;
		if (!waited)
			pr_info("pid %d is still a zombie; waiting up to %d ms for it to be reaped",
				want, RST_ZOMBIE_WAIT_MS);
		usleep(50 * 1000);
	}
	if (pid < 0)
		return clone_error(c, errno);
	c->child = (pid_t)pid; /* as the forking task sees it; criu fixes it on hello */
	return 0;
}

int rst_seize_task(struct rst_ctx *c)
{
	unsigned long popts;
	char byte = 'g';

	if (c->kind == RST_TASK_LIVE) {
		popts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
		if (needs_suspend_seccomp(c))
			popts |= PTRACE_O_SUSPEND_SECCOMP;
		c->ptrace_opts = popts;
		if (ptrace(PTRACE_SEIZE, c->child, 0, popts)) {
			pr_perror("cannot seize the new task %d", c->child);
			return -errno;
		}
		c->seized = true;
		if (rst_fault("fork"))
			return -EIO;
	}
	if (write(c->go_wr, &byte, 1) != 1) {
		pr_perror("cannot start stage 1 of pid %d", c->child);
		return -errno;
	}
	pr_info("pid %d created", c->child);
	return 0;
}

void rst_kill_child(struct rst_ctx *c)
{
	int status;

	if (c->child <= 0)
		return;
	kill(c->child, SIGKILL);
	if (!c->seized) {
		c->child = 0;
		return;
	}
	/* Traced threads report their end to criu, and the leader's waits for theirs. */
	for (size_t i = 1; i <= c->nr_seized_threads; i++)
		while (waitpid(rst_host_tid(c, i), &status, __WALL) < 0 && errno == EINTR)
			;
	c->nr_seized_threads = 0;
	while (waitpid(c->child, &status, __WALL) < 0 && errno == EINTR)
		;
	c->child = 0;
	c->seized = false;
}

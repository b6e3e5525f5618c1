// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat probes about tasks: ptrace, clone3 with set_tid, pidfds and the
 * per-task /proc files. The ptrace probes trace a child of ours that waits
 * on a pipe, never criu itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include <criu/log.h>

#include "check/kerndat-priv.h"

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT 4
#endif

/* The kernel's struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1). */
struct kd_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

/* Layout of the PTRACE_GET_RSEQ_CONFIGURATION answer. */
struct kd_rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

struct kd_peeksiginfo_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

/* The code the breakpoint probe watches. It must stay a real call. */
__attribute__((noinline)) static void kd_bp_target(void)
{
	__asm__ volatile("" ::: "memory");
}

static void (*volatile kd_bp_call)(void) = kd_bp_target;

/*
 * Fork a child that waits until the byte we write to *GO arrives, then
 * calls kd_bp_target and exits. With FILTER it first installs an
 * allow-everything seccomp filter, so the seccomp probes have one to see.
 */
static pid_t kd_spawn_waiter(int *go, bool filter)
{
	int ready[2], release[2];
	char c;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC))
		return -errno;
	if (pipe2(release, O_CLOEXEC)) {
		int err = -errno;

		close(ready[0]);
		close(ready[1]);
		return err;
	}
	pid = fork();
	if (pid == 0) {
		struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = { .len = 1, .filter = &insn };

		close(ready[0]);
		close(release[1]);
		if (filter &&
		    (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)))
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		while (read(release[0], &c, 1) < 0 && errno == EINTR)
			;
		kd_bp_call();
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	if (pid < 0) {
		int err = -errno;

		close(ready[0]);
		close(release[1]);
		return err;
	}
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(release[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -ECHILD;
	}
	close(ready[0]);
	*go = release[1];
	return pid;
}

static void kd_reap(pid_t pid, int go)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	close(go);
}

/* SEIZE and INTERRUPT PID; true when the PTRACE_EVENT_STOP trap arrives. */
static bool kd_seize_stop(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL)) {
		pr_debug("PTRACE_SEIZE %d: %s", pid, strerror(errno));
		return false;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
		pr_debug("PTRACE_INTERRUPT %d: %s", pid, strerror(errno));
		return false;
	}
	if (waitpid(pid, &status, __WALL) != pid)
		return false;
	return WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == PTRACE_EVENT_STOP;
}

static void kd_probe_ptrace(struct kerndat *kd)
{
	struct kd_peeksiginfo_args pa = { .off = 0, .flags = 0, .nr = 1 };
	struct kd_rseq_conf rc;
	uint64_t mask;
	siginfo_t si;
	long ret;
	int go;
	pid_t pid;

	pid = kd_spawn_waiter(&go, true);
	if (pid < 0) {
		pr_debug("no tracee for the ptrace probes: %s", strerror((int)-pid));
		return;
	}
	kd->ptrace_seize = kd_seize_stop(pid);
	if (!kd->ptrace_seize)
		goto out;

	kd->ptrace_peeksiginfo = ptrace(PTRACE_PEEKSIGINFO, pid, &pa, &si) >= 0 &&
				 ptrace(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask) == 0;

	kd->ptrace_suspend_seccomp = ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_SUSPEND_SECCOMP) == 0;
	if (!kd->ptrace_suspend_seccomp)
		pr_debug("PTRACE_O_SUSPEND_SECCOMP: %s", strerror(errno));

	/* With a NULL buffer the answer is the filter's instruction count. */
	ret = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, NULL, NULL);
	kd->ptrace_seccomp_filter = ret > 0;
	if (ret <= 0)
		pr_debug("PTRACE_SECCOMP_GET_FILTER: %ld %s", ret, strerror(errno));

	memset(&rc, 0, sizeof(rc));
	ret = ptrace(KD_PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(rc), &rc);
	kd->ptrace_get_rseq_conf = ret == (long)sizeof(rc);
	if (!kd->ptrace_get_rseq_conf)
		pr_debug("PTRACE_GET_RSEQ_CONFIGURATION: %ld %s", ret, strerror(errno));
out:
	kd_reap(pid, go);
}

/*
 * Hardware breakpoints: arm DR0 on kd_bp_target in a traced child and let
 * it run into it. Writing the debug registers can succeed on a host where
 * the trap never comes (this VM), so only a real TRAP_HWBKPT counts.
 */
static void kd_probe_breakpoints(struct kerndat *kd)
{
	size_t dr0 = offsetof(struct user, u_debugreg[0]);
	size_t dr7 = offsetof(struct user, u_debugreg[7]);
	siginfo_t si;
	int go, status;
	pid_t pid;

	pid = kd_spawn_waiter(&go, false);
	if (pid < 0)
		return;
	if (!kd_seize_stop(pid))
		goto out;
	if (ptrace(PTRACE_POKEUSER, pid, (void *)dr0, (void *)kd_bp_target) ||
	    ptrace(PTRACE_POKEUSER, pid, (void *)dr7, (void *)1L)) {
		pr_debug("cannot set debug registers: %s", strerror(errno));
		goto out;
	}
	if (ptrace(PTRACE_CONT, pid, NULL, NULL))
		goto out;
	if (write(go, "g", 1) != 1)
		goto out;
	if (waitpid(pid, &status, __WALL) != pid)
		goto out;
	if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0 &&
	    si.si_code == TRAP_HWBKPT)
		kd->hw_breakpoints = true;
	else
		pr_debug("hardware breakpoint did not fire (status %#x)", status);
out:
	kd_reap(pid, go);
}

static long kd_pid_max(void)
{
	char buf[32];

	if (kd_read_file("/proc/sys/kernel/pid_max", buf, sizeof(buf)))
		return 32768;
	return strtol(buf, NULL, 10);
}

/*
 * clone3 with set_tid: ask for a pid that is free right now. Another task
 * may take it first (EEXIST), so try a few.
 */
static void kd_probe_clone3(struct kerndat *kd)
{
	long pid_max = kd_pid_max();
	pid_t want = getpid();
	int tries;

	for (tries = 0; tries < 16; tries++) {
		struct kd_clone_args args;
		char path[32];
		long ret;

		want = (pid_t)(want + 97 + tries);
		if (want >= pid_max || want < 300)
			want = 300 + tries * 13;
		snprintf(path, sizeof(path), "/proc/%d", want);
		if (access(path, F_OK) == 0)
			continue;

		memset(&args, 0, sizeof(args));
		args.exit_signal = SIGCHLD;
		args.set_tid = (uint64_t)(unsigned long)&want;
		args.set_tid_size = 1;
		ret = syscall(SYS_clone3, &args, sizeof(args));
		if (ret == 0)
			_exit(0);
		if (ret < 0) {
			if (errno == EEXIST)
				continue;
			pr_debug("clone3 set_tid %d: %s", want, strerror(errno));
			return;
		}
		while (waitpid((pid_t)ret, NULL, 0) < 0 && errno == EINTR)
			;
		kd->clone3_set_tid = ret == want;
		return;
	}
}

static void kd_probe_pidfd(struct kerndat *kd)
{
	int pidfd, fd;

	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		pr_debug("pidfd_open: %s", strerror(errno));
		return;
	}
	kd->pidfd_open = true;
	/* Our own pidfd is a handy fd to fetch. */
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	if (fd >= 0) {
		kd->pidfd_getfd = true;
		close(fd);
	} else {
		pr_debug("pidfd_getfd: %s", strerror(errno));
	}
	close(pidfd);
}

static void kd_probe_proc(struct kerndat *kd)
{
	char path[64], buf[4096], line[512];
	unsigned long start, end;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)syscall(SYS_gettid));
	kd->proc_children = access(path, R_OK) == 0;

	if (kd_read_file("/proc/self/status", buf, sizeof(buf)) == 0)
		kd->ns_pid = strstr(buf, "\nNSpid:") != NULL;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char target[PATH_MAX];

		if (!strchr(line, '/') || sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", start, end);
		kd->map_files = readlink(path, target, sizeof(target)) > 0;
		if (!kd->map_files)
			pr_debug("readlink %s: %s", path, strerror(errno));
		break;
	}
	fclose(f);
}

void kerndat_probe_task(struct kerndat *kd)
{
	kd_probe_ptrace(kd);
	kd_probe_breakpoints(kd);
	kd_probe_clone3(kd);
	kd_probe_pidfd(kd);
	kd_probe_proc(kd);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#define LOG_PREFIX "infect: "
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <criu/log.h>

#include "infect/ptrace.h"

int infect_get_regs(pid_t tid, struct k_user_regs *regs)
{
	if (ptrace(PTRACE_GETREGS, tid, NULL, regs)) {
		int err = -errno;

		pr_perror("cannot read the registers of %d", tid);
		return err;
	}
	return 0;
}

int infect_set_regs(pid_t tid, const struct k_user_regs *regs)
{
	if (ptrace(PTRACE_SETREGS, tid, NULL, regs)) {
		int err = -errno;

		pr_perror("cannot set the registers of %d", tid);
		return err;
	}
	return 0;
}

int infect_get_sigmask(pid_t tid, k_sigset_t *mask)
{
	if (ptrace((enum __ptrace_request)K_PTRACE_GETSIGMASK, tid, sizeof(*mask), mask)) {
		int err = -errno;

		pr_perror("cannot read the signal mask of %d", tid);
		return err;
	}
	return 0;
}

int infect_set_sigmask(pid_t tid, k_sigset_t mask)
{
	if (ptrace((enum __ptrace_request)K_PTRACE_SETSIGMASK, tid, sizeof(mask), &mask)) {
		int err = -errno;

		pr_perror("cannot set the signal mask of %d", tid);
		return err;
	}
	return 0;
}

int infect_peek(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++) {
		long v;

		errno = 0;
		v = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + i * 8), NULL);
		if (errno) {
			int err = -errno;

			pr_perror("cannot read %d's memory at %#llx", tid,
				  (unsigned long long)(addr + i * 8));
			return err;
		}
		w[i] = (uint64_t)v;
	}
	return 0;
}

int infect_poke(pid_t tid, uint64_t addr, const void *buf, size_t len)
{
	const uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++) {
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(addr + i * 8), (void *)w[i])) {
			int err = -errno;

			pr_perror("cannot write %d's memory at %#llx", tid,
				  (unsigned long long)(addr + i * 8));
			return err;
		}
	}
	return 0;
}

int infect_wait(pid_t tid, int *status)
{
	pid_t r;

	do
		r = waitpid(tid, status, __WALL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int err = -errno;

		pr_perror("waiting for %d failed", tid);
		return err;
	}
	return 0;
}

const char *infect_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (WIFSTOPPED(status))
		snprintf(buf, len, "stopped by signal %d (%s), event %d", WSTOPSIG(status),
			 strsignal(WSTOPSIG(status) & 0x7f), status >> 16);
	else
		snprintf(buf, len, "wait status %#x", status);
	return buf;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The remote syscall primitive (facts 2.1-2.2, 2.4): "syscall; int3" is
 * written at the start of the task's first private executable mapping, the
 * registers are pointed at it with orig_rax = -1 (so that no syscall-restart
 * logic touches them), and the task runs until the int3.
 */
#define LOG_PREFIX "infect: "
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <criu/log.h>

#include "infect/infect.h"
#include "infect/ptrace.h"

#define EFLAGS_TF 0x100
#define EFLAGS_DF 0x400

static int find_syscall_spot(pid_t pid, uint64_t *ip)
{
	char path[64], line[4096];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char perms[5];
		int pos = 0;

		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s%n", &start, &end, perms, &pos) < 3)
			continue;
		/* Private and executable; the kernel's special areas are not ours to patch. */
		if (perms[2] != 'x' || perms[3] != 'p' || start >= K_TASK_SIZE)
			continue;
		if (strstr(line + pos, "[vdso]") || strstr(line + pos, "[vsyscall]") ||
		    strstr(line + pos, "[uprobes]"))
			continue;
		*ip = start;
		ret = 0;
		break;
	}
	fclose(f);
	if (ret)
		pr_err("pid %d has no private executable mapping to run system calls from", pid);
	return ret;
}

int infect_init(struct infect_ctx *ctx, struct seized_task *t)
{
	/* 0f 05 = syscall, then int3s; the memfd name follows in the second word. */
	const uint64_t code[2] = { 0xcccccccccc050fULL, 0x0078702d75697263ULL /* "criu-px" */ };
	k_sigset_t only_trap = ~K_SIGMASK(SIGTRAP);
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->task = t;

	ret = find_syscall_spot(t->pid, &ctx->code_ip);
	if (ret)
		return ret;
	ret = infect_peek(t->pid, ctx->code_ip, ctx->saved_code, sizeof(ctx->saved_code));
	if (ret)
		return ret;
	ret = infect_poke(t->pid, ctx->code_ip, code, sizeof(code));
	if (ret)
		return ret;
	ctx->code_poked = true;
	ctx->sc_ip = ctx->code_ip;

	/* Only SIGTRAP may arrive while our code runs (facts 1.14, 2.4). */
	ret = infect_set_sigmask(t->pid, only_trap);
	if (ret)
		return ret;
	ctx->mask_set = true;
	return 0;
}

static bool fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGSYS ||
	       sig == SIGTRAP;
}

/* Start the task running from REGS (the first half of run_until_trap). */
static int run_begin(struct seized_task *t, const struct k_user_regs *regs, const char *what)
{
	int ret;

	if (t->dead) {
		pr_err("pid %d is gone; cannot run %s", t->pid, what);
		return -ESRCH;
	}
	ret = infect_set_regs(t->pid, regs);
	if (ret)
		return ret;
	if (ptrace(PTRACE_CONT, t->pid, NULL, NULL)) {
		ret = -errno;
		pr_perror("cannot run %s in pid %d", what, t->pid);
		return ret;
	}
	return 0;
}

/*
 * Wait until the running task traps at an ip in [LO, HI]. WHAT names the
 * code for messages. Stop signals that arrive meanwhile are swallowed and
 * remembered (re-sent on detach); faults end the run.
 */
static int run_end(struct infect_ctx *ctx, struct seized_task *t, uint64_t lo, uint64_t hi,
		   const char *what)
{
	struct k_user_regs now;
	char sbuf[128];
	int status, ret;

	for (;;) {
		int sig;

		ret = infect_wait(t->pid, &status);
		if (ret)
			return ret;
		if (!WIFSTOPPED(status)) {
			pr_err("pid %d %s while running %s", t->pid,
			       infect_status_str(status, sbuf, sizeof(sbuf)), what);
			t->dead = true;
			ctx->crashed = true;
			return -ECHILD;
		}
		sig = WSTOPSIG(status);
		if ((status >> 16) == K_PTRACE_EVENT_STOP || sig == SIGSTOP || sig == SIGTSTP ||
		    sig == SIGTTIN || sig == SIGTTOU) {
			/* Someone stopped the task meanwhile: remember it, carry on. */
			if (sig != SIGTRAP)
				t->new_stop_signo = sig;
			if (ptrace(PTRACE_CONT, t->pid, NULL, NULL)) {
				ret = -errno;
				pr_perror("cannot run %s in pid %d", what, t->pid);
				return ret;
			}
			continue;
		}
		ret = infect_get_regs(t->pid, &now);
		if (ret)
			return ret;
		if (sig == SIGTRAP && now.ip >= lo && now.ip <= hi)
			return 0;
		if (fault_signal(sig)) {
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			ptrace(PTRACE_GETSIGINFO, t->pid, NULL, &si);
			pr_err("pid %d: %s crashed: signal %d (%s) at ip %#llx, fault address %p",
			       t->pid, what, sig, strsignal(sig), (unsigned long long)now.ip,
			       si.si_addr);
			ctx->crashed = true;
			return -EFAULT;
		}
		/* Any other signal is blocked; only SIGKILL could get here, as an exit. */
		pr_err("pid %d: unexpected stop while running %s: %s", t->pid, what,
		       infect_status_str(status, sbuf, sizeof(sbuf)));
		ctx->crashed = true;
		return -EIO;
	}
}

static int run_until_trap(struct infect_ctx *ctx, struct seized_task *t,
			  const struct k_user_regs *regs, uint64_t lo, uint64_t hi, const char *what)
{
	int ret = run_begin(t, regs, what);

	return ret ? ret : run_end(ctx, t, lo, hi, what);
}

int infect_syscall(struct infect_ctx *ctx, long nr, const long args[6], long *ret)
{
	struct k_user_regs regs = ctx->task->regs;
	char what[48];
	int err;

	regs.ip = ctx->sc_ip;
	regs.ax = (uint64_t)nr;
	regs.orig_ax = (uint64_t)-1;
	regs.di = (uint64_t)args[0];
	regs.si = (uint64_t)args[1];
	regs.dx = (uint64_t)args[2];
	regs.r10 = (uint64_t)args[3];
	regs.r8 = (uint64_t)args[4];
	regs.r9 = (uint64_t)args[5];
	regs.flags &= ~(uint64_t)(EFLAGS_TF | EFLAGS_DF);

	snprintf(what, sizeof(what), "remote syscall %ld", nr);
	/* The int3 right after the 2-byte syscall traps with ip one past it. */
	err = run_until_trap(ctx, ctx->task, &regs, ctx->sc_ip + 3, ctx->sc_ip + 3, what);
	if (err)
		return err;
	err = infect_get_regs(ctx->task->pid, &regs);
	if (err)
		return err;
	*ret = (long)regs.ax;
	return 0;
}

long infect_syscall6(struct infect_ctx *ctx, long nr, long a1, long a2, long a3, long a4, long a5,
		     long a6)
{
	const long args[6] = { a1, a2, a3, a4, a5, a6 };
	long ret;
	int err;

	err = infect_syscall(ctx, nr, args, &ret);
	return err ? err : ret;
}

/* Run the blob in thread T from REGS until its int3 (anywhere in its text). */
int infect_run_blob_in(struct infect_ctx *ctx, struct seized_task *t, const struct k_user_regs *regs,
		       const char *what)
{
	return run_until_trap(ctx, t, regs, ctx->remote + 1, ctx->remote + ctx->blob->rw_off, what);
}

int infect_run_blob(struct infect_ctx *ctx, const struct k_user_regs *regs, const char *what)
{
	return infect_run_blob_in(ctx, ctx->task, regs, what);
}

int infect_blob_begin(struct infect_ctx *ctx, const struct k_user_regs *regs, const char *what)
{
	return run_begin(ctx->task, regs, what);
}

int infect_blob_end(struct infect_ctx *ctx, const char *what)
{
	return run_end(ctx, ctx->task, ctx->remote + 1, ctx->remote + ctx->blob->rw_off, what);
}

int infect_cure(struct infect_ctx *ctx)
{
	struct seized_task *t = ctx->task;
	int ret = 0, err;

	if (!t || t->dead)
		return 0;
	if (ctx->remote) {
		const uint64_t code[2] = { 0xcccccccccc050fULL, ctx->saved_code[1] };
		long r = 0;

		/* munmap cannot return into the blob it removes: run it from the task's code. */
		if (!ctx->code_poked) {
			r = infect_poke(t->pid, ctx->code_ip, code, sizeof(code));
			ctx->code_poked = r == 0;
		}
		ctx->sc_ip = ctx->code_ip;
		if (!r)
			r = infect_syscall6(ctx, __NR_munmap, (long)ctx->remote, (long)ctx->map_size, 0,
					    0, 0, 0);
		if (r) {
			pr_err("pid %d: cannot unmap the parasite at %#llx: %s", t->pid,
			       (unsigned long long)ctx->remote, strerror((int)-r));
			ret = (int)r;
		}
		ctx->remote = 0;
	}
	if (ctx->local) {
		munmap(ctx->local, ctx->map_size);
		ctx->local = NULL;
		ctx->args = NULL;
	}
	if (ctx->code_poked) {
		err = infect_poke(t->pid, ctx->code_ip, ctx->saved_code, sizeof(ctx->saved_code));
		if (err && !ret)
			ret = err;
		ctx->code_poked = false;
	}
	/* Registers and mask as they were: a stopped syscall restarts (facts 1.9, 2.2). */
	err = infect_set_regs(t->pid, &t->regs);
	if (err && !ret)
		ret = err;
	if (ctx->mask_set) {
		err = infect_set_sigmask(t->pid, t->sigmask);
		if (err && !ret)
			ret = err;
		ctx->mask_set = false;
	}
	return ret;
}

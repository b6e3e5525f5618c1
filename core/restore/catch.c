// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "resume", in criu (fact 5.22): read what stage 1 and the
 * restorer report, then catch the task at the exit of its rt_sigreturn by
 * stepping its syscalls with PTRACE_SYSCALL (hardware breakpoints do not
 * fire on every machine), run munmap(bootstrap region) in it through the
 * blob's syscall instruction, put the post-sigreturn registers back and
 * detach. Until then a failure leaves a task criu can simply kill.
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "log/log.h"
#include "restore/restore.h"

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#define RST_SYSCALL_INFO_ENTRY 1
#define RST_SYSCALL_INFO_EXIT 2

/* The head of struct ptrace_syscall_info; we only need op and the entry nr. */
struct rst_syscall_info {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
	};
};

static const char *const step_names[RST_STEP__MAX] = {
	[RST_STEP_NONE] = "restore",
	[RST_STEP_ARGS] = "check its arguments",
	[RST_STEP_RSEQ_UNREGISTER] = "unregister criu's rseq",
	[RST_STEP_PARK_VDSO] = "park the vDSO",
	[RST_STEP_UNMAP_OLD] = "unmap criu's memory",
	[RST_STEP_MAP_VMA] = "map a VMA",
	[RST_STEP_FILL_PAGES] = "read pages",
	[RST_STEP_MPROTECT] = "set a VMA's protection",
	[RST_STEP_MADVISE] = "apply a VMA's madvise bits",
	[RST_STEP_GUARD] = "install guard pages",
	[RST_STEP_REMAP_VDSO] = "move the vDSO to its dumped address",
	[RST_STEP_CLOSE_FDS] = "close criu's fds",
	[RST_STEP_MM_MAP] = "set the mm fields (PR_SET_MM_MAP)",
	[RST_STEP_EXE_FD] = "set /proc/PID/exe",
	[RST_STEP_RLIMIT] = "set an rlimit",
	[RST_STEP_TIMER_CREATE] = "create a POSIX timer",
	[RST_STEP_SIGCHLD] = "restore the SIGCHLD action",
	[RST_STEP_SIGQUEUE] = "queue a pending signal",
	[RST_STEP_SECCOMP] = "install a seccomp filter",
	[RST_STEP_CREDS] = "restore credentials",
	[RST_STEP_THREAD] = "restore thread state",
	[RST_STEP_RSEQ] = "register rseq",
	[RST_STEP_ITIMER] = "arm an itimer",
	[RST_STEP_TIMER_SETTIME] = "arm a POSIX timer",
	[RST_STEP_HANDSHAKE] = "wait for criu",
	[RST_STEP_SIGRETURN] = "sigreturn",
	[RST_STEP_CLONE_THREAD] = "create a thread",
	[RST_STEP_SCHED] = "set a thread's scheduling policy or nice value",
};

static const char *step_name(int step)
{
	if (step < 0 || step >= RST_STEP__MAX || !step_names[step])
		return "an unknown step";
	return step_names[step];
}

static void log_blob_report(struct rst_ctx *c, const struct rst_report *r)
{
	const char *what = step_name(r->step);
	const char *err = strerror((int)-r->err);

	switch (r->step) {
	case RST_STEP_CLONE_THREAD:
		if (r->err == -EEXIST)
			err_ctx_set_remedy("stop the process that now has this pid");
		pr_err("pid %d: restorer failed to create thread %llu: %s", c->pid,
		       (unsigned long long)r->arg,
		       r->err == -EEXIST ? "the tid is in use" : err);
		break;
	case RST_STEP_SCHED:
		/* arg: the tid, bit 32 set for the nice value; arg2: the value. */
		if (r->err == -EPERM)
			err_ctx_set_remedy("run criu with CAP_SYS_NICE, or raise RLIMIT_RTPRIO/RLIMIT_NICE");
		pr_err("pid %d: restorer failed to set the %s of thread %u to %lld: %s", c->pid,
		       r->arg >> 32 ? "nice value" : "scheduling policy", (uint32_t)r->arg,
		       (long long)r->arg2, err);
		break;
	case RST_STEP_MAP_VMA:
	case RST_STEP_MPROTECT:
		pr_err("pid %d: restorer failed to %s at %#llx (mm-%d.img VMA %llu): %s", c->pid,
		       what, (unsigned long long)r->arg, c->pid, (unsigned long long)r->arg2, err);
		break;
	case RST_STEP_FILL_PAGES:
		pr_err("pid %d: restorer failed to %s into %#llx from %s offset %llu: %s", c->pid,
		       what, (unsigned long long)r->arg, c->pages_name,
		       (unsigned long long)r->arg2, err);
		break;
	default:
		pr_err("pid %d: restorer failed to %s (%#llx, %#llx): %s", c->pid, what,
		       (unsigned long long)r->arg, (unsigned long long)r->arg2, err);
		break;
	}
}

/*
 * Describe how thread TID ended or stopped, with its ip when it is stopped.
 * A leader that is gone needs no killing any more.
 */
static int report_tid_state(struct rst_ctx *c, pid_t tid, int status)
{
	char buf[64];
	struct k_user_regs regs;

	if (WIFEXITED(status)) {
		snprintf(buf, sizeof(buf), "exited with %d", WEXITSTATUS(status));
		if (tid == c->child)
			c->child = 0;
	} else if (WIFSIGNALED(status)) {
		snprintf(buf, sizeof(buf), "was killed by signal %d", WTERMSIG(status));
		if (tid == c->child)
			c->child = 0;
	} else {
		snprintf(buf, sizeof(buf), "stopped by signal %d", WSTOPSIG(status));
		if (!ptrace(PTRACE_GETREGS, tid, 0, &regs)) {
			size_t l = strlen(buf);

			snprintf(buf + l, sizeof(buf) - l, " at ip %#llx",
				 (unsigned long long)regs.ip);
		}
	}
	if (tid == c->pid)
		pr_err("pid %d %s during restore", c->pid, buf);
	else
		pr_err("thread %d of pid %d %s during restore", tid, c->pid, buf);
	return -ECHILD;
}

static int report_task_state(struct rst_ctx *c, int status)
{
	return report_tid_state(c, c->child, status);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? n : (ssize_t)done;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * One report from the channel: 1 read, 0 the channel closed, < 0 an error.
 * Reports are fixed-size records (a stage-1 failure adds its text), so
 * several may wait in the pipe: read exactly one.
 */
int rst_read_report(struct rst_ctx *c, struct rst_report *r, char *text)
{
	ssize_t n = read_full(c->report_rd, r, sizeof(*r));

	if (n < 0) {
		pr_perror("pid %d: cannot read the restore channel", c->pid);
		return -errno;
	}
	if (n == 0)
		return 0;
	if ((size_t)n < sizeof(*r)) {
		pr_err("pid %d: short report (%zd bytes) on the restore channel", c->pid, n);
		return -EIO;
	}
	text[0] = 0;
	if (r->kind == RST_REPORT_STAGE1) {
		if (read_full(c->report_rd, text, RST_REPORT_TEXT) != RST_REPORT_TEXT)
			text[0] = 0;
		text[RST_REPORT_TEXT - 1] = 0;
	}
	return 1;
}

/* Handle one report; 1 when the task reported READY. */
int rst_handle_report(struct rst_ctx *c, const struct rst_report *r, char *text)
{
	switch (r->kind) {
	case RST_REPORT_BOOTSTRAP:
		c->bootstrap_start = r->arg;
		c->bootstrap_len = r->arg2;
		c->syscall_insn = (uint64_t)r->err;
		return 0;
	case RST_REPORT_WARN:
		pr_warn("pid %d: restorer could not %s: %s; going on", c->pid, step_name(r->step),
			strerror((int)-r->err));
		return 0;
	case RST_REPORT_READY:
		return 1;
	case RST_REPORT_STAGE1: {
		char *remedy = strchr(text, '\x1f');

		/*
		 * The child logged the details; this makes its first error ours,
		 * with the child's context (it is in the text) and its remedy.
		 */
		if (remedy)
			*remedy++ = '\0';
		err_ctx_reset();
		if (remedy && *remedy)
			err_ctx_set_remedy(remedy);
		cp_log(CP_LOG_ERROR, __FILE__, __LINE__, "%s",
		       text[0] ? text : strerror((int)-r->err));
		return r->err < 0 ? (int)r->err : -EINVAL;
	}
	case RST_REPORT_ERROR:
		log_blob_report(c, r);
		return r->err < 0 ? (int)r->err : -EINVAL;
	default:
		pr_err("pid %d: unknown report %d on the restore channel", c->pid, r->kind);
		return -EIO;
	}
}

static bool poll_now(struct rst_ctx *c)
{
	struct pollfd p = { .fd = c->report_rd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* The task ended or faulted: it may have said why first. Read that, then describe the end. */
static int tid_gone(struct rst_ctx *c, pid_t tid, int status)
{
	struct rst_report r;
	char text[RST_REPORT_TEXT];
	int ret;

	/* Only an ended task closed its end of the channel; a stopped one still holds it. */
	while ((!WIFSTOPPED(status) || poll_now(c)) && rst_read_report(c, &r, text) > 0) {
		ret = rst_handle_report(c, &r, text);
		if (ret < 0)
			return ret;
	}
	return report_tid_state(c, tid, status);
}

/* Drain reports until READY. The task is seized, so a fatal signal stops it: poll for that too. */
int rst_wait_ready(struct rst_ctx *c)
{
	struct rst_report r;
	char text[RST_REPORT_TEXT];
	int ret, status;

	err_ctx_set_stage("restore memory");
	for (;;) {
		struct pollfd p = { .fd = c->report_rd, .events = POLLIN };

		ret = poll(&p, 1, 100);
		if (ret < 0 && errno != EINTR) {
			pr_perror("poll on the restore channel");
			return -errno;
		}
		if (ret > 0) {
			ret = rst_read_report(c, &r, text);
			if (ret < 0)
				return ret;
			if (ret == 0) {
				if (waitpid(c->child, &status, __WALL) < 0)
					return -ECHILD;
				return report_task_state(c, status);
			}
			ret = rst_handle_report(c, &r, text);
			if (ret)
				return ret < 0 ? ret : 0;
			continue;
		}
		ret = waitpid(c->child, &status, WNOHANG | __WALL);
		if (ret == c->child)
			return tid_gone(c, c->child, status);
	}
}

static int wait_stop(struct rst_ctx *c, int *status)
{
	while (waitpid(c->child, status, __WALL) < 0) {
		if (errno != EINTR) {
			pr_perror("waitpid(%d)", c->child);
			return -errno;
		}
	}
	if (!WIFSTOPPED(*status))
		return report_task_state(c, *status);
	return 0;
}

/* Step syscalls until the exit of rt_sigreturn; the regs are then the task's own. */
static int catch_sigreturn(struct rst_ctx *c, pid_t tid, struct k_user_regs *regs)
{
	struct rst_syscall_info si;
	uint64_t last_nr = (uint64_t)-1;
	int status, ret, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, tid, 0, sig)) {
			pr_perror("PTRACE_SYSCALL on pid %d", tid);
			return -errno;
		}
		sig = 0;
		while (waitpid(tid, &status, __WALL) < 0)
			if (errno != EINTR)
				return -errno;
		if (!WIFSTOPPED(status))
			return tid_gone(c, tid, status);
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			if ((status >> 16) == K_PTRACE_EVENT_STOP)
				continue;
			/* Signals are blocked in the restorer: this one is a fault. */
			return report_tid_state(c, tid, status);
		}
		memset(&si, 0, sizeof(si));
		ret = (int)ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(si), &si);
		if (ret <= 0) {
			pr_perror("PTRACE_GET_SYSCALL_INFO on pid %d", tid);
			return ret < 0 ? -errno : -EIO;
		}
		if (si.op == RST_SYSCALL_INFO_ENTRY) {
			last_nr = si.entry.nr;
			continue;
		}
		if (si.op == RST_SYSCALL_INFO_EXIT && last_nr == __NR_rt_sigreturn)
			break;
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, regs)) {
		pr_perror("cannot read the registers of pid %d after sigreturn", tid);
		return -errno;
	}
	return 0;
}

/*
 * Run munmap(bootstrap) in the task through the blob's syscall instruction.
 * The task's own mask is in force since the sigreturn, so block everything
 * meanwhile: a pending signal (a timer that fired) waits until it runs.
 */
static int unmap_bootstrap(struct rst_ctx *c, const struct k_user_regs *saved)
{
	struct k_user_regs r = *saved;
	struct rst_syscall_info si;
	k_sigset_t mask, all = ~0ull;
	int status, stops = 0;

	if (ptrace(K_PTRACE_GETSIGMASK, c->child, sizeof(mask), &mask) ||
	    ptrace(K_PTRACE_SETSIGMASK, c->child, sizeof(all), &all)) {
		pr_perror("cannot block the signals of pid %d", c->child);
		return -errno;
	}

	r.ip = c->syscall_insn;
	r.ax = __NR_munmap;
	r.orig_ax = (uint64_t)-1;
	r.di = c->bootstrap_start;
	r.si = c->bootstrap_len;
	if (ptrace(PTRACE_SETREGS, c->child, 0, &r)) {
		pr_perror("cannot point pid %d at the munmap stub", c->child);
		return -errno;
	}
	/* Two stops: the entry and the exit of munmap. */
	while (stops < 2) {
		if (ptrace(PTRACE_SYSCALL, c->child, 0, 0))
			return -errno;
		if (wait_stop(c, &status))
			return -ECHILD;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			return report_task_state(c, status);
		stops++;
	}
	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, c->child, sizeof(si), &si) <= 0 ||
	    si.op != RST_SYSCALL_INFO_EXIT || si.exit.is_error) {
		pr_err("pid %d: munmap of the bootstrap region %#llx+%llu failed (%lld)", c->child,
		       (unsigned long long)c->bootstrap_start, (unsigned long long)c->bootstrap_len,
		       (long long)si.exit.rval);
		return -EIO;
	}
	if (ptrace(PTRACE_SETREGS, c->child, 0, saved) ||
	    ptrace(K_PTRACE_SETSIGMASK, c->child, sizeof(mask), &mask)) {
		pr_perror("cannot put back the registers and mask of pid %d", c->child);
		return -errno;
	}
	return 0;
}

/*
 * A thread dumped inside an rseq critical section whose flags forbid the
 * abort (6.9) keeps its rseq_cs pointer: put it back into its struct rseq
 * now that the memory and the registration are in place.
 */
static int restore_rseq_cs(struct rst_ctx *c, size_t i)
{
	const CoreEntry *core = c->thread_cores ? c->thread_cores[i] : c->core;
	const ThreadCoreEntry *th = core ? core->thread_core : NULL;
	const RseqEntry *re = th ? th->rseq_entry : NULL;
	pid_t tid = c->tids ? rst_host_tid(c, i) : c->child;

	if (!re || !re->has_rseq_cs_pointer || !re->rseq_cs_pointer)
		return 0;
	if (ptrace(PTRACE_POKEDATA, tid, re->rseq_abi_pointer + K_RSEQ_CS_OFFSET,
		   re->rseq_cs_pointer)) {
		pr_perror("thread %d: cannot put back its rseq_cs pointer at %#llx", tid,
			  (unsigned long long)(re->rseq_abi_pointer + K_RSEQ_CS_OFFSET));
		return -errno;
	}
	return 0;
}

static size_t nr_threads(const struct rst_ctx *c)
{
	return c->tids ? c->nr_threads : 1;
}

/*
 * The other threads wait on a futex in the restorer: seize them (criu
 * traces the leader since the fork) and stop them there, with the leader.
 */
static int seize_threads(struct rst_ctx *c)
{
	int status, ret;

	ret = rst_map_host_tids(c);
	if (ret)
		return ret;

	for (size_t i = 1; i < nr_threads(c); i++) {
		if (ptrace(PTRACE_SEIZE, rst_host_tid(c, i), 0, c->ptrace_opts)) {
			pr_perror("cannot seize thread %d of pid %d", c->tids[i], c->pid);
			return -errno;
		}
		c->nr_seized_threads = i;
	}
	for (size_t i = 0; i < nr_threads(c); i++) {
		pid_t tid = i ? rst_host_tid(c, i) : c->child;

		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0)) {
			pr_perror("cannot interrupt thread %d of pid %d", tid, c->pid);
			return -errno;
		}
		while (waitpid(tid, &status, __WALL) < 0) {
			if (errno != EINTR) {
				pr_perror("waitpid(%d)", tid);
				return -errno;
			}
		}
		if (!WIFSTOPPED(status))
			return tid_gone(c, tid, status);
	}
	return 0;
}

int rst_finish_task(struct rst_ctx *c)
{
	struct k_user_regs regs, tregs;
	char byte = 'g';
	int ret;

	err_ctx_set_stage("resume");
	if (!c->bootstrap_start || !c->syscall_insn) {
		pr_err("pid %d: the restorer never said where it runs", c->pid);
		return -EIO;
	}
	/* The restorer waits on the go channel; stop it there, then step its syscalls. */
	ret = seize_threads(c);
	if (ret)
		return ret;
	if (write(c->go_wr, &byte, 1) != 1) {
		pr_perror("cannot resume the restorer of pid %d", c->pid);
		return -errno;
	}
	/* The leader releases the threads before its sigreturn; each is caught at its own. */
	ret = catch_sigreturn(c, c->child, &regs);
	for (size_t i = 1; !ret && i < nr_threads(c); i++)
		ret = catch_sigreturn(c, rst_host_tid(c, i), &tregs);
	if (!ret)
		ret = unmap_bootstrap(c, &regs);
	for (size_t i = 0; !ret && i < nr_threads(c); i++)
		ret = restore_rseq_cs(c, i);
	return ret;
}

int rst_detach_threads(struct rst_ctx *c)
{
	for (size_t i = 1; i <= c->nr_seized_threads; i++) {
		if (ptrace(PTRACE_DETACH, rst_host_tid(c, i), 0, 0)) {
			pr_perror("cannot detach from thread %d of pid %d", c->tids[i], c->pid);
			return -errno;
		}
	}
	c->nr_seized_threads = 0;
	return 0;
}

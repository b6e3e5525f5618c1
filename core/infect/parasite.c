// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loading the parasite blob into a task and running its commands
 * (facts 2.5, 2.6, 2.8, 2.10). The blob and its args area live in one memfd
 * mapped twice: in the task (text read+exec, the rest read+write) and in
 * criu (read+write), so arguments and results need no ptrace copying.
 */
#define LOG_PREFIX "infect: "
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criu/log.h>

#include <parasite/parasite-blob.h>

#include "infect/infect.h"
#include "infect/ptrace.h"

#define PARASITE_ARGS_SIZE (512UL << 10)
#define PARASITE_STACK_SIZE (64UL << 10)
#define MFD_CLOEXEC_FLAG 1U

static const char *const cmd_names[PARASITE_CMD__MAX] = {
	[PARASITE_CMD_INIT] = "init",
	[PARASITE_CMD_DUMP_MISC] = "dump-misc",
	[PARASITE_CMD_DUMP_THREAD] = "dump-thread",
	[PARASITE_CMD_DUMP_SIGACTS] = "dump-sigactions",
	[PARASITE_CMD_DUMP_ITIMERS] = "dump-itimers",
	[PARASITE_CMD_DUMP_POSIX_TIMERS] = "dump-posix-timers",
	[PARASITE_CMD_MPROTECT] = "mprotect",
	[PARASITE_CMD_DUMP_PAGES] = "dump-pages",
};

const char *infect_cmd_name(enum parasite_cmd cmd)
{
	if ((unsigned int)cmd < PARASITE_CMD__MAX && cmd_names[cmd])
		return cmd_names[cmd];
	return "unknown";
}

static long rsys(struct infect_ctx *ctx, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return infect_syscall6(ctx, nr, a1, a2, a3, a4, a5, a6);
}

int infect_parasite_start(struct infect_ctx *ctx)
{
	const struct pie_blob *b = &parasite_blob;
	pid_t pid = ctx->task->pid;
	size_t total = b->mem_size + PARASITE_ARGS_SIZE + PARASITE_STACK_SIZE;
	char path[64];
	long rfd, base, r;
	int lfd = -1, ret;
	void *local;

	/* The memfd's name was written next to the syscall bytes by infect_init(). */
	rfd = rsys(ctx, __NR_memfd_create, (long)(ctx->sc_ip + 8), MFD_CLOEXEC_FLAG, 0, 0, 0, 0);
	if (rfd < 0) {
		pr_err("pid %d: remote memfd_create failed: %s", pid, strerror((int)-rfd));
		return (int)rfd;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", pid, rfd);
	lfd = open(path, O_RDWR | O_CLOEXEC);
	if (lfd < 0) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		goto close_remote;
	}
	if (ftruncate(lfd, (off_t)total)) {
		ret = -errno;
		pr_perror("cannot size the parasite memfd of pid %d", pid);
		goto close_remote;
	}

	/* W^X: all of it read+exec first, then the data, args and stack read+write. */
	base = rsys(ctx, __NR_mmap, 0, (long)total, PROT_READ | PROT_EXEC, MAP_SHARED, rfd, 0);
	if (base < 0 && base > -4096) {
		ret = (int)base;
		pr_err("pid %d: remote mmap of the parasite failed: %s", pid, strerror(-ret));
		goto close_remote;
	}
	ctx->remote = (uint64_t)base;
	ctx->map_size = total;
	ctx->blob = b;
	r = rsys(ctx, __NR_mprotect, base + (long)b->rw_off, (long)(total - b->rw_off),
		 PROT_READ | PROT_WRITE, 0, 0, 0);
	if (r) {
		ret = (int)r;
		pr_err("pid %d: remote mprotect of the parasite data failed: %s", pid, strerror(-ret));
		goto close_remote;
	}

	local = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	if (local == MAP_FAILED) {
		ret = -errno;
		pr_perror("cannot map the parasite memfd of pid %d", pid);
		goto close_remote;
	}
	ctx->local = local;
	pie_blob_load(b, local, (uint64_t)base);
	ctx->args = (struct parasite_args *)(ctx->local + b->mem_size);
	ctx->args_size = PARASITE_ARGS_SIZE;
	ctx->remote_args = (uint64_t)base + b->mem_size;
	ctx->remote_stack_top = ((uint64_t)base + total) & ~15ULL;

	r = rsys(ctx, __NR_close, rfd, 0, 0, 0, 0, 0);
	rfd = -1;
	if (r)
		pr_warn("pid %d: remote close of the parasite memfd failed: %s", pid,
			strerror((int)-r));
	close(lfd);
	lfd = -1;

	/* From now on syscalls run from the blob; the task's code gets its bytes back. */
	ret = infect_poke(pid, ctx->code_ip, ctx->saved_code, sizeof(ctx->saved_code));
	if (ret)
		return ret;
	ctx->code_poked = false;
	ctx->sc_ip = (uint64_t)base + PARASITE_OFF_SYSCALL;

	ret = infect_parasite_call(ctx, PARASITE_CMD_INIT);
	if (ret)
		return ret;
	pr_debug("pid %d: parasite at %#lx (%zu bytes), task tid %d", pid, base, total,
		 ctx->args->u.init.tid);
	return 0;

close_remote:
	if (lfd >= 0)
		close(lfd);
	if (rfd >= 0)
		rsys(ctx, __NR_close, rfd, 0, 0, 0, 0, 0);
	return ret;
}

int infect_parasite_call(struct infect_ctx *ctx, enum parasite_cmd cmd)
{
	return infect_parasite_call_in(ctx, ctx->task, cmd);
}

int infect_parasite_call_in(struct infect_ctx *ctx, struct seized_task *t, enum parasite_cmd cmd)
{
	struct k_user_regs regs = t->regs;
	struct parasite_args *a = ctx->args;
	char what[64];
	int ret;

	if (!a) {
		pr_err("pid %d: parasite not started", ctx->task->pid);
		return -EINVAL;
	}
	a->hdr.magic = PARASITE_MAGIC;
	a->hdr.cmd = cmd;
	a->hdr.ret = -EINPROGRESS;
	a->hdr.size = ctx->args_size;

	regs.ip = ctx->remote + ctx->blob->entry_off;
	regs.sp = ctx->remote_stack_top;
	regs.di = ctx->remote_args;
	regs.ax = 0;
	regs.orig_ax = (uint64_t)-1;
	regs.flags &= ~(uint64_t)0x500; /* TF, DF */

	/* Another thread than the leader: block its signals too (the leader's are, since init). */
	if (t != ctx->task) {
		ret = infect_set_sigmask(t->pid, ~K_SIGMASK(SIGTRAP));
		if (ret)
			return ret;
	}
	snprintf(what, sizeof(what), "parasite command %s", infect_cmd_name(cmd));
	ret = infect_run_blob_in(ctx, t, &regs, what);
	/* Put the thread back as it was; the leader is put back by infect_cure(). */
	if (t != ctx->task && !t->dead) {
		int r = infect_set_regs(t->pid, &t->regs);

		if (!r)
			r = infect_set_sigmask(t->pid, t->sigmask);
		ret = ret ? ret : r;
	}
	if (ret)
		return ret;
	if (a->hdr.ret) {
		pr_err("pid %d: parasite command %s failed: %s (at %#llx)", t->pid,
		       infect_cmd_name(cmd), strerror((int)-a->hdr.ret),
		       (unsigned long long)a->hdr.err_arg);
		return a->hdr.ret < 0 && a->hdr.ret > -4096 ? (int)a->hdr.ret : -EIO;
	}
	return 0;
}

static void leader_cmd_regs(struct infect_ctx *ctx, enum parasite_cmd cmd, struct k_user_regs *regs)
{
	struct parasite_args *a = ctx->args;

	a->hdr.magic = PARASITE_MAGIC;
	a->hdr.cmd = cmd;
	a->hdr.ret = -EINPROGRESS;
	a->hdr.size = ctx->args_size;
	*regs = ctx->task->regs;
	regs->ip = ctx->remote + ctx->blob->entry_off;
	regs->sp = ctx->remote_stack_top;
	regs->di = ctx->remote_args;
	regs->ax = 0;
	regs->orig_ax = (uint64_t)-1;
	regs->flags &= ~(uint64_t)0x500; /* TF, DF */
}

int infect_parasite_begin(struct infect_ctx *ctx, enum parasite_cmd cmd)
{
	struct k_user_regs regs;

	if (!ctx->args)
		return -EINVAL;
	leader_cmd_regs(ctx, cmd, &regs);
	return infect_blob_begin(ctx, &regs, infect_cmd_name(cmd));
}

int infect_parasite_end(struct infect_ctx *ctx, enum parasite_cmd cmd)
{
	struct parasite_args *a = ctx->args;
	int ret;

	ret = infect_blob_end(ctx, infect_cmd_name(cmd));
	if (ret)
		return ret;
	if (a->hdr.ret) {
		pr_err("pid %d: parasite command %s failed: %s (at %#llx)", ctx->task->pid,
		       infect_cmd_name(cmd), strerror((int)-a->hdr.ret),
		       (unsigned long long)a->hdr.err_arg);
		return a->hdr.ret < 0 && a->hdr.ret > -4096 ? (int)a->hdr.ret : -EIO;
	}
	return 0;
}

int infect_steal_fd(pid_t pid, int fd)
{
	int pidfd, ret;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = -errno;
		pr_perror("pidfd_open(%d) failed", pid);
		return ret;
	}
	ret = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (ret < 0) {
		ret = -errno;
		pr_perror("cannot take fd %d of pid %d (pidfd_getfd)", fd, pid);
	}
	close(pidfd);
	return ret;
}

int infect_remote_pipe(struct infect_ctx *ctx, int *remote_wfd, int *local_rfd)
{
	pid_t pid = ctx->task->pid;
	int32_t *fds;
	long r;
	int lfd;

	if (!ctx->args)
		return -EINVAL;
	/* The pair lands in the args area, which criu sees directly. */
	fds = (int32_t *)ctx->args->u.payload;
	r = rsys(ctx, __NR_pipe2, (long)(ctx->remote_args + offsetof(struct parasite_args, u)),
		 O_CLOEXEC, 0, 0, 0, 0);
	if (r) {
		pr_err("pid %d: remote pipe2 failed: %s", pid, strerror((int)-r));
		return (int)r;
	}
	lfd = infect_steal_fd(pid, fds[0]);
	rsys(ctx, __NR_close, fds[0], 0, 0, 0, 0, 0);
	if (lfd < 0) {
		rsys(ctx, __NR_close, fds[1], 0, 0, 0, 0, 0);
		return lfd;
	}
	*remote_wfd = fds[1];
	*local_rfd = lfd;
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every parasite command against a target whose state we set up and know,
 * then cure and check that the target carries on; plus a parasite crash
 * that must be reported and leave the target unharmed.
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "infect-tap.h"
#include "infect-target.h"

#include "infect/infect.h"
#include "infect/ptrace.h"
#include "infect/seize.h"

#define ALT_SIZE (64 << 10)
#define PATTERN_PAGES 1024 /* 4 MiB */

enum { X_HANDLER, X_ALTSTACK, X_BRK, X_TIMER, X_TIDADDR, X_PROTNONE, X_PATTERN, X_SID };

static void on_usr1(int sig)
{
	(void)sig;
}

static int tid_word;

static void stateful(struct shared *sh)
{
	static char altstack[ALT_SIZE];
	struct sigaction sa = { 0 };
	struct itimerval itv = { { 7, 0 }, { 100, 0 } };
	struct sigevent sev = { 0 };
	struct itimerspec its = { { 0, 0 }, { 50, 0 } };
	stack_t ss = { .ss_sp = altstack, .ss_size = ALT_SIZE };
	uint8_t *pat;
	int timer_id = -1;
	void *none;

	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	setitimer(ITIMER_REAL, &itv, NULL);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 1;
	syscall(__NR_timer_create, CLOCK_MONOTONIC, &sev, &timer_id);
	syscall(__NR_timer_settime, timer_id, 0, &its, NULL);
	sigaltstack(&ss, NULL);
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	syscall(__NR_set_tid_address, &tid_word);
	none = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pat = mmap(NULL, PATTERN_PAGES * 4096UL, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (unsigned long i = 0; i < PATTERN_PAGES * 4096UL; i += 8)
		*(uint64_t *)(pat + i) = i * 0x9e3779b97f4a7c15ULL;

	sh->expect[X_HANDLER] = (uint64_t)(uintptr_t)on_usr1;
	sh->expect[X_ALTSTACK] = (uint64_t)(uintptr_t)altstack;
	sh->expect[X_BRK] = (uint64_t)(uintptr_t)sbrk(0);
	sh->expect[X_TIMER] = (uint64_t)timer_id;
	sh->expect[X_TIDADDR] = (uint64_t)(uintptr_t)&tid_word;
	sh->expect[X_PROTNONE] = (uint64_t)(uintptr_t)none;
	sh->expect[X_PATTERN] = (uint64_t)(uintptr_t)pat;
	sh->expect[X_SID] = (uint64_t)getsid(0);
	busy_counter(sh);
}

struct infected {
	struct shared *sh;
	pid_t pid;
	struct seized_task t;
	struct infect_ctx ctx;
};

static void infect_stateful(struct infected *in)
{
	in->sh = shared_new();
	REQUIRE(in->sh);
	in->pid = target_start(in->sh, stateful);
	target_wait_ready(in->sh);
	REQUIRE(infect_seize(in->pid, 5, &in->t) == 0);
	REQUIRE(infect_init(&in->ctx, &in->t) == 0);
	REQUIRE(infect_parasite_start(&in->ctx) == 0);
}

static void release(struct infected *in)
{
	CHECK_EQ(infect_cure(&in->ctx), 0);
	CHECK_EQ(infect_detach(&in->t, INFECT_DETACH_RESUME), 0);
	CHECK(target_is_running(in->sh));
	kill(in->pid, SIGKILL);
}

static void t_state_commands(void)
{
	struct infected in;
	struct parasite_args *a;
	struct k_sigaction *act;

	infect_stateful(&in);
	a = infect_parasite_args(&in.ctx);
	CHECK_EQ(a->u.init.pid, in.pid);
	{
		/* Once the blob is in, the task's own code is back as it was. */
		uint64_t code[2];

		CHECK_EQ(infect_peek(in.pid, in.ctx.code_ip, code, sizeof(code)), 0);
		CHECK(!memcmp(code, in.ctx.saved_code, sizeof(code)));
		CHECK(!in.ctx.code_poked);
		CHECK_EQ(infect_syscall6(&in.ctx, __NR_getpid, 0, 0, 0, 0, 0, 0), in.pid);
	}

	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_MISC), 0);
	CHECK_EQ(a->u.misc.brk, in.sh->expect[X_BRK]);
	CHECK_EQ(a->u.misc.dumpable, 1);
	CHECK_EQ(a->u.misc.thp_disabled, 1);
	CHECK_EQ(a->u.misc.child_subreaper, 1);
	CHECK_EQ(a->u.misc.sid, in.sh->expect[X_SID]);

	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_THREAD), 0);
	CHECK_EQ(a->u.thread.tid, in.pid);
	CHECK_EQ(a->u.thread.pdeath_sig, SIGHUP);
	CHECK_EQ(a->u.thread.clear_child_tid, in.sh->expect[X_TIDADDR]);
	CHECK_EQ(a->u.thread.sas.ss_sp, in.sh->expect[X_ALTSTACK]);
	CHECK_EQ(a->u.thread.sas.ss_size, ALT_SIZE);

	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_SIGACTS), 0);
	act = &a->u.sigacts.act[SIGUSR1 - 1];
	CHECK_EQ(act->handler, in.sh->expect[X_HANDLER]);
	CHECK(act->flags & K_SA_RESTART);
	CHECK(act->flags & K_SA_RESTORER);
	CHECK(act->restorer != 0);
	CHECK_EQ(act->mask, K_SIGMASK(SIGUSR2));
	CHECK_EQ(a->u.sigacts.act[SIGUSR2 - 1].handler, 0); /* SIG_DFL */

	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_ITIMERS), 0);
	CHECK_EQ(a->u.itimers.real.it_interval.tv_sec, 7);
	CHECK(a->u.itimers.real.it_value.tv_sec > 90 && a->u.itimers.real.it_value.tv_sec <= 100);
	CHECK_EQ(a->u.itimers.virt.it_value.tv_sec, 0);

	{
		struct parasite_posix_timers *pt = (void *)a->u.payload;

		pt->nr = 1;
		pt->t[0].id = (int32_t)in.sh->expect[X_TIMER];
		CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_POSIX_TIMERS), 0);
		CHECK(pt->t[0].val.it_value.tv_sec > 40 && pt->t[0].val.it_value.tv_sec <= 50);
		CHECK_EQ(pt->t[0].overrun, 0);
		/* A timer that does not exist is an error naming it. */
		pt->t[0].id = 4242;
		CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_POSIX_TIMERS), -EINVAL);
		CHECK_EQ(a->hdr.err_arg, 4242);
	}
	release(&in);
}

static int maps_prot(pid_t pid, uint64_t addr, char *perms)
{
	char path[64], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx %4s", &s, &e, perms) == 3 && s == addr)
			found = 1;
	}
	fclose(f);
	return found;
}

static void t_mprotect(void)
{
	struct infected in;
	struct parasite_mprotect *mp;
	char perms[5];

	infect_stateful(&in);
	mp = (void *)infect_parasite_args(&in.ctx)->u.payload;
	mp->nr = 1;
	mp->v[0].start = in.sh->expect[X_PROTNONE];
	mp->v[0].len = 8192;
	mp->v[0].prot = PROT_READ;
	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_MPROTECT), 0);
	CHECK_EQ(mp->done, 1);
	CHECK(maps_prot(in.pid, mp->v[0].start, perms) && !strcmp(perms, "r--p"));
	mp->v[0].prot = PROT_NONE;
	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_MPROTECT), 0);
	CHECK(maps_prot(in.pid, mp->v[0].start, perms) && !strcmp(perms, "---p"));
	release(&in);
}

static void t_dump_pages(void)
{
	struct infected in;
	struct parasite_dump_pages *dp;
	int wfd[2], rfd[2];
	uint64_t base;
	uint8_t *buf;
	int bad = 0;

	infect_stateful(&in);
	base = in.sh->expect[X_PATTERN];
	for (int i = 0; i < 2; i++) {
		REQUIRE(infect_remote_pipe(&in.ctx, &wfd[i], &rfd[i]) == 0);
		CHECK_EQ(fcntl(rfd[i], F_SETPIPE_SZ, 1 << 20), 1 << 20);
	}
	buf = malloc(2 << 20);
	REQUIRE(buf);
	dp = (void *)infect_parasite_args(&in.ctx)->u.payload;
	/* Two rounds of 2 pipes x 1 MiB: the first pipe gets one iov, the second 256. */
	for (int round = 0; round < 2; round++) {
		uint64_t off = base + (uint64_t)round * (2 << 20);
		size_t got = 0;

		dp->nr_pipes = 2;
		dp->pipe_fd[0] = wfd[0];
		dp->pipe_fd[1] = wfd[1];
		dp->nr_iov[0] = 1;
		dp->iov[0].base = off;
		dp->iov[0].len = 1 << 20;
		dp->nr_iov[1] = 256;
		for (int p = 0; p < 256; p++) {
			dp->iov[1 + p].base = off + (1 << 20) + (uint64_t)p * 4096;
			dp->iov[1 + p].len = 4096;
		}
		CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_PAGES), 0);
		CHECK_EQ(dp->bytes, 2 << 20);
		for (int i = 0; i < 2; i++) {
			size_t want = (size_t)(i + 1) << 20;

			while (got < want) {
				ssize_t n = read(rfd[i], buf + got, want - got);

				if (n <= 0)
					break;
				got += (size_t)n;
			}
		}
		CHECK_EQ(got, 2 << 20);
		for (size_t i = 0; i < got; i += 8) {
			uint64_t want = ((uint64_t)round * (2 << 20) + i) * 0x9e3779b97f4a7c15ULL;

			if (*(uint64_t *)(buf + i) != want)
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
	/* An unmapped address is an error that names it, not a crash. */
	dp->nr_pipes = 1;
	dp->nr_iov[0] = 1;
	dp->iov[0].base = 0x1000;
	dp->iov[0].len = 4096;
	CHECK_EQ(infect_parasite_call(&in.ctx, PARASITE_CMD_DUMP_PAGES), -EFAULT);
	CHECK_EQ(infect_parasite_args(&in.ctx)->hdr.err_arg, 0x1000);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(infect_syscall6(&in.ctx, __NR_close, wfd[i], 0, 0, 0, 0, 0), 0);
		close(rfd[i]);
	}
	free(buf);
	release(&in);
}

static void t_parasite_crash(void)
{
	struct infected in;
	struct k_user_regs regs;

	infect_stateful(&in);
	/* Enter the blob with a NULL args pointer: it faults on the first read. */
	regs = in.t.regs;
	regs.ip = in.ctx.remote + in.ctx.blob->entry_off;
	regs.sp = in.ctx.remote_stack_top;
	regs.di = 0;
	regs.orig_ax = (uint64_t)-1;
	CHECK_EQ(infect_run_blob(&in.ctx, &regs, "crash test"), -EFAULT);
	CHECK(in.ctx.crashed);
	/* Curing still works, and the SIGSEGV never reaches the task. */
	release(&in);
}

static void t_unknown_command(void)
{
	struct infected in;

	infect_stateful(&in);
	CHECK_EQ(infect_parasite_call(&in.ctx, (enum parasite_cmd)77), -ENOSYS);
	release(&in);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_state_commands),
		TAP_TEST(t_mprotect),
		TAP_TEST(t_dump_pages),
		TAP_TEST(t_parasite_crash),
		TAP_TEST(t_unknown_command),
	};

	return tap_run(tests, TAP_COUNT(tests), &infect_tap_opts);
}

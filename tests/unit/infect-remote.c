// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seizing, remote system calls, and letting tasks go exactly as they were:
 * refused targets (missing, zombie, traced), a busy task, tasks blocked in
 * nanosleep and read whose system calls must restart unnoticed, a stopped
 * task that must stay stopped (also with a second SIGSTOP queued), and the
 * three ways to let go.
 */
#define _GNU_SOURCE
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "infect-tap.h"
#include "infect-target.h"

#include "infect/infect.h"
#include "infect/seize.h"

static void t_seize_missing(void)
{
	struct seized_task t;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	REQUIRE(pid > 0);
	waitpid(pid, NULL, 0);
	CHECK_EQ(infect_seize(pid, 5, &t), -ESRCH);
	CHECK(!t.attached);
}

static void t_seize_zombie(void)
{
	struct seized_task t;
	pid_t pid = fork();

	if (pid == 0)
		_exit(3);
	REQUIRE(pid > 0);
	REQUIRE(wait_state(pid, "Z"));
	CHECK_EQ(infect_seize(pid, 5, &t), -EINVAL);
	waitpid(pid, NULL, 0);
}

static void t_seize_traced(void)
{
	struct shared *sh = shared_new();
	struct seized_task t;
	pid_t target, tracer;

	REQUIRE(sh);
	target = target_start(sh, busy_counter);
	REQUIRE(target > 0);
	target_wait_ready(sh);
	tracer = fork();
	if (tracer == 0) {
		if (ptrace(PTRACE_SEIZE, target, NULL, NULL))
			_exit(1);
		sh->result = 1;
		pause();
		_exit(0);
	}
	while (!sh->result)
		usleep(1000);
	CHECK_EQ(infect_seize(target, 5, &t), -EBUSY);
	CHECK(target_is_running(sh));
	kill(tracer, SIGKILL);
	kill(target, SIGKILL);
}

static void t_remote_syscalls(void)
{
	struct shared *sh = shared_new();
	struct infect_ctx ctx;
	struct seized_task t;
	long addr, r;
	pid_t pid;

	REQUIRE(sh);
	pid = target_start(sh, busy_counter);
	target_wait_ready(sh);
	REQUIRE(infect_seize(pid, 5, &t) == 0);
	CHECK_EQ(t.state, TASK_STATE_ALIVE);
	REQUIRE(infect_init(&ctx, &t) == 0);

	CHECK_EQ(infect_syscall6(&ctx, __NR_getpid, 0, 0, 0, 0, 0, 0), pid);
	addr = infect_syscall6(&ctx, __NR_mmap, 0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(addr > 0);
	r = infect_syscall6(&ctx, __NR_munmap, addr, 8192, 0, 0, 0, 0);
	CHECK_EQ(r, 0);
	/* A failing syscall reports its errno, and the task survives it. */
	CHECK_EQ(infect_syscall6(&ctx, __NR_close, 12345, 0, 0, 0, 0, 0), -EBADF);

	CHECK_EQ(infect_cure(&ctx), 0);
	CHECK_EQ(infect_detach(&t, INFECT_DETACH_RESUME), 0);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
}

static void sleeper(struct shared *sh)
{
	struct timespec start, req = { 1, 500000000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	sh->ready = 1;
	sh->result = nanosleep(&req, NULL);
	sh->err = errno;
	sh->elapsed_ms = ms_since(&start);
	sh->counter = 1;
	pause();
}

/* A full inject-and-cure cycle, parasite included, on a task. */
static void infect_cycle(pid_t pid, enum infect_detach_mode mode, int *state)
{
	struct infect_ctx ctx;
	struct seized_task t;

	REQUIRE(infect_seize(pid, 5, &t) == 0);
	if (state)
		*state = t.state;
	REQUIRE(infect_init(&ctx, &t) == 0);
	CHECK_EQ(infect_parasite_start(&ctx), 0);
	CHECK_EQ(infect_parasite_call(&ctx, PARASITE_CMD_DUMP_MISC), 0);
	CHECK_EQ(infect_parasite_call(&ctx, PARASITE_CMD_DUMP_SIGACTS), 0);
	CHECK_EQ(infect_cure(&ctx), 0);
	CHECK_EQ(infect_detach(&t, mode), 0);
}

static void t_nanosleep_restarts(void)
{
	struct shared *sh = shared_new();
	pid_t pid;

	REQUIRE(sh);
	pid = target_start(sh, sleeper);
	target_wait_ready(sh);
	REQUIRE(wait_state(pid, "S"));
	usleep(100000);
	infect_cycle(pid, INFECT_DETACH_RESUME, NULL);
	for (int i = 0; i < 4000 && !sh->counter; i++)
		usleep(1000);
	CHECK_EQ(sh->counter, 1);
	CHECK_EQ(sh->result, 0);
	CHECK(sh->elapsed_ms >= 1500);
	kill(pid, SIGKILL);
}

static int reader_pipe[2];

static void reader(struct shared *sh)
{
	char buf[16] = { 0 };

	close(reader_pipe[1]);
	sh->ready = 1;
	sh->result = read(reader_pipe[0], buf, sizeof(buf));
	sh->err = errno;
	memcpy(sh->buf, buf, sizeof(buf));
	sh->counter = 1;
	pause();
}

static void t_read_restarts(void)
{
	struct shared *sh = shared_new();
	pid_t pid;

	REQUIRE(sh);
	REQUIRE(pipe(reader_pipe) == 0);
	pid = target_start(sh, reader);
	close(reader_pipe[0]);
	target_wait_ready(sh);
	REQUIRE(wait_state(pid, "S"));
	usleep(50000);
	infect_cycle(pid, INFECT_DETACH_RESUME, NULL);
	usleep(50000);
	CHECK_EQ(sh->counter, 0); /* still blocked in read, not EINTR */
	REQUIRE(write(reader_pipe[1], "hello", 5) == 5);
	for (int i = 0; i < 2000 && !sh->counter; i++)
		usleep(1000);
	CHECK_EQ(sh->result, 5);
	CHECK(!strcmp(sh->buf, "hello"));
	kill(pid, SIGKILL);
}

static void t_stopped_stays_stopped(void)
{
	struct shared *sh = shared_new();
	int state = 0;
	pid_t pid;

	REQUIRE(sh);
	pid = target_start(sh, busy_counter);
	target_wait_ready(sh);
	kill(pid, SIGSTOP);
	REQUIRE(wait_state(pid, "T"));
	infect_cycle(pid, INFECT_DETACH_RESUME, &state);
	CHECK_EQ(state, TASK_STATE_STOPPED);
	CHECK(wait_state(pid, "T"));
	CHECK(!target_is_running(sh));
	kill(pid, SIGCONT);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
}

/*
 * A second SIGSTOP to a stopped task stays queued (ShdPnd). Unless seize
 * discards it, the task takes it in the middle of the parasite's work.
 */
static uint64_t shd_pending(pid_t pid)
{
	char buf[64];

	if (infect_proc_status_field(pid, "ShdPnd", buf, sizeof(buf)))
		return ~0ull;
	return strtoull(buf, NULL, 16);
}

static void t_stopped_with_queued_stop(void)
{
	struct shared *sh = shared_new();
	struct infect_ctx ctx;
	struct seized_task t;
	pid_t pid;

	REQUIRE(sh);
	pid = target_start(sh, busy_counter);
	target_wait_ready(sh);
	kill(pid, SIGSTOP);
	REQUIRE(wait_state(pid, "T"));
	kill(pid, SIGSTOP);
	REQUIRE(infect_seize(pid, 5, &t) == 0);
	CHECK_EQ(t.state, TASK_STATE_STOPPED);
	CHECK_EQ(t.stop_signo, SIGSTOP);
	/* Discarded at seize, so it is neither dumped as pending nor taken later. */
	CHECK(!(shd_pending(pid) & (1ull << (SIGSTOP - 1))));
	REQUIRE(infect_init(&ctx, &t) == 0);
	CHECK_EQ(infect_parasite_start(&ctx), 0);
	CHECK_EQ(infect_parasite_call(&ctx, PARASITE_CMD_DUMP_MISC), 0);
	CHECK_EQ(infect_cure(&ctx), 0);
	CHECK_EQ(t.new_stop_signo, 0);
	CHECK_EQ(infect_detach(&t, INFECT_DETACH_RESUME), 0);
	CHECK(wait_state(pid, "T"));
	CHECK(!target_is_running(sh));
	kill(pid, SIGCONT);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
}

static void t_leave_stopped(void)
{
	struct shared *sh = shared_new();
	pid_t pid;

	REQUIRE(sh);
	pid = target_start(sh, busy_counter);
	target_wait_ready(sh);
	infect_cycle(pid, INFECT_DETACH_STOPPED, NULL);
	CHECK(wait_state(pid, "T"));
	kill(pid, SIGCONT);
	CHECK(target_is_running(sh));
	kill(pid, SIGKILL);
}

static void t_detach_kill(void)
{
	struct shared *sh = shared_new();
	struct seized_task t;
	pid_t pid;

	REQUIRE(sh);
	pid = target_start(sh, busy_counter);
	target_wait_ready(sh);
	REQUIRE(infect_seize(pid, 5, &t) == 0);
	CHECK_EQ(infect_detach(&t, INFECT_DETACH_KILL), 0);
	CHECK(t.dead);
	/* We were tracer and parent: it is reaped already. */
	CHECK_EQ(kill(pid, 0), -1);
	CHECK_EQ(errno, ESRCH);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_seize_missing),
		TAP_TEST(t_seize_zombie),
		TAP_TEST(t_seize_traced),
		TAP_TEST(t_remote_syscalls),
		TAP_TEST(t_nanosleep_restarts),
		TAP_TEST(t_read_restarts),
		TAP_TEST(t_stopped_stays_stopped),
		TAP_TEST(t_stopped_with_queued_stop),
		TAP_TEST(t_leave_stopped),
		TAP_TEST(t_detach_kill),
	};

	return tap_run(tests, TAP_COUNT(tests), &infect_tap_opts);
}

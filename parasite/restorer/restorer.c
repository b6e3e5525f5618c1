// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restorer blob: stage 2 of restoring one task. Stage 1 (criu code
 * with glibc, in the new task) copied this blob and its args into the
 * bootstrap region and jumped to __export_entry with the args in %rdi.
 *
 * Order (facts 5.7-5.24): drop criu's rseq, park the vDSO, unmap the rest,
 * map and fill the task's memory, move the vDSO home, mm fields, rlimits,
 * the other threads (with their tids), POSIX timers; tell criu we are
 * ready and wait until it traces every thread; then block signals, restore
 * SIGCHLD, queue pending signals, release the threads, per-thread state,
 * seccomp, creds, itimers and timer settings, and rt_sigreturn (each thread
 * through its own frame). criu catches every thread at the exit of its
 * rt_sigreturn and unmaps this blob.
 */
#include "restorer.h"
#include "rst-sys.h"

struct rst_ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

struct rst_ktimeval_pair {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

struct rst_kitimerspec {
	struct rst_timespec interval;
	struct rst_timespec value;
};

void rst_report(const struct rst_args *a, int kind, int step, long err, uint64_t arg,
		uint64_t arg2)
{
	struct rst_report r;

	if (a->report_fd < 0)
		return;
	r.kind = kind;
	r.step = step;
	r.err = err;
	r.arg = arg;
	r.arg2 = arg2;
	sys3(__NR_write, a->report_fd, &r, sizeof(r));
}

void rst_fail(const struct rst_args *a, int step, long err, uint64_t arg, uint64_t arg2)
{
	rst_report(a, RST_REPORT_ERROR, step, err, arg, arg2);
	for (;;)
		sys1(__NR_exit_group, 42);
}

static void block_all_signals(void)
{
	uint64_t all = ~0ull;

	sys4(__NR_rt_sigprocmask, RST_SIG_SETMASK, &all, 0, 8);
}

static void close_fds(const struct rst_args *a)
{
	const int32_t *fds = (const int32_t *)(uintptr_t)a->close_fds;
	uint32_t i;

	for (i = 0; i < a->nr_close_fds; i++) {
		long r = sys1(__NR_close, fds[i]);

		if (r < 0)
			rst_fail(a, RST_STEP_CLOSE_FDS, r, (uint64_t)fds[i], 0);
	}
}

static void restore_mm(const struct rst_args *a)
{
	struct rst_mm_map m = a->mm_map;
	long r;

	if (a->has_mm_map) {
		m.exe_fd = (uint32_t)a->exe_fd;
		r = sys5(__NR_prctl, RST_PR_SET_MM, RST_PR_SET_MM_MAP, &m, sizeof(m), 0);
		if (r < 0 && a->exe_fd >= 0) {
			/* Keep going with the runtime exe link; criu says so. */
			rst_report(a, RST_REPORT_WARN, RST_STEP_EXE_FD, r, 0, 0);
			m.exe_fd = (uint32_t)-1;
			r = sys5(__NR_prctl, RST_PR_SET_MM, RST_PR_SET_MM_MAP, &m, sizeof(m), 0);
		}
		if (r < 0)
			rst_fail(a, RST_STEP_MM_MAP, r, m.start_brk, m.brk);
	}
	if (a->exe_fd >= 0)
		sys1(__NR_close, a->exe_fd);
	if (a->thp_disabled) {
		r = sys5(__NR_prctl, RST_PR_SET_THP_DISABLE, 1, 0, 0, 0);
		if (r < 0)
			rst_fail(a, RST_STEP_MM_MAP, r, 0, 1);
	}
}

/* Stage 1 lowered what we may not raise, so every value here must fit. */
static void restore_rlimits(const struct rst_args *a)
{
	const struct rst_rlimit *rl = (const struct rst_rlimit *)(uintptr_t)a->rlimits;
	uint32_t i;

	for (i = 0; i < a->nr_rlimits; i++) {
		long r = sys4(__NR_prlimit64, 0, rl[i].resource, &rl[i].cur, 0);

		if (r < 0)
			rst_fail(a, RST_STEP_RLIMIT, r, rl[i].resource, rl[i].cur);
	}
}

/* Create the POSIX timers with their dumped ids (PR_TIMER_CREATE_RESTORE_IDS, 6.2). */
static void create_posix_timers(const struct rst_args *a)
{
	const struct rst_posix_timer *t = (const struct rst_posix_timer *)(uintptr_t)a->posix_timers;
	uint32_t i;
	long r;

	if (!a->nr_posix_timers)
		return;
	r = sys5(__NR_prctl, RST_PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0);
	if (r < 0)
		rst_fail(a, RST_STEP_TIMER_CREATE, r, (uint64_t)t[0].id, 0);
	for (i = 0; i < a->nr_posix_timers; i++) {
		struct rst_ksigevent sev;
		int32_t id = t[i].id;

		memset(&sev, 0, sizeof(sev));
		sev.value = t[i].sival;
		sev.signo = t[i].signo;
		sev.notify = t[i].notify;
		sev.tid = t[i].notify_tid;
		r = sys3(__NR_timer_create, t[i].clock_id, &sev, &id);
		if (r >= 0 && id != t[i].id)
			r = -RST_EINVAL;
		if (r < 0)
			rst_fail(a, RST_STEP_TIMER_CREATE, r, (uint64_t)t[i].id, (uint64_t)id);
	}
	sys5(__NR_prctl, RST_PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
}

static const struct rst_thread *thread_at(const struct rst_args *a, uint32_t i)
{
	return &((const struct rst_thread *)(uintptr_t)a->threads)[i];
}

static void queue_signals(const struct rst_args *a, const struct rst_siginfo *si, uint32_t n,
			  int32_t tid)
{
	for (uint32_t i = 0; i < n; i++) {
		int32_t signo;
		long r;

		memcpy(&signo, si[i].raw, sizeof(signo));
		if (si[i].shared)
			r = sys3(__NR_rt_sigqueueinfo, a->pid, signo, si[i].raw);
		else
			r = sys4(__NR_rt_tgsigqueueinfo, a->pid, tid, signo, si[i].raw);
		if (r < 0)
			rst_fail(a, RST_STEP_SIGQUEUE, r, (uint64_t)signo, (uint64_t)tid);
	}
}

/*
 * The real SIGCHLD action and every pending signal, queued by the leader
 * (it may send any si_code to its own thread group, 6.3) while every
 * thread blocks everything; the frames' masks take over at sigreturn.
 */
static void restore_signals(const struct rst_args *a)
{
	long r;

	block_all_signals();
	if (a->has_sigchld) {
		r = sys4(__NR_rt_sigaction, RST_SIGCHLD, &a->sigchld, 0, 8);
		if (r < 0)
			rst_fail(a, RST_STEP_SIGCHLD, r, RST_SIGCHLD, 0);
	}
	queue_signals(a, (const struct rst_siginfo *)(uintptr_t)a->siginfos, a->nr_siginfos,
		      a->pid);
	for (uint32_t i = 0; i < a->nr_threads; i++) {
		const struct rst_thread *t = thread_at(a, i);

		queue_signals(a, (const struct rst_siginfo *)(uintptr_t)t->siginfos,
			      t->nr_siginfos, t->tid);
	}
}

/*
 * Policy and nice are per thread in Linux (5.18), and every thread we
 * clone inherits criu's, so each thread sets its own. Before the creds:
 * an rt policy or a lower nice may need the privilege criu still has.
 */
static void restore_sched(const struct rst_args *a, const struct rst_thread *t)
{
	int32_t param = t->sched_prio; /* struct sched_param */
	long r;

	if (!t->has_sched)
		return;
	r = sys3(__NR_sched_setscheduler, 0, t->sched_policy, &param);
	if (r < 0)
		rst_fail(a, RST_STEP_SCHED, r, (uint64_t)(uint32_t)t->tid,
			 (uint64_t)(int64_t)t->sched_policy);
	r = sys3(__NR_setpriority, RST_PRIO_PROCESS, 0, t->sched_nice);
	if (r < 0)
		rst_fail(a, RST_STEP_SCHED, r, (uint64_t)(uint32_t)t->tid | 1ull << 32,
			 (uint64_t)(int64_t)t->sched_nice);
}

static void restore_thread(const struct rst_args *a, const struct rst_thread *t)
{
	long r;

	restore_sched(a, t);

	sys1(__NR_set_tid_address, t->clear_tid_addr);
	if (t->robust_list) {
		r = sys2(__NR_set_robust_list, t->robust_list, t->robust_len);
		if (r < 0)
			rst_fail(a, RST_STEP_THREAD, r, 1, (uint64_t)t->tid);
	}
	/* rt_sigreturn leaves the fs/gs bases alone, so set them here (5.18). */
	r = sys2(__NR_arch_prctl, RST_ARCH_SET_FS, t->fs_base);
	if (r < 0)
		rst_fail(a, RST_STEP_THREAD, r, 2, (uint64_t)t->tid);
	r = sys2(__NR_arch_prctl, RST_ARCH_SET_GS, t->gs_base);
	if (r < 0)
		rst_fail(a, RST_STEP_THREAD, r, 3, (uint64_t)t->tid);
	if (t->comm[0])
		sys2(__NR_prctl, RST_PR_SET_NAME, t->comm);
	if (t->rseq) {
		r = sys4(__NR_rseq, t->rseq, t->rseq_len, 0, t->rseq_sig);
		if (r < 0)
			rst_fail(a, RST_STEP_RSEQ, r, t->rseq, (uint64_t)t->tid);
	}
}

/* prctl bits that creds changes reset, so they follow the creds (5.23). */
static void restore_after_creds(const struct rst_args *a, const struct rst_thread *t)
{
	long r;

	if (a->dumpable >= 0) {
		r = sys2(__NR_prctl, RST_PR_SET_DUMPABLE, a->dumpable);
		if (r < 0)
			rst_fail(a, RST_STEP_CREDS, r, 20, (uint64_t)a->dumpable);
	}
	r = sys2(__NR_prctl, RST_PR_SET_PDEATHSIG, t->pdeathsig);
	if (r < 0)
		rst_fail(a, RST_STEP_CREDS, r, 21, (uint64_t)t->pdeathsig);
	if (a->child_subreaper) {
		r = sys2(__NR_prctl, RST_PR_SET_CHILD_SUBREAPER, 1);
		if (r < 0)
			rst_fail(a, RST_STEP_CREDS, r, 22, 1);
	}
}

/* As late as possible, to keep the drift small (6.1, 6.2). */
static void arm_timers(const struct rst_args *a)
{
	const struct rst_itimer *it = (const struct rst_itimer *)(uintptr_t)a->itimers;
	const struct rst_posix_timer *t = (const struct rst_posix_timer *)(uintptr_t)a->posix_timers;
	uint32_t i;
	long r;

	for (i = 0; i < a->nr_itimers; i++) {
		struct rst_ktimeval_pair v = {
			.interval_sec = it[i].interval.sec,
			.interval_usec = it[i].interval.nsec,
			.value_sec = it[i].value.sec,
			.value_usec = it[i].value.nsec,
		};

		if (!v.value_sec && !v.value_usec)
			continue;
		r = sys3(__NR_setitimer, it[i].which, &v, 0);
		if (r < 0)
			rst_fail(a, RST_STEP_ITIMER, r, it[i].which, 0);
	}
	for (i = 0; i < a->nr_posix_timers; i++) {
		struct rst_kitimerspec v = { .interval = t[i].interval, .value = t[i].value };

		if (!v.value.sec && !v.value.nsec)
			continue;
		r = sys4(__NR_timer_settime, t[i].id, 0, &v, 0);
		if (r < 0)
			rst_fail(a, RST_STEP_TIMER_SETTIME, r, (uint64_t)t[i].id, 0);
	}
}

/*
 * Tell criu that the memory is in place and wait until it traces us:
 * from here on it steps the syscalls up to the exit of rt_sigreturn.
 */
static void handshake(const struct rst_args *a)
{
	char c;
	long r;

	if (a->report_fd < 0)
		return;
	rst_report(a, RST_REPORT_READY, RST_STEP_HANDSHAKE, 0, 0, 0);
	do
		r = sys3(__NR_read, a->go_fd, &c, 1);
	while (r == -RST_EINTR);
	if (r != 1)
		rst_fail(a, RST_STEP_HANDSHAKE, r < 0 ? r : -RST_EIO, 0, 0);
}

#define RST_FUTEX_WAIT 0
#define RST_FUTEX_WAKE 1
#define RST_CLONE_THREAD_FLAGS 0x50f00 /* VM FS FILES SIGHAND THREAD SYSVSEM */

struct rst_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

static void futex_wait(uint32_t *addr, uint32_t val)
{
	sys4(__NR_futex, addr, RST_FUTEX_WAIT, val, 0);
}

static void futex_wake(uint32_t *addr)
{
	sys3(__NR_futex, addr, RST_FUTEX_WAKE, 0x7fffffff);
}

/*
 * A non-leader thread (5.15): it counts itself in, waits until criu traces
 * it and the leader says go, then sets its own state, seccomp and creds
 * (both per thread in Linux) and returns through its own frame.
 */
static void thread_main(void *arg)
{
	const struct rst_thread *t = arg;
	struct rst_args *a = (struct rst_args *)(uintptr_t)t->args;

	__atomic_add_fetch(&a->threads_in, 1, __ATOMIC_SEQ_CST);
	futex_wake(&a->threads_in);
	while (!__atomic_load_n(&a->threads_go, __ATOMIC_SEQ_CST))
		futex_wait(&a->threads_go, 0);
	restore_thread(a, t);
	rst_restore_seccomp(a);
	rst_restore_creds(a);
	restore_after_creds(a, t);
	rst_sigreturn(t->sigframe + 8);
}

/* Create the other threads with their tids and wait until all are in. */
static void create_threads(struct rst_args *a)
{
	uint32_t in;

	for (uint32_t i = 1; i < a->nr_threads; i++) {
		const struct rst_thread *t = thread_at(a, i);
		struct rst_clone_args ca;
		int32_t tid = t->tid;
		long r;

		memset(&ca, 0, sizeof(ca));
		ca.flags = RST_CLONE_THREAD_FLAGS;
		ca.stack = t->stack;
		ca.stack_size = t->stack_len;
		ca.set_tid = (uint64_t)(uintptr_t)&tid;
		ca.set_tid_size = 1;
		r = rst_clone_thread(&ca, sizeof(ca), thread_main, (void *)t);
		if (r >= 0 && r != tid)
			r = -RST_EINVAL;
		if (r < 0)
			rst_fail(a, RST_STEP_CLONE_THREAD, r, (uint64_t)tid, i);
	}
	while ((in = __atomic_load_n(&a->threads_in, __ATOMIC_SEQ_CST)) + 1 < a->nr_threads)
		futex_wait(&a->threads_in, in);
}

__attribute__((noreturn, used)) void restorer_main(struct rst_args *a);

void restorer_main(struct rst_args *a)
{
	long r;

	block_all_signals();
	if (a->magic != RST_ARGS_MAGIC || a->size != sizeof(*a) || !a->nr_threads)
		rst_fail(a, RST_STEP_ARGS, -RST_EINVAL, a->magic, a->size);
	if (a->libc_rseq) {
		r = sys4(__NR_rseq, a->libc_rseq, a->libc_rseq_len, RST_RSEQ_FLAG_UNREGISTER,
			 a->libc_rseq_sig);
		if (r < 0)
			rst_fail(a, RST_STEP_RSEQ_UNREGISTER, r, a->libc_rseq, a->libc_rseq_len);
	}
	rst_park_vdso(a);
	rst_unmap_old(a);
	rst_map_vmas(a);
	rst_fill_pages(a);
	rst_finish_vmas(a);
	rst_remap_vdso(a);
	close_fds(a);
	restore_mm(a);
	restore_rlimits(a);
	create_threads(a);
	create_posix_timers(a);

	handshake(a);

	restore_signals(a);
	__atomic_store_n(&a->threads_go, 1, __ATOMIC_SEQ_CST);
	futex_wake(&a->threads_go);
	restore_thread(a, thread_at(a, 0));
	rst_restore_seccomp(a);
	rst_restore_creds(a);
	restore_after_creds(a, thread_at(a, 0));
	arm_timers(a);
	if (a->report_fd >= 0) {
		sys1(__NR_close, a->report_fd);
		sys1(__NR_close, a->go_fd);
	}
	rst_sigreturn(thread_at(a, 0)->sigframe + 8);
}

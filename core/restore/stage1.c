// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stage 1 of restoring a task, in the new task itself, with glibc (fact
 * 5.4). It waits until criu has seized it, restores what ordinary code
 * can, plans the memory, builds the restorer's args, sigframe and stack
 * in the bootstrap region and jumps into the blob. Any failure is sent to
 * criu with the first error's text, and the task exits.
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/rseq.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "images/image.h"
#include "log/log.h"
#include "plugins/plugins.h"
#include "restore/bootstrap.h"
#include "restore/fault.h"
#include "restore/files.h"
#include "restore/mem.h"
#include "restore/restore.h"
#include "restore/sigframe.h"
#include "restore/task.h"

static void send_report(struct rst_ctx *c, const struct rst_report *r, const char *text)
{
	char buf[sizeof(*r) + RST_REPORT_TEXT];
	size_t len = sizeof(*r);
	ssize_t w;

	memcpy(buf, r, sizeof(*r));
	if (text) {
		memset(buf + sizeof(*r), 0, RST_REPORT_TEXT);
		snprintf(buf + sizeof(*r), RST_REPORT_TEXT, "%s", text);
		len += RST_REPORT_TEXT;
	}
	/* One write below PIPE_BUF: criu reads it whole. */
	do
		w = write(c->report_wr, buf, len);
	while (w < 0 && errno == EINTR);
}

void rst_child_report_error(struct rst_ctx *c, int err)
{
	struct rst_report r = { .kind = RST_REPORT_STAGE1, .err = err };
	const char *text = err_first_summary(), *remedy = err_first_remedy();
	char buf[RST_REPORT_TEXT];

	/* The summary has the task's own context; the remedy follows after a unit separator. */
	snprintf(buf, sizeof(buf), "%s%s%s", text ? text : strerror(-err), remedy ? "\x1f" : "",
		 remedy ? remedy : "");
	send_report(c, &r, buf);
}

/* criu's fds, and the shared memory the task maps, survive the fd clean-up. */
#define RST_MAX_KEEP 1024

static void send_simple(struct rst_ctx *c, int kind, uint64_t arg)
{
	struct rst_report r = { .kind = kind, .arg = arg };

	send_report(c, &r, NULL);
}

/* Wait for criu's go; if criu is gone, so are we. */
static void wait_go(struct rst_ctx *c)
{
	char go;
	ssize_t n;

	do
		n = read(c->go_rd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);
}

static void barrier(struct rst_ctx *c, int n)
{
	send_simple(c, RST_REPORT_BARRIER, (uint64_t)n);
	wait_go(c);
}

/* CP_STAGE_RESTORE_TASK_FDS: fds in place, children not forked yet (they inherit a ctty). */
static int task_fds_hooks(struct rst_ctx *c)
{
	struct cp_hook_ctx hctx;

	memset(&hctx, 0, sizeof(hctx));
	hctx.size = sizeof(hctx);
	hctx.stage = CP_STAGE_RESTORE_TASK_FDS;
	hctx.pid = c->pid;
	hctx.real_pid = getpid();
	err_ctx_set_stage("restore task fds hooks");
	return plugins_run_hooks(&hctx);
}

/*
 * Fork the children of C that share its fd table (SHARING) or that get a
 * copy of it, each with its pid; they start in rst_stage1().
 */
static int fork_children(struct rst_ctx *c, bool sharing)
{
	struct rst_tree *t = c->tree;

	err_ctx_set_stage("fork");
	for (size_t i = 0; t && i < t->nr_tasks; i++) {
		if (t->tasks[i].parent != c || t->tasks[i].shares_files != sharing)
			continue;
		int ret = rst_fork(&t->tasks[i]);

		if (ret)
			return ret;
	}
	return 0;
}

/* Does task D use C's fd table, or descend from one that does (its channels live there)? */
static bool on_table_of(const struct rst_ctx *c, const struct rst_ctx *d)
{
	for (; d && d != c; d = d->parent)
		if (d->shares_files && d->parent == c)
			return true;
	return false;
}

/*
 * What C's fd table keeps besides C's own fds: criu's log and images dir,
 * C's channels, those of the tasks that share the table and of the tasks
 * they will fork, and the shared objects they need.
 */
static size_t table_keep(struct rst_ctx *c, int *keep)
{
	struct rst_tree *t = c->tree;
	size_t n = 0;

	keep[n++] = log_get_fd();
	keep[n++] = c->report_wr;
	keep[n++] = c->go_rd;
	keep[n++] = img_dir_fd(c->dir);
	for (size_t i = 0; t && i < t->nr_tasks && n + 2 < RST_MAX_KEEP; i++) {
		if (!on_table_of(c, &t->tasks[i]))
			continue;
		keep[n++] = t->tasks[i].report_wr;
		keep[n++] = t->tasks[i].go_rd;
	}
	return n + rst_shared_keep(c, keep + n, RST_MAX_KEEP - n);
}

/*
 * On a shared table, the channels of the children that took a copy of it
 * are theirs now: close them here (nobody else on this table needs them).
 */
static void close_copied_channels(struct rst_ctx *c)
{
	struct rst_tree *t = c->tree;

	for (size_t i = 0; t && i < t->nr_tasks; i++) {
		struct rst_ctx *d = &t->tasks[i];

		if (d == c || !rst_task_under(c, d) || on_table_of(c, d))
			continue;
		if (d->report_wr >= 0)
			close(d->report_wr);
		if (d->go_rd >= 0)
			close(d->go_rd);
		d->report_wr = d->go_rd = -1;
	}
}

/* The group of another task of the tree, once every task exists (barrier 1). */
static int join_group(struct rst_ctx *c)
{
	struct rst_tree *t = c->tree;
	bool known = false;

	if (c->pgid == c->pid || getpgid(0) == c->pgid || !c->parent)
		return 0;
	for (size_t i = 0; t && i < t->nr_tasks; i++)
		known |= t->tasks[i].pid == c->pgid;
	if (!known)
		return 0; /* the root's group, which is criu's to give */
	if (setpgid(0, c->pgid)) {
		pr_perror("pid %d: cannot join process group %d", c->pid, c->pgid);
		return -errno;
	}
	return 0;
}

/*
 * Barriers 1 and 2 (tree.c), then the helpers among our children are
 * reaped and our zombies are dead (not reaped: that is the task's own
 * business). The SIGCHLDs their ends queued are taken away again: the
 * signals the task had pending come from its images.
 */
static int tree_barriers(struct rst_ctx *c)
{
	struct rst_tree *t = c->tree;
	siginfo_t si;
	sigset_t chld;
	struct timespec zero = { 0, 0 };
	int ret;

	barrier(c, 1);
	err_ctx_set_stage("process groups");
	ret = join_group(c);
	if (ret)
		return ret;
	barrier(c, 2);
	for (size_t i = 0; t && i < t->nr_tasks; i++) {
		struct rst_ctx *d = &t->tasks[i];
		int status;

		if (d->parent != c || d->kind == RST_TASK_LIVE)
			continue;
		if (d->kind == RST_TASK_HELPER) {
			while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
				;
			continue;
		}
		memset(&si, 0, sizeof(si));
		while (waitid(P_PID, (id_t)d->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, &si, &zero) == SIGCHLD)
		;
	return 0;
}

/*
 * A zombie or a helper: make the session and group, wait for the others,
 * then end, a zombie with its dumped wait status.
 */
__attribute__((noreturn)) static void stage1_not_live(struct rst_ctx *c)
{
	int ret = 0, sig = c->exit_status & 0x7f;
	struct rlimit no_core = { 0, 0 };
	sigset_t one;

	err_ctx_set_stage(c->kind == RST_TASK_ZOMBIE ? "zombie" : "group helper");
	/* ps shows a zombie by the name it had. */
	if (c->core && c->core->tc && c->core->tc->comm)
		prctl(PR_SET_NAME, c->core->tc->comm);
	if (c->sid == c->pid && setsid() < 0) {
		ret = -errno;
		pr_perror("pid %d: cannot start its session again", c->pid);
	} else if (c->pgid == c->pid && getpgid(0) != c->pid && setpgid(0, 0)) {
		ret = -errno;
		pr_perror("pid %d: cannot lead its process group again", c->pid);
	}
	if (ret)
		goto fail;
	barrier(c, 1);
	ret = join_group(c);
	if (ret)
		goto fail;
	barrier(c, 2);
	if (c->kind == RST_TASK_HELPER || !sig)
		_exit(c->kind == RST_TASK_HELPER ? 0 : (c->exit_status >> 8) & 0xff);
	/* Killed by SIG: die of it again, without writing a core file. */
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	kill(getpid(), sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	_exit(128 + sig);
fail:
	rst_child_report_error(c, ret);
	_exit(1);
}

/* criu's own glibc rseq area, which the blob unregisters first (5.7). */
static void libc_rseq(struct rst_args *a)
{
	uint64_t tp;

	if (!__rseq_size)
		return;
	__asm__("movq %%fs:0, %0" : "=r"(tp));
	a->libc_rseq = tp + (uint64_t)__rseq_offset;
	/* glibc 2.40+ reports the feature size; the registration is at least 32 bytes. */
	a->libc_rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
	a->libc_rseq_sig = RSEQ_SIG;
}

/* The stack a non-leader thread runs the restorer on (it needs little). */
#define RST_THREAD_STACK (16u << 10)

static size_t payload_size(const struct rst_ctx *c, const struct rst_mem_plan *mp,
			   const struct rst_xsave_layout *xl)
{
	size_t n = sizeof(struct rst_args) + 64;

	n += mp->nr_vmas * sizeof(struct rst_vma) + 8;
	n += mp->nr_iovs * sizeof(struct rst_iov) + 8;
	n += mp->nr_guards * sizeof(struct rst_range) + 8;
	n += mp->nr_pokes * sizeof(struct rst_poke) + 8;
	n += (mp->nr_fds + 4) * sizeof(int32_t) + 8;
	n += c->mm->n_mm_saved_auxv * 8 + 16;
	n += c->nr_threads * (sizeof(struct rst_thread) + rst_sigframe_size(xl) + 128 +
			      RST_THREAD_STACK);
	return n + rst_task_args_size(c);
}

#define BOOT_COPY(b, dst, src, n, type)                                          \
	do {                                                                     \
		void *_p = rst_boot_alloc((b), (n) * sizeof(type) + 1, 8);       \
		if (!_p) {                                                       \
			ret = -ENOSPC;                                           \
			goto fail;                                               \
		}                                                                \
		if (n)                                                           \
			memcpy(_p, (src), (n) * sizeof(type));                   \
		(dst) = (uint64_t)(uintptr_t)_p;                                 \
	} while (0)

static void fill_mm(struct rst_ctx *c, struct rst_args *a, uint64_t auxv)
{
	MmEntry *mm = c->mm;

	a->has_mm_map = 1;
	a->mm_map.start_code = mm->mm_start_code;
	a->mm_map.end_code = mm->mm_end_code;
	a->mm_map.start_data = mm->mm_start_data;
	a->mm_map.end_data = mm->mm_end_data;
	a->mm_map.start_brk = mm->mm_start_brk;
	a->mm_map.brk = mm->mm_brk;
	a->mm_map.start_stack = mm->mm_start_stack;
	a->mm_map.arg_start = mm->mm_arg_start;
	a->mm_map.arg_end = mm->mm_arg_end;
	a->mm_map.env_start = mm->mm_env_start;
	a->mm_map.env_end = mm->mm_env_end;
	a->mm_map.auxv = auxv;
	a->mm_map.auxv_size = (uint32_t)(mm->n_mm_saved_auxv * 8);
}

void rst_stage1(struct rst_ctx *c)
{
	struct rst_args a;
	struct rst_args *ba;
	struct rst_mem_plan mp;
	struct rst_boot b;
	struct rst_xsave_layout xl;
	struct cp_hook_ctx hctx;
	struct rst_report boot_rep;
	int32_t *fds;
	struct rst_thread *threads;
	char name[32];
	int keep[RST_MAX_KEEP], service_min, ret;
	size_t nr_keep;
	sigset_t all;

	memset(&a, 0, sizeof(a));
	memset(&mp, 0, sizeof(mp));
	memset(&b, 0, sizeof(b));
	mp.pages_fd = mp.exe_fd = -1;
	/* No signal may run a handler of the task's before its memory exists. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* On its parent's fd table, everything there is the parent's business too. */
	if (!c->shares_files)
		rst_close_foreign_channels(c);
	/* Say we exist and wait until criu has seized us; EOF means criu went away. */
	send_simple(c, RST_REPORT_HELLO, 0);
	wait_go(c);
	err_first_reset();
	err_ctx_set_task(c->pid, c->pid);
	if (c->kind != RST_TASK_LIVE)
		stage1_not_live(c);
	/* This process only restores C: plugins may open the files one refers to. */
	rst_file_services(c);

	/*
	 * fds: a task on its own table moves criu's fds out of the way, opens
	 * what it owns and its fds, forks the children that get a copy, and
	 * closes the rest; then it forks the children that share its table
	 * (those touch no fd of it, and only close what their own copying
	 * children took with them).
	 */
	ret = 0;
	if (c->shares_files)
		service_min = rst_service_min(c);
	else
		ret = rst_move_service_fds(c, &service_min);
	if (!ret)
		ret = rst_task_early(c, &a);
	if (!ret)
		ret = rst_shared_open(c, service_min);
	if (!ret && !c->shares_files)
		ret = rst_restore_fds(c);
	if (!ret)
		ret = task_fds_hooks(c);
	if (!ret)
		ret = fork_children(c, false);
	nr_keep = table_keep(c, keep);
	if (!ret && !c->shares_files)
		ret = rst_close_other_fds(c, keep, nr_keep);
	if (!ret && c->shares_files)
		close_copied_channels(c);
	if (!ret)
		ret = fork_children(c, true);
	if (!ret)
		ret = tree_barriers(c);
	if (ret)
		goto fail;

	memset(&hctx, 0, sizeof(hctx));
	hctx.size = sizeof(hctx);
	hctx.stage = CP_STAGE_RESTORE_TASK;
	hctx.pid = c->pid;
	hctx.real_pid = getpid();
	ret = plugins_run_hooks(&hctx);
	if (!ret && rst_fault("stage1"))
		ret = -EIO;
	if (ret)
		goto fail;

	ret = rst_mem_plan(c, &mp);
	if (!ret)
		ret = rst_xsave_layout_get(&xl);
	if (!ret)
		ret = rst_boot_map(&b, payload_size(c, &mp, &xl), mp.park_len, mp.avoid,
				   mp.nr_avoid);
	if (ret)
		goto fail;
	err_ctx_set_stage("restorer args");
	ba = rst_boot_alloc(&b, sizeof(*ba), 64);
	threads = rst_boot_alloc(&b, c->nr_threads * sizeof(*threads), 64);
	if (!ba || !threads) {
		ret = -ENOSPC;
		goto fail;
	}
	for (size_t i = 0; i < c->nr_threads; i++) {
		uint8_t *frame = rst_boot_alloc(&b, rst_sigframe_size(&xl), 64);
		void *stack = i ? rst_boot_alloc(&b, RST_THREAD_STACK, 64) : NULL;

		if (!frame || (i && !stack)) {
			ret = -ENOSPC;
			goto fail;
		}
		snprintf(name, sizeof(name), "core-%d.img", c->tids[i]);
		ret = rst_sigframe_build(frame, c->thread_cores[i], &xl, name);
		if (ret)
			goto fail;
		threads[i].sigframe = (uint64_t)(uintptr_t)frame;
		threads[i].stack = (uint64_t)(uintptr_t)stack;
		threads[i].stack_len = stack ? RST_THREAD_STACK : 0;
	}
	ret = rst_task_fill_args(c, &b, &a, threads);
	if (ret)
		goto fail;
	for (size_t i = 0; i < c->nr_threads; i++)
		threads[i].args = (uint64_t)(uintptr_t)ba; /* where the blob will see them */

	a.magic = RST_ARGS_MAGIC;
	a.size = sizeof(a);
	a.bootstrap_start = (uint64_t)(uintptr_t)b.base;
	a.bootstrap_len = b.len;
	a.task_size = K_TASK_SIZE;
	a.report_fd = c->report_wr;
	a.go_fd = c->go_rd;
	libc_rseq(&a);

	a.vdso_remap = mp.vdso_remap;
	a.rt_vvar_start = mp.rt_vvar_start;
	a.rt_vvar_len = mp.rt_vvar_len;
	a.rt_vdso_start = mp.rt_vdso_start;
	a.rt_vdso_len = mp.rt_vdso_len;
	a.park = b.park;
	a.dumped_vvar_start = mp.dumped_vvar_start;
	a.dumped_vdso_start = mp.dumped_vdso_start;

	BOOT_COPY(&b, a.vmas, mp.vmas, mp.nr_vmas, struct rst_vma);
	a.nr_vmas = mp.nr_vmas;
	BOOT_COPY(&b, a.iovs, mp.iovs, mp.nr_iovs, struct rst_iov);
	a.nr_iovs = mp.nr_iovs;
	BOOT_COPY(&b, a.guards, mp.guards, mp.nr_guards, struct rst_range);
	a.nr_guards = mp.nr_guards;
	BOOT_COPY(&b, a.pokes, mp.pokes, mp.nr_pokes, struct rst_poke);
	a.nr_pokes = mp.nr_pokes;
	a.pages_fd = mp.pages_fd;
	a.exe_fd = mp.exe_fd;
	/* On its parent's table, what is shared is closed by the table's owner (once). */
	nr_keep = c->shares_files ? 0 : rst_shared_keep(c, keep, RST_MAX_KEEP);
	fds = rst_boot_alloc(&b, (mp.nr_fds + nr_keep + 2) * sizeof(*fds), 8);
	if (!fds) {
		ret = -ENOSPC;
		goto fail;
	}
	for (uint32_t i = 0; i < mp.nr_fds; i++)
		fds[a.nr_close_fds++] = mp.fds[i];
	/* The shared objects' fds (mapped through the plan's own copies). */
	for (size_t i = 0; i < nr_keep; i++)
		fds[a.nr_close_fds++] = keep[i];
	/* criu's log and images dir go too; the channel is closed after the handshake. */
	if (!c->shares_files) {
		fds[a.nr_close_fds++] = log_get_fd();
		fds[a.nr_close_fds++] = img_dir_fd(c->dir);
	}
	a.close_fds = (uint64_t)(uintptr_t)fds;
	{
		uint64_t auxv = 0;

		BOOT_COPY(&b, auxv, c->mm->mm_saved_auxv, c->mm->n_mm_saved_auxv, uint64_t);
		fill_mm(c, &a, auxv);
	}
	memcpy(ba, &a, sizeof(a));
	if (rst_fault("restorer"))
		ba->magic = 0; /* the blob refuses its args */

	/* Last: after a chroot, neither criu's paths nor /proc may be reachable. */
	ret = rst_task_fs(c);
	if (ret)
		goto fail;

	/*
	 * Barrier 3: every task's stage 1 is over before any restorer closes
	 * the fds that tasks on one fd table share (criu's log and images dir).
	 */
	barrier(c, 3);
	memset(&boot_rep, 0, sizeof(boot_rep));
	boot_rep.kind = RST_REPORT_BOOTSTRAP;
	boot_rep.arg = a.bootstrap_start;
	boot_rep.arg2 = a.bootstrap_len;
	boot_rep.err = (int64_t)rst_boot_syscall_insn(&b);
	send_report(c, &boot_rep, NULL);
	pr_info("pid %d: jumping into the restorer at %#llx (%u VMAs, %u page runs, %u threads)",
		c->pid, (unsigned long long)a.bootstrap_start, a.nr_vmas, a.nr_iovs, a.nr_threads);
	rst_boot_jump(&b, ba);

fail:
	rst_child_report_error(c, ret < 0 ? ret : -EINVAL);
	_exit(1);
}

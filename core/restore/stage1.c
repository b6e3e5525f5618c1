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
	const char *text = err_first_summary();

	send_report(c, &r, text ? text : strerror(-err));
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
	int keep[4], service_min, ret;
	sigset_t all;
	char go;

	memset(&a, 0, sizeof(a));
	memset(&mp, 0, sizeof(mp));
	memset(&b, 0, sizeof(b));
	mp.pages_fd = mp.exe_fd = -1;
	/* No signal may run a handler of the task's before its memory exists. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(c->report_rd);
	close(c->go_wr);
	/* Wait until criu has seized us; EOF means criu went away. */
	if (read(c->go_rd, &go, 1) != 1)
		_exit(1);
	err_first_reset();
	err_ctx_set_task(c->pid, c->pid);
	/* This process only restores C: plugins may open the files one refers to. */
	rst_file_services(c);

	ret = rst_move_service_fds(c, &service_min);
	if (!ret)
		ret = rst_task_early(c, &a);
	if (!ret)
		ret = rst_restore_fds(c);
	keep[0] = log_get_fd();
	keep[1] = c->report_wr;
	keep[2] = c->go_rd;
	keep[3] = img_dir_fd(c->dir);
	if (!ret)
		ret = rst_close_other_fds(c, keep, 4);
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
	fds = rst_boot_alloc(&b, (mp.nr_fds + 2) * sizeof(*fds), 8);
	if (!fds) {
		ret = -ENOSPC;
		goto fail;
	}
	for (uint32_t i = 0; i < mp.nr_fds; i++)
		fds[a.nr_close_fds++] = mp.fds[i];
	/* criu's log and images dir go too; the channel is closed after the handshake. */
	fds[a.nr_close_fds++] = log_get_fd();
	fds[a.nr_close_fds++] = img_dir_fd(c->dir);
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

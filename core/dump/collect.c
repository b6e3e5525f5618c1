// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Gathering a task's state: /proc first, then the parasite for what only
 * the task can tell (facts 3.16).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include <criu/log.h>

#include "dump/dump.h"

static const char *const ns_names[DUMP_NR_NS] = {
	"pid", "net", "ipc", "uts", "mnt", "user", "cgroup", "time",
};

static uint32_t ns_id(struct dump_ctx *dc, uint64_t ino)
{
	for (size_t i = 0; i < dc->n_ns_map; i++)
		if (dc->ns_map[i].ino == ino)
			return dc->ns_map[i].id;
	if (dc->n_ns_map == sizeof(dc->ns_map) / sizeof(dc->ns_map[0]))
		return 0;
	dc->ns_map[dc->n_ns_map].ino = ino;
	dc->ns_map[dc->n_ns_map].id = ++dc->next_obj_id;
	return dc->ns_map[dc->n_ns_map++].id;
}

/*
 * Kernel objects DT shares with a process dumped before it get that
 * process's id (kcmp): an fd table (CLONE_FILES) is then dumped once, by
 * the first. An mm shared between processes was refused before any
 * infection (dump_tree_each()); signal handlers cannot be shared without
 * it, so each process has its own.
 */
static int share_ids(struct dump_ctx *dc, struct dump_task *dt)
{
	struct task_ids_info *ids = &dt->ids;
	struct dump_task_ref *nt;

	ids->files_id = ids->fs_id = 0;
	dt->files_shared = false;
	for (size_t i = 0; i < dc->n_tasks; i++) {
		const struct dump_task_ref *r = &dc->tasks[i];

		if (r->pid == dt->pid)
			continue;
		if (!ids->files_id && syscall(SYS_kcmp, dt->pid, r->pid, KCMP_FILES, 0, 0) == 0) {
			ids->files_id = r->files_id;
			dt->files_shared = true;
			pr_info("pid %d shares its fd table with pid %d", dt->pid, r->pid);
		}
		if (!ids->fs_id && syscall(SYS_kcmp, dt->pid, r->pid, KCMP_FS, 0, 0) == 0)
			ids->fs_id = r->fs_id;
	}
	ids->vm_id = ++dc->next_obj_id;
	if (!ids->files_id)
		ids->files_id = ++dc->next_obj_id;
	if (!ids->fs_id)
		ids->fs_id = ++dc->next_obj_id;
	ids->sighand_id = ++dc->next_obj_id;

	for (size_t i = 0; i < dc->n_tasks; i++)
		if (dc->tasks[i].pid == dt->pid)
			return 0; /* ids collected again (pre-dump): known already */
	nt = realloc(dc->tasks, (dc->n_tasks + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	dc->tasks = nt;
	dc->tasks[dc->n_tasks++] = (struct dump_task_ref){ dt->pid, ids->files_id, ids->fs_id };
	return 0;
}

int dump_collect_ids(struct dump_ctx *dc, struct dump_task *dt)
{
	struct task_ids_info *ids = &dt->ids;

	int ret = share_ids(dc, dt);

	if (ret)
		return ret;
	for (int i = 0; i < DUMP_NR_NS; i++) {
		char path[64];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", dt->pid, ns_names[i]);
		if (stat(path, &st)) {
			if (errno == ENOENT)
				continue; /* a namespace type this kernel lacks */
			pr_perror("cannot stat %s", path);
			return -errno;
		}
		ids->ns_ino[i] = st.st_ino;
		ids->ns_id[i] = ns_id(dc, st.st_ino);
	}
	return 0;
}

static int collect_proc(struct dump_task *dt)
{
	long long v;
	int ret;

	ret = proc_read_stat(dt->pid, &dt->stat);
	if (!ret)
		ret = proc_read_status(dt->pid, &dt->status);
	if (!ret)
		ret = proc_read_limits(dt->pid, dt->rlim);
	if (!ret)
		ret = proc_read_text(dt->pid, "comm", dt->comm, sizeof(dt->comm));
	if (!ret)
		ret = proc_read_num(dt->pid, "personality", 16, &v);
	if (ret)
		return ret;
	dt->personality = (uint32_t)v;
	ret = proc_read_num(dt->pid, "oom_score_adj", 10, &v);
	if (ret)
		return ret;
	dt->oom_score_adj = (int)v;
	/* loginuid is absent without CONFIG_AUDIT. */
	if (!proc_read_num(dt->pid, "loginuid", 10, &v)) {
		dt->loginuid = (uint32_t)v;
		dt->has_loginuid = true;
	}
	return proc_read_auxv(dt->pid, &dt->auxv, &dt->n_auxv);
}

static int collect_sched(struct dump_thread *th)
{
	struct sched_param sp;
	int r;

	r = sched_getscheduler(th->tid);
	if (r < 0 || sched_getparam(th->tid, &sp)) {
		r = -errno;
		pr_perror("cannot read the scheduling policy of thread %d", th->tid);
		return r;
	}
	th->sched_policy = r;
	th->sched_prio = sp.sched_priority;
	errno = 0;
	r = getpriority(PRIO_PROCESS, (id_t)th->tid);
	if (r == -1 && errno) {
		r = -errno;
		pr_perror("cannot read the nice value of thread %d", th->tid);
		return r;
	}
	th->sched_nice = r;
	return 0;
}

static int collect_robust_list(struct dump_thread *th)
{
	void *head = NULL;
	size_t len = 0;

	if (syscall(SYS_get_robust_list, th->tid, &head, &len)) {
		int err = -errno;

		pr_perror("cannot read the robust futex list of thread %d", th->tid);
		return err;
	}
	th->robust_list = (uint64_t)(uintptr_t)head;
	th->robust_len = len;
	return 0;
}

/* Per-thread state: /proc/PID/task/TID, ptrace, and the parasite run in that thread. */
static int collect_thread(struct dump_task *dt, struct dump_thread *th)
{
	struct parasite_args *a = infect_parasite_args(dt->ictx);
	char name[64];
	int ret;

	/* /proc/TID works for any thread, listed or not. */
	ret = proc_read_status(th->tid, &th->status);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "task/%d/comm", th->tid);
	ret = proc_read_text(dt->pid, name, th->comm, sizeof(th->comm));
	if (!ret)
		ret = collect_sched(th);
	if (!ret)
		ret = collect_robust_list(th);
	if (!ret)
		ret = infect_parasite_call_in(dt->ictx, th->seized, PARASITE_CMD_DUMP_THREAD);
	if (ret)
		return ret;
	th->thread = a->u.thread;
	return 0;
}

static int collect_timers(struct dump_task *dt)
{
	struct infect_ctx *ctx = dt->ictx;
	struct parasite_posix_timers *pt = (void *)infect_parasite_args(ctx)->u.payload;
	size_t max = (infect_parasite_payload_size(ctx) - sizeof(*pt)) / sizeof(pt->t[0]);
	struct proc_posix_timer *pts;
	size_t n;
	int ret;

	ret = proc_read_timers(dt->pid, &pts, &n);
	if (ret || !n)
		return ret;
	dt->timers = calloc(n, sizeof(*dt->timers));
	if (!dt->timers) {
		free(pts);
		return -ENOMEM;
	}
	/* /proc lists the newest first; the image wants them by id. */
	for (size_t done = 0; done < n; done += pt->nr) {
		pt->nr = (uint32_t)(n - done < max ? n - done : max);
		for (uint32_t i = 0; i < pt->nr; i++)
			pt->t[i].id = pts[n - 1 - done - i].id;
		ret = infect_parasite_call(ctx, PARASITE_CMD_DUMP_POSIX_TIMERS);
		if (ret)
			break;
		for (uint32_t i = 0; i < pt->nr; i++) {
			struct dump_posix_timer *t = &dt->timers[done + i];

			t->p = pts[n - 1 - done - i];
			t->overrun = pt->t[i].overrun;
			t->val = pt->t[i].val;
		}
	}
	free(pts);
	if (ret) {
		free(dt->timers);
		dt->timers = NULL;
		return ret;
	}
	dt->n_timers = n;
	return 0;
}

static int collect_parasite(struct dump_task *dt)
{
	struct infect_ctx *ctx = dt->ictx;
	struct parasite_args *a = infect_parasite_args(ctx);
	int ret;

	ret = infect_parasite_call(ctx, PARASITE_CMD_DUMP_MISC);
	if (ret)
		return ret;
	dt->misc = a->u.misc;
	ret = infect_parasite_call(ctx, PARASITE_CMD_DUMP_SIGACTS);
	if (ret)
		return ret;
	dt->sigacts = a->u.sigacts;
	ret = infect_parasite_call(ctx, PARASITE_CMD_DUMP_ITIMERS);
	if (ret)
		return ret;
	dt->itimers = a->u.itimers;
	return collect_timers(dt);
}

int dump_collect_task(struct dump_ctx *dc, struct dump_task *dt)
{
	int ret;

	ret = collect_proc(dt);
	if (!ret)
		ret = dump_collect_ids(dc, dt);
	if (!ret)
		ret = collect_parasite(dt);
	for (size_t i = 0; i < dt->n_thr && !ret; i++)
		ret = collect_thread(dt, &dt->thr[i]);
	return ret;
}

void dump_task_free(struct dump_task *dt)
{
	for (size_t i = 0; i < dt->n_thr; i++)
		proc_status_free(&dt->thr[i].status);
	free(dt->thr);
	dt->thr = NULL;
	dt->n_thr = 0;
	proc_status_free(&dt->status);
	mem_vma_list_free(&dt->vmas);
	free(dt->timers);
	free(dt->auxv);
	dt->timers = NULL;
	dt->auxv = NULL;
}

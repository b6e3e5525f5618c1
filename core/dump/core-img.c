// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * core-PID.img (task and thread state, registers), ids-PID.img and
 * seccomp.img, laid out as CRIU's core_entry.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include <criu/log.h>

#include "core.pb-c.h"
#include "creds.pb-c.h"
#include "rlimit.pb-c.h"
#include "sa.pb-c.h"
#include "seccomp.pb-c.h"
#include "timer.pb-c.h"

#include "dump/dump.h"
#include "pstree/pstree.h"
#include "regs/regs.h"

#define NR_SIGACTS (K_NSIG - 2) /* every signal but SIGKILL and SIGSTOP */
#define SECCOMP_MAX_FILTERS 512
#define BPF_INSN_SIZE 8

/* Storage for every message of one core image. */
struct core_msgs {
	CoreEntry core;
	TaskCoreEntry tc;
	ThreadCoreEntry th;
	TaskTimersEntry timers;
	ItimerEntry real, virt, prof;
	PosixTimerEntry *posix;
	PosixTimerEntry **posix_p;
	TaskRlimitsEntry rlims;
	RlimitEntry rlim[PROC_NR_RLIMITS];
	RlimitEntry *rlim_p[PROC_NR_RLIMITS];
	SaEntry sa[NR_SIGACTS];
	SaEntry *sa_p[NR_SIGACTS];
	ThreadSasEntry sas;
	CredsEntry creds;
	uint32_t caps[5][2];
	SignalQueueEntry *sig_s, *sig_p;
	struct regs_thread regs;
};

static void fill_itimer(ItimerEntry *e, const struct k_itimerval *v)
{
	itimer_entry__init(e);
	e->isec = (uint64_t)v->it_interval.tv_sec;
	e->iusec = (uint64_t)v->it_interval.tv_usec;
	e->vsec = (uint64_t)v->it_value.tv_sec;
	e->vusec = (uint64_t)v->it_value.tv_usec;
}

static int fill_timers(struct core_msgs *m, const struct dump_task *dt)
{
	task_timers_entry__init(&m->timers);
	fill_itimer(&m->real, &dt->itimers.real);
	fill_itimer(&m->virt, &dt->itimers.virt);
	fill_itimer(&m->prof, &dt->itimers.prof);
	m->timers.real = &m->real;
	m->timers.virt = &m->virt;
	m->timers.prof = &m->prof;
	if (!dt->n_timers)
		return 0;
	m->posix = calloc(dt->n_timers, sizeof(*m->posix));
	m->posix_p = calloc(dt->n_timers, sizeof(*m->posix_p));
	if (!m->posix || !m->posix_p)
		return -ENOMEM;
	for (size_t i = 0; i < dt->n_timers; i++) {
		const struct dump_posix_timer *t = &dt->timers[i];
		PosixTimerEntry *e = &m->posix[i];

		posix_timer_entry__init(e);
		e->it_id = (uint32_t)t->p.id;
		e->clock_id = (uint32_t)t->p.clock_id;
		e->si_signo = (uint32_t)t->p.signo;
		e->it_sigev_notify = (uint32_t)t->p.notify;
		e->sival_ptr = t->p.sival;
		e->overrun = (uint32_t)t->overrun;
		e->isec = (uint64_t)t->val.it_interval.tv_sec;
		e->insec = (uint64_t)t->val.it_interval.tv_nsec;
		e->vsec = (uint64_t)t->val.it_value.tv_sec;
		e->vnsec = (uint64_t)t->val.it_value.tv_nsec;
		if (t->p.notify & 4) {
			e->has_notify_thread_id = true;
			e->notify_thread_id = t->p.notify_tid;
			/* /proc shows criu's view of the tid; the image has the task's. */
			for (size_t k = 0; k < dt->n_thr; k++)
				if (dt->thr[k].tid == t->p.notify_tid)
					e->notify_thread_id = dt->thr[k].vtid;
		}
		m->posix_p[i] = e;
	}
	m->timers.n_posix = dt->n_timers;
	m->timers.posix = m->posix_p;
	return 0;
}

static void fill_rlimits(struct core_msgs *m, const struct dump_task *dt)
{
	task_rlimits_entry__init(&m->rlims);
	for (int i = 0; i < PROC_NR_RLIMITS; i++) {
		rlimit_entry__init(&m->rlim[i]);
		m->rlim[i].cur = dt->rlim[i].cur;
		m->rlim[i].max = dt->rlim[i].max;
		m->rlim_p[i] = &m->rlim[i];
	}
	m->rlims.n_rlimits = PROC_NR_RLIMITS;
	m->rlims.rlimits = m->rlim_p;
}

static void fill_sigacts(struct core_msgs *m, const struct dump_task *dt)
{
	size_t n = 0;

	for (int sig = 1; sig <= K_NSIG; sig++) {
		const struct k_sigaction *a = &dt->sigacts.act[sig - 1];

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa_entry__init(&m->sa[n]);
		m->sa[n].sigaction = a->handler;
		m->sa[n].flags = a->flags;
		m->sa[n].restorer = a->restorer;
		m->sa[n].mask = a->mask;
		m->sa_p[n] = &m->sa[n];
		n++;
	}
	m->tc.n_sigactions = n;
	m->tc.sigactions = m->sa_p;
}

static void fill_creds(struct core_msgs *m, const struct dump_thread *th)
{
	const struct proc_status *s = &th->status;
	const uint64_t caps[5] = { s->cap_inh, s->cap_prm, s->cap_eff, s->cap_bnd, s->cap_amb };
	CredsEntry *c = &m->creds;

	creds_entry__init(c);
	c->uid = s->uid[0];
	c->euid = s->uid[1];
	c->suid = s->uid[2];
	c->fsuid = s->uid[3];
	c->gid = s->gid[0];
	c->egid = s->gid[1];
	c->sgid = s->gid[2];
	c->fsgid = s->gid[3];
	for (int i = 0; i < 5; i++) {
		m->caps[i][0] = (uint32_t)caps[i];
		m->caps[i][1] = (uint32_t)(caps[i] >> 32);
	}
	c->n_cap_inh = c->n_cap_prm = c->n_cap_eff = c->n_cap_bnd = 2;
	c->cap_inh = m->caps[0];
	c->cap_prm = m->caps[1];
	c->cap_eff = m->caps[2];
	c->cap_bnd = m->caps[3];
	c->n_cap_amb = 2;
	c->cap_amb = m->caps[4];
	c->has_no_new_privs = true;
	c->no_new_privs = s->no_new_privs ? 1 : 0;
	c->secbits = (uint32_t)th->thread.securebits;
	c->n_groups = s->n_groups;
	c->groups = s->groups;
}

/* seccomp.img with the task's filters, oldest first, each pointing at the one before. */
static int dump_seccomp(struct dump_ctx *dc, struct dump_task *dt, uint32_t *newest)
{
	SeccompFilter *f = NULL, **fp = NULL;
	SeccompEntry se = SECCOMP_ENTRY__INIT;
	struct image *img;
	long n = 0;
	int ret = 0;

	f = calloc(SECCOMP_MAX_FILTERS, sizeof(*f));
	fp = calloc(SECCOMP_MAX_FILTERS, sizeof(*fp));
	if (!f || !fp) {
		ret = -ENOMEM;
		goto out;
	}
	/* Index 0 is the most recently installed filter (facts 3.15). */
	for (n = 0; n < SECCOMP_MAX_FILTERS; n++) {
		long cnt = ptrace((enum __ptrace_request)K_PTRACE_SECCOMP_GET_FILTER, dt->pid,
				  (void *)n, NULL);

		if (cnt < 0) {
			if (errno == ENOENT)
				break;
			ret = -errno;
			pr_perror("cannot read seccomp filter %ld of pid %d", n, dt->pid);
			goto out;
		}
		seccomp_filter__init(&f[n]);
		f[n].filter.len = (size_t)cnt * BPF_INSN_SIZE;
		f[n].filter.data = malloc(f[n].filter.len ? f[n].filter.len : 1);
		if (!f[n].filter.data) {
			ret = -ENOMEM;
			goto out;
		}
		if (ptrace((enum __ptrace_request)K_PTRACE_SECCOMP_GET_FILTER, dt->pid, (void *)n,
			   f[n].filter.data) != cnt) {
			ret = -EIO;
			pr_perror("cannot read seccomp filter %ld of pid %d", n, dt->pid);
			n++;
			goto out;
		}
	}
	for (long i = 0; i < n; i++) {
		fp[i] = &f[n - 1 - i];
		if (i) {
			fp[i]->has_prev = true;
			fp[i]->prev = (uint32_t)(i - 1);
		}
	}
	se.n_seccomp_filters = (size_t)n;
	se.seccomp_filters = fp;
	*newest = n ? (uint32_t)(n - 1) : 0;
	ret = dump_img_open(dc, SECCOMP_MAGIC, &img, "seccomp.img");
	if (ret)
		goto out;
	ret = img_write_msg(img, &se.base);
	ret = img_close(img) ?: ret;
out:
	for (long i = 0; f && i < n; i++)
		free(f[i].filter.data);
	free(f);
	free(fp);
	return ret;
}

static int fill_thread_core(struct core_msgs *m, const struct dump_task *dt,
			    const struct dump_thread *t, int seccomp_filter)
{
	ThreadCoreEntry *th = &m->th;
	int ret;

	thread_core_entry__init(th);
	th->futex_rla = t->robust_list;
	th->futex_rla_len = (uint32_t)t->robust_len;
	th->has_sched_nice = th->has_sched_policy = th->has_sched_prio = true;
	th->sched_nice = t->sched_nice;
	th->sched_policy = (uint32_t)t->sched_policy;
	th->sched_prio = (uint32_t)t->sched_prio;
	th->has_blk_sigset = true;
	th->blk_sigset = t->seized->sigmask;
	thread_sas_entry__init(&m->sas);
	m->sas.ss_sp = t->thread.sas.ss_sp;
	m->sas.ss_size = t->thread.sas.ss_size;
	m->sas.ss_flags = (uint32_t)t->thread.sas.ss_flags;
	th->sas = &m->sas;
	th->has_pdeath_sig = true;
	th->pdeath_sig = (uint32_t)t->thread.pdeath_sig;
	fill_creds(m, t);
	th->creds = &m->creds;
	th->comm = (char *)t->comm;

	ret = regs_dump_sigqueue(t->tid, false, &m->sig_p);
	if (ret)
		return ret;
	th->signals_p = m->sig_p;

	th->has_seccomp_mode = true;
	th->seccomp_mode = (SeccompMode)t->status.seccomp;
	/* One filter chain per process is what we save; every thread points at its newest. */
	if (t->status.seccomp == 2 && seccomp_filter >= 0) {
		th->has_seccomp_filter = true;
		th->seccomp_filter = (uint32_t)seccomp_filter;
	}
	if (m->regs.has_rseq)
		th->rseq_entry = &m->regs.rseq;
	(void)dt;
	return 0;
}

static int fill_task_core(struct core_msgs *m, struct dump_task *dt)
{
	TaskCoreEntry *tc = &m->tc;
	int ret;

	task_core_entry__init(tc);
	tc->task_state = (uint32_t)dt->seized->state;
	tc->exit_code = 0;
	tc->personality = dt->personality;
	tc->flags = dt->stat.flags;
	tc->blk_sigset = dt->seized->sigmask;
	tc->comm = dt->comm;
	ret = fill_timers(m, dt);
	if (ret)
		return ret;
	tc->timers = &m->timers;
	fill_rlimits(m, dt);
	tc->rlimits = &m->rlims;
	ret = regs_dump_sigqueue(dt->pid, true, &m->sig_s);
	if (ret)
		return ret;
	tc->signals_s = m->sig_s;
	if (dt->has_loginuid) {
		tc->has_loginuid = true;
		tc->loginuid = dt->loginuid;
	}
	tc->has_oom_score_adj = true;
	tc->oom_score_adj = dt->oom_score_adj;
	fill_sigacts(m, dt);
	tc->has_child_subreaper = true;
	tc->child_subreaper = dt->misc.child_subreaper != 0;
	if (dt->seized->state == TASK_STATE_STOPPED) {
		tc->has_stop_signo = true;
		tc->stop_signo = (uint32_t)dt->seized->stop_signo;
	}
	if (dt->misc.membarrier_registrations >= 0) {
		tc->has_membarrier_registration_mask = true;
		tc->membarrier_registration_mask = (uint32_t)dt->misc.membarrier_registrations;
	}
	return 0;
}

/* core-TID.img of thread T; the leader's also carries the task part. */
static int dump_thread_core(struct dump_ctx *dc, struct dump_task *dt, struct dump_thread *t,
			    int seccomp_filter)
{
	bool leader = t->tid == dt->pid;
	struct core_msgs *m;
	struct image *img;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	core_entry__init(&m->core);
	m->core.mtype = CORE_ENTRY__MARCH__X86_64;

	ret = regs_dump_thread(t->tid, &t->seized->regs, t->thread.clear_child_tid, &m->regs);
	if (ret)
		goto out;
	m->core.thread_info = &m->regs.ti;
	if (leader) {
		ret = fill_task_core(m, dt);
		if (ret)
			goto out;
		m->core.tc = &m->tc;
	}
	ret = fill_thread_core(m, dt, t, seccomp_filter);
	if (ret)
		goto out;
	m->core.thread_core = &m->th;

	ret = dump_img_open(dc, CORE_MAGIC, &img, "core-%d.img", t->vtid);
	if (ret)
		goto out;
	ret = img_write_msg(img, &m->core.base);
	ret = img_close(img) ?: ret;
out:
	regs_sigqueue_free(m->sig_s);
	regs_sigqueue_free(m->sig_p);
	free(m->posix);
	free(m->posix_p);
	free(m);
	return ret;
}

int dump_task_core(struct dump_ctx *dc, struct dump_task *dt)
{
	int filter = -1, ret;

	if (dt->status.seccomp == 2) {
		uint32_t newest;

		ret = dump_seccomp(dc, dt, &newest);
		if (ret)
			return ret;
		filter = (int)newest;
	}
	for (size_t i = 0; i < dt->n_thr; i++) {
		ret = dump_thread_core(dc, dt, &dt->thr[i], filter);
		if (ret)
			return ret;
	}
	return 0;
}

int dump_task_ids(struct dump_ctx *dc, struct dump_task *dt)
{
	TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	const struct task_ids_info *i = &dt->ids;
	uint32_t *ns[DUMP_NR_NS] = { &ids.pid_ns_id, &ids.net_ns_id, &ids.ipc_ns_id,
				     &ids.uts_ns_id, &ids.mnt_ns_id, &ids.user_ns_id,
				     &ids.cgroup_ns_id, &ids.time_ns_id };
	protobuf_c_boolean *has[DUMP_NR_NS] = { &ids.has_pid_ns_id, &ids.has_net_ns_id,
						&ids.has_ipc_ns_id, &ids.has_uts_ns_id,
						&ids.has_mnt_ns_id, &ids.has_user_ns_id,
						&ids.has_cgroup_ns_id, &ids.has_time_ns_id };
	struct image *img;
	int ret;

	ids.vm_id = i->vm_id;
	ids.files_id = i->files_id;
	ids.fs_id = i->fs_id;
	ids.sighand_id = i->sighand_id;
	for (int k = 0; k < DUMP_NR_NS; k++)
		if (i->ns_id[k]) {
			*ns[k] = i->ns_id[k];
			*has[k] = true;
		}
	ret = dump_img_open(dc, IDS_MAGIC, &img, "ids-%d.img", dt->vpid);
	if (ret)
		return ret;
	ret = img_write_msg(img, &ids.base);
	return img_close(img) ?: ret;
}

/*
 * A zombie has no memory, fds or registers left: CRIU writes a core image
 * with a task part only (no thread_info, no thread_core), task_state
 * TASK_DEAD and the exit status from /proc/PID/stat (field 52, in wait()
 * format), and nothing else for it besides its pstree entry.
 */
int dump_zombie_core(struct dump_ctx *dc, const struct pstree_item *it)
{
	CoreEntry core = CORE_ENTRY__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	char comm[32];
	struct image *img;
	int ret;

	ret = proc_read_text(it->pid, "comm", comm, sizeof(comm));
	if (ret)
		return ret;
	core.mtype = CORE_ENTRY__MARCH__X86_64;
	tc.task_state = TASK_STATE_DEAD;
	tc.exit_code = (uint32_t)it->exit_code;
	tc.comm = comm;
	core.tc = &tc;
	ret = dump_img_open(dc, CORE_MAGIC, &img, "core-%d.img", it->vpid);
	if (ret)
		return ret;
	ret = img_write_msg(img, &core.base);
	ret = img_close(img) ?: ret;
	if (!ret)
		pr_info("zombie pid %d: exit status %#x", it->pid, it->exit_code);
	return ret;
}

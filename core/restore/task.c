// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "task state", in the new task (stage 1). What glibc code
 * may set now is set now: personality (before any mapping, 6.6), umask,
 * cwd and root, oom_score_adj, and every sigaction but SIGCHLD (5.16). The
 * rest has to wait until criu's memory is gone, so it is written into the
 * restorer args: rlimits, timers, pending signals, seccomp, creds and the
 * per-thread fields (scheduling among them).
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "log/log.h"
#include "restore/files.h"
#include "restore/task.h"

static const char *const rlimit_names[] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
	"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

static int restore_sigactions(struct rst_ctx *c, struct rst_args *a)
{
	TaskCoreEntry *tc = c->core->tc;
	size_t idx = 0;
	/* CRIU stores 62 entries (KILL and STOP skipped); accept 64 as well. */
	bool skips = tc->n_sigactions != K_NSIG;

	for (int sig = 1; sig <= K_NSIG; sig++) {
		struct k_sigaction ka;
		SaEntry *sa;

		if (sig == K_SIGKILL || sig == K_SIGSTOP) {
			if (!skips)
				idx++;
			continue;
		}
		if (idx >= tc->n_sigactions)
			break;
		sa = tc->sigactions[idx++];
		ka.handler = sa->sigaction;
		ka.flags = sa->flags;
		ka.restorer = sa->restorer;
		ka.mask = sa->mask;
		if (sig == K_SIGCHLD) {
			/* criu still needs the default SIGCHLD; the restorer sets it last. */
			a->has_sigchld = 1;
			memcpy(&a->sigchld, &ka, sizeof(ka));
			continue;
		}
		if (syscall(SYS_rt_sigaction, sig, &ka, NULL, sizeof(k_sigset_t))) {
			pr_perror("pid %d: cannot restore the action of signal %d (core-%d.img)",
				  c->pid, sig, c->pid);
			return -errno;
		}
	}
	return 0;
}

int rst_task_fs(struct rst_ctx *c)
{
	struct stat now, want;
	int cwd = -1, root = -1, ret;

	err_ctx_set_stage("cwd and root");
	ret = rst_open_core_file(c, c->fs->root_id, CP_USE_ROOT, O_RDONLY | O_DIRECTORY, &root);
	if (ret)
		goto out;
	ret = rst_open_core_file(c, c->fs->cwd_id, CP_USE_CWD, O_RDONLY | O_DIRECTORY, &cwd);
	if (ret)
		goto out;
	if (fstat(root, &want) || stat("/", &now)) {
		ret = -errno;
		pr_perror("pid %d: cannot stat its root", c->pid);
		goto out;
	}
	if (want.st_dev != now.st_dev || want.st_ino != now.st_ino) {
		if (fchdir(root) || chroot(".")) {
			ret = -errno;
			pr_perror("pid %d: cannot change its root (fs-%d.img)", c->pid, c->pid);
			goto out;
		}
	}
	if (fchdir(cwd)) {
		ret = -errno;
		pr_perror("pid %d: cannot change to its cwd (fs-%d.img)", c->pid, c->pid);
		goto out;
	}
out:
	if (cwd >= 0)
		close(cwd);
	if (root >= 0)
		close(root);
	return ret;
}

/*
 * Session and process group (5.3). The root: a session or group leader
 * leads again; otherwise it can only join criu's own (silently with
 * --shell-job, whose session is the caller's by design).
 */
static int restore_sid_pgid(struct rst_ctx *c)
{
	pid_t sid = (pid_t)c->pstree->sid, pgid = (pid_t)c->pstree->pgid;
	bool shell_job = c->opts.shell_job;

	if (c->parent) {
		/*
		 * Below the root: the session came with the fork (images.c
		 * checked that) unless this task leads one; groups of other
		 * tasks are joined once they all exist (stage1.c).
		 */
		if (sid == c->pid && setsid() < 0) {
			pr_perror("pid %d: cannot start its session again", c->pid);
			return -errno;
		}
		if (pgid == c->pid && getpgid(0) != pgid && setpgid(0, 0)) {
			pr_perror("pid %d: cannot lead its process group again", c->pid);
			return -errno;
		}
		return 0;
	}
	if (sid == c->pid) {
		if (setsid() < 0) {
			pr_perror("pid %d: cannot start its session again", c->pid);
			return -errno;
		}
	} else if (shell_job) {
		/* The session of a shell job is the caller's: join criu's, and its group. */
		pr_info("pid %d: shell job of session %d, group %d, joins criu's session %d",
			c->pid, sid, pgid, getsid(0));
		if (pgid != c->pid)
			return 0;
	} else if (sid != getsid(0)) {
		pr_warn("pid %d was in session %d, which is not criu's (%d); it joins criu's",
			c->pid, sid, getsid(0));
	}
	if (pgid == getpgid(0))
		return 0;
	if (setpgid(0, pgid == c->pid ? 0 : pgid) < 0)
		pr_warn("pid %d: cannot join process group %d: %s", c->pid, pgid, strerror(errno));
	return 0;
}

/*
 * Raising it is free; going below the value criu was given needs
 * CAP_SYS_RESOURCE, so that case only warns, like the rlimits (6.7).
 */
static void restore_oom_score_adj(struct rst_ctx *c)
{
	TaskCoreEntry *tc = c->core->tc;
	char buf[16];
	int fd, len;

	if (!tc->has_oom_score_adj)
		return;
	len = snprintf(buf, sizeof(buf), "%d", tc->oom_score_adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		pr_warn("pid %d: cannot set oom_score_adj to %d: %s%s", c->pid, tc->oom_score_adj,
			strerror(errno),
			errno == EACCES ? " (lowering it needs CAP_SYS_RESOURCE)" : "");
	if (fd >= 0)
		close(fd);
}

int rst_task_early(struct rst_ctx *c, struct rst_args *a)
{
	TaskCoreEntry *tc = c->core->tc;
	int ret;

	err_ctx_set_stage("task state");
	ret = restore_sid_pgid(c);
	if (ret)
		return ret;
	if (personality(tc->personality) < 0) {
		pr_perror("pid %d: cannot set personality %#x", c->pid, tc->personality);
		return -errno;
	}
	if (c->fs->has_umask)
		umask(c->fs->umask & 0777);
	restore_oom_score_adj(c);
	return restore_sigactions(c, a);
}

/* Hard limits we cannot raise are clamped, with a warning (6.7). */
static int fill_rlimits(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a)
{
	TaskRlimitsEntry *rl = c->core->tc->rlimits;
	struct rst_rlimit *out;

	if (!rl || !rl->n_rlimits)
		return 0;
	out = rst_boot_alloc(b, rl->n_rlimits * sizeof(*out), 8);
	if (!out)
		return -ENOSPC;
	for (size_t i = 0; i < rl->n_rlimits; i++) {
		struct rlimit ours;
		uint64_t cur = rl->rlimits[i]->cur, max = rl->rlimits[i]->max;

		if (getrlimit((int)i, &ours))
			continue; /* a limit this kernel does not know */
		if (max > ours.rlim_max) {
			pr_warn("pid %d: RLIMIT_%s hard limit %llu is above criu's %llu; clamped "
				"(raising it needs CAP_SYS_RESOURCE)", c->pid,
				i < 16 ? rlimit_names[i] : "?", (unsigned long long)max,
				(unsigned long long)ours.rlim_max);
			max = ours.rlim_max;
		}
		if (cur > max)
			cur = max;
		out[a->nr_rlimits].resource = (uint32_t)i;
		out[a->nr_rlimits].cur = cur;
		out[a->nr_rlimits].max = max;
		a->nr_rlimits++;
	}
	a->rlimits = (uint64_t)(uintptr_t)out;
	return 0;
}

static void itimer(struct rst_itimer *t, uint32_t which, const ItimerEntry *e)
{
	t->which = which;
	t->interval.sec = (int64_t)e->isec;
	t->interval.nsec = (int64_t)e->iusec;
	t->value.sec = (int64_t)e->vsec;
	t->value.nsec = (int64_t)e->vusec;
}

/* Is a SIGALRM in the process-wide queue of the image? */
static bool sigalrm_pending(const struct rst_ctx *c)
{
	const SignalQueueEntry *q = c->core->tc->signals_s;
	int signo;

	for (size_t i = 0; q && i < q->n_signals; i++) {
		if (q->signals[i]->siginfo.len < sizeof(signo))
			continue;
		memcpy(&signo, q->signals[i]->siginfo.data, sizeof(signo));
		if (signo == SIGALRM)
			return true;
	}
	return false;
}

static int fill_timers(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a)
{
	TaskTimersEntry *t = c->core->tc->timers;
	struct rst_itimer *it;
	struct rst_posix_timer *pt;

	if (!t)
		return 0;
	it = rst_boot_alloc(b, 3 * sizeof(*it), 8);
	if (!it)
		return -ENOSPC;
	itimer(&it[0], K_ITIMER_REAL, t->real);
	/*
	 * A periodic ITIMER_REAL whose SIGALRM is still queued reads as 0
	 * remaining: the kernel re-arms it only when that signal is taken.
	 * Arming it for one interval keeps it periodic; the queued SIGALRM
	 * is restored as well.
	 */
	if (!it[0].value.sec && !it[0].value.nsec && (it[0].interval.sec || it[0].interval.nsec) &&
	    sigalrm_pending(c))
		it[0].value = it[0].interval;
	itimer(&it[1], K_ITIMER_VIRTUAL, t->virt);
	itimer(&it[2], K_ITIMER_PROF, t->prof);
	a->itimers = (uint64_t)(uintptr_t)it;
	a->nr_itimers = 3;
	if (!t->n_posix)
		return 0;
	pt = rst_boot_alloc(b, t->n_posix * sizeof(*pt), 8);
	if (!pt)
		return -ENOSPC;
	/* Each gets its dumped id (PR_TIMER_CREATE_RESTORE_IDS), so the order does not matter. */
	for (size_t i = 0; i < t->n_posix; i++) {
		const PosixTimerEntry *e = t->posix[i];

		pt[i].id = (int32_t)e->it_id;
		pt[i].clock_id = (int32_t)e->clock_id;
		pt[i].notify = (int32_t)e->it_sigev_notify;
		pt[i].signo = (int32_t)e->si_signo;
		pt[i].sival = e->sival_ptr;
		pt[i].notify_tid = e->has_notify_thread_id ? e->notify_thread_id : c->pid;
		pt[i].interval.sec = (int64_t)e->isec;
		pt[i].interval.nsec = (int64_t)e->insec;
		pt[i].value.sec = (int64_t)e->vsec;
		pt[i].value.nsec = (int64_t)e->vnsec;
	}
	a->posix_timers = (uint64_t)(uintptr_t)pt;
	a->nr_posix_timers = (uint32_t)t->n_posix;
	return 0;
}

#define RST_SI_TIMER (-2)

/*
 * A pending signal of a POSIX timer must stay the timer's own: queued
 * again by hand it would be a second signal beside the one the timer
 * queues at its next expiry, which should only count an overrun. So drop
 * it and make the timer expire at once instead (its next expiries follow
 * at its interval from now). True when SI was such a signal.
 */
static bool timer_signal(struct rst_args *a, const uint8_t *si)
{
	struct rst_posix_timer *pt = (struct rst_posix_timer *)(uintptr_t)a->posix_timers;
	int32_t code, tid;

	memcpy(&code, si + 8, 4);
	memcpy(&tid, si + 16, 4);
	if (code != RST_SI_TIMER)
		return false;
	for (uint32_t i = 0; i < a->nr_posix_timers; i++) {
		if (pt[i].id != tid)
			continue;
		pt[i].value.sec = 0;
		pt[i].value.nsec = 1;
		return true;
	}
	return false;
}

/* One queue of pending signals into the region; *N gets how many are kept. */
static int fill_queue(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a,
		      const SignalQueueEntry *q, bool shared, pid_t tid, uint64_t *out,
		      uint32_t *n)
{
	struct rst_siginfo *si;
	uint32_t k = 0;

	if (!q || !q->n_signals)
		return 0;
	si = rst_boot_alloc(b, q->n_signals * sizeof(*si), 8);
	if (!si)
		return -ENOSPC;
	for (size_t i = 0; i < q->n_signals; i++) {
		const ProtobufCBinaryData *d = &q->signals[i]->siginfo;

		if (d->len != sizeof(si[k].raw)) {
			pr_err("core-%d.img: pending signal %zu has a %zu-byte siginfo (expected 128)",
			       tid, i, d->len);
			return -EINVAL;
		}
		if (timer_signal(a, d->data))
			continue;
		memcpy(si[k].raw, d->data, d->len);
		si[k].shared = shared;
		k++;
	}
	*out = (uint64_t)(uintptr_t)si;
	*n = k;
	return 0;
}

/* The chain from the thread's filter back through prev, installed oldest first (6.11). */
static int fill_seccomp(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a)
{
	ThreadCoreEntry *th = c->core->thread_core;
	uint32_t chain[64], n = 0, idx;
	struct rst_seccomp_filter *f;

	if (!th || !th->has_seccomp_mode || th->seccomp_mode == SECCOMP_MODE__disabled)
		return 0;
	if (th->seccomp_mode == SECCOMP_MODE__strict) {
		a->seccomp_strict = 1;
		return 0;
	}
	idx = th->seccomp_filter;
	for (;;) {
		SeccompFilter *sf;

		if (!c->seccomp || idx >= c->seccomp->n_seccomp_filters || n == 64) {
			pr_err("seccomp.img: filter %u of pid %d is missing (or the chain loops)", idx,
			       c->pid);
			return -EINVAL;
		}
		chain[n++] = idx;
		sf = c->seccomp->seccomp_filters[idx];
		if (!sf->has_prev)
			break;
		idx = sf->prev;
	}
	f = rst_boot_alloc(b, n * sizeof(*f), 8);
	if (!f)
		return -ENOSPC;
	for (uint32_t i = 0; i < n; i++) {
		SeccompFilter *sf = c->seccomp->seccomp_filters[chain[n - 1 - i]];
		void *insns;

		if (!sf->filter.len || sf->filter.len % 8 || sf->filter.len / 8 > 4096) {
			pr_err("seccomp.img: filter %u has %zu bytes (not 1-4096 instructions)",
			       chain[n - 1 - i], sf->filter.len);
			return -EINVAL;
		}
		insns = rst_boot_alloc(b, sf->filter.len, 8);
		if (!insns)
			return -ENOSPC;
		memcpy(insns, sf->filter.data, sf->filter.len);
		f[i].insns = (uint64_t)(uintptr_t)insns;
		f[i].len = (uint32_t)(sf->filter.len / 8);
		f[i].flags = sf->has_flags ? sf->flags : 0;
	}
	a->seccomp = (uint64_t)(uintptr_t)f;
	a->nr_seccomp = n;
	return 0;
}

static bool groups_match(const CredsEntry *ce)
{
	gid_t now[256];
	int n = getgroups(256, now);

	if (n < 0 || (size_t)n != ce->n_groups)
		return false;
	for (int i = 0; i < n; i++)
		if (now[i] != ce->groups[i])
			return false;
	return true;
}

static int fill_creds(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a)
{
	ThreadCoreEntry *th = c->core->thread_core;
	const CredsEntry *ce = th ? th->creds : NULL;
	struct rst_creds *cr = &a->creds;
	unsigned int last = 40;
	FILE *f;

	if (!ce)
		return 0;
	if (ce->n_cap_inh < 2 || ce->n_cap_prm < 2 || ce->n_cap_eff < 2 || ce->n_cap_bnd < 2) {
		pr_err("core-%d.img: the capability sets need 2 words each", c->pid);
		return -EINVAL;
	}
	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%u", &last) != 1)
			last = 40;
		fclose(f);
	}
	cr->uid = ce->uid;
	cr->euid = ce->euid;
	cr->suid = ce->suid;
	cr->fsuid = ce->fsuid;
	cr->gid = ce->gid;
	cr->egid = ce->egid;
	cr->sgid = ce->sgid;
	cr->fsgid = ce->fsgid;
	for (int i = 0; i < 2; i++) {
		cr->cap_inh[i] = ce->cap_inh[i];
		cr->cap_prm[i] = ce->cap_prm[i];
		cr->cap_eff[i] = ce->cap_eff[i];
		cr->cap_bnd[i] = ce->cap_bnd[i];
		/* Ambient bits outside prm and inh cannot be raised (capabilities(7)). */
		if ((size_t)i < ce->n_cap_amb)
			cr->cap_amb[i] = ce->cap_amb[i] & ce->cap_prm[i] & ce->cap_inh[i];
	}
	cr->no_new_privs = ce->has_no_new_privs && ce->no_new_privs;
	cr->secbits = ce->secbits;
	cr->last_cap = last;
	if (!groups_match(ce)) {
		uint32_t *g = rst_boot_alloc(b, (ce->n_groups + 1) * sizeof(*g), 8);

		if (!g)
			return -ENOSPC;
		for (size_t i = 0; i < ce->n_groups; i++)
			g[i] = ce->groups[i];
		cr->groups = (uint64_t)(uintptr_t)g;
		cr->nr_groups = (uint32_t)ce->n_groups;
		cr->set_groups = 1;
	}
	a->has_creds = 1;
	return 0;
}

static int fill_thread(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a, size_t i,
		       struct rst_thread *t)
{
	const CoreEntry *core = c->thread_cores[i];
	const ThreadInfoX86 *ti = core->thread_info;
	const ThreadCoreEntry *th = core->thread_core;
	const char *comm = (th && th->comm) ? th->comm : (core->tc ? core->tc->comm : NULL);

	t->tid = c->tids[i];
	t->fs_base = ti->gpregs->fs_base;
	t->gs_base = ti->gpregs->gs_base;
	t->clear_tid_addr = ti->clear_tid_addr;
	if (comm)
		snprintf(t->comm, sizeof(t->comm), "%s", comm);
	if (!th)
		return 0;
	t->robust_list = th->futex_rla;
	t->robust_len = th->futex_rla_len;
	t->pdeathsig = th->has_pdeath_sig ? (int32_t)th->pdeath_sig : 0;
	if (th->has_sched_policy) {
		t->has_sched = 1;
		t->sched_policy = (int32_t)th->sched_policy;
		t->sched_prio = th->has_sched_prio ? (int32_t)th->sched_prio : 0;
		t->sched_nice = th->has_sched_nice ? th->sched_nice : 0;
	}
	if (th->rseq_entry && th->rseq_entry->rseq_abi_pointer) {
		t->rseq = th->rseq_entry->rseq_abi_pointer;
		t->rseq_len = th->rseq_entry->rseq_abi_size;
		t->rseq_sig = th->rseq_entry->signature;
	}
	return fill_queue(c, b, a, th->signals_p, false, t->tid, &t->siginfos, &t->nr_siginfos);
}

/*
 * Seccomp and creds are per thread in Linux, but the restorer gives every
 * thread the leader's: say so when a thread had others.
 */
static void check_thread_uniform(struct rst_ctx *c)
{
	const ThreadCoreEntry *l = c->core->thread_core;

	for (size_t i = 1; i < c->nr_threads; i++) {
		const ThreadCoreEntry *th = c->thread_cores[i]->thread_core;

		if (!l || !th)
			continue;
		if (th->has_seccomp_mode != l->has_seccomp_mode ||
		    th->seccomp_mode != l->seccomp_mode || th->seccomp_filter != l->seccomp_filter)
			pr_warn("thread %d of pid %d had its own seccomp filters; it gets the "
				"leader's", c->tids[i], c->pid);
		if (th->creds && l->creds &&
		    (th->creds->uid != l->creds->uid || th->creds->euid != l->creds->euid ||
		     th->creds->gid != l->creds->gid || th->creds->egid != l->creds->egid))
			pr_warn("thread %d of pid %d had its own credentials; it gets the leader's",
				c->tids[i], c->pid);
	}
}

int rst_task_fill_args(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a,
		       struct rst_thread *threads)
{
	int ret;

	a->pid = c->pid;
	a->nr_threads = (uint32_t)c->nr_threads;
	a->threads = (uint64_t)(uintptr_t)threads;
	a->dumpable = c->mm->has_dumpable ? c->mm->dumpable : -1;
	a->thp_disabled = c->mm->has_thp_disabled && c->mm->thp_disabled;
	a->child_subreaper = c->core->tc->has_child_subreaper && c->core->tc->child_subreaper;
	check_thread_uniform(c);
	ret = fill_rlimits(c, b, a);
	if (!ret)
		ret = fill_timers(c, b, a);
	if (!ret)
		ret = fill_queue(c, b, a, c->core->tc->signals_s, true, c->pid, &a->siginfos,
				 &a->nr_siginfos);
	for (size_t i = 0; !ret && i < c->nr_threads; i++)
		ret = fill_thread(c, b, a, i, &threads[i]);
	if (!ret)
		ret = fill_seccomp(c, b, a);
	if (!ret)
		ret = fill_creds(c, b, a);
	return ret;
}

size_t rst_task_args_size(const struct rst_ctx *c)
{
	const TaskCoreEntry *tc = c->core->tc;
	const ThreadCoreEntry *th = c->core->thread_core;
	size_t n = 4096;

	if (tc->rlimits)
		n += tc->rlimits->n_rlimits * sizeof(struct rst_rlimit) + 8;
	if (tc->timers)
		n += 3 * sizeof(struct rst_itimer) +
		     tc->timers->n_posix * sizeof(struct rst_posix_timer) + 16;
	if (tc->signals_s)
		n += tc->signals_s->n_signals * sizeof(struct rst_siginfo) + 8;
	for (size_t i = 0; i < c->nr_threads; i++) {
		const ThreadCoreEntry *t = c->thread_cores[i]->thread_core;

		if (t && t->signals_p)
			n += t->signals_p->n_signals * sizeof(struct rst_siginfo) + 8;
	}
	if (th && th->creds)
		n += (th->creds->n_groups + 1) * 4 + 8;
	for (size_t i = 0; c->seccomp && i < c->seccomp->n_seccomp_filters; i++)
		n += c->seccomp->seccomp_filters[i]->filter.len + sizeof(struct rst_seccomp_filter) + 8;
	return n;
}

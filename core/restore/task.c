// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "task state", in the new task (stage 1). What glibc code
 * may set now is set now: personality (before any mapping, 6.6), umask,
 * cwd and root, scheduling, and every sigaction but SIGCHLD (5.16). The
 * rest has to wait until criu's memory is gone, so it is written into the
 * restorer args: rlimits, timers, pending signals, seccomp, creds and the
 * per-thread fields.
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
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

static int restore_fs(struct rst_ctx *c)
{
	struct stat now, want;
	int cwd = -1, root = -1, ret;

	ret = rst_open_core_file(c, c->fs->root_id, O_RDONLY | O_DIRECTORY, &root);
	if (ret)
		goto out;
	ret = rst_open_core_file(c, c->fs->cwd_id, O_RDONLY | O_DIRECTORY, &cwd);
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

int rst_task_early(struct rst_ctx *c, struct rst_args *a)
{
	TaskCoreEntry *tc = c->core->tc;
	ThreadCoreEntry *th = c->core->thread_core;
	int ret;

	err_ctx_set_stage("task state");
	if (personality(tc->personality) < 0) {
		pr_perror("pid %d: cannot set personality %#x", c->pid, tc->personality);
		return -errno;
	}
	if (c->fs->has_umask)
		umask(c->fs->umask & 0777);
	ret = restore_fs(c);
	if (ret)
		return ret;
	if (th && th->has_sched_nice && setpriority(PRIO_PROCESS, 0, th->sched_nice))
		pr_warn("pid %d: cannot set nice %d: %s", c->pid, th->sched_nice, strerror(errno));
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

static int fill_signals(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a)
{
	SignalQueueEntry *q[2] = { c->core->tc->signals_s,
				   c->core->thread_core ? c->core->thread_core->signals_p : NULL };
	size_t n = 0, k = 0;
	struct rst_siginfo *si;

	for (int j = 0; j < 2; j++)
		n += q[j] ? q[j]->n_signals : 0;
	if (!n)
		return 0;
	si = rst_boot_alloc(b, n * sizeof(*si), 8);
	if (!si)
		return -ENOSPC;
	for (int j = 0; j < 2; j++) {
		for (size_t i = 0; q[j] && i < q[j]->n_signals; i++) {
			ProtobufCBinaryData *d = &q[j]->signals[i]->siginfo;

			if (d->len != sizeof(si[k].raw)) {
				pr_err("core-%d.img: pending signal %zu has a %zu-byte siginfo "
				       "(expected 128)", c->pid, i, d->len);
				return -EINVAL;
			}
			memcpy(si[k].raw, d->data, d->len);
			si[k].shared = j == 0;
			k++;
		}
	}
	a->siginfos = (uint64_t)(uintptr_t)si;
	a->nr_siginfos = (uint32_t)n;
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
	}
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

static void fill_thread(struct rst_ctx *c, struct rst_args *a)
{
	const ThreadInfoX86 *ti = c->core->thread_info;
	const ThreadCoreEntry *th = c->core->thread_core;
	const char *comm = (th && th->comm) ? th->comm : c->core->tc->comm;

	a->pid = c->pid;
	a->tid = c->pid;
	a->fs_base = ti->gpregs->fs_base;
	a->gs_base = ti->gpregs->gs_base;
	a->clear_tid_addr = ti->clear_tid_addr;
	if (th) {
		a->robust_list = th->futex_rla;
		a->robust_len = th->futex_rla_len;
		a->pdeathsig = th->has_pdeath_sig ? (int32_t)th->pdeath_sig : 0;
		if (th->rseq_entry && th->rseq_entry->rseq_abi_pointer) {
			a->rseq = th->rseq_entry->rseq_abi_pointer;
			a->rseq_len = th->rseq_entry->rseq_abi_size;
			a->rseq_sig = th->rseq_entry->signature;
		}
	}
	if (comm)
		snprintf(a->comm, sizeof(a->comm), "%s", comm);
	a->dumpable = c->mm->has_dumpable ? c->mm->dumpable : -1;
	a->thp_disabled = c->mm->has_thp_disabled && c->mm->thp_disabled;
	a->child_subreaper = c->core->tc->has_child_subreaper && c->core->tc->child_subreaper;
}

int rst_task_fill_args(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a)
{
	int ret;

	fill_thread(c, a);
	ret = fill_rlimits(c, b, a);
	if (!ret)
		ret = fill_timers(c, b, a);
	if (!ret)
		ret = fill_signals(c, b, a);
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
		n += tc->signals_s->n_signals * sizeof(struct rst_siginfo);
	if (th && th->signals_p)
		n += th->signals_p->n_signals * sizeof(struct rst_siginfo);
	if (th && th->creds)
		n += (th->creds->n_groups + 1) * 4 + 8;
	for (size_t i = 0; c->seccomp && i < c->seccomp->n_seccomp_filters; i++)
		n += c->seccomp->seccomp_filters[i]->filter.len + sizeof(struct rst_seccomp_filter) + 8;
	return n;
}

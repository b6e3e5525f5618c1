// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The dump-side parasite: code that runs inside the task being dumped, one
 * command per run (see protocol.h). It reads state that only the task
 * itself can see (facts 3.16) and hands its memory to criu through pipes.
 * No libc: raw syscalls only, no globals that need relocating.
 */
#include <stddef.h>
#include <stdint.h>

#include <asm/errno.h>

#include <pie/kabi.h>
#include <pie/string.h>
#include <pie/syscall.h>

#include "protocol.h"

long parasite_service(struct parasite_args *args);

static long cmd_init(struct parasite_args *a)
{
	a->u.init.pid = (int32_t)sys_getpid();
	a->u.init.tid = (int32_t)sys_gettid();
	return 0;
}

static long cmd_dump_misc(struct parasite_args *a)
{
	struct parasite_misc *m = &a->u.misc;
	long r;

	m->brk = (uint64_t)sys_brk(0);

	r = sys_prctl(K_PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (r < 0)
		return r;
	m->dumpable = (int32_t)r;

	r = sys_prctl(K_PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (r < 0)
		return r;
	m->thp_disabled = (int32_t)r;

	r = sys_prctl(K_PR_GET_CHILD_SUBREAPER, (unsigned long)&m->child_subreaper, 0, 0, 0);
	if (r < 0)
		return r;

	r = sys_getsid(0);
	if (r < 0)
		return r;
	m->sid = (int32_t)r;
	r = sys_getpgid(0);
	if (r < 0)
		return r;
	m->pgid = (int32_t)r;

	/* Old kernels lack the command: report that rather than fail. */
	m->membarrier_registrations = (int32_t)sys_membarrier(K_MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);
	return 0;
}

static long cmd_dump_thread(struct parasite_args *a)
{
	struct parasite_thread *t = &a->u.thread;
	long r;

	t->tid = (int32_t)sys_gettid();

	r = sys_prctl(K_PR_GET_PDEATHSIG, (unsigned long)&t->pdeath_sig, 0, 0, 0);
	if (r < 0)
		return r;
	r = sys_prctl(K_PR_GET_TID_ADDRESS, (unsigned long)&t->clear_child_tid, 0, 0, 0);
	if (r < 0)
		return r;
	r = sys_prctl(K_PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (r < 0)
		return r;
	t->securebits = (uint64_t)r;
	r = sys_prctl(K_PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (r < 0)
		return r;
	t->no_new_privs = (int32_t)r;
	r = sys_prctl(K_PR_GET_NAME, (unsigned long)t->comm, 0, 0, 0);
	if (r < 0)
		return r;
	return sys_sigaltstack(NULL, &t->sas);
}

static long cmd_dump_sigacts(struct parasite_args *a)
{
	struct parasite_sigacts *s = &a->u.sigacts;
	long r;

	for (int sig = 1; sig <= K_NSIG; sig++) {
		memset(&s->act[sig - 1], 0, sizeof(s->act[0]));
		if (sig == K_SIGKILL || sig == K_SIGSTOP)
			continue;
		r = sys_rt_sigaction(sig, NULL, &s->act[sig - 1]);
		if (r < 0) {
			a->hdr.err_arg = (uint64_t)sig;
			return r;
		}
	}
	return 0;
}

static long cmd_dump_itimers(struct parasite_args *a)
{
	struct parasite_itimers *it = &a->u.itimers;
	long r;

	r = sys_getitimer(K_ITIMER_REAL, &it->real);
	if (r == 0)
		r = sys_getitimer(K_ITIMER_VIRTUAL, &it->virt);
	if (r == 0)
		r = sys_getitimer(K_ITIMER_PROF, &it->prof);
	return r;
}

static long cmd_dump_posix_timers(struct parasite_args *a)
{
	struct parasite_posix_timers *pt = (void *)a->u.payload;
	long r;

	for (uint32_t i = 0; i < pt->nr; i++) {
		struct parasite_posix_timer *t = &pt->t[i];

		r = sys_timer_gettime(t->id, &t->val);
		if (r == 0)
			r = sys_timer_getoverrun(t->id);
		if (r < 0) {
			a->hdr.err_arg = (uint64_t)(uint32_t)t->id;
			return r;
		}
		t->overrun = (int32_t)r;
	}
	return 0;
}

static long cmd_mprotect(struct parasite_args *a)
{
	struct parasite_mprotect *mp = (void *)a->u.payload;
	long r;

	for (mp->done = 0; mp->done < mp->nr; mp->done++) {
		struct parasite_mprotect_vma *v = &mp->v[mp->done];

		r = sys_mprotect((void *)v->start, v->len, (int)v->prot);
		if (r < 0) {
			a->hdr.err_arg = v->start;
			return r;
		}
	}
	return 0;
}

/* vmsplice NR ranges into FD completely, advancing over partial splices. */
static long splice_group(int fd, struct k_iovec *iov, uint32_t nr, uint64_t *bytes, uint64_t *err_arg)
{
	const uint32_t max_iov = 1024; /* UIO_MAXIOV */

	while (nr) {
		uint32_t n = nr < max_iov ? nr : max_iov;
		long r = sys_vmsplice(fd, iov, n, K_SPLICE_F_NONBLOCK);

		if (r < 0) {
			*err_arg = iov->base;
			return r;
		}
		if (r == 0) {
			*err_arg = iov->base;
			return -EIO; /* no progress */
		}
		*bytes += (uint64_t)r;
		while (nr && (uint64_t)r >= iov->len) {
			r -= (long)iov->len;
			iov++;
			nr--;
		}
		if (r) {
			iov->base += (uint64_t)r;
			iov->len -= (uint64_t)r;
		}
	}
	return 0;
}

static long cmd_dump_pages(struct parasite_args *a)
{
	struct parasite_dump_pages *dp = (void *)a->u.payload;
	struct k_iovec *iov = dp->iov;
	long r;

	if (dp->nr_pipes > PARASITE_MAX_PIPES)
		return -EINVAL;
	dp->bytes = 0;
	for (uint32_t p = 0; p < dp->nr_pipes; p++) {
		r = splice_group(dp->pipe_fd[p], iov, dp->nr_iov[p], &dp->bytes, &a->hdr.err_arg);
		if (r < 0)
			return r;
		iov += dp->nr_iov[p];
	}
	return 0;
}

long parasite_service(struct parasite_args *args)
{
	long ret;

	if (args->hdr.magic != PARASITE_MAGIC)
		return -EINVAL;
	args->hdr.err_arg = 0;

	switch (args->hdr.cmd) {
	case PARASITE_CMD_INIT:
		ret = cmd_init(args);
		break;
	case PARASITE_CMD_DUMP_MISC:
		ret = cmd_dump_misc(args);
		break;
	case PARASITE_CMD_DUMP_THREAD:
		ret = cmd_dump_thread(args);
		break;
	case PARASITE_CMD_DUMP_SIGACTS:
		ret = cmd_dump_sigacts(args);
		break;
	case PARASITE_CMD_DUMP_ITIMERS:
		ret = cmd_dump_itimers(args);
		break;
	case PARASITE_CMD_DUMP_POSIX_TIMERS:
		ret = cmd_dump_posix_timers(args);
		break;
	case PARASITE_CMD_MPROTECT:
		ret = cmd_mprotect(args);
		break;
	case PARASITE_CMD_DUMP_PAGES:
		ret = cmd_dump_pages(args);
		break;
	default:
		ret = -ENOSYS;
		break;
	}
	args->hdr.ret = ret;
	return ret;
}

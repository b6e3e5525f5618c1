// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * General, FPU/xsave, TLS and rseq state of one thread.
 */
#define LOG_PREFIX "regs: "
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <asm/ldt.h>

#include <criu/log.h>

#include "infect/ptrace.h"
#include "regs/regs.h"

#define XSAVE_BUF_SIZE (16 << 10)
#define GDT_ENTRY_TLS_MIN 12
#define PTRACE_GET_THREAD_AREA_REQ 25
#define RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL (1U << 1)

void regs_normalize_syscall(struct k_user_regs *regs)
{
	if ((int64_t)regs->orig_ax < 0)
		return;
	switch ((int64_t)regs->ax) {
	case -K_ERESTARTSYS:
	case -K_ERESTARTNOINTR:
	case -K_ERESTARTNOHAND:
		/* Re-execute the 2-byte syscall instruction with the original number. */
		regs->ax = regs->orig_ax;
		regs->ip -= 2;
		break;
	case -K_ERESTART_RESTARTBLOCK:
		/* The restart block lives in the old kernel task: report EINTR. */
		regs->ax = (uint64_t)-EINTR;
		break;
	}
}

static void fill_gpregs(UserX86RegsEntry *g, const struct k_user_regs *r)
{
	user_x86_regs_entry__init(g);
	g->r15 = r->r15;
	g->r14 = r->r14;
	g->r13 = r->r13;
	g->r12 = r->r12;
	g->bp = r->bp;
	g->bx = r->bx;
	g->r11 = r->r11;
	g->r10 = r->r10;
	g->r9 = r->r9;
	g->r8 = r->r8;
	g->ax = r->ax;
	g->cx = r->cx;
	g->dx = r->dx;
	g->si = r->si;
	g->di = r->di;
	g->orig_ax = r->orig_ax;
	g->ip = r->ip;
	g->cs = r->cs;
	g->flags = r->flags;
	g->sp = r->sp;
	g->ss = r->ss;
	g->fs_base = r->fs_base;
	g->gs_base = r->gs_base;
	g->ds = r->ds;
	g->es = r->es;
	g->fs = r->fs;
	g->gs = r->gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;
}

/* Offset and size of xsave component I in the standard format (CPUID 0xD). */
static bool xcomp(unsigned int i, unsigned int *off, unsigned int *size)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx) || !eax)
		return false;
	*size = eax;
	*off = ebx;
	return true;
}

/* Copy component I (if enabled in XCR0 and inside the buffer) into DST. */
static size_t copy_comp(const uint8_t *buf, size_t len, uint64_t xcr0, unsigned int i, void *dst,
			size_t dst_size)
{
	unsigned int off, size;

	if (!(xcr0 & (1ULL << i)) || !xcomp(i, &off, &size) || size != dst_size ||
	    off + size > len)
		return 0;
	memcpy(dst, buf + off, size);
	return size;
}

static int fill_fpregs(pid_t tid, struct regs_thread *rt)
{
	UserX86FpregsEntry *f = &rt->fpregs;
	UserX86XsaveEntry *x = &rt->xsave;
	struct k_xsave_header hdr;
	struct k_fxsave fx;
	struct iovec iov;
	uint64_t xcr0;
	uint8_t *buf;
	int ret = 0;

	/* The legacy area from GETFPREGS: it is right even when xstate_bv lacks x87/SSE (facts 3.15). */
	if (ptrace(PTRACE_GETFPREGS, tid, NULL, &fx)) {
		ret = -errno;
		pr_perror("cannot read the FPU state of %d", tid);
		return ret;
	}
	user_x86_fpregs_entry__init(f);
	f->cwd = fx.cwd;
	f->swd = fx.swd;
	f->twd = fx.twd;
	f->fop = fx.fop;
	f->rip = fx.rip;
	f->rdp = fx.rdp;
	f->mxcsr = fx.mxcsr;
	f->mxcsr_mask = fx.mxcsr_mask;
	memcpy(rt->st_space, fx.st_space, sizeof(rt->st_space));
	memcpy(rt->xmm_space, fx.xmm_space, sizeof(rt->xmm_space));
	memcpy(rt->padding, fx.padding, sizeof(fx.padding));
	memcpy(rt->padding + 12, fx.sw_reserved, sizeof(fx.sw_reserved));
	f->n_st_space = 32;
	f->st_space = rt->st_space;
	f->n_xmm_space = 64;
	f->xmm_space = rt->xmm_space;
	f->n_padding = 24;
	f->padding = rt->padding;

	buf = aligned_alloc(64, XSAVE_BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, XSAVE_BUF_SIZE);
	iov.iov_base = buf;
	iov.iov_len = XSAVE_BUF_SIZE;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)(long)K_NT_X86_XSTATE, &iov)) {
		/* No xsave on this CPU: the legacy area is all there is. */
		if (errno != ENODEV && errno != EINVAL && errno != EIO) {
			ret = -errno;
			pr_perror("cannot read the xsave state of %d", tid);
		}
		goto out;
	}
	if (iov.iov_len < K_XSAVE_YMM_OFFSET) {
		pr_err("thread %d: xsave area of %zu bytes is too short", tid, iov.iov_len);
		ret = -EIO;
		goto out;
	}
	memcpy(&hdr, buf + K_XSAVE_HDR_OFFSET, sizeof(hdr));
	memcpy(&xcr0, buf + 464, sizeof(xcr0));

	user_x86_xsave_entry__init(x);
	/* The legacy area we store is valid, so say so. */
	x->xstate_bv = hdr.xstate_bv | 3;
	if (copy_comp(buf, iov.iov_len, xcr0, 2, rt->ymmh, sizeof(rt->ymmh))) {
		x->n_ymmh_space = 64;
		x->ymmh_space = rt->ymmh;
	}
	if (copy_comp(buf, iov.iov_len, xcr0, 3, rt->bndreg, sizeof(rt->bndreg))) {
		x->n_bndreg_state = 8;
		x->bndreg_state = rt->bndreg;
	}
	if (copy_comp(buf, iov.iov_len, xcr0, 4, rt->bndcsr, sizeof(rt->bndcsr))) {
		x->n_bndcsr_state = 2;
		x->bndcsr_state = rt->bndcsr;
	}
	if (copy_comp(buf, iov.iov_len, xcr0, 5, rt->opmask, sizeof(rt->opmask))) {
		x->n_opmask_reg = 8;
		x->opmask_reg = rt->opmask;
	}
	if (copy_comp(buf, iov.iov_len, xcr0, 6, rt->zmm_upper, sizeof(rt->zmm_upper))) {
		x->n_zmm_upper = 64;
		x->zmm_upper = rt->zmm_upper;
	}
	if (copy_comp(buf, iov.iov_len, xcr0, 7, rt->hi16_zmm, sizeof(rt->hi16_zmm))) {
		x->n_hi16_zmm = 128;
		x->hi16_zmm = rt->hi16_zmm;
	}
	if (copy_comp(buf, iov.iov_len, xcr0, 9, rt->pkru, sizeof(rt->pkru))) {
		x->n_pkru = 2;
		x->pkru = rt->pkru;
	}
	f->xsave = x;
out:
	free(buf);
	return ret;
}

static int fill_tls(pid_t tid, struct regs_thread *rt)
{
	for (int i = 0; i < REGS_TLS_ENTRIES; i++) {
		struct user_desc d;
		UserDescT *u = &rt->tls[i];

		memset(&d, 0, sizeof(d));
		if (ptrace((enum __ptrace_request)PTRACE_GET_THREAD_AREA_REQ, tid,
			   (void *)(long)(GDT_ENTRY_TLS_MIN + i), &d)) {
			int err = -errno;

			pr_perror("cannot read TLS entry %d of thread %d", GDT_ENTRY_TLS_MIN + i, tid);
			return err;
		}
		user_desc_t__init(u);
		u->entry_number = d.entry_number;
		u->base_addr = d.base_addr;
		u->limit = d.limit;
		u->seg_32bit = d.seg_32bit;
		u->contents_h = !!(d.contents & 2);
		u->contents_l = !!(d.contents & 1);
		u->read_exec_only = d.read_exec_only;
		u->limit_in_pages = d.limit_in_pages;
		u->seg_not_present = d.seg_not_present;
		u->usable = d.useable;
		rt->tls_ptrs[i] = u;
	}
	rt->ti.n_tls = REGS_TLS_ENTRIES;
	rt->ti.tls = rt->tls_ptrs;
	return 0;
}

/*
 * rseq (facts 6.9): save the registration; if the thread stopped inside a
 * critical section, move it to the abort handler as a signal would, unless
 * the section asked not to be restarted, in which case keep the pointer.
 */
static int fill_rseq(pid_t tid, struct k_user_regs *regs, struct regs_thread *rt)
{
	struct k_rseq_config cfg;
	struct k_rseq_cs cs;
	uint64_t cs_ptr;
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	if (ptrace((enum __ptrace_request)K_PTRACE_GET_RSEQ_CONFIGURATION, tid,
		   (void *)sizeof(cfg), &cfg) < 0) {
		ret = -errno;
		pr_perror("cannot read the rseq configuration of thread %d", tid);
		return ret;
	}
	if (!cfg.rseq_abi_pointer)
		return 0;
	rseq_entry__init(&rt->rseq);
	rt->rseq.rseq_abi_pointer = cfg.rseq_abi_pointer;
	rt->rseq.rseq_abi_size = cfg.rseq_abi_size;
	rt->rseq.signature = cfg.signature;
	rt->has_rseq = true;

	if (cfg.rseq_abi_pointer % 8)
		return 0;
	ret = infect_peek(tid, cfg.rseq_abi_pointer + K_RSEQ_CS_OFFSET, &cs_ptr, sizeof(cs_ptr));
	if (ret || !cs_ptr)
		return ret;
	if (cs_ptr % 8)
		return 0;
	ret = infect_peek(tid, cs_ptr, &cs, sizeof(cs));
	if (ret)
		return ret;
	if (regs->ip < cs.start_ip || regs->ip - cs.start_ip >= cs.post_commit_offset)
		return 0;
	if (cs.flags & RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL) {
		rt->rseq.has_rseq_cs_pointer = true;
		rt->rseq.rseq_cs_pointer = cs_ptr;
	} else {
		pr_debug("thread %d stopped in an rseq critical section; ip %#llx -> abort %#llx", tid,
			 (unsigned long long)regs->ip, (unsigned long long)cs.abort_ip);
		regs->ip = cs.abort_ip;
	}
	return 0;
}

int regs_dump_thread(pid_t tid, const struct k_user_regs *seized, uint64_t clear_tid,
		     struct regs_thread *rt)
{
	struct k_user_regs regs = *seized;
	int ret;

	memset(rt, 0, sizeof(*rt));
	thread_info_x86__init(&rt->ti);
	regs_normalize_syscall(&regs);
	ret = fill_rseq(tid, &regs, rt);
	if (ret)
		return ret;
	fill_gpregs(&rt->gpregs, &regs);
	ret = fill_fpregs(tid, rt);
	if (ret)
		return ret;
	ret = fill_tls(tid, rt);
	if (ret)
		return ret;
	rt->ti.clear_tid_addr = clear_tid;
	rt->ti.gpregs = &rt->gpregs;
	rt->ti.fpregs = &rt->fpregs;
	return 0;
}

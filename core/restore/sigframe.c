// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The rt_sigframe the restorer returns through (facts 5.19-5.21): the
 * dumped GPRs in the sigcontext, the sigmask and sigaltstack in the
 * ucontext, and an xsave area laid out for THIS CPU. The image stores
 * each xsave component separately, so every component is placed at the
 * offset CPUID leaf 0xD gives here; components the CPU has not enabled in
 * XCR0 are refused (XRSTOR would fault and the sigreturn kill the task).
 */
#define LOG_PREFIX "restore: "
#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "restore/sigframe.h"

/* Offsets inside the frame (5.19). */
#define FRAME_UC 8
#define UC_STACK (FRAME_UC + 16)
#define UC_MCONTEXT (FRAME_UC + 40)
#define UC_SIGMASK (FRAME_UC + 296)
#define FRAME_FPSTATE 448 /* past pretcode+ucontext+siginfo (440), 64-aligned */

/* sigcontext_64 word indexes and byte offsets. */
enum {
	SC_R8, SC_R9, SC_R10, SC_R11, SC_R12, SC_R13, SC_R14, SC_R15,
	SC_RDI, SC_RSI, SC_RBP, SC_RBX, SC_RDX, SC_RAX, SC_RCX, SC_RSP,
	SC_RIP, SC_EFLAGS,
};
#define SC_CS_OFF 144
#define SC_FPSTATE_OFF 184

#define XFEATURE_MAX 10

static const char *const xfeature_names[XFEATURE_MAX] = {
	"x87", "SSE", "AVX", "MPX bounds", "MPX CSR", "AVX-512 opmask",
	"AVX-512 ZMM_Hi256", "AVX-512 Hi16_ZMM", "PT", "PKRU",
};

int rst_xsave_layout_get(struct rst_xsave_layout *l)
{
	unsigned int a, b, cx, d, lo, hi, i;

	memset(l, 0, sizeof(*l));
	if (!__get_cpuid(1, &a, &b, &cx, &d) || !(cx & (1u << 27))) {
		/* No OSXSAVE: the frame carries the fxsave area only. */
		l->xcr0 = 3;
		l->size = 512;
		return 0;
	}
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	l->xcr0 = ((uint64_t)hi << 32) | lo;
	__cpuid_count(0xd, 0, a, b, cx, d);
	l->size = b;
	for (i = 2; i < XFEATURE_MAX; i++) {
		if (!(l->xcr0 & (1ull << i)))
			continue;
		__cpuid_count(0xd, i, a, b, cx, d);
		l->len[i] = a;
		l->off[i] = b;
		if (b < 576 || (uint64_t)a + b > l->size) {
			pr_err("CPUID 0xd.%u: xsave component at %u+%u outside the %u-byte area", i,
			       b, a, l->size);
			return -EINVAL;
		}
	}
	return 0;
}

size_t rst_sigframe_size(const struct rst_xsave_layout *l)
{
	return FRAME_FPSTATE + l->size + 4 /* FP_XSTATE_MAGIC2 */;
}

/* Copy N words of SIZE bytes each into component BIT; refuse a short array. */
static int put_component(uint8_t *xs, const struct rst_xsave_layout *l, unsigned int bit,
			 const void *src, size_t n, size_t size, const char *image)
{
	size_t bytes = n * size;

	if (bytes < l->len[bit]) {
		pr_err("%s: xsave component %s has %zu bytes, this CPU needs %u", image,
		       xfeature_names[bit], bytes, l->len[bit]);
		return -EINVAL;
	}
	if (size == 4) {
		const uint32_t *s = src;
		uint32_t w;

		for (size_t i = 0; i < l->len[bit] / 4; i++) {
			w = s[i];
			memcpy(xs + l->off[bit] + i * 4, &w, 4);
		}
	} else {
		const uint64_t *s = src;
		uint64_t w;

		for (size_t i = 0; i < l->len[bit] / 8; i++) {
			w = s[i];
			memcpy(xs + l->off[bit] + i * 8, &w, 8);
		}
	}
	return 0;
}

static int build_xsave(uint8_t *xs, const UserX86FpregsEntry *fp,
		       const struct rst_xsave_layout *l, const char *image)
{
	struct k_fxsave *fx = (struct k_fxsave *)xs;
	struct k_xsave_header *hdr = (struct k_xsave_header *)(xs + K_XSAVE_HDR_OFFSET);
	const UserX86XsaveEntry *x = fp->xsave;
	uint64_t bv = 3, missing;
	uint32_t magic2 = K_FP_XSTATE_MAGIC2;
	int ret = 0;

	fx->cwd = (uint16_t)fp->cwd;
	fx->swd = (uint16_t)fp->swd;
	fx->twd = (uint16_t)fp->twd;
	fx->fop = (uint16_t)fp->fop;
	fx->rip = fp->rip;
	fx->rdp = fp->rdp;
	fx->mxcsr = fp->mxcsr;
	fx->mxcsr_mask = fp->mxcsr_mask;
	if (fp->mxcsr & 0xffff0000u) {
		pr_err("%s: MXCSR %#x has reserved bits set", image, fp->mxcsr);
		return -EINVAL;
	}
	memcpy(fx->st_space, fp->st_space, sizeof(fx->st_space));
	memcpy(fx->xmm_space, fp->xmm_space, sizeof(fx->xmm_space));
	if (l->size <= 512)
		return 0;

	if (x) {
		/* x87 and SSE always come from the legacy area, which is complete (4.x). */
		bv = x->xstate_bv | 3;
		missing = bv & ~l->xcr0;
		if (missing) {
			for (unsigned int i = 0; i < XFEATURE_MAX; i++)
				if (missing & (1ull << i))
					pr_err("%s: the task used %s state, which this CPU does not "
					       "have enabled (XCR0 %#llx)", image, xfeature_names[i],
					       (unsigned long long)l->xcr0);
			if (missing >> XFEATURE_MAX)
				pr_err("%s: xstate_bv %#llx has features this restore does not "
				       "know", image, (unsigned long long)x->xstate_bv);
			return -EOPNOTSUPP;
		}
		if ((bv & (1u << 2)) && !ret)
			ret = put_component(xs, l, 2, x->ymmh_space, x->n_ymmh_space, 4, image);
		if ((bv & (1u << 3)) && !ret)
			ret = put_component(xs, l, 3, x->bndreg_state, x->n_bndreg_state, 8, image);
		if ((bv & (1u << 4)) && !ret) {
			/* The CSR component is 64 bytes, of which the image keeps the first 16. */
			uint64_t csr[8] = { 0 };

			for (size_t i = 0; i < x->n_bndcsr_state && i < 8; i++)
				csr[i] = x->bndcsr_state[i];
			ret = put_component(xs, l, 4, csr, 8, 8, image);
		}
		if ((bv & (1u << 5)) && !ret)
			ret = put_component(xs, l, 5, x->opmask_reg, x->n_opmask_reg, 8, image);
		if ((bv & (1u << 6)) && !ret)
			ret = put_component(xs, l, 6, x->zmm_upper, x->n_zmm_upper, 8, image);
		if ((bv & (1u << 7)) && !ret)
			ret = put_component(xs, l, 7, x->hi16_zmm, x->n_hi16_zmm, 8, image);
		if ((bv & (1u << 9)) && !ret) {
			uint32_t pkru[2] = { 0, 0 };

			for (size_t i = 0; i < x->n_pkru && i < 2; i++)
				pkru[i] = x->pkru[i];
			ret = put_component(xs, l, 9, pkru, 2, 4, image);
		}
		if (bv & ~((1ull << 10) - 1 - (1ull << 8))) {
			pr_err("%s: xstate_bv %#llx carries unsupported components", image,
			       (unsigned long long)x->xstate_bv);
			return -EOPNOTSUPP;
		}
		if (ret)
			return ret;
	}
	hdr->xstate_bv = bv;
	hdr->xcomp_bv = 0;
	/* The software bytes tell the kernel that an xsave area follows (5.20). */
	fx->sw_reserved[0] = K_FP_XSTATE_MAGIC1;
	fx->sw_reserved[1] = l->size + 4;
	memcpy(&fx->sw_reserved[2], &l->xcr0, 8);
	fx->sw_reserved[4] = l->size;
	memcpy(xs + l->size, &magic2, 4);
	return 0;
}

/*
 * A task frozen in nanosleep or clock_nanosleep was stopped with the
 * kernel's -ERESTART_RESTARTBLOCK, which the dump turns into -EINTR (fact
 * 5.17): the restart block stays in the old kernel task. Returning EINTR
 * without a signal breaks callers that do not loop, so the restored task
 * re-enters the call instead (orig_ax >= 0 with -EINTR can only be the
 * dump's doing: after a handler's sigreturn orig_ax is -1).
 */
static bool sleep_interrupted(const UserX86RegsEntry *r)
{
	return (r->orig_ax == 35 /* nanosleep */ || r->orig_ax == 230 /* clock_nanosleep */) &&
	       r->ax == (uint64_t)-4 /* -EINTR */;
}

int rst_sigframe_build(uint8_t *frame, const CoreEntry *core, const struct rst_xsave_layout *l,
		       const char *image)
{
	const ThreadInfoX86 *ti = core->thread_info;
	const UserX86RegsEntry *r = ti->gpregs;
	const ThreadCoreEntry *tc = core->thread_core;
	uint64_t sc[18];
	uint16_t segs[4];
	uint64_t mask, fpstate;
	struct k_stack st = { .ss_sp = 0, .ss_flags = K_SS_DISABLE, .ss_size = 0 };
	int ret;

	if ((uintptr_t)frame % 64) {
		pr_err("sigframe at %p is not 64-byte aligned", (void *)frame);
		return -EINVAL;
	}
	memset(frame, 0, rst_sigframe_size(l));

	sc[SC_R8] = r->r8;
	sc[SC_R9] = r->r9;
	sc[SC_R10] = r->r10;
	sc[SC_R11] = r->r11;
	sc[SC_R12] = r->r12;
	sc[SC_R13] = r->r13;
	sc[SC_R14] = r->r14;
	sc[SC_R15] = r->r15;
	sc[SC_RDI] = r->di;
	sc[SC_RSI] = r->si;
	sc[SC_RBP] = r->bp;
	sc[SC_RBX] = r->bx;
	sc[SC_RDX] = r->dx;
	sc[SC_RAX] = r->ax;
	sc[SC_RCX] = r->cx;
	sc[SC_RSP] = r->sp;
	sc[SC_RIP] = r->ip;
	if (sleep_interrupted(r)) {
		/* Sleep again with the same arguments: longer than asked, as POSIX allows. */
		sc[SC_RAX] = r->orig_ax;
		sc[SC_RIP] = r->ip - 2;
	}
	sc[SC_EFLAGS] = r->flags;
	memcpy(frame + UC_MCONTEXT, sc, sizeof(sc));
	segs[0] = (uint16_t)r->cs;
	segs[1] = (uint16_t)r->gs;
	segs[2] = (uint16_t)r->fs;
	segs[3] = (uint16_t)r->ss;
	memcpy(frame + UC_MCONTEXT + SC_CS_OFF, segs, sizeof(segs));

	ret = build_xsave(frame + FRAME_FPSTATE, ti->fpregs, l, image);
	if (ret)
		return ret;
	fpstate = (uint64_t)(uintptr_t)(frame + FRAME_FPSTATE);
	memcpy(frame + UC_MCONTEXT + SC_FPSTATE_OFF, &fpstate, 8);

	/* The sigmask and the sigaltstack come back with the sigreturn (5.21, 6.4). */
	mask = (tc && tc->has_blk_sigset) ? tc->blk_sigset : (core->tc ? core->tc->blk_sigset : 0);
	mask &= ~(K_SIGMASK(K_SIGKILL) | K_SIGMASK(K_SIGSTOP));
	memcpy(frame + UC_SIGMASK, &mask, 8);
	if (tc && tc->sas) {
		st.ss_sp = tc->sas->ss_sp;
		st.ss_size = tc->sas->ss_size;
		st.ss_flags = (int32_t)tc->sas->ss_flags;
	}
	memcpy(frame + UC_STACK, &st, sizeof(st));
	return 0;
}

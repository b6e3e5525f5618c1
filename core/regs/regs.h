/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-thread CPU state for the core image (facts 3.15, 5.17, 6.9):
 * general registers (with interrupted syscalls normalised), the FPU and
 * xsave state, fs/gs base, GDT TLS entries and rseq, laid out as CRIU's
 * thread_info_x86 and rseq_entry. Read with ptrace from a seized thread.
 */
#ifndef CORE_REGS_REGS_H
#define CORE_REGS_REGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <pie/kabi.h>

#include "core-x86.pb-c.h"
#include "core.pb-c.h"
#include "rseq.pb-c.h"

#define REGS_TLS_ENTRIES 3

/* The messages and the arrays they point to, in one block. */
struct regs_thread {
	ThreadInfoX86 ti;
	UserX86RegsEntry gpregs;
	UserX86FpregsEntry fpregs;
	UserX86XsaveEntry xsave;
	uint32_t st_space[32], xmm_space[64], padding[24];
	uint32_t ymmh[64], pkru[2];
	uint64_t bndreg[8], bndcsr[2], opmask[8], zmm_upper[64], hi16_zmm[128];
	UserDescT tls[REGS_TLS_ENTRIES];
	UserDescT *tls_ptrs[REGS_TLS_ENTRIES];
	RseqEntry rseq;
	bool has_rseq;
};

/*
 * Fill RT for thread TID. SEIZED are its registers as found at seize
 * time (they are what the task resumes with, so they are what we save);
 * they are normalised for an interrupted syscall and for an rseq critical
 * section. CLEAR_TID is the thread's clear_child_tid (from the parasite).
 * Returns 0 or a negative errno (logged with the tid).
 */
int regs_dump_thread(pid_t tid, const struct k_user_regs *seized, uint64_t clear_tid,
		     struct regs_thread *rt);

/*
 * Normalise REGS of a task stopped inside a syscall so that a restored
 * task (which resumes through rt_sigreturn, where no restart logic runs)
 * re-executes or fails it like the kernel would have (facts 5.17).
 */
void regs_normalize_syscall(struct k_user_regs *regs);

/*
 * The pending signals of TID: its private queue, or with SHARED the
 * process-wide one (PTRACE_PEEKSIGINFO). *OUT is allocated (free with
 * regs_sigqueue_free) and NULL when nothing is pending.
 */
int regs_dump_sigqueue(pid_t tid, bool shared, SignalQueueEntry **out);
void regs_sigqueue_free(SignalQueueEntry *q);

#endif /* CORE_REGS_REGS_H */

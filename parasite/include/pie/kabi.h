/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel ABI structures and constants for x86_64, under our own names.
 *
 * glibc has its own (different) versions of several of these
 * (struct sigaction, sigset_t, stack_t ...), and its headers clash with the
 * kernel UAPI <asm/...> ones (facts 7.11). Freestanding code needs them anyway,
 * so they live here, prefixed k_ / K_, and the core may include this file
 * next to glibc headers. Values missing from the 6.1 UAPI headers on the
 * build machine are defined here too (facts, Appendix A).
 */
#ifndef PIE_KABI_H
#define PIE_KABI_H

#include <stdint.h>

#define K_PAGE_SIZE 4096UL
#define K_PAGE_SHIFT 12
#define K_TASK_SIZE ((1UL << 47) - K_PAGE_SIZE)

/* Signals: the kernel's sigset is one u64, bit (n-1) for signal n. */
#define K_NSIG 64
typedef uint64_t k_sigset_t;
#define K_SIGMASK(sig) (1ULL << ((sig) - 1))

#define K_SIGKILL 9
#define K_SIGSTOP 19
#define K_SIGTRAP 5
#define K_SIGCHLD 17

#define K_SA_RESTORER 0x04000000UL
#define K_SA_ONSTACK 0x08000000UL
#define K_SA_RESTART 0x10000000UL
#define K_SA_SIGINFO 0x00000004UL

#define K_SIG_BLOCK 0
#define K_SIG_UNBLOCK 1
#define K_SIG_SETMASK 2

/* What rt_sigaction reads and writes on x86_64. */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	k_sigset_t mask;
};

struct k_siginfo {
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t _pad0;
	uint8_t _rest[112];
};
_Static_assert(sizeof(struct k_siginfo) == 128, "siginfo is 128 bytes");

/* stack_t */
struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t _pad;
	uint64_t ss_size;
};
#define K_SS_ONSTACK 1
#define K_SS_DISABLE 2
#define K_SS_AUTODISARM (1U << 31)

/* Time. */
struct k_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};
struct k_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};
struct k_itimerval {
	struct k_timeval it_interval;
	struct k_timeval it_value;
};
struct k_itimerspec {
	struct k_timespec it_interval;
	struct k_timespec it_value;
};
#define K_ITIMER_REAL 0
#define K_ITIMER_VIRTUAL 1
#define K_ITIMER_PROF 2

struct k_sigevent {
	uint64_t sigev_value;
	int32_t sigev_signo;
	int32_t sigev_notify;
	int32_t sigev_notify_thread_id;
	int32_t _pad[11];
};
_Static_assert(sizeof(struct k_sigevent) == 64, "sigevent is 64 bytes");

struct k_iovec {
	uint64_t base;
	uint64_t len;
};

/* mmap and friends. */
#define K_PROT_NONE 0
#define K_PROT_READ 1
#define K_PROT_WRITE 2
#define K_PROT_EXEC 4
#define K_MAP_SHARED 0x01
#define K_MAP_PRIVATE 0x02
#define K_MAP_DROPPABLE 0x08
#define K_MAP_FIXED 0x10
#define K_MAP_ANONYMOUS 0x20
#define K_MAP_GROWSDOWN 0x0100
#define K_MAP_NORESERVE 0x4000
#define K_MAP_FIXED_NOREPLACE 0x100000
#define K_MREMAP_MAYMOVE 1
#define K_MREMAP_FIXED 2

#define K_MADV_GUARD_INSTALL 102
#define K_MADV_GUARD_REMOVE 103

/* vmsplice / splice. */
#define K_SPLICE_F_MOVE 1
#define K_SPLICE_F_NONBLOCK 2
#define K_SPLICE_F_GIFT 8

/* prctl. */
#define K_PR_SET_PDEATHSIG 1
#define K_PR_GET_PDEATHSIG 2
#define K_PR_GET_DUMPABLE 3
#define K_PR_SET_DUMPABLE 4
#define K_PR_SET_NAME 15
#define K_PR_GET_NAME 16
#define K_PR_GET_SECUREBITS 27
#define K_PR_SET_SECUREBITS 28
#define K_PR_SET_MM 35
#define K_PR_SET_CHILD_SUBREAPER 36
#define K_PR_GET_CHILD_SUBREAPER 37
#define K_PR_SET_NO_NEW_PRIVS 38
#define K_PR_GET_NO_NEW_PRIVS 39
#define K_PR_GET_TID_ADDRESS 40
#define K_PR_SET_THP_DISABLE 41
#define K_PR_GET_THP_DISABLE 42
#define K_PR_TIMER_CREATE_RESTORE_IDS 77

/* arch_prctl. */
#define K_ARCH_SET_GS 0x1001
#define K_ARCH_SET_FS 0x1002
#define K_ARCH_GET_FS 0x1003
#define K_ARCH_GET_GS 0x1004
#define K_ARCH_MAP_VDSO_64 0x2003
#define K_ARCH_GET_XCOMP_PERM 0x1022
#define K_ARCH_REQ_XCOMP_PERM 0x1023
#define K_ARCH_SHSTK_STATUS 0x5005

/* membarrier. */
#define K_MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)

/* The kernel's restart codes, seen in rax of a task stopped in a syscall. */
#define K_ERESTARTSYS 512
#define K_ERESTARTNOINTR 513
#define K_ERESTARTNOHAND 514
#define K_ERESTART_RESTARTBLOCK 516

/* PAGEMAP_SCAN (6.7+): _IOWR('f', 16, struct k_pm_scan_arg). */
struct k_page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct k_pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};
_Static_assert(sizeof(struct k_pm_scan_arg) == 96, "pm_scan_arg is 12 u64s");

#define K_PAGEMAP_SCAN ((3UL << 30) | (sizeof(struct k_pm_scan_arg) << 16) | ('f' << 8) | 16)

#define K_PAGE_IS_WPALLOWED (1ULL << 0)
#define K_PAGE_IS_WRITTEN (1ULL << 1)
#define K_PAGE_IS_FILE (1ULL << 2)
#define K_PAGE_IS_PRESENT (1ULL << 3)
#define K_PAGE_IS_SWAPPED (1ULL << 4)
#define K_PAGE_IS_PFNZERO (1ULL << 5)
#define K_PAGE_IS_HUGE (1ULL << 6)
#define K_PAGE_IS_SOFT_DIRTY (1ULL << 7)
#define K_PAGE_IS_GUARD (1ULL << 8)
#define K_PM_SCAN_WP_MATCHING 1
#define K_PM_SCAN_CHECK_WPASYNC 2

/* ptrace requests and events glibc's header lacks or names differently. */
#define K_PTRACE_GETSIGMASK 0x420a
#define K_PTRACE_SETSIGMASK 0x420b
#define K_PTRACE_PEEKSIGINFO 0x4209
#define K_PTRACE_PEEKSIGINFO_SHARED 1
#define K_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#define K_PTRACE_SECCOMP_GET_FILTER 0x420c
#define K_PTRACE_EVENT_STOP 128
#define K_NT_PRSTATUS 1
#define K_NT_PRFPREG 2
#define K_NT_X86_XSTATE 0x202
#define K_NT_X86_SHSTK 0x204

struct k_peeksiginfo_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

struct k_rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t _pad;
};

/* struct rseq_cs, as the task points at it from struct rseq (offset 8). */
struct k_rseq_cs {
	uint32_t version;
	uint32_t flags;
	uint64_t start_ip;
	uint64_t post_commit_offset;
	uint64_t abort_ip;
};
#define K_RSEQ_CS_OFFSET 8

/* user_regs_struct, the layout of PTRACE_GETREGS / NT_PRSTATUS. */
struct k_user_regs {
	uint64_t r15, r14, r13, r12, bp, bx, r11, r10;
	uint64_t r9, r8, ax, cx, dx, si, di, orig_ax;
	uint64_t ip, cs, flags, sp, ss, fs_base, gs_base;
	uint64_t ds, es, fs, gs;
};
_Static_assert(sizeof(struct k_user_regs) == 27 * 8, "user_regs_struct is 27 u64s");

/* The fxsave legacy area (user_fpregs_struct) and the xsave header. */
struct k_fxsave {
	uint16_t cwd, swd, twd, fop;
	uint64_t rip, rdp;
	uint32_t mxcsr, mxcsr_mask;
	uint32_t st_space[32];
	uint32_t xmm_space[64];
	uint32_t padding[12];
	uint32_t sw_reserved[12];
};
_Static_assert(sizeof(struct k_fxsave) == 512, "fxsave area is 512 bytes");

struct k_xsave_header {
	uint64_t xstate_bv;
	uint64_t xcomp_bv;
	uint64_t reserved[6];
};

#define K_FP_XSTATE_MAGIC1 0x46505853U
#define K_FP_XSTATE_MAGIC2 0x46505845U
#define K_XSAVE_HDR_OFFSET 512
#define K_XSAVE_YMM_OFFSET 576

#endif /* PIE_KABI_H */

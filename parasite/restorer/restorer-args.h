/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The contract between criu's restore stage 1 (glibc, core/restore/) and
 * the restorer blob (freestanding, parasite/restorer/).
 *
 * Stage 1 builds one struct rst_args, and every array it points to, inside
 * the bootstrap region at the address where the blob will run, so all the
 * pointers below (u64, absolute) are valid in the blob as they are. The
 * blob reads the args, never allocates, and touches no memory outside the
 * bootstrap region until it has mapped the task's VMAs.
 *
 * Freestanding: fixed-width integers only, no libc types.
 */
#ifndef PARASITE_RESTORER_ARGS_H
#define PARASITE_RESTORER_ARGS_H

#include <stdint.h>

#define RST_ARGS_MAGIC 0x52535431u /* "RST1" */

/* rst_vma.kind: what the blob does with a VMA. */
enum rst_vma_kind {
	RST_VMA_MAP = 0,   /* mmap it, fill its pages, set prot and advice */
	RST_VMA_VDSO = 1,  /* the runtime vdso is moved here (5.12) */
	RST_VMA_VVAR = 2,  /* the runtime vvar block is moved here */
};

struct rst_vma {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;	  /* file offset in bytes */
	uint32_t prot;	  /* final PROT_* */
	uint32_t flags;	  /* mmap type and modifiers (no MAP_FIXED*) */
	int32_t fd;	  /* file behind it, or -1 */
	uint32_t kind;	  /* enum rst_vma_kind */
	uint64_t madv;	  /* bit N set: madvise(N) after filling */
	uint32_t entry;	  /* index in mm-PID.img, for error messages */
	uint32_t pad;
};

/* One run of pages: LEN bytes at ADDR come from offset OFF of pages image FD. */
struct rst_iov {
	uint64_t addr;
	uint64_t len;
	uint64_t off;
	int32_t fd;
	uint32_t pad;
};

/* Bytes to write into a filled VMA before its final protection (vDSO proxy jumps). */
struct rst_poke {
	uint64_t addr;
	uint32_t len; /* at most 16 */
	uint32_t pad;
	uint8_t bytes[16];
};

/* A guard range to install with MADV_GUARD_INSTALL after filling. */
struct rst_range {
	uint64_t start;
	uint64_t len;
};

struct rst_rlimit {
	uint32_t resource;
	uint32_t pad;
	uint64_t cur;
	uint64_t max;
};

struct rst_timespec {
	int64_t sec;
	int64_t nsec;
};

struct rst_itimer {
	uint32_t which; /* ITIMER_REAL, _VIRTUAL, _PROF */
	uint32_t pad;
	struct rst_timespec interval; /* nsec holds microseconds here */
	struct rst_timespec value;
};

struct rst_posix_timer {
	int32_t id;
	int32_t clock_id;
	int32_t notify;	   /* SIGEV_* */
	int32_t signo;
	int32_t notify_tid; /* for SIGEV_THREAD_ID */
	int32_t pad;
	uint64_t sival;
	struct rst_timespec interval;
	struct rst_timespec value;
};

/* A queued signal: the raw 128-byte siginfo as the kernel reported it. */
struct rst_siginfo {
	uint8_t raw[128];
	uint32_t shared; /* 1: process-wide, 0: thread-private */
	uint32_t pad;
};

/* The kernel's struct sigaction for rt_sigaction(2). */
struct rst_ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct rst_seccomp_filter {
	uint64_t insns; /* struct sock_filter[len] */
	uint32_t len;
	uint32_t flags; /* SECCOMP_FILTER_FLAG_* */
};

struct rst_creds {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint32_t cap_inh[2], cap_prm[2], cap_eff[2], cap_bnd[2], cap_amb[2];
	uint32_t secbits;
	uint32_t nr_groups;
	uint64_t groups; /* uint32_t[nr_groups] */
	uint32_t set_groups; /* 0: the groups already match, leave them */
	uint32_t last_cap;   /* highest capability this kernel knows */
	uint32_t no_new_privs;
	uint32_t pad;
};

/* prctl(PR_SET_MM, PR_SET_MM_MAP) input (the kernel's struct prctl_mm_map). */
struct rst_mm_map {
	uint64_t start_code, end_code;
	uint64_t start_data, end_data;
	uint64_t start_brk, brk;
	uint64_t start_stack;
	uint64_t arg_start, arg_end;
	uint64_t env_start, env_end;
	uint64_t auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};

/* What the blob tells criu through report_fd. */
enum rst_report_kind {
	RST_REPORT_READY = 1, /* memory and mm are in place; waiting for go */
	RST_REPORT_ERROR = 2, /* a step failed; the blob exits after this */
	RST_REPORT_WARN = 3,  /* something was clamped or skipped; go on */
	/* Sent by stage 1, not the blob: */
	RST_REPORT_BOOTSTRAP = 4, /* arg, arg2: the region; err: the syscall insn address */
	RST_REPORT_STAGE1 = 5,	  /* stage 1 failed with err; RST_REPORT_TEXT bytes of text follow */
	RST_REPORT_HELLO = 6,	  /* the task exists and waits to be seized */
	RST_REPORT_BARRIER = 7,	  /* arg: the tree barrier reached; waits for go */
};

#define RST_REPORT_TEXT 512

/* Which step a report is about. criu turns these into messages. */
enum rst_step {
	RST_STEP_NONE = 0,
	RST_STEP_ARGS,
	RST_STEP_RSEQ_UNREGISTER,
	RST_STEP_PARK_VDSO,
	RST_STEP_UNMAP_OLD,
	RST_STEP_MAP_VMA,
	RST_STEP_FILL_PAGES,
	RST_STEP_MPROTECT,
	RST_STEP_MADVISE,
	RST_STEP_GUARD,
	RST_STEP_REMAP_VDSO,
	RST_STEP_CLOSE_FDS,
	RST_STEP_MM_MAP,
	RST_STEP_EXE_FD,
	RST_STEP_RLIMIT,
	RST_STEP_TIMER_CREATE,
	RST_STEP_SIGCHLD,
	RST_STEP_SIGQUEUE,
	RST_STEP_SECCOMP,
	RST_STEP_CREDS,
	RST_STEP_THREAD,
	RST_STEP_RSEQ,
	RST_STEP_ITIMER,
	RST_STEP_TIMER_SETTIME,
	RST_STEP_HANDSHAKE,
	RST_STEP_SIGRETURN,
	RST_STEP_CLONE_THREAD,
	RST_STEP_SCHED,
	RST_STEP__MAX
};

struct rst_report {
	int32_t kind;	/* enum rst_report_kind */
	int32_t step;	/* enum rst_step */
	int64_t err;	/* negative errno, or 0 */
	uint64_t arg;	/* step-specific: a VMA start, a resource number ... */
	uint64_t arg2;	/* step-specific: a VMA's image entry, a value ... */
};

struct rst_args {
	uint32_t magic;	  /* RST_ARGS_MAGIC */
	uint32_t size;	  /* sizeof(struct rst_args) */

	uint64_t bootstrap_start; /* the region the blob lives in; kept */
	uint64_t bootstrap_len;
	uint64_t task_size;	  /* top of the user address space */

	/* Reports go to report_fd; the blob then blocks reading go_fd. -1: no handshake. */
	int32_t report_fd;
	int32_t go_fd;

	/* criu's own glibc rseq registration, removed first (5.7). 0: none. */
	uint64_t libc_rseq;
	uint32_t libc_rseq_len;
	uint32_t libc_rseq_sig;

	/* The runtime vvar block ([vvar] + [vvar_vclock]) and [vdso] (5.12). */
	uint64_t rt_vvar_start, rt_vvar_len;
	uint64_t rt_vdso_start, rt_vdso_len;
	uint64_t park;		/* parking space in the bootstrap region */
	uint32_t vdso_remap;	/* 1: move them to dumped_*; 0: drop them */
	uint32_t pad0;
	uint64_t dumped_vvar_start, dumped_vdso_start;

	/* Memory. */
	uint64_t vmas;	   /* struct rst_vma[nr_vmas], ascending */
	uint32_t nr_vmas;
	int32_t pages_fd;  /* unused: each run names its pages image */
	uint64_t iovs;	   /* struct rst_iov[nr_iovs], in file order */
	uint32_t nr_iovs;
	uint32_t nr_guards;
	uint64_t guards;   /* struct rst_range[nr_guards] */
	uint64_t pokes;	   /* struct rst_poke[nr_pokes] */
	uint32_t nr_pokes;
	uint32_t pad2;
	uint64_t close_fds; /* int32_t[nr_close_fds]: closed once mapped */
	uint32_t nr_close_fds;
	uint32_t thp_disabled;

	/* mm fields. */
	uint32_t has_mm_map;
	int32_t exe_fd;	   /* -1: leave /proc/PID/exe as it is */
	struct rst_mm_map mm_map;

	/* Process state. */
	uint64_t rlimits;  /* struct rst_rlimit[nr_rlimits] */
	uint32_t nr_rlimits;
	uint32_t nr_posix_timers;
	uint64_t posix_timers; /* struct rst_posix_timer[] */
	uint64_t itimers;      /* struct rst_itimer[nr_itimers] */
	uint32_t nr_itimers;
	uint32_t nr_siginfos;
	uint64_t siginfos;     /* struct rst_siginfo[]: process-wide pending signals */
	uint32_t has_sigchld;
	uint32_t nr_seccomp;
	struct rst_ksigaction sigchld;
	uint64_t seccomp;      /* struct rst_seccomp_filter[], oldest first */
	uint32_t seccomp_strict;
	uint32_t has_creds;
	struct rst_creds creds;
	int32_t dumpable;      /* -1: leave */
	int32_t child_subreaper;

	/* The threads; threads[0] is the leader (pid == tid), the one stage 1 runs in. */
	int32_t pid;
	uint32_t nr_threads;
	uint64_t threads;  /* struct rst_thread[nr_threads] */
	/* Futexes: threads count themselves in, then wait for go (5.15). */
	uint32_t threads_in;
	uint32_t threads_go;
};

/* One thread's own state (5.18); non-leaders run on their own stack. */
struct rst_thread {
	int32_t tid;
	int32_t pdeathsig;
	uint64_t fs_base, gs_base;
	uint64_t clear_tid_addr;
	uint64_t robust_list;
	uint64_t robust_len;
	uint64_t rseq;	   /* 0: no rseq registration */
	uint32_t rseq_len;
	uint32_t rseq_sig;
	char comm[16];
	uint64_t sigframe; /* the rt_sigframe; rsp = sigframe + 8 at sigreturn */
	uint64_t stack;	   /* non-leaders: the stack the blob runs them on */
	uint64_t stack_len;
	uint64_t siginfos; /* struct rst_siginfo[]: its private pending signals */
	uint32_t nr_siginfos;
	uint32_t has_sched; /* 0: leave the policy and nice inherited from criu */
	int32_t sched_policy; /* SCHED_*, SCHED_RESET_ON_FORK included */
	int32_t sched_prio;   /* rt priority, 0 for the non-rt policies */
	int32_t sched_nice;
	uint32_t pad;
	uint64_t args;	   /* back to struct rst_args */
};

#endif /* PARASITE_RESTORER_ARGS_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dump-side parasite's command protocol, shared by the blob and by
 * core/infect. Freestanding: fixed-size types only.
 *
 * The parasite runs in "trap mode": for every command criu writes a
 * struct parasite_args (header + the command's payload) into the shared
 * args area, points the task's registers at the blob's entry with rdi =
 * the args area, and lets it run until the int3 after the call. The
 * command's result is hdr.ret (0 or a negative errno), its output is in the
 * payload. Nothing runs between commands, so curing is only unmapping.
 */
#ifndef PARASITE_PROTOCOL_H
#define PARASITE_PROTOCOL_H

#include <stdint.h>

#include <pie/kabi.h>

#define PARASITE_MAGIC 0x50415253U /* "PARS" */

enum parasite_cmd {
	PARASITE_CMD_INIT = 1,	       /* check the blob runs; fills parasite_init */
	PARASITE_CMD_DUMP_MISC,	       /* per-process state: struct parasite_misc */
	PARASITE_CMD_DUMP_THREAD,      /* per-thread state of the calling thread */
	PARASITE_CMD_DUMP_SIGACTS,     /* struct parasite_sigacts */
	PARASITE_CMD_DUMP_ITIMERS,     /* struct parasite_itimers */
	PARASITE_CMD_DUMP_POSIX_TIMERS, /* struct parasite_posix_timers */
	PARASITE_CMD_MPROTECT,	       /* struct parasite_mprotect */
	PARASITE_CMD_DUMP_PAGES,       /* struct parasite_dump_pages */
	PARASITE_CMD__MAX
};

struct parasite_hdr {
	uint32_t magic;	  /* PARASITE_MAGIC, set by criu */
	uint32_t cmd;	  /* enum parasite_cmd */
	int64_t ret;	  /* 0 or a negative errno, set by the parasite */
	uint64_t size;	  /* bytes of the args area, header included */
	uint64_t err_arg; /* on failure: which item failed (address, index) */
};

struct parasite_init {
	int32_t pid;
	int32_t tid;
};

struct parasite_misc {
	uint64_t brk;
	int32_t dumpable;
	int32_t thp_disabled;
	int32_t child_subreaper;
	int32_t sid;
	int32_t pgid;
	int32_t membarrier_registrations; /* < 0: unsupported (errno) */
};

struct parasite_thread {
	int32_t tid;
	int32_t pdeath_sig;
	uint64_t clear_child_tid; /* PR_GET_TID_ADDRESS */
	uint64_t securebits;
	int32_t no_new_privs;
	int32_t _pad;
	struct k_stack sas;
	char comm[16];
};

struct parasite_sigacts {
	/* Index sig-1; SIGKILL and SIGSTOP are left zero. */
	struct k_sigaction act[K_NSIG];
};

struct parasite_itimers {
	struct k_itimerval real, virt, prof;
};

struct parasite_posix_timer {
	int32_t id;	  /* in: the kernel timer id */
	int32_t overrun;  /* out: timer_getoverrun */
	struct k_itimerspec val; /* out: timer_gettime */
};

struct parasite_posix_timers {
	uint32_t nr;
	uint32_t _pad;
	struct parasite_posix_timer t[];
};

struct parasite_mprotect_vma {
	uint64_t start;
	uint64_t len;
	uint32_t prot;
	uint32_t _pad;
};

struct parasite_mprotect {
	uint32_t nr;
	uint32_t done; /* out: how many were applied before a failure */
	struct parasite_mprotect_vma v[];
};

#define PARASITE_MAX_PIPES 16

/*
 * vmsplice the ranges in iov[] into the pipes: the first nr_iov[0] ranges
 * into pipe_fd[0], the next nr_iov[1] into pipe_fd[1], and so on. criu
 * sizes every group to fit in its pipe, so the parasite never blocks.
 */
struct parasite_dump_pages {
	uint32_t nr_pipes;
	uint32_t _pad;
	int32_t pipe_fd[PARASITE_MAX_PIPES];
	uint32_t nr_iov[PARASITE_MAX_PIPES];
	uint64_t bytes; /* out: bytes spliced */
	struct k_iovec iov[];
};

struct parasite_args {
	struct parasite_hdr hdr;
	union {
		struct parasite_init init;
		struct parasite_misc misc;
		struct parasite_thread thread;
		struct parasite_sigacts sigacts;
		struct parasite_itimers itimers;
		uint8_t payload[8];
	} u;
};

#endif /* PARASITE_PROTOCOL_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running code inside a seized task (facts section 2): single remote
 * system calls, and the parasite blob in "trap mode".
 *
 *   infect_init()        find a spot for the syscall bytes, block every
 *                        signal but SIGTRAP in the task;
 *   infect_syscall()     run one system call in the task;
 *   infect_parasite_start()  map the blob (text RX, data RW) and a shared
 *                        args area through a memfd, relocate, run INIT;
 *   infect_parasite_call()   run one command: criu fills
 *                        infect_parasite_args() first and reads results
 *                        there afterwards (no copying: it is shared memory);
 *   infect_cure()        unmap the blob, put back the code bytes, the
 *                        registers and the signal mask. The task stays
 *                        seized; infect_detach() (seize.h) lets it go.
 *
 * The task's own code is patched only until the blob is mapped (remote
 * syscalls then use the blob's "syscall; int3") and again for the final
 * munmap, so if criu itself dies the task is most likely left with an
 * unused mapping, not with changed code. A fault inside a command
 * (a signal-delivery stop with SIGSEGV and the like) or the task's death
 * is reported as an error naming the pid, the command and the address; the
 * fault signal is discarded by curing, so the task continues unharmed.
 */
#ifndef CORE_INFECT_INFECT_H
#define CORE_INFECT_INFECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pie/blob.h>
#include <parasite/protocol.h>

#include "infect/seize.h"

struct infect_ctx {
	struct seized_task *task;
	uint64_t sc_ip;		 /* where remote syscalls run: the poked spot, later the blob's */
	uint64_t code_ip;	 /* the spot in the task's code we write "syscall; int3" to */
	uint64_t saved_code[2];	 /* the bytes that were there */
	bool code_poked;
	bool mask_set;

	/* The parasite, once started. */
	const struct pie_blob *blob;
	uint64_t remote;	 /* its base in the task */
	uint8_t *local;		 /* criu's view of the same memory */
	size_t map_size;
	struct parasite_args *args; /* in the shared memory */
	size_t args_size;
	uint64_t remote_args;
	uint64_t remote_stack_top;
	bool crashed;		 /* a command faulted: only cure is possible */
};

/* Prepare CTX for task T (seized and stopped). */
int infect_init(struct infect_ctx *ctx, struct seized_task *t);

/*
 * Run syscall NR with up to six ARGS in the task; *RET gets the raw result
 * (a negative errno on failure in the task). The return value says whether
 * running it worked at all.
 */
int infect_syscall(struct infect_ctx *ctx, long nr, const long args[6], long *ret);

/* Convenience: run NR and turn a negative result into the return value. */
long infect_syscall6(struct infect_ctx *ctx, long nr, long a1, long a2, long a3, long a4, long a5,
		     long a6);

/* Map, relocate and initialise the dump-side parasite. */
int infect_parasite_start(struct infect_ctx *ctx);

/* Run command CMD; returns the command's result (0 or a negative errno). */
int infect_parasite_call(struct infect_ctx *ctx, enum parasite_cmd cmd);
/*
 * The same in two halves, so criu can work while the parasite runs (the
 * page dump splices one batch while the parasite fills the next). Between
 * them, criu must not touch the args area, nor call anything else here.
 */
int infect_parasite_begin(struct infect_ctx *ctx, enum parasite_cmd cmd);
int infect_parasite_end(struct infect_ctx *ctx, enum parasite_cmd cmd);
/*
 * The same in thread T of the infected process (seized, stopped): for the
 * per-thread commands. T's registers and mask are put back afterwards.
 */
int infect_parasite_call_in(struct infect_ctx *ctx, struct seized_task *t, enum parasite_cmd cmd);

/* The shared args area and its payload size (bytes after the header). */
static inline struct parasite_args *infect_parasite_args(struct infect_ctx *ctx)
{
	return ctx->args;
}
static inline size_t infect_parasite_payload_size(const struct infect_ctx *ctx)
{
	return ctx->args_size - offsetof(struct parasite_args, u);
}

/*
 * Make a pipe inside the task (remote pipe2 with O_CLOEXEC) and take its
 * read end into criu with pidfd_getfd; the task keeps only the write end,
 * in *REMOTE_WFD, and criu gets the read end in *LOCAL_RFD. Needs the
 * parasite started (its args area is the scratch space). Used to receive
 * vmspliced pages. Close the remote end with infect_syscall6(close).
 */
int infect_remote_pipe(struct infect_ctx *ctx, int *remote_wfd, int *local_rfd);

/* A dup of the task's fd FD in criu (pidfd_getfd), or a negative errno. */
int infect_steal_fd(pid_t pid, int fd);

/* Undo everything infect_init()/infect_parasite_start() did. */
int infect_cure(struct infect_ctx *ctx);

/* Internal to core/infect: run the blob from REGS until its int3. */
int infect_run_blob(struct infect_ctx *ctx, const struct k_user_regs *regs, const char *what);
int infect_run_blob_in(struct infect_ctx *ctx, struct seized_task *t, const struct k_user_regs *regs,
		       const char *what);
int infect_blob_begin(struct infect_ctx *ctx, const struct k_user_regs *regs, const char *what);
int infect_blob_end(struct infect_ctx *ctx, const char *what);

/* Name of a command, for messages. */
const char *infect_cmd_name(enum parasite_cmd cmd);

#endif /* CORE_INFECT_INFECT_H */

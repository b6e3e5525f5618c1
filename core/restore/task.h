/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-task state restored in stage 1 or handed to the restorer (task.c).
 */
#ifndef CORE_RESTORE_TASK_H
#define CORE_RESTORE_TASK_H

#include <stddef.h>

#include "restore/bootstrap.h"
#include "restore/restore.h"

/* Session, personality, umask, oom_score_adj and sigactions (SIGCHLD goes to A). */
int rst_task_early(struct rst_ctx *c, struct rst_args *a);
/*
 * cwd and root. Last in stage 1: the files the core and the plugins open
 * are named as criu sees them, which a chroot would change.
 */
int rst_task_fs(struct rst_ctx *c);
/* Bytes rst_task_fill_args() may take from the bootstrap region. */
size_t rst_task_args_size(const struct rst_ctx *c);
/*
 * rlimits, timers, pending signals, seccomp, creds into A, and each
 * thread's own fields into THREADS[nr_threads] (frames and stacks are the
 * caller's).
 */
int rst_task_fill_args(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a,
		       struct rst_thread *threads);

#endif /* CORE_RESTORE_TASK_H */

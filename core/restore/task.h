/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-task state restored in stage 1 or handed to the restorer (task.c).
 */
#ifndef CORE_RESTORE_TASK_H
#define CORE_RESTORE_TASK_H

#include <stddef.h>

#include "restore/bootstrap.h"
#include "restore/restore.h"

/* Personality, umask, cwd/root, nice and sigactions (SIGCHLD goes to A). */
int rst_task_early(struct rst_ctx *c, struct rst_args *a);
/* Bytes rst_task_fill_args() may take from the bootstrap region. */
size_t rst_task_args_size(const struct rst_ctx *c);
/* rlimits, timers, pending signals, seccomp, creds and thread fields into A. */
int rst_task_fill_args(struct rst_ctx *c, struct rst_boot *b, struct rst_args *a);

#endif /* CORE_RESTORE_TASK_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The task's fds (files.c), opened in the new task through the plugins.
 */
#ifndef CORE_RESTORE_FILES_H
#define CORE_RESTORE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include <criu/plugin.h>

#include "restore/restore.h"

/*
 * Open file ID of files.img with the plugin registered for its type.
 * TARGET_FD and FLAGS are passed on (the fd number it will get, or -1 for
 * a file behind a mapping, cwd or root). 0 and *OUT, CP_RETRY, or a
 * negative errno (logged, naming the file id and the plugin).
 */
int rst_open_file(struct rst_ctx *c, uint32_t id, int target_fd, unsigned int flags, int *out);
/*
 * The group of file ID (cp_fd_ops.group(), ABI 1.2), asked as if for fd
 * TARGET_FD of task C: *KEY (0: none) and *OWNER, the plugin whose key it
 * is. 0 or a negative errno (logged).
 */
int rst_file_group(struct rst_ctx *c, uint32_t id, int target_fd, uint64_t *key,
		   const void **owner);
/*
 * Open file ID that the core refers to itself for USE (exe, cwd, root, a
 * file behind a mapping) with the plugin that handles its type and that
 * use (the files plugin opens a regular file by its name and checks it,
 * or makes its ghost). FLAGS are the open flags the core wants. 0 and
 * *OUT, or a negative errno (logged).
 */
int rst_open_core_file(struct rst_ctx *c, uint32_t id, enum cp_file_use use, unsigned int flags,
		       int *out);
/* Put the contents saved for SHMID back into FD (shmem-file.c); 0 or a negative errno. */
int rst_shmem_file_fill(struct rst_ctx *c, int fd, uint64_t shmid, uint64_t size);
/* Serve cp_file_open_id() and cp_shmem_restore() from C while its files are opened; NULL stops it. */
void rst_file_services(struct rst_ctx *c);
/*
 * Move criu's fds (log, report and go channels, images dir) above every
 * fd number in fdinfo, so the task's fds can take their numbers.
 * *SERVICE_MIN gets the lowest number they may use.
 */
int rst_move_service_fds(struct rst_ctx *c, int *service_min);
/* The lowest fd number above every fd of C (and at least 16). */
int rst_service_min(const struct rst_ctx *c);
/*
 * Close, in task C, criu's ends of every channel and the channels of the
 * tasks that are not C or below it (they came with the fork).
 */
void rst_close_foreign_channels(struct rst_ctx *c);
/* Open every fd of fdinfo at its number, retrying plugins that ask to. */
int rst_restore_fds(struct rst_ctx *c);
/* Close every fd that is neither the task's nor in KEEP[]. */
int rst_close_other_fds(struct rst_ctx *c, const int *keep, size_t nr_keep);

#endif /* CORE_RESTORE_FILES_H */

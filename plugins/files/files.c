// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * files: regular files and directories, pipes and FIFOs, eventfd, epoll,
 * signalfd, timerfd, inotify and fanotify, memfd, ghost and link-remap
 * files.
 *
 * init() registers each fd kind whose dump and restore code exists (one
 * file per kind: reg.c with ghost.c, remap.c and buildid.c, pipe.c,
 * fifo.c, memfd.c, eventfd.c, signalfd.c, timerfd.c, epoll.c, inotify.c
 * and fanotify.c with fsnotify.c), so a dump never
 * takes a kind for handled when it is not; an fd of a kind not registered
 * yet fails the dump with an error that names it and this plugin.
 */
#include <errno.h>
#include <stdlib.h>

#include <criu/plugin.h>

#include "files.h"

static void files_state_free(void *data)
{
	struct files_state *st = data;

	if (!st)
		return;
	files_pipe_dump_done(st);
	cp_image_close(st->remap);
	free(st->ghosts);
	free(st->pipes);
	free(st->fifos);
	files_remap_restore_done(st);
	files_pipe_fill_done(st);
	cp_image_close(st->memfd_img);
	free(st->memfds);
	files_link_remap_dump_done(st, false);
	free(st);
}

/* The restored task's fds are in place: forget what was read for them. */
static int files_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	int ret;

	files_remap_restore_done(files_state(p));
	files_pipe_fill_done(files_state(p));
	ret = files_pipe_restore_task_done(p, ctx);
	return files_fifo_restore_task_done(p, ctx) ?: ret;
}

/* Close what the dump kept open across fds, and forget what it saved. */
static int files_post_dump(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct files_state *st = files_state(p);
	int ret, ret2;

	ret = files_pipe_dump_done(st);
	ret2 = cp_image_close(st->remap);
	ret2 = cp_image_close(st->memfd_img) ?: ret2;
	st->remap = NULL;
	st->memfd_img = NULL;
	files_memfd_dump_done(st);
	files_ghost_dump_done(st);
	files_link_remap_dump_done(st, ctx->ret != 0);
	return ret ?: ret2;
}

static int files_init(struct cp_plugin *p)
{
	struct files_state *st;
	int ret;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	cp_plugin_set_data(p, st, files_state_free);

	ret = cp_register_option(p, "pipe-data", CP_OPT_BOOL, "yes",
				 "save the bytes queued in pipes and FIFOs; no: restore them empty");
	if (!ret)
		ret = cp_register_image(p, FILES_PIPES_DATA_IMG, FILES_PIPES_DATA_MAGIC);
	if (!ret)
		ret = cp_register_image(p, FILES_FIFO_DATA_IMG, FILES_FIFO_DATA_MAGIC);
	if (!ret)
		ret = cp_register_image(p, FILES_MEMFD_IMG, FILES_MEMFD_MAGIC);
	if (!ret)
		ret = cp_register_image(p, FILES_GHOST_IMG, FILES_GHOST_MAGIC);
	if (!ret)
		ret = cp_register_image(p, FILES_REMAP_IMG, FILES_REMAP_MAGIC);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_reg_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_pipe_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_fifo_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_memfd_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_eventfd_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_signalfd_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_timerfd_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_epoll_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_inotify_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_fanotify_ops);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, files_post_dump);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_TASK, files_restore_task_done);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_RESTORE, files_ghost_cleanup);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_RESUME, files_ghost_cleanup);
	return ret;
}

CP_PLUGIN_DEFINE("files", CP_PLUGIN_VERSION,
		 "regular files, directories, pipes, FIFOs, eventfd, epoll, signalfd, timerfd, "
		 "inotify, fanotify, memfd, ghost and link-remap files",
		 files_init, NULL);

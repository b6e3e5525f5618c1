// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * files: regular files and directories, pipes and FIFOs, eventfd, epoll,
 * signalfd, timerfd, inotify and fanotify, memfd, ghost and link-remap
 * files.
 *
 * init() registers each fd kind whose dump and restore code exists (one
 * file per kind: reg.c, pipe.c, eventfd.c), so a dump never takes a kind
 * for handled when it is not; an fd of a kind not registered yet fails
 * the dump with an error that names it and this plugin.
 */
#include <errno.h>
#include <stdlib.h>

#include <criu/plugin.h>

#include "files.h"

struct files_state *files_state(struct cp_plugin *p)
{
	return cp_plugin_get_data(p);
}

static void files_state_free(void *data)
{
	struct files_state *st = data;

	if (!st)
		return;
	cp_image_close(st->pipes_data);
	free(st->pipes_dumped);
	free(st->pipes);
	free(st);
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
		ret = cp_register_fd_kind(p, &files_reg_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_pipe_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &files_eventfd_ops);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, files_pipe_post_dump);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_TASK, files_pipe_restore_task_done);
	return ret;
}

CP_PLUGIN_DEFINE("files", CP_PLUGIN_VERSION,
		 "regular files, directories, pipes, FIFOs, eventfd, epoll, signalfd, timerfd, "
		 "inotify, fanotify, memfd, ghost and link-remap files",
		 files_init, NULL);

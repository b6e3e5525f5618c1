// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * files: regular files and directories, pipes and FIFOs, eventfd, epoll,
 * signalfd, timerfd, inotify and fanotify, memfd, ghost and link-remap
 * files.
 *
 * This version declares the plugin and its config keys only. Each fd kind
 * is registered by the change that brings its dump and restore code, so a
 * dump never takes a kind for handled when it is not.
 */
#include <criu/plugin.h>

static int files_init(struct cp_plugin *p)
{
	return cp_register_option(p, "pipe-data", CP_OPT_BOOL, "yes",
				  "save the bytes queued in pipes and FIFOs; no: restore them empty");
}

CP_PLUGIN_DEFINE("files", CP_PLUGIN_VERSION,
		 "regular files, directories, pipes, FIFOs, eventfd, epoll, signalfd, timerfd, "
		 "inotify, fanotify, memfd, ghost and link-remap files",
		 files_init, NULL);

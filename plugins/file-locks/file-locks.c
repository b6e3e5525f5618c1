// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * file-locks: flock, POSIX and OFD locks held by the dumped tasks,
 * --file-locks.
 *
 * This version declares the plugin only: its one setting, --file-locks,
 * is a core option, so it has no keys of its own. The hooks come with
 * their dump and restore code.
 */
#include <criu/plugin.h>

static int flocks_init(struct cp_plugin *p)
{
	(void)p;
	return 0;
}

CP_PLUGIN_DEFINE("file-locks", CP_PLUGIN_VERSION, "flock, POSIX and OFD locks", flocks_init, NULL);

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sockets: unix, inet (listening and UDP), netlink and packet sockets,
 * and --ext-unix-sk. Established TCP connections belong to the tcp plugin.
 *
 * This version declares the plugin and its config keys only; the fd kinds
 * come with their dump and restore code.
 */
#include <criu/plugin.h>

static int sockets_init(struct cp_plugin *p)
{
	return cp_register_option(p, "queue-data", CP_OPT_BOOL, "yes",
				  "save the data queued in unix, UDP and packet sockets; "
				  "no: restore the queues empty");
}

CP_PLUGIN_DEFINE("sockets", CP_PLUGIN_VERSION, "unix, inet (listening, UDP), netlink and packet sockets", sockets_init,
		 NULL);

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * devices: character devices (/dev/null, /dev/zero, ...), ttys and ptys,
 * and --evasive-devices.
 *
 * This version declares the plugin and its config keys only; the fd kinds
 * come with their dump and restore code.
 */
#include <criu/plugin.h>

static int devices_init(struct cp_plugin *p)
{
	return cp_register_option(p, "reopen", CP_OPT_LIST, NULL,
				  "MAJOR:MINOR of a further stateless character device that is "
				  "restored by opening its path again; may repeat");
}

CP_PLUGIN_DEFINE("devices", CP_PLUGIN_VERSION, "character devices, ttys and ptys", devices_init, NULL);

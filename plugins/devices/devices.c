// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * devices: character devices (/dev/null, /dev/zero, ...), ttys and ptys,
 * and --evasive-devices.
 *
 * init() registers each fd kind whose dump and restore code exists:
 * character devices opened by path (chrdev.c). Ttys come with their own
 * kind.
 */
#include <criu/plugin.h>

#include "devices.h"

/*
 * Interim switch. The files plugin's regular files are FileEntry type REG
 * too, and a core that does not chain two kinds of one type refuses the
 * second registration, which fails the load of every plugin. Set it to 1
 * when core/plugins/fd.c asks each kind of a type in turn on restore.
 */
#ifndef DEVICES_CHAIN_READY
#define DEVICES_CHAIN_READY 0
#endif

static int devices_init(struct cp_plugin *p)
{
	int ret;

	ret = cp_register_option(p, "reopen", CP_OPT_LIST, NULL,
				 "MAJOR:MINOR of a further stateless character device that is "
				 "restored by opening its path again; may repeat");
	if (!ret && DEVICES_CHAIN_READY)
		ret = cp_register_fd_kind(p, &devices_chr_ops);
	return ret;
}

CP_PLUGIN_DEFINE("devices", CP_PLUGIN_VERSION, "character devices, ttys and ptys", devices_init, NULL);

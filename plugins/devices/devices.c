// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * devices: character devices (/dev/null, /dev/zero, ...), ttys and ptys,
 * and --evasive-devices.
 *
 * init() registers each fd kind whose dump and restore code exists:
 * character devices opened by path (chrdev.c), and the terminals of a
 * shell job (tty.c, only with --shell-job).
 */
#include <criu/plugin.h>

#include "devices.h"

static int devices_init(struct cp_plugin *p)
{
	int ret;

	ret = cp_register_option(p, "reopen", CP_OPT_LIST, NULL,
				 "MAJOR:MINOR of a further stateless character device that is "
				 "restored by opening its path again; may repeat");
	if (!ret)
		ret = cp_register_fd_kind(p, &devices_chr_ops);
	if (!ret)
		ret = devices_tty_init(p);
	return ret;
}

CP_PLUGIN_DEFINE("devices", CP_PLUGIN_VERSION, "character devices, ttys and ptys", devices_init, NULL);

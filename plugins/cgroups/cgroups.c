// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cgroups: cgroup membership and properties, --manage-cgroups,
 * --cgroup-root and the other cgroup options of the core table.
 *
 * This version declares the plugin only: every setting it needs is a core
 * option (read with cp_opt_*), so it has no keys of its own yet. The hooks
 * come with their dump and restore code.
 */
#include <criu/plugin.h>

static int cgroups_init(struct cp_plugin *p)
{
	(void)p;
	return 0;
}

CP_PLUGIN_DEFINE("cgroups", CP_PLUGIN_VERSION, "cgroup membership and properties", cgroups_init, NULL);

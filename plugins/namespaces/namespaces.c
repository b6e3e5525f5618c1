// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * namespaces: the net namespace (links, addresses, routes through
 * libnl-3; --veth-pair), and the uts, ipc and time namespaces.
 *
 * This version declares the plugin and its config keys only; the hooks
 * come with their dump and restore code.
 */
#include <criu/plugin.h>

static int ns_init(struct cp_plugin *p)
{
	return cp_register_option(p, "sysctls", CP_OPT_BOOL, "yes",
				  "save and restore the per-namespace net sysctls "
				  "(net.ipv4.conf.*, net.ipv6.conf.*, net.core.somaxconn ...)");
}

CP_PLUGIN_DEFINE("namespaces", CP_PLUGIN_VERSION, "net, uts, ipc and time namespaces", ns_init, NULL);

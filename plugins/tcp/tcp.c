// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tcp: established TCP connections, through TCP_REPAIR, and locking the
 * network while the tasks are dumped (--network-lock).
 *
 * This version declares the plugin and its config keys only; the fd kind
 * and the network-lock hooks come with their code.
 */
#include <criu/plugin.h>

static int tcp_init(struct cp_plugin *p)
{
	return cp_register_option(p, "nft-table", CP_OPT_STRING, "CRIU",
				  "nftables table (family inet) that holds the lock rules "
				  "when network-lock is nftables");
}

CP_PLUGIN_DEFINE("tcp", CP_PLUGIN_VERSION, "established TCP connections (TCP_REPAIR), network lock and unlock",
		 tcp_init, NULL);

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mounts: the mount namespace and its mount tree, --root, --ext-mount-map,
 * --skip-mnt, --enable-fs, external mounts, sharing and masters.
 *
 * This version declares the plugin and its config keys only; the hooks
 * come with their dump and restore code.
 */
#include <criu/plugin.h>

static int mounts_init(struct cp_plugin *p)
{
	return cp_register_option(p, "tar", CP_OPT_STRING, "tar",
				  "the tar program that saves and restores the contents of "
				  "tmpfs mounts");
}

CP_PLUGIN_DEFINE("mounts", CP_PLUGIN_VERSION, "mount namespace and mount tree", mounts_init, NULL);

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sockets: unix sockets (unix-dump.c, unix-restore.c, unix-diag.c),
 * with their queues, and the socket of a process that dumps itself over
 * RPC. Inet, netlink and packet sockets are not handled yet: the dump of
 * a task that has one fails, naming the fd (no kind matches it).
 */
#include <errno.h>
#include <stdlib.h>

#include <criu/plugin.h>

#include "sockets.h"

static const struct cp_fd_ops sk_unix_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "unix socket",
	.type = SK_TYPE_UNIX,
	.payload_field = SK_FIELD_USK,
	.match = usk_match,
	.dump = usk_dump,
	.open = usk_open,
	.group = usk_group,
};

/* Never matches an fd: it writes the entry of a peer outside the tree, never opened. */
static int usk_ext_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	(void)fd;
	return -ENOTSUP;
}

static int usk_ext_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	(void)p;
	(void)file;
	(void)out_fd;
	return -ENOTSUP;
}

const struct cp_fd_ops sk_unix_ext_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "unix socket outside the tree",
	.type = SK_TYPE_UNIX,
	.payload_field = SK_FIELD_USK,
	.match = usk_ext_match,
	.dump = usk_ext_dump,
	.open = usk_ext_open,
};

static void sk_state_free(void *data)
{
	struct sk_state *st = data;

	if (!st)
		return;
	cp_image_close(st->queues);
	free(st->dumped);
	free(st->tree_inos);
	for (size_t i = 0; i < st->n_images; i++)
		file_entry__free_unpacked(st->images[i].fe, NULL);
	free(st->images);
	for (size_t i = 0; i < st->n_packets; i++)
		free(st->packets[i].data);
	free(st->packets);
	free(st->pairs);
	free(st->listeners);
	free(st);
}

struct sk_state *sk_state(struct cp_plugin *p)
{
	return cp_plugin_get_data(p);
}

static int sockets_init(struct cp_plugin *p)
{
	struct sk_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	cp_plugin_set_data(p, st, sk_state_free);
	ret = cp_register_option(p, "queue-data", CP_OPT_BOOL, "yes",
				 "save the data queued in unix sockets; no: restore the queues empty");
	if (!ret)
		ret = cp_register_image(p, SK_QUEUES_IMG, SK_QUEUES_MAGIC);
	if (!ret)
		ret = cp_register_fd_kind(p, &sk_unix_ops);
	if (!ret)
		ret = cp_register_fd_kind(p, &sk_unix_ext_ops);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_NETWORK_LOCK, usk_collect_tree);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_POST_DUMP, usk_post_dump);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_INIT, usk_restore_init);
	if (!ret)
		ret = cp_register_hook(p, CP_STAGE_RESTORE_TASK, usk_restore_task_done);
	return ret;
}

CP_PLUGIN_DEFINE("sockets", CP_PLUGIN_VERSION, "unix sockets, their queues, and the RPC socket of a self-dump",
		 sockets_init, NULL);

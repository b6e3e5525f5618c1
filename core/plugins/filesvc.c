// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * File services of the SDK (1.1): a plugin has another file dumped or
 * opened by the kind registered for its FileEntry type, whichever plugin
 * owns it (a FIFO's entry refers to the regular-file entry of its path),
 * and the contents of a shmem file (a memfd) saved and put back in the
 * core's page images.
 * The dump and restore code of the core plug themselves in while they
 * work on a task; outside that the calls fail with -EPERM.
 */
#include <errno.h>

#include "log/log.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"

static struct plugin_file_services svc;

void plugins_set_file_services(const struct plugin_file_services *s)
{
	if (s)
		svc = *s;
	else
		svc = (struct plugin_file_services){ 0 };
}

CP_EXPORT int cp_file_dump_as(struct cp_plugin *p, const struct cp_fd_ops *kind, const struct cp_fd_desc *fd,
				uint32_t *id)
{
	const struct cp_fd_ops *ops;
	struct cp_plugin *owner;

	if (!p || !kind || !fd || !id) {
		pr_err("cp_file_dump_as(): bad arguments");
		return -EINVAL;
	}
	if (plugins_find_fd_kind(p, kind, &ops, &owner)) {
		plugin_pr_err(p, "cp_file_dump_as(): fd kind %s is not one this plugin registered",
			      kind->name ? kind->name : "?");
		return -EINVAL;
	}
	if (!svc.dump_as) {
		plugin_pr_err(p, "cp_file_dump_as(): called outside the dump of an fd");
		return -EPERM;
	}
	return svc.dump_as(svc.arg, fd, ops, owner, id);
}

CP_EXPORT int cp_shmem_dump(int fd, uint64_t shmid, uint64_t size)
{
	if (fd < 0) {
		pr_err("cp_shmem_dump(): bad fd %d", fd);
		return -EINVAL;
	}
	if (!svc.shmem_dump) {
		pr_err("cp_shmem_dump(): called outside the dump of a task's files");
		return -EPERM;
	}
	return svc.shmem_dump(svc.arg, fd, shmid, size);
}

CP_EXPORT int cp_shmem_restore(int fd, uint64_t shmid, uint64_t size)
{
	if (fd < 0) {
		pr_err("cp_shmem_restore(): bad fd %d", fd);
		return -EINVAL;
	}
	if (!svc.shmem_restore) {
		pr_err("cp_shmem_restore(): called outside the restore of a task's files");
		return -EPERM;
	}
	return svc.shmem_restore(svc.arg, fd, shmid, size);
}

CP_EXPORT int cp_file_open_id(uint32_t id, unsigned int flags, int *out_fd)
{
	if (!out_fd) {
		pr_err("cp_file_open_id(): bad arguments");
		return -EINVAL;
	}
	if (!svc.open_id) {
		pr_err("cp_file_open_id(): called outside the restore of a task's files");
		return -EPERM;
	}
	return svc.open_id(svc.arg, id, flags, out_fd);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "eventfd": saved as CRIU's EventfdFileEntry (FileEntry type
 * EVENTFD, field 8) with the counter read from fdinfo ("eventfd-count",
 * hex).
 *
 * EFD_SEMAPHORE is not a status flag of the open file, and the entry has
 * no field for it. It is kept in bit 0 of flags, which is EFD_SEMAPHORE's
 * value and, as O_WRONLY, is never set for an eventfd (always O_RDWR).
 * CRIU ignores it there (it sets the flags with F_SETFL, which ignores
 * the access mode).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "eventfd.pb-c.h"
#include "files.h"

static int efd_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link && !strcmp(fd->link, "anon_inode:[eventfd]") ? 0 : -ENOTSUP;
}

static int efd_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	EventfdFileEntry efe = EVENTFD_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint64_t counter, sem = 0;
	int ret;

	(void)p;
	if (!fd->fdinfo || !files_fdinfo_value(fd->fdinfo, "eventfd-count", 16, &counter)) {
		pr_err("fd %d of pid %d: no eventfd-count in its fdinfo", fd->fd, (int)fd->pid);
		return -EINVAL;
	}
	/* Linux 6.8+ shows it; before, a semaphore eventfd restores as a plain one. */
	files_fdinfo_value(fd->fdinfo, "eventfd-semaphore", 10, &sem);
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		return ret;
	efe.id = id;
	efe.flags = (fd->flags & ~(unsigned int)(O_CLOEXEC | EFD_SEMAPHORE)) | (sem ? EFD_SEMAPHORE : 0);
	efe.fown = &fown;
	efe.counter = counter;
	pr_debug("fd %d of pid %d: eventfd, counter %" PRIu64 "%s", fd->fd, (int)fd->pid, counter,
		 sem ? ", semaphore" : "");
	return cp_payload_pack(out, &efe.base);
}

static int efd_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	EventfdFileEntry *efe;
	char what[48];
	int fd = -1, ret;

	(void)p;
	efe = eventfd_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!efe) {
		pr_err("files.img: file id %u: malformed EventfdFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "eventfd (file id %u)", file->id);
	if (efe->counter == UINT64_MAX) {
		pr_err("%s: counter %" PRIu64 " is out of range", what, efe->counter);
		ret = -EINVAL;
		goto out;
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | (efe->flags & EFD_SEMAPHORE ? EFD_SEMAPHORE : 0));
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: cannot make it", what);
		goto out;
	}
	/* eventfd() takes an int: write the 64-bit counter instead. */
	if (efe->counter && write(fd, &efe->counter, sizeof(efe->counter)) != sizeof(efe->counter)) {
		ret = -errno;
		pr_perror("%s: cannot set the counter to %" PRIu64, what, efe->counter);
		goto out;
	}
	ret = files_open_done(&fd, efe->flags, efe->fown, what, out_fd);
out:
	if (fd >= 0)
		close(fd);
	eventfd_file_entry__free_unpacked(efe, NULL);
	return ret;
}

const struct cp_fd_ops files_eventfd_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "eventfd",
	.type = FILES_TYPE_EVENTFD,
	.payload_field = FILES_FIELD_EFD,
	.match = efd_match,
	.dump = efd_dump,
	.open = efd_open,
};

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "signalfd": saved as CRIU's SignalfdEntry (FileEntry type
 * SIGNALFD, field 10): the signal mask from fdinfo ("sigmask", 64 bits in
 * hex, bit N-1 for signal N), the status flags (O_NONBLOCK) and the owner.
 *
 * The signals queued for the task are the task's, not the fd's: the core
 * restores them. The fd only says which of them it reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "files.h"
#include "signalfd.pb-c.h"

static int sfd_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link && !strcmp(fd->link, "anon_inode:[signalfd]") ? 0 : -ENOTSUP;
}

static int sfd_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	SignalfdEntry sfe = SIGNALFD_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint64_t mask;
	int ret;

	(void)p;
	if (!fd->fdinfo || !files_fdinfo_value(fd->fdinfo, "sigmask", 16, &mask)) {
		pr_err("fd %d of pid %d: no sigmask in its fdinfo", fd->fd, (int)fd->pid);
		return -EINVAL;
	}
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		return ret;
	sfe.id = id;
	sfe.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	sfe.fown = &fown;
	sfe.sigmask = mask;
	pr_debug("fd %d of pid %d: signalfd, mask %#" PRIx64, fd->fd, (int)fd->pid, mask);
	return cp_payload_pack(out, &sfe.base);
}

static int sfd_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	SignalfdEntry *sfe;
	char what[48];
	sigset_t set;
	int fd = -1, ret = 0;

	(void)p;
	sfe = signalfd_entry__unpack(NULL, file->payload_len, file->payload);
	if (!sfe) {
		pr_err("files.img: file id %u: malformed SignalfdEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "signalfd (file id %u)", file->id);
	sigemptyset(&set);
	for (int sig = 1; sig <= 64; sig++) {
		if (!(sfe->sigmask & (1ULL << (sig - 1))))
			continue;
		/* The kernel never puts SIGKILL or SIGSTOP in the mask: refuse an image that does. */
		if (sig == SIGKILL || sig == SIGSTOP || sigaddset(&set, sig)) {
			pr_err("%s: signal %d cannot be in a signalfd mask (%#" PRIx64 ")", what, sig, sfe->sigmask);
			ret = -EINVAL;
			goto out;
		}
	}
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: cannot make it with mask %#" PRIx64, what, sfe->sigmask);
		goto out;
	}
	ret = files_open_done(&fd, sfe->flags, sfe->fown, what, out_fd);
out:
	if (fd >= 0)
		close(fd);
	signalfd_entry__free_unpacked(sfe, NULL);
	return ret;
}

const struct cp_fd_ops files_signalfd_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "signalfd",
	.type = FILES_TYPE_SIGNALFD,
	.payload_field = FILES_FIELD_SGFD,
	.match = sfd_match,
	.dump = sfd_dump,
	.open = sfd_open,
};

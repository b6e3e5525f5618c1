// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "memfd": memfd_create() files, as fds and behind mappings, as
 * CRIU saves them. Each open file (and each file the core maps) is a
 * MemfdFileEntry (FileEntry type MEMFD, field 20: flags, offset, owner,
 * and inode_id); each memfd once per dump is a MemfdInodeEntry in
 * memfd.img (name without "memfd:", owner, size, seals, shmid), and its
 * contents go to pagemap-shmem-SHMID.img with a pages image through the
 * core (cp_shmem_dump()). SHMID is the memfd's inode number.
 *
 * Restore makes the memfd once per task with its name, size, contents and
 * owner, then adds the seals (after the contents, which F_SEAL_WRITE
 * would refuse). An fd gets an open file of its own (reopened through
 * /proc/self/fd, so the name in /proc/PID/fd stays "/memfd:NAME
 * (deleted)"), with its flags and offset; a mapping gets the memfd
 * itself. Later opens of the same inode find it at the fd number the
 * first one was placed at (checked by inode), so the fds and mappings of
 * a task share one object again. A memfd used by several processes of
 * the tree (other than through one open file shared by fork, which is
 * dumped once) fails the dump: restore would make one per process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <criu/plugin.h>

#include "files.h"
#include "memfd.pb-c.h"

#define MEMFD_PREFIX "/memfd:"
/* open() flags that only make sense when a file is created. */
#define MEMFD_CREATE_FLAGS (O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)

static int memfd_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	if (!S_ISREG(fd->st.st_mode) || !fd->link || strncmp(fd->link, MEMFD_PREFIX, strlen(MEMFD_PREFIX)) ||
	    !files_link_deleted(fd->link))
		return -ENOTSUP;
	return 0;
}

/* Write the MemfdInodeEntry and the contents of the memfd behind FD, once per inode. */
static int memfd_dump_inode(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t *inode_id)
{
	struct files_state *st = files_state(p);
	MemfdInodeEntry mie = MEMFD_INODE_ENTRY__INIT;
	char name[PATH_MAX];
	struct files_memfd *m;
	struct statfs sfs;
	int rfd, seals, ret;
	size_t n;

	for (size_t i = 0; i < st->n_memfds; i++) {
		if (st->memfds[i].ino != fd->st.st_ino)
			continue;
		/*
		 * Restore makes a memfd per task: two processes would get two
		 * objects where there was one. (An fd shared by fork is one open
		 * file, dumped once; this is a second use in another process.)
		 */
		if (st->memfds[i].pid != fd->pid) {
			pr_err("%s of pid %d: memfd %s is also used by pid %d; a memfd used by several "
			       "processes is not supported yet", files_what(fd), (int)fd->pid, fd->link,
			       (int)st->memfds[i].pid);
			return -EOPNOTSUPP;
		}
		*inode_id = st->memfds[i].inode_id;
		return 0;
	}
	if (fd->st.st_ino > UINT32_MAX) {
		pr_err("%s of pid %d: memfd inode %llu does not fit CRIU's 32-bit shmid", files_what(fd),
		       (int)fd->pid, (unsigned long long)fd->st.st_ino);
		return -EOVERFLOW;
	}
	m = realloc(st->memfds, (st->n_memfds + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	st->memfds = m;
	/* The task's fd may be write-only, or an O_PATH of a mapping: read through a new open. */
	rfd = files_reopen(fd->local_fd, O_RDONLY);
	if (rfd < 0) {
		ret = -errno;
		pr_perror("%s of pid %d: cannot open the memfd %s to save it", files_what(fd), (int)fd->pid,
			  fd->link);
		return ret;
	}
	if (!fstatfs(rfd, &sfs) && sfs.f_type == HUGETLBFS_MAGIC) {
		pr_err("%s of pid %d: %s is a hugetlb memfd, which is not supported yet", files_what(fd),
		       (int)fd->pid, fd->link);
		ret = -EOPNOTSUPP;
		goto out;
	}
	seals = fcntl(rfd, F_GET_SEALS);
	if (seals < 0) {
		ret = -errno;
		pr_perror("%s of pid %d: cannot read the seals of %s", files_what(fd), (int)fd->pid, fd->link);
		goto out;
	}
	/* "/memfd:NAME (deleted)" -> NAME */
	snprintf(name, sizeof(name), "%s", fd->link + strlen(MEMFD_PREFIX));
	n = strlen(name);
	name[n - strlen(" (deleted)")] = '\0';

	mie.name = name;
	mie.uid = fd->st.st_uid;
	mie.gid = fd->st.st_gid;
	mie.size = (uint64_t)fd->st.st_size;
	mie.shmid = (uint32_t)fd->st.st_ino;
	mie.seals = (uint32_t)seals;
	mie.inode_id = st->n_memfds + 1;
	if (!st->memfd_img) {
		st->memfd_img = cp_image_open_write(p, FILES_MEMFD_IMG, FILES_MEMFD_MAGIC);
		if (!st->memfd_img) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
	}
	ret = cp_image_write_msg(st->memfd_img, &mie.base);
	if (!ret)
		ret = cp_shmem_dump(rfd, mie.shmid, mie.size);
	if (ret)
		goto out;
	st->memfds[st->n_memfds++] = (struct files_memfd){ fd->st.st_ino, (uint32_t)mie.inode_id, -1, fd->pid };
	*inode_id = (uint32_t)mie.inode_id;
	pr_info("%s of pid %d: memfd %s, %llu bytes, seals %#x, saved as inode %u", files_what(fd),
		(int)fd->pid, name, (unsigned long long)mie.size, (unsigned int)seals, *inode_id);
out:
	close(rfd);
	return ret;
}

static int memfd_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	MemfdFileEntry mfe = MEMFD_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	int ret;

	ret = memfd_dump_inode(p, fd, &mfe.inode_id);
	if (!ret)
		ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		return ret;
	mfe.id = id;
	mfe.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	mfe.pos = fd->pos;
	mfe.fown = &fown;
	return cp_payload_pack(out, &mfe.base);
}

void files_memfd_dump_done(struct files_state *st)
{
	free(st->memfds);
	st->memfds = NULL;
	st->n_memfds = 0;
}

/* ------------------------------------------------------------------ */
/* Restore                                                              */

/* The MemfdInodeEntry INODE_ID of memfd.img, or NULL (logged). */
static MemfdInodeEntry *memfd_inode(struct cp_plugin *p, uint32_t inode_id, uint32_t file_id)
{
	MemfdInodeEntry *mie = NULL;
	struct cp_image *img;
	int ret;

	img = cp_image_open_read(p, FILES_MEMFD_IMG, FILES_MEMFD_MAGIC);
	if (!img)
		return NULL;
	while ((ret = cp_image_read_msg(img, &memfd_inode_entry__descriptor, (ProtobufCMessage **)&mie)) == 1) {
		if (mie->inode_id == inode_id)
			break;
		memfd_inode_entry__free_unpacked(mie, NULL);
		mie = NULL;
	}
	cp_image_close(img);
	if (!mie && ret == 0)
		pr_err("%s: no memfd inode %u (file id %u)", FILES_MEMFD_IMG, inode_id, file_id);
	return mie;
}

/* A new memfd as MIE describes it: name, size, contents, owner, then seals. */
static int memfd_make(const MemfdInodeEntry *mie)
{
	unsigned int flags = MFD_CLOEXEC;
	int fd, ret;

	/* Without MFD_ALLOW_SEALING a memfd starts with F_SEAL_SEAL and nothing else. */
	if (mie->seals != F_SEAL_SEAL)
		flags |= MFD_ALLOW_SEALING;
	fd = memfd_create(mie->name, flags);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot create the memfd %s", mie->name);
		return ret;
	}
	if (ftruncate(fd, (off_t)mie->size)) {
		ret = -errno;
		pr_perror("cannot size the memfd %s to %llu bytes", mie->name, (unsigned long long)mie->size);
		goto err;
	}
	ret = cp_shmem_restore(fd, mie->shmid, mie->size);
	if (ret)
		goto err;
	if (fchown(fd, mie->uid, mie->gid)) {
		ret = -errno;
		pr_perror("cannot give the memfd %s to %u:%u", mie->name, mie->uid, mie->gid);
		goto err;
	}
	if ((flags & MFD_ALLOW_SEALING) && mie->seals && fcntl(fd, F_ADD_SEALS, (int)mie->seals) < 0) {
		ret = -errno;
		pr_perror("cannot seal the memfd %s with %#x", mie->name, mie->seals);
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

/* The fd number where this task has memfd INODE_ID already, or -1. */
static int memfd_known(struct files_state *st, uint32_t inode_id, struct files_memfd **rec)
{
	for (size_t i = 0; i < st->n_memfds; i++) {
		struct files_memfd *m = &st->memfds[i];
		struct stat sb;

		if (m->inode_id != inode_id)
			continue;
		*rec = m;
		if (m->fd >= 0 && !fstat(m->fd, &sb) && sb.st_ino == m->ino)
			return m->fd;
		pr_err("memfd inode %u: fd %d, where it was restored, holds something else now", inode_id, m->fd);
		return -ESTALE;
	}
	*rec = NULL;
	return -1;
}

static int memfd_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	struct files_state *st = files_state(p);
	MemfdFileEntry *mfe;
	struct files_memfd *rec;
	bool made = false;
	char what[64];
	struct stat sb;
	int base, fd = -1, ret = 0;

	mfe = memfd_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!mfe) {
		pr_err("files.img: file id %u: malformed MemfdFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "memfd inode %u (file id %u)", mfe->inode_id, file->id);
	base = memfd_known(st, mfe->inode_id, &rec);
	if (base == -ESTALE) {
		ret = base;
		goto out;
	}
	if (base < 0) {
		MemfdInodeEntry *mie = memfd_inode(p, mfe->inode_id, file->id);
		struct files_memfd *m;

		if (!mie) {
			ret = -ENOENT;
			goto out;
		}
		base = memfd_make(mie);
		memfd_inode_entry__free_unpacked(mie, NULL);
		if (base < 0) {
			ret = base;
			goto out;
		}
		made = true;
		m = realloc(st->memfds, (st->n_memfds + 1) * sizeof(*m));
		if (!m || fstat(base, &sb)) {
			ret = m ? -errno : -ENOMEM;
			close(base);
			goto out;
		}
		st->memfds = m;
		rec = &m[st->n_memfds++];
		*rec = (struct files_memfd){ sb.st_ino, mfe->inode_id, -1, 0 };
	}
	if (file->use == CP_USE_MAP) {
		/* The core maps it and keeps this fd open until the restorer runs. */
		fd = made ? base : fcntl(base, F_DUPFD_CLOEXEC, 0);
		made = false;
		if (fd < 0) {
			ret = -errno;
			pr_perror("%s: cannot dup it for a mapping", what);
			goto out;
		}
		if (rec->fd < 0)
			rec->fd = fd;
	} else {
		/* An open file of its own, with its flags and offset. */
		fd = files_reopen(base, (int)(mfe->flags & ~(unsigned int)MEMFD_CREATE_FLAGS));
		if (fd < 0) {
			ret = -errno;
			pr_perror("%s: cannot open it again with flags %#o", what, mfe->flags);
			goto out;
		}
		if (lseek(fd, (off_t)mfe->pos, SEEK_SET) != (off_t)mfe->pos) {
			ret = errno ? -errno : -EIO;
			pr_perror("%s: cannot seek to %llu", what, (unsigned long long)mfe->pos);
			goto out;
		}
		ret = files_fown_restore(fd, mfe->fown, what);
		if (!ret)
			ret = files_set_async(fd, mfe->flags, what);
		if (ret)
			goto out;
		/* The core puts it at file->fd; the first one placed is where later opens look. */
		if (rec->fd < 0 || rec->fd == base)
			rec->fd = file->fd >= 0 ? file->fd : fd;
	}
	*out_fd = fd;
	fd = -1;
out:
	if (made)
		close(base);
	if (fd >= 0)
		close(fd);
	memfd_file_entry__free_unpacked(mfe, NULL);
	return ret;
}

const struct cp_fd_ops files_memfd_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "memfd",
	.type = FILES_TYPE_MEMFD,
	.payload_field = FILES_FIELD_MEMFD,
	.match = memfd_match,
	.dump = memfd_dump,
	.open = memfd_open,
	.uses = CP_USES(CP_USE_MAP),
};

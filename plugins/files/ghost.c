// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Ghost files: regular files deleted while open (no name left, st_nlink
 * 0), as CRIU saves them. Dump copies the contents, once per inode, to
 * ghost-file-ID.img (a GhostFileEntry: owner, mode, times, size; then the
 * bytes) and ties each open file to its ghost in remap-fpath.img
 * (RemapFilePathEntry orig_id = the RegFileEntry id, remap_id = ID, type
 * GHOST). The RegFileEntry keeps the name without " (deleted)".
 *
 * Restore makes the ghost once, next to the old name, as
 * "NAME.cr.ID.ghost" (written under a temporary name and linked into
 * place, so tasks restoring at once never see half of it). Each open file
 * links the ghost to NAME for the open and unlinks NAME again, so the fd
 * shows "NAME (deleted)" as before. criu removes the ghosts once the tree
 * is restored (post-restore, and post-resume after a failure), finding
 * their names in files.img.
 *
 * --ghost-limit caps the size of the contents saved; a bigger file stops
 * the dump with an error naming it. With --ghost-fiemap (the default) a
 * sparse file is saved as chunks (GhostChunkEntry and bytes per data
 * region), and only its data counts against the limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "fdinfo.pb-c.h"
#include "files.h"
#include "ghost-file.pb-c.h"
#include "remap-file-path.pb-c.h"

#define GHOST_BUF 65536
/* CRIU before remap_type marked a ghost with the top bit of remap_id. */
#define REMAP_GHOST_BIT (1u << 31)
/* CRIU's kernel-style device numbers: 12 bits major, 20 bits minor. */
#define GHOST_KDEV(d) ((major(d) << 20) | minor(d))

/* ------------------------------------------------------------------ */
/* Dump                                                                 */

/* Copy bytes [OFF, END) of SRC to IMG. */
static int ghost_copy(struct cp_image *img, int src, uint64_t off, uint64_t end, const char *path)
{
	char *buf = malloc(GHOST_BUF);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (off < end) {
		size_t want = end - off < GHOST_BUF ? (size_t)(end - off) : GHOST_BUF;
		ssize_t n = pread(src, buf, want, (off_t)off);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			pr_perror("cannot read the contents of the deleted file %s at %llu", path,
				  (unsigned long long)off);
			break;
		}
		ret = cp_image_write_raw(img, buf, (size_t)n);
		if (ret)
			break;
		off += (uint64_t)n;
	}
	free(buf);
	return ret;
}

/* A sparse file: a GhostChunkEntry and its bytes per data region (--ghost-fiemap). */
static int ghost_copy_chunks(struct cp_image *img, int src, uint64_t size, const char *path)
{
	off_t data = 0, hole;
	int ret = 0;

	while ((uint64_t)data < size) {
		GhostChunkEntry ce = GHOST_CHUNK_ENTRY__INIT;

		data = lseek(src, data, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* only a hole is left */
			ret = -errno;
			pr_perror("cannot find the data of the deleted file %s", path);
			break;
		}
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			pr_perror("cannot find the holes of the deleted file %s", path);
			break;
		}
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		ce.off = (uint64_t)data;
		ce.len = (uint64_t)(hole - data);
		ret = cp_image_write_msg(img, &ce.base);
		if (!ret)
			ret = ghost_copy(img, src, ce.off, ce.off + ce.len, path);
		if (ret)
			break;
		data = hole;
	}
	return ret;
}

/* Write ghost-file-ID.img for the deleted file behind FD. */
static int ghost_write(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t gid, const char *path, bool chunks)
{
	GhostFileEntry gfe = GHOST_FILE_ENTRY__INIT;
	Timeval atim = TIMEVAL__INIT, mtim = TIMEVAL__INIT;
	struct cp_image *img;
	char name[64];
	int src, ret;

	/* The task's fd may be write-only: read through a new open of it. */
	src = files_reopen(fd->local_fd, O_RDONLY);
	if (src < 0) {
		ret = -errno;
		pr_perror("%s of pid %d: cannot open the deleted file %s to save it", files_what(fd), (int)fd->pid, path);
		return ret;
	}
	snprintf(name, sizeof(name), "ghost-file-%x.img", gid);
	img = cp_image_open_write(p, name, FILES_GHOST_MAGIC);
	if (!img) {
		ret = errno ? -errno : -EIO;
		goto out;
	}
	gfe.uid = fd->st.st_uid;
	gfe.gid = fd->st.st_gid;
	gfe.mode = fd->st.st_mode;
	gfe.has_dev = true;
	gfe.dev = (uint32_t)GHOST_KDEV(fd->st.st_dev);
	gfe.has_ino = true;
	gfe.ino = fd->st.st_ino;
	atim.tv_sec = (uint64_t)fd->st.st_atim.tv_sec;
	atim.tv_usec = (uint64_t)fd->st.st_atim.tv_nsec / 1000;
	mtim.tv_sec = (uint64_t)fd->st.st_mtim.tv_sec;
	mtim.tv_usec = (uint64_t)fd->st.st_mtim.tv_nsec / 1000;
	gfe.atim = &atim;
	gfe.mtim = &mtim;
	gfe.has_chunks = true;
	gfe.chunks = chunks;
	gfe.has_size = true;
	gfe.size = (uint64_t)fd->st.st_size;
	ret = cp_image_write_msg(img, &gfe.base);
	if (!ret)
		ret = chunks ? ghost_copy_chunks(img, src, gfe.size, path) : ghost_copy(img, src, 0, gfe.size, path);
	ret = cp_image_close(img) ?: ret;
	if (!ret)
		pr_info("%s of pid %d: deleted file %s saved as %s (%llu bytes)", files_what(fd), (int)fd->pid, path, name,
			(unsigned long long)gfe.size);
out:
	close(src);
	return ret;
}

int files_ghost_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, const char *path)
{
	struct files_state *st = files_state(p);
	long long limit = 1 << 20;
	uint32_t gid = 0;
	int ret;

	if (!S_ISREG(fd->st.st_mode)) {
		pr_err("%s of pid %d: the %s %s was deleted while open; only deleted regular "
		       "files can be saved",
		       files_what(fd), (int)fd->pid, S_ISDIR(fd->st.st_mode) ? "directory" : "file", path);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < st->n_ghosts; i++)
		if (st->ghosts[i].dev == fd->st.st_dev && st->ghosts[i].ino == fd->st.st_ino)
			gid = st->ghosts[i].id;
	if (!gid) {
		long long allocated = (long long)fd->st.st_blocks * 512, stored = fd->st.st_size;
		bool fiemap = true, chunks;
		struct files_ghost *g;

		/* Core defaults (1 MiB, on) when the option cannot be read. */
		if (cp_opt_int("ghost-limit", &limit) || limit < 0)
			limit = 1 << 20;
		if (cp_opt_bool("ghost-fiemap", &fiemap))
			fiemap = true;
		/* A sparse file costs only its data, saved in chunks. */
		chunks = fiemap && allocated < stored;
		if (chunks)
			stored = allocated;
		if (stored > limit) {
			pr_err("%s of pid %d: %s was deleted while open and has %lld bytes%s, more "
			       "than --ghost-limit (%lld) lets the dump save",
			       files_what(fd), (int)fd->pid, path, stored, chunks ? " of data" : "", limit);
			return -EFBIG;
		}
		g = realloc(st->ghosts, (st->n_ghosts + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		st->ghosts = g;
		gid = (uint32_t)st->n_ghosts + 1;
		ret = ghost_write(p, fd, gid, path, chunks);
		if (ret)
			return ret;
		g[st->n_ghosts++] = (struct files_ghost){ fd->st.st_dev, fd->st.st_ino, gid };
	}
	return files_remap_write(p, id, gid, REMAP_TYPE__GHOST);
}

int files_remap_write(struct cp_plugin *p, uint32_t orig_id, uint32_t remap_id, int type)
{
	struct files_state *st = files_state(p);
	RemapFilePathEntry rpe = REMAP_FILE_PATH_ENTRY__INIT;

	if (!st->remap) {
		st->remap = cp_image_open_write(p, FILES_REMAP_IMG, FILES_REMAP_MAGIC);
		if (!st->remap)
			return errno ? -errno : -EIO;
	}
	rpe.orig_id = orig_id;
	rpe.remap_id = remap_id;
	rpe.has_remap_type = true;
	rpe.remap_type = (RemapType)type;
	return cp_image_write_msg(st->remap, &rpe.base);
}

void files_ghost_dump_done(struct files_state *st)
{
	free(st->ghosts);
	st->ghosts = NULL;
	st->n_ghosts = 0;
}

/* ------------------------------------------------------------------ */
/* Restore                                                              */

/* The remap type of RPE; old images mark a ghost with the top bit of remap_id. */
static int remap_type_of(const RemapFilePathEntry *rpe)
{
	if (rpe->has_remap_type)
		return (int)rpe->remap_type;
	return (rpe->remap_id & REMAP_GHOST_BIT) ? REMAP_TYPE__GHOST : REMAP_TYPE__LINKED;
}

static int cmp_remap(const void *a, const void *b)
{
	const struct files_remap *x = a, *y = b;

	return x->orig_id < y->orig_id ? -1 : x->orig_id > y->orig_id;
}

/* Read remap-fpath.img once: a task may open thousands of regular files. */
static int read_remaps(struct cp_plugin *p, struct files_state *st)
{
	RemapFilePathEntry *rpe;
	struct files_remap *r;
	struct cp_image *img;
	size_t cap = 0;
	int ret;

	img = cp_image_open_read(p, FILES_REMAP_IMG, FILES_REMAP_MAGIC);
	if (!img)
		return errno ? -errno : -EIO;
	while ((ret = cp_image_read_msg(img, &remap_file_path_entry__descriptor, (ProtobufCMessage **)&rpe)) == 1) {
		if (st->n_remaps == cap) {
			r = realloc(st->remaps, (cap = cap ? cap * 2 : 16) * sizeof(*r));
			if (!r) {
				remap_file_path_entry__free_unpacked(rpe, NULL);
				ret = -ENOMEM;
				break;
			}
			st->remaps = r;
		}
		r = &st->remaps[st->n_remaps++];
		r->orig_id = rpe->orig_id;
		r->remap_id = rpe->remap_id & ~REMAP_GHOST_BIT;
		r->type = remap_type_of(rpe);
		remap_file_path_entry__free_unpacked(rpe, NULL);
	}
	cp_image_close(img);
	if (ret < 0) {
		files_remap_restore_done(st);
		return ret;
	}
	if (st->n_remaps) /* qsort() must not get NULL, even for no element */
		qsort(st->remaps, st->n_remaps, sizeof(*st->remaps), cmp_remap);
	st->remaps_read = true;
	return 0;
}

void files_remap_restore_done(struct files_state *st)
{
	free(st->remaps);
	st->remaps = NULL;
	st->n_remaps = 0;
	st->remaps_read = false;
}

int files_remap_find(struct cp_plugin *p, uint32_t file_id, int *type, uint32_t *remap_id)
{
	struct files_state *st = files_state(p);
	struct files_remap key = { .orig_id = file_id }, *r;
	int ret;

	if (!st->remaps_read) {
		ret = read_remaps(p, st);
		if (ret)
			return ret;
	}
	r = st->n_remaps ? bsearch(&key, st->remaps, st->n_remaps, sizeof(*r), cmp_remap) : NULL;
	if (!r)
		return 0;
	*type = r->type;
	if (r->type != REMAP_TYPE__GHOST && r->type != REMAP_TYPE__LINKED) {
		pr_err("%s: file id %u is remapped to a dead process's /proc (type %d), which is "
		       "not supported yet",
		       FILES_REMAP_IMG, file_id, r->type);
		return -EOPNOTSUPP;
	}
	*remap_id = r->remap_id;
	return 1;
}

static void ghost_path(char *buf, size_t len, const char *path, uint32_t remap_id)
{
	snprintf(buf, len, "%s.cr.%x.ghost", path, remap_id);
}

/* Put the saved contents into FD: whole, or as chunks of a sparse file. */
static int ghost_fill(struct cp_image *img, int fd, const GhostFileEntry *gfe, const char *name)
{
	char *buf = malloc(GHOST_BUF);
	uint64_t size = gfe->has_size ? gfe->size : 0, off = 0, end = size;
	GhostChunkEntry *ch = NULL;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (gfe->has_chunks && gfe->chunks) {
			ret = cp_image_read_msg(img, &ghost_chunk_entry__descriptor, (ProtobufCMessage **)&ch);
			if (ret <= 0)
				break;
			off = ch->off;
			end = ch->off + ch->len;
			ghost_chunk_entry__free_unpacked(ch, NULL);
			ch = NULL;
		}
		while (off < end) {
			size_t n = end - off < GHOST_BUF ? (size_t)(end - off) : GHOST_BUF;

			ret = cp_image_read_raw(img, buf, n);
			if (ret)
				goto out;
			if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
				ret = errno ? -errno : -EIO;
				pr_perror("cannot write the ghost file %s", name);
				goto out;
			}
			off += n;
		}
		if (!(gfe->has_chunks && gfe->chunks))
			break;
	}
	if (!ret && ftruncate(fd, (off_t)size)) {
		ret = -errno;
		pr_perror("cannot set the size of the ghost file %s", name);
	}
out:
	free(buf);
	return ret < 0 ? ret : 0;
}

/* Make GPATH from ghost-file-REMAP_ID.img, unless a task did already. */
static int ghost_make(struct cp_plugin *p, const char *gpath, uint32_t remap_id)
{
	char name[64], tmp[PATH_MAX + 48];
	GhostFileEntry *gfe = NULL;
	struct cp_image *img;
	struct timespec ts[2];
	struct stat sb;
	int fd = -1, ret;

	if (!lstat(gpath, &sb))
		return 0;
	snprintf(name, sizeof(name), "ghost-file-%x.img", remap_id);
	img = cp_image_open_read(p, name, FILES_GHOST_MAGIC);
	if (!img)
		return errno ? -errno : -EIO;
	ret = cp_image_read_msg(img, &ghost_file_entry__descriptor, (ProtobufCMessage **)&gfe);
	if (ret <= 0) {
		if (!ret)
			pr_err("%s: missing or empty (ghost of %s)", name, gpath);
		ret = ret ? ret : -ENOENT;
		goto out;
	}
	if (!S_ISREG(gfe->mode)) {
		pr_err("%s: ghost of mode %#o; only regular files are supported", name, gfe->mode);
		ret = -EOPNOTSUPP;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d", gpath, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot create the ghost file %s", tmp);
		goto out;
	}
	ret = ghost_fill(img, fd, gfe, tmp);
	if (ret)
		goto out_unlink;
	if (fchown(fd, gfe->uid, gfe->gid) || fchmod(fd, gfe->mode & 07777)) {
		ret = -errno;
		pr_perror("cannot set the owner and mode of the ghost file %s", tmp);
		goto out_unlink;
	}
	ts[0].tv_sec = gfe->atim ? (time_t)gfe->atim->tv_sec : 0;
	ts[0].tv_nsec = gfe->atim ? (long)gfe->atim->tv_usec * 1000 : UTIME_OMIT;
	ts[1].tv_sec = gfe->mtim ? (time_t)gfe->mtim->tv_sec : 0;
	ts[1].tv_nsec = gfe->mtim ? (long)gfe->mtim->tv_usec * 1000 : UTIME_OMIT;
	if (futimens(fd, ts))
		pr_warn("cannot set the times of the ghost file %s: %s", tmp, strerror(errno));
	/* Another task may have made it meanwhile: then keep theirs. */
	if (link(tmp, gpath) && errno != EEXIST) {
		ret = -errno;
		pr_perror("cannot link the ghost file %s to %s", tmp, gpath);
	}
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (gfe)
		ghost_file_entry__free_unpacked(gfe, NULL);
	cp_image_close(img);
	return ret;
}

int files_ghost_open(struct cp_plugin *p, const char *path, uint32_t remap_id, unsigned int flags, uint32_t id)
{
	char gpath[PATH_MAX + 32];
	int ret;

	ghost_path(gpath, sizeof(gpath), path, remap_id);
	ret = ghost_make(p, gpath, remap_id);
	return ret ? ret : files_open_linked(gpath, path, flags, id);
}

int files_open_linked(const char *from, const char *path, unsigned int flags, uint32_t id)
{
	int fd, ret;

	/* Open it under its old name, so the fd shows "NAME (deleted)" again. */
	if (!link(from, path)) {
		fd = open(path, (int)flags);
		ret = fd < 0 ? -errno : 0;
		unlink(path);
	} else {
		if (errno != EEXIST) {
			ret = -errno;
			pr_perror("cannot link %s to %s (file id %u)", from, path, id);
			return ret;
		}
		pr_warn("%s exists again: the unlinked file (file id %u) is opened as %s", path, id, from);
		fd = open(from, (int)flags);
		ret = fd < 0 ? -errno : 0;
	}
	if (ret) {
		errno = -ret;
		pr_perror("cannot open %s through %s (file id %u, flags %#o)", path, from, id, flags);
		return ret;
	}
	return fd;
}

char *files_reg_name_of(struct cp_plugin *p, uint32_t id)
{
	struct cp_image *img = cp_image_open_read(p, "files.img", FILES_FILES_MAGIC);
	FileEntry *fe;
	char *name = NULL;

	if (!img)
		return NULL;
	while (!name && cp_image_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&fe) == 1) {
		if (fe->id == id && fe->reg && fe->reg->name)
			name = strdup(fe->reg->name);
		file_entry__free_unpacked(fe, NULL);
	}
	cp_image_close(img);
	return name;
}

int files_ghost_cleanup(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	RemapFilePathEntry *rpe;
	struct cp_image *img;
	int ret;

	img = cp_image_open_read(p, FILES_REMAP_IMG, FILES_REMAP_MAGIC);
	if (!img)
		return 0;
	while ((ret = cp_image_read_msg(img, &remap_file_path_entry__descriptor, (ProtobufCMessage **)&rpe)) == 1) {
		bool ghost = remap_type_of(rpe) == REMAP_TYPE__GHOST;
		char *name = ghost ? files_reg_name_of(p, rpe->orig_id) : NULL;

		/* A link-remap goes once the tree is restored; a failed restore keeps it to retry. */
		if (remap_type_of(rpe) == REMAP_TYPE__LINKED && (ctx->stage == CP_STAGE_POST_RESTORE || !ctx->ret))
			files_link_remap_remove(p, rpe->remap_id);
		if (name) {
			char path[PATH_MAX + 1], gpath[PATH_MAX + 32];

			snprintf(path, sizeof(path), "%s%s", name[0] == '/' ? "" : "/", name);
			ghost_path(gpath, sizeof(gpath), path, rpe->remap_id & ~REMAP_GHOST_BIT);
			if (unlink(gpath) == 0)
				pr_debug("removed the ghost file %s", gpath);
			else if (errno != ENOENT)
				pr_warn("cannot remove the ghost file %s: %s", gpath, strerror(errno));
			free(name);
		}
		remap_file_path_entry__free_unpacked(rpe, NULL);
	}
	cp_image_close(img);
	return 0;
}

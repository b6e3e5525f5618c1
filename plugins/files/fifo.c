// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "FIFO": named pipes, as CRIU saves them. The fd's FileEntry
 * (type FIFO, field 17) is a FifoEntry: the pipe's inode number as
 * pipe_id, and regf_id, the id of a second FileEntry, a RegFileEntry with
 * the FIFO's path, flags and owner, which the regular-file kind writes
 * (cp_file_dump_as() with the plugin's regular-file kind). The bytes queued go once per FIFO to
 * fifo-data.img, as for pipes (a PipeDataEntry, then the bytes).
 *
 * Restore opens the path read-write first, without blocking (a FIFO
 * opened read-write has a reader and a writer at once), puts the bytes
 * back through it once per FIFO in this task, and keeps it while the
 * regular-file kind opens the fd's own end (cp_file_open_id()): with a
 * reader and a writer present, neither a read-only nor a write-only open
 * waits. The kept fd is closed by the core with the other fds it did not
 * place. A FIFO opened in several tasks gets its bytes back in each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "fifo.pb-c.h"
#include "files.h"

static int fifo_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	/* Anonymous pipes read "pipe:[N]"; a FIFO has a path. */
	if (!S_ISFIFO(fd->st.st_mode) || !fd->link || fd->link[0] != '/')
		return -ENOTSUP;
	return 0;
}

static int fifo_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	FifoEntry fe = FIFO_ENTRY__INIT;
	uint32_t regf_id = 0;
	int ret;

	/* The path, flags and owner: a RegFileEntry of its own, as CRIU has it. */
	ret = cp_file_dump_as(p, &files_reg_ops, fd, &regf_id);
	if (ret)
		return ret;
	ret = files_pipe_dump_data(p, fd, (uint32_t)fd->st.st_ino, FILES_PDATA_FIFO);
	if (ret)
		return ret;
	fe.id = id;
	fe.pipe_id = (uint32_t)fd->st.st_ino;
	fe.has_regf_id = true;
	fe.regf_id = regf_id;
	pr_debug("%s of pid %d: FIFO %s, file id %u", files_what(fd), (int)fd->pid, fd->link, regf_id);
	return cp_payload_pack(out, &fe.base);
}

/* A read-write fd of the FIFO PIPE_ID at PATH, kept for this task and filled once. */
static int fifo_keep(struct cp_plugin *p, const struct cp_file *file, uint32_t pipe_id, const char *path)
{
	struct files_state *st = files_state(p);
	struct files_pipe_rst *fr;
	struct stat sb;
	int fd, ret;

	files_pipes_forget_inherited(st);
	for (size_t i = 0; i < st->n_fifos; i++)
		if (st->fifos[i].pipe_id == pipe_id)
			return 0;
	fr = realloc(st->fifos, (st->n_fifos + 1) * sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	st->fifos = fr;
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot open the FIFO %s", path);
		return ret;
	}
	if (fstat(fd, &sb) || !S_ISFIFO(sb.st_mode)) {
		pr_err("%s is no FIFO any more", path);
		close(fd);
		return -ESTALE;
	}
	ret = files_pipe_fill(p, pipe_id, fd, FILES_PDATA_FIFO);
	if (!ret)
		ret = files_keep_high(file, &fd);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	fr = &st->fifos[st->n_fifos++];
	fr->pipe_id = pipe_id;
	fr->ino = sb.st_ino;
	fr->fds[0] = fd;
	fr->fds[1] = -1;
	fr->used[0] = fr->used[1] = false;
	return 0;
}

static int fifo_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	FifoEntry *fe;
	char *name = NULL;
	char path[PATH_MAX + 1];
	int ret;

	fe = fifo_entry__unpack(NULL, file->payload_len, file->payload);
	if (!fe) {
		pr_err("files.img: file id %u: malformed FifoEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	if (!fe->has_regf_id || !(name = files_reg_name_of(p, fe->regf_id))) {
		pr_err("files.img: FIFO file id %u: no regular-file entry %u with its path", file->id,
		       fe->regf_id);
		ret = -EINVAL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s%s", name[0] == '/' ? "" : "/", name);
	ret = fifo_keep(p, file, fe->pipe_id, path);
	if (!ret)
		ret = cp_file_open_id(fe->regf_id, file->flags, out_fd);
out:
	free(name);
	fifo_entry__free_unpacked(fe, NULL);
	return ret;
}

int files_fifo_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct files_state *st = files_state(p);

	(void)ctx;
	files_pipes_forget_inherited(st);
	files_pipes_forget(st->fifos, st->n_fifos);
	st->fifos = NULL;
	st->n_fifos = 0;
	return 0;
}

/* The ends of one FIFO keep its queued bytes together: one task opens them all. */
static int fifo_group(struct cp_plugin *p, const struct cp_file *file, uint64_t *key)
{
	FifoEntry *fe;

	(void)p;
	*key = 0;
	fe = fifo_entry__unpack(NULL, file->payload_len, file->payload);
	if (!fe) {
		pr_err("files.img: file id %u: malformed FifoEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	*key = FILES_GROUP_FIFO | fe->pipe_id;
	fifo_entry__free_unpacked(fe, NULL);
	return 0;
}

const struct cp_fd_ops files_fifo_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "FIFO",
	.type = FILES_TYPE_FIFO,
	.payload_field = FILES_FIELD_FIFO,
	.match = fifo_match,
	.dump = fifo_dump,
	.open = fifo_open,
	.group = fifo_group,
};

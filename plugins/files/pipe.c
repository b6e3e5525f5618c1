// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "pipe": the ends of anonymous pipes, saved as CRIU's PipeEntry
 * (FileEntry type PIPE, field 18). Both ends carry the pipe's inode number
 * as pipe_id. The bytes queued in a pipe go once per pipe to
 * pipes-data.img: a PipeDataEntry (pipe_id, bytes, F_GETPIPE_SZ size)
 * followed by the bytes.
 *
 * Dump reads the queue without taking it: a new read side of the pipe
 * (opened through /proc/self/fd) is tee()d into a pipe of ours, and that
 * copy is read.
 *
 * Restore makes the pipe when the first of its ends is asked for, fills
 * it, and keeps both ends at high fd numbers (out of the way of the fd
 * numbers the core places) until they are asked for. An end asked for a
 * second time (a second open file of the same end) is opened again
 * through /proc/self/fd. A pipe whose ends are in several tasks is one
 * of the core's shared objects: the tasks' common ancestor opens its ends
 * here and they inherit them; a task forked during the restore forgets
 * the pipes of the parent it was forked from.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "files.h"
#include "pipe-data.pb-c.h"
#include "pipe.pb-c.h"

/* Status flags a pipe end may carry (fcntl F_SETFL); O_DIRECT is packet mode. */
#define PIPE_SETFL_FLAGS (O_NONBLOCK | O_DIRECT)

static int pipe_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	if (!S_ISFIFO(fd->st.st_mode) || !fd->link || strncmp(fd->link, "pipe:[", 6))
		return -ENOTSUP;
	return 0;
}

static bool pipe_data_saved(const struct files_state *st, uint32_t pipe_id)
{
	for (size_t i = 0; i < st->n_dumped; i++)
		if (st->pipes_dumped[i] == pipe_id)
			return true;
	return false;
}

/* A copy of the bytes queued in the pipe behind LFD, without taking them. */
static int pipe_peek(int lfd, int size, void **data, size_t *len, const struct cp_fd_desc *fd)
{
	int rd = -1, tmp[2] = { -1, -1 }, ret = 0;
	char path[64];
	ssize_t n, got;
	void *buf = NULL;

	*data = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", lfd);
	rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rd < 0) {
		ret = -errno;
		pr_perror("fd %d of pid %d: cannot open the read side of %s", fd->fd, (int)fd->pid, fd->link);
		goto out;
	}
	if (pipe2(tmp, O_NONBLOCK | O_CLOEXEC)) {
		ret = -errno;
		pr_perror("cannot make a pipe to copy %s", fd->link);
		goto out;
	}
	if (fcntl(tmp[1], F_SETPIPE_SZ, size) < size) {
		ret = -errno;
		pr_perror("cannot make a pipe of %d bytes to copy %s", size, fd->link);
		goto out;
	}
	n = tee(rd, tmp[1], (size_t)size, SPLICE_F_NONBLOCK);
	if (n < 0) {
		if (errno != EAGAIN) {
			ret = -errno;
			pr_perror("fd %d of pid %d: cannot copy the bytes queued in %s", fd->fd, (int)fd->pid,
				  fd->link);
		}
		goto out; /* EAGAIN: empty */
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (got = 0; got < n;) {
		ssize_t r = read(tmp[0], (char *)buf + got, (size_t)(n - got));

		if (r <= 0) {
			ret = r < 0 ? -errno : -EIO;
			pr_perror("cannot read the copy of %s", fd->link);
			goto out;
		}
		got += r;
	}
	*data = buf;
	*len = (size_t)n;
	buf = NULL;
out:
	free(buf);
	if (tmp[0] >= 0)
		close(tmp[0]);
	if (tmp[1] >= 0)
		close(tmp[1]);
	if (rd >= 0)
		close(rd);
	return ret;
}

/* Save the queue of pipe PIPE_ID to pipes-data.img, once per pipe. */
static int pipe_dump_data(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t pipe_id)
{
	struct files_state *st = files_state(p);
	PipeDataEntry pde = PIPE_DATA_ENTRY__INIT;
	bool save = true;
	uint32_t *ids;
	void *data = NULL;
	size_t len = 0;
	int size, ret;

	if (pipe_data_saved(st, pipe_id))
		return 0;
	size = fcntl(fd->local_fd, F_GETPIPE_SZ);
	if (size < 0) {
		pr_perror("fd %d of pid %d: cannot read the size of %s", fd->fd, (int)fd->pid, fd->link);
		return -errno;
	}
	cp_plugin_opt_bool(p, "pipe-data", &save);
	if (save) {
		ret = pipe_peek(fd->local_fd, size, &data, &len, fd);
		if (ret)
			return ret;
	}
	if (!st->pipes_data) {
		st->pipes_data = cp_image_open_write(p, FILES_PIPES_DATA_IMG, FILES_PIPES_DATA_MAGIC);
		if (!st->pipes_data) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
	}
	pde.pipe_id = pipe_id;
	pde.bytes = (uint32_t)len;
	pde.has_size = true;
	pde.size = (uint32_t)size;
	ret = cp_image_write_msg(st->pipes_data, &pde.base);
	if (!ret && len)
		ret = cp_image_write_raw(st->pipes_data, data, len);
	if (ret) {
		pr_err("%s: cannot save the %zu bytes of %s", FILES_PIPES_DATA_IMG, len, fd->link);
		goto out;
	}
	ids = realloc(st->pipes_dumped, (st->n_dumped + 1) * sizeof(*ids));
	if (!ids) {
		ret = -ENOMEM;
		goto out;
	}
	ids[st->n_dumped++] = pipe_id;
	st->pipes_dumped = ids;
	pr_debug("%s: %zu bytes queued, pipe size %d", fd->link, len, size);
out:
	free(data);
	return ret;
}

static int pipe_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	PipeEntry pe = PIPE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	int ret;

	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (!ret)
		ret = pipe_dump_data(p, fd, (uint32_t)fd->st.st_ino);
	if (ret)
		return ret;
	pe.id = id;
	pe.pipe_id = (uint32_t)fd->st.st_ino;
	pe.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	pe.fown = &fown;
	return cp_payload_pack(out, &pe.base);
}

int files_pipe_dump_done(struct files_state *st)
{
	int ret;

	ret = cp_image_close(st->pipes_data);
	st->pipes_data = NULL;
	free(st->pipes_dumped);
	st->pipes_dumped = NULL;
	st->n_dumped = 0;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Restore                                                              */

/*
 * Move FD out of the way of the task's fds, which the core places with
 * dup2(): to FILE->keep_fd_min or above (ABI 1.2), or, from an older
 * core, near the top of RLIMIT_NOFILE. *FD is closed either way.
 */
static int pipe_keep_high(const struct cp_file *file, int *fd)
{
	struct rlimit rl;
	long base = 0;
	int n;

	if (CP_FILE_HAS(file, keep_fd_min) && file->keep_fd_min > 0)
		base = file->keep_fd_min;
	else if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur >= 64)
		base = rl.rlim_cur > 1024 ? (long)rl.rlim_cur - 256 : (long)rl.rlim_cur / 2;
	if (base <= *fd)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, (int)base);
	if (n < 0) {
		int err = -errno;

		pr_perror("cannot keep a pipe end at fd %ld or above", base);
		close(*fd);
		*fd = -1;
		return err;
	}
	close(*fd);
	*fd = n;
	return 0;
}

static int cmp_pdata(const void *a, const void *b)
{
	const struct files_pipe_data *x = a, *y = b;

	return x->pipe_id < y->pipe_id ? -1 : x->pipe_id > y->pipe_id;
}

/*
 * Index pipes-data.img once: where each pipe's bytes are. Scanning the
 * image for every pipe made restoring 2,000 pipes quadratic.
 */
static int pipe_data_index(struct cp_plugin *p, struct files_state *st)
{
	struct files_pipe_data *pd;
	PipeDataEntry *pde = NULL;
	struct cp_image *img;
	size_t cap = 0;
	int ret;

	img = cp_image_open_read(p, FILES_PIPES_DATA_IMG, FILES_PIPES_DATA_MAGIC);
	if (!img)
		return errno ? -errno : -EIO;
	while ((ret = cp_image_read_msg(img, &pipe_data_entry__descriptor, (ProtobufCMessage **)&pde)) == 1) {
		if (st->n_pdata == cap) {
			pd = realloc(st->pdata, (cap = cap ? cap * 2 : 64) * sizeof(*pd));
			if (!pd) {
				ret = -ENOMEM;
				break;
			}
			st->pdata = pd;
		}
		pd = &st->pdata[st->n_pdata];
		pd->pipe_id = pde->pipe_id;
		pd->bytes = pde->bytes;
		pd->has_size = pde->has_size;
		pd->size = pde->size;
		pd->off = lseek(cp_image_fd(img), 0, SEEK_CUR);
		if (pd->off < 0 || (pde->bytes && lseek(cp_image_fd(img), pde->bytes, SEEK_CUR) < 0)) {
			ret = -errno;
			pr_perror("%s: cannot skip the data of pipe %u", FILES_PIPES_DATA_IMG, pde->pipe_id);
			break;
		}
		st->n_pdata++;
		pipe_data_entry__free_unpacked(pde, NULL);
		pde = NULL;
	}
	if (pde)
		pipe_data_entry__free_unpacked(pde, NULL);
	cp_image_close(img);
	if (ret < 0)
		return ret;
	qsort(st->pdata, st->n_pdata, sizeof(*st->pdata), cmp_pdata);
	st->pdata_read = true;
	return 0;
}

/* Put the saved bytes of pipe PIPE_ID (and its size) into the new pipe WR. */
static int pipe_fill(struct cp_plugin *p, uint32_t pipe_id, int wr)
{
	struct files_state *st = files_state(p);
	struct files_pipe_data key = { .pipe_id = pipe_id }, *pd;
	struct cp_image *img = NULL;
	void *buf = NULL;
	int ret;

	if (!st->pdata_read) {
		ret = pipe_data_index(p, st);
		if (ret)
			return ret;
	}
	pd = bsearch(&key, st->pdata, st->n_pdata, sizeof(*pd), cmp_pdata);
	if (!pd)
		return 0; /* no entry: an empty pipe of the default size */
	if (pd->has_size && fcntl(wr, F_SETPIPE_SZ, (int)pd->size) < 0) {
		pr_perror("pipe %u: cannot set its size to %u bytes", pipe_id, pd->size);
		return -errno;
	}
	if (!pd->bytes)
		return 0;
	buf = malloc(pd->bytes);
	img = cp_image_open_read(p, FILES_PIPES_DATA_IMG, FILES_PIPES_DATA_MAGIC);
	if (!buf || !img) {
		ret = !buf ? -ENOMEM : errno ? -errno : -EIO;
		goto out;
	}
	if (pread(cp_image_fd(img), buf, pd->bytes, pd->off) != (ssize_t)pd->bytes) {
		ret = errno ? -errno : -EIO;
		pr_perror("%s: cannot read the %u bytes of pipe %u", FILES_PIPES_DATA_IMG, pd->bytes, pipe_id);
		goto out;
	}
	/* The pipe is as big as it was, so the bytes fit; never block on it. */
	if (write(wr, buf, pd->bytes) != (ssize_t)pd->bytes) {
		ret = errno ? -errno : -EIO;
		pr_perror("pipe %u: cannot put back its %u bytes", pipe_id, pd->bytes);
		goto out;
	}
	ret = 0;
	pr_debug("pipe %u: %u bytes put back", pipe_id, pd->bytes);
out:
	free(buf);
	if (img)
		cp_image_close(img);
	return ret;
}

/*
 * Forget the pipes of the parent this task was forked from: their kept
 * ends are the parent's numbers, which this task may have given its own
 * fds (maybe of the same pipe). Pipes used by several tasks come from
 * the core's shared objects; the core closes what the task inherited.
 */
static void pipe_forget_inherited(struct files_state *st)
{
	if (st->pipes_pid == getpid())
		return;
	free(st->pipes);
	st->pipes = NULL;
	st->n_pipes = 0;
	st->pipes_pid = getpid();
}

/* The pipe PIPE_ID of this task, made (and filled) the first time. */
static int pipe_get(struct cp_plugin *p, const struct cp_file *file, uint32_t pipe_id,
		    struct files_pipe_rst **out)
{
	struct files_state *st = files_state(p);
	struct files_pipe_rst *pr;
	int fds[2], ret;
	struct stat sb;

	pipe_forget_inherited(st);
	for (size_t i = 0; i < st->n_pipes; i++) {
		if (st->pipes[i].pipe_id == pipe_id) {
			*out = &st->pipes[i];
			return 0;
		}
	}
	pr = realloc(st->pipes, (st->n_pipes + 1) * sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	st->pipes = pr;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
		pr_perror("cannot make pipe %u", pipe_id);
		return -errno;
	}
	ret = pipe_fill(p, pipe_id, fds[1]);
	if (!ret && fstat(fds[0], &sb))
		ret = -errno;
	if (!ret && (fcntl(fds[0], F_SETFL, 0) || fcntl(fds[1], F_SETFL, 0)))
		ret = -errno;
	if (!ret)
		ret = pipe_keep_high(file, &fds[0]);
	if (!ret)
		ret = pipe_keep_high(file, &fds[1]);
	if (ret) {
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return ret;
	}
	pr = &st->pipes[st->n_pipes++];
	pr->pipe_id = pipe_id;
	pr->ino = sb.st_ino;
	pr->fds[0] = fds[0];
	pr->fds[1] = fds[1];
	pr->used[0] = pr->used[1] = false;
	*out = pr;
	return 0;
}

/* A new fd for END of PR: the kept end itself the first time, else a new open file. */
static int pipe_end_fd(struct files_pipe_rst *pr, int end, unsigned int acc)
{
	struct stat sb;
	char path[64];
	int fd;

	/* The kept end must still be our pipe: nobody may have put another file there. */
	if (fstat(pr->fds[end], &sb) || !S_ISFIFO(sb.st_mode) || sb.st_ino != pr->ino) {
		pr_err("pipe %u: the end kept at fd %d is gone", pr->pipe_id, pr->fds[end]);
		return -EBADF;
	}
	if (!pr->used[end] && acc != O_RDWR) {
		fd = fcntl(pr->fds[end], F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			pr_perror("pipe %u: cannot dup its kept end", pr->pipe_id);
			return -errno;
		}
		pr->used[end] = true;
		return fd;
	}
	/* Opening a pipe through /proc is opening a FIFO: a reader exists, so no wait. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pr->fds[end]);
	fd = open(path, (int)acc | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("pipe %u: cannot open it again through %s", pr->pipe_id, path);
		return -errno;
	}
	return fd;
}

static int pipe_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	struct files_pipe_rst *pr = NULL;
	unsigned int acc;
	PipeEntry *pe;
	char what[64];
	int fd = -1, ret;

	pe = pipe_entry__unpack(NULL, file->payload_len, file->payload);
	if (!pe) {
		pr_err("files.img: file id %u: malformed PipeEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "pipe:[%u] (file id %u)", pe->pipe_id, file->id);
	ret = pipe_get(p, file, pe->pipe_id, &pr);
	if (ret)
		goto out;
	acc = pe->flags & O_ACCMODE;
	fd = pipe_end_fd(pr, acc == O_WRONLY ? 1 : 0, acc);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	/* Status flags belong to the open file, which the kept end shares. */
	if (fcntl(fd, F_SETFL, pe->flags & PIPE_SETFL_FLAGS) < 0) {
		ret = -errno;
		pr_perror("%s: cannot set flags %#o", what, pe->flags & PIPE_SETFL_FLAGS);
		goto out;
	}
	ret = files_fown_restore(fd, pe->fown, what);
	if (!ret)
		ret = files_set_async(fd, pe->flags, what);
	if (ret)
		goto out;
	*out_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	pipe_entry__free_unpacked(pe, NULL);
	return ret;
}

int files_pipe_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct files_state *st = files_state(p);

	(void)ctx;
	pipe_forget_inherited(st);
	/*
	 * The core closes the fds it did not place before this stage; close
	 * what is left of ours, checking that the number is still our pipe.
	 */
	for (size_t i = 0; i < st->n_pipes; i++) {
		for (int end = 0; end < 2; end++) {
			struct stat sb;
			int fd = st->pipes[i].fds[end];

			if (!fstat(fd, &sb) && S_ISFIFO(sb.st_mode) && sb.st_ino == st->pipes[i].ino)
				close(fd);
		}
	}
	free(st->pipes);
	st->pipes = NULL;
	st->n_pipes = 0;
	free(st->pdata);
	st->pdata = NULL;
	st->n_pdata = 0;
	st->pdata_read = false;
	return 0;
}

const struct cp_fd_ops files_pipe_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "pipe",
	.type = FILES_TYPE_PIPE,
	.payload_field = FILES_FIELD_PIPE,
	.match = pipe_match,
	.dump = pipe_dump,
	.open = pipe_open,
};

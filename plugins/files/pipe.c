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

static const struct {
	const char *name;
	uint32_t magic;
} pdata_img[FILES_PDATA__N] = {
	[FILES_PDATA_PIPE] = { FILES_PIPES_DATA_IMG, FILES_PIPES_DATA_MAGIC },
	[FILES_PDATA_FIFO] = { FILES_FIFO_DATA_IMG, FILES_FIFO_DATA_MAGIC },
};

static bool pipe_data_saved(const struct files_pdata *pd, uint32_t pipe_id)
{
	for (size_t i = 0; i < pd->n_dumped; i++)
		if (pd->dumped[i] == pipe_id)
			return true;
	return false;
}

/* A copy of the bytes queued in the pipe behind LFD, without taking them. */
static int pipe_peek(int lfd, int size, void **data, size_t *len, const struct cp_fd_desc *fd)
{
	int rd = -1, tmp[2] = { -1, -1 }, ret = 0;
	ssize_t n, got;
	void *buf = NULL;

	*data = NULL;
	*len = 0;
	rd = files_reopen(lfd, O_RDONLY | O_NONBLOCK);
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

int files_pipe_dump_data(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t pipe_id,
			 enum files_pdata_kind kind)
{
	struct files_pdata *pd = &files_state(p)->pdata[kind];
	const char *img = pdata_img[kind].name;
	PipeDataEntry pde = PIPE_DATA_ENTRY__INIT;
	bool save = true;
	uint32_t *ids;
	void *data = NULL;
	size_t len = 0;
	int size, ret;

	if (pipe_data_saved(pd, pipe_id))
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
	if (!pd->img) {
		pd->img = cp_image_open_write(p, img, pdata_img[kind].magic);
		if (!pd->img) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
	}
	pde.pipe_id = pipe_id;
	pde.bytes = (uint32_t)len;
	pde.has_size = true;
	pde.size = (uint32_t)size;
	ret = cp_image_write_msg(pd->img, &pde.base);
	if (!ret && len)
		ret = cp_image_write_raw(pd->img, data, len);
	if (ret) {
		pr_err("%s: cannot save the %zu bytes of %s", img, len, fd->link);
		goto out;
	}
	ids = realloc(pd->dumped, (pd->n_dumped + 1) * sizeof(*ids));
	if (!ids) {
		ret = -ENOMEM;
		goto out;
	}
	ids[pd->n_dumped++] = pipe_id;
	pd->dumped = ids;
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
		ret = files_pipe_dump_data(p, fd, (uint32_t)fd->st.st_ino, FILES_PDATA_PIPE);
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
	int ret = 0;

	for (int k = 0; k < FILES_PDATA__N; k++) {
		struct files_pdata *pd = &st->pdata[k];
		int r = cp_image_close(pd->img);

		ret = ret ?: r;
		pd->img = NULL;
		free(pd->dumped);
		pd->dumped = NULL;
		pd->n_dumped = 0;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Restore                                                              */

/*
 * Move FD out of the way of the task's fds, which the core places with
 * dup2(): to FILE->keep_fd_min or above (ABI 1.2), or, from an older
 * core, near the top of RLIMIT_NOFILE. *FD is closed on failure.
 */
int files_keep_high(const struct cp_file *file, int *fd)
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
 * Index KIND's data image once: where each pipe's bytes are. Scanning the
 * image for every pipe made restoring 2,000 pipes quadratic.
 */
static int pipe_data_index(struct cp_plugin *p, struct files_pdata_index *ix, enum files_pdata_kind kind)
{
	const char *name = pdata_img[kind].name;
	struct files_pipe_data *pd;
	PipeDataEntry *pde = NULL;
	struct cp_image *img;
	size_t cap = 0;
	int ret;

	img = cp_image_open_read(p, name, pdata_img[kind].magic);
	if (!img)
		return errno ? -errno : -EIO;
	while ((ret = cp_image_read_msg(img, &pipe_data_entry__descriptor, (ProtobufCMessage **)&pde)) == 1) {
		if (ix->n == cap) {
			pd = realloc(ix->e, (cap = cap ? cap * 2 : 64) * sizeof(*pd));
			if (!pd) {
				ret = -ENOMEM;
				break;
			}
			ix->e = pd;
		}
		pd = &ix->e[ix->n];
		pd->pipe_id = pde->pipe_id;
		pd->bytes = pde->bytes;
		pd->has_size = pde->has_size;
		pd->size = pde->size;
		pd->off = lseek(cp_image_fd(img), 0, SEEK_CUR);
		if (pd->off < 0 || (pde->bytes && lseek(cp_image_fd(img), pde->bytes, SEEK_CUR) < 0)) {
			ret = -errno;
			pr_perror("%s: cannot skip the data of pipe %u", name, pde->pipe_id);
			break;
		}
		ix->n++;
		pipe_data_entry__free_unpacked(pde, NULL);
		pde = NULL;
	}
	if (pde)
		pipe_data_entry__free_unpacked(pde, NULL);
	cp_image_close(img);
	if (ret < 0) {
		free(ix->e);
		ix->e = NULL;
		ix->n = 0;
		return ret;
	}
	if (ix->n) /* qsort() and bsearch() must not get NULL, even for no element */
		qsort(ix->e, ix->n, sizeof(*ix->e), cmp_pdata);
	ix->read = true;
	return 0;
}

void files_pipe_fill_done(struct files_state *st)
{
	for (int k = 0; k < FILES_PDATA__N; k++) {
		free(st->pdata_idx[k].e);
		st->pdata_idx[k] = (struct files_pdata_index){ 0 };
	}
}

int files_pipe_fill(struct cp_plugin *p, uint32_t pipe_id, int wr, enum files_pdata_kind kind)
{
	struct files_pdata_index *ix = &files_state(p)->pdata_idx[kind];
	struct files_pipe_data key = { .pipe_id = pipe_id }, *pd;
	const char *name = pdata_img[kind].name;
	struct cp_image *img = NULL;
	void *buf = NULL;
	int ret;

	if (!ix->read) {
		ret = pipe_data_index(p, ix, kind);
		if (ret)
			return ret;
	}
	pd = ix->n ? bsearch(&key, ix->e, ix->n, sizeof(*pd), cmp_pdata) : NULL;
	if (!pd)
		return 0; /* no entry: an empty pipe of the default size */
	if (pd->has_size && fcntl(wr, F_SETPIPE_SZ, (int)pd->size) < 0) {
		pr_perror("pipe %u: cannot set its size to %u bytes", pipe_id, pd->size);
		return -errno;
	}
	if (!pd->bytes)
		return 0;
	buf = malloc(pd->bytes);
	img = cp_image_open_read(p, name, pdata_img[kind].magic);
	if (!buf || !img) {
		ret = !buf ? -ENOMEM : errno ? -errno : -EIO;
		goto out;
	}
	if (pread(cp_image_fd(img), buf, pd->bytes, pd->off) != (ssize_t)pd->bytes) {
		ret = errno ? -errno : -EIO;
		pr_perror("%s: cannot read the %u bytes of pipe %u", name, pd->bytes, pipe_id);
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
 * Forget the pipes and FIFOs of the parent this task was forked from:
 * their kept ends are the parent's numbers, which this task may have
 * given its own fds (maybe of the same pipe). Pipes used by several tasks
 * come from the core's shared objects; the core closes what the task
 * inherited.
 */
void files_pipes_forget_inherited(struct files_state *st)
{
	if (st->pipes_pid == getpid())
		return;
	free(st->pipes);
	st->pipes = NULL;
	st->n_pipes = 0;
	free(st->fifos);
	st->fifos = NULL;
	st->n_fifos = 0;
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

	files_pipes_forget_inherited(st);
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
	ret = files_pipe_fill(p, pipe_id, fds[1], FILES_PDATA_PIPE);
	if (!ret && fstat(fds[0], &sb))
		ret = -errno;
	if (!ret && (fcntl(fds[0], F_SETFL, 0) || fcntl(fds[1], F_SETFL, 0)))
		ret = -errno;
	if (!ret)
		ret = files_keep_high(file, &fds[0]);
	if (!ret)
		ret = files_keep_high(file, &fds[1]);
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
	fd = files_reopen(pr->fds[end], (int)acc | O_NONBLOCK);
	if (fd < 0) {
		pr_perror("pipe %u: cannot open it again through /proc/self/fd/%d", pr->pipe_id, pr->fds[end]);
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

void files_pipes_forget(struct files_pipe_rst *pr, size_t n)
{
	/*
	 * The core closes the fds it did not place before this stage; close
	 * what is left of ours, checking that the number is still our pipe.
	 */
	for (size_t i = 0; i < n; i++) {
		for (int end = 0; end < 2; end++) {
			struct stat sb;
			int fd = pr[i].fds[end];

			if (fd >= 0 && !fstat(fd, &sb) && S_ISFIFO(sb.st_mode) && sb.st_ino == pr[i].ino)
				close(fd);
		}
	}
	free(pr);
}

int files_pipe_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct files_state *st = files_state(p);

	(void)ctx;
	files_pipes_forget_inherited(st);
	files_pipes_forget(st->pipes, st->n_pipes);
	st->pipes = NULL;
	st->n_pipes = 0;
	return 0;
}

/*
 * The two ends of one pipe only work together: one task makes the pipe
 * (core/restore/shared.c). The key is the pipe id, tagged by kind.
 */
static int pipe_group(struct cp_plugin *p, const struct cp_file *file, uint64_t *key)
{
	PipeEntry *pe;

	(void)p;
	*key = 0;
	pe = pipe_entry__unpack(NULL, file->payload_len, file->payload);
	if (!pe) {
		pr_err("files.img: file id %u: malformed PipeEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	*key = FILES_GROUP_PIPE | pe->pipe_id;
	pipe_entry__free_unpacked(pe, NULL);
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
	.group = pipe_group,
};

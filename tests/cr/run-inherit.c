// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The desc key `inherit` (run.h): an fd of the test whose other side is
 * outside the dumped tree, swapped on restore for an fd the runner hands
 * criu with --inherit-fd (or RPC inherit_fd).
 *
 *   inherit: pipe N        the runner gives the test fd N, the write end
 *                          of a pipe whose read end it keeps;
 *   inherit: file N NAME   the test opens NAME (in its dir) at fd N itself.
 *
 * The test writes INHERIT_BEFORE to fd N before test_daemon() and
 * INHERIT_AFTER after test_waitsig(). Before the restore the runner makes
 * a new pipe (or moves NAME to NAME.orig and puts a copy in its place,
 * opened with the test's flags and offset) and passes it to criu as fd N
 * too, with the key CRIU uses: pipe:[INODE] of the old pipe, or
 * NAME's path without the leading '/'. After the restore the test's fd N
 * must be the runner's open file (kcmp), and in the end only the new one
 * may have got INHERIT_AFTER.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"

#define INHERIT_BEFORE "inherit-before\n"
#define INHERIT_AFTER "inherit-after\n"

int inherit_parse(struct desc *d, const char *val, const char *path)
{
	struct inherit *in = &d->inherit[d->nr_inherit];
	char kind[16] = "";
	int n;

	if (d->nr_inherit >= MAX_INHERIT) {
		fprintf(stderr, "run: %s: more than %d inherit lines\n", path, MAX_INHERIT);
		return -EINVAL;
	}
	memset(in, 0, sizeof(*in));
	n = sscanf(val, "%15s %d %127s", kind, &in->fd, in->name);
	in->file = !strcmp(kind, "file");
	if (n < 2 || in->fd < 3 || in->fd >= INHERIT_BASE || (in->file ? n != 3 : strcmp(kind, "pipe") || n != 2)) {
		fprintf(stderr, "run: %s: bad inherit line \"%s\"\n", path, val);
		return -EINVAL;
	}
	d->nr_inherit++;
	return 0;
}

/* Before the test starts: the pipes whose write end the test gets. */
int inherit_start(struct run *r)
{
	for (int i = 0; i < r->desc.nr_inherit; i++) {
		struct inherit_run *ir = &r->inh[i];
		int p[2];

		ir->old_rd = ir->child = ir->pass = ir->new_rd = -1;
		if (r->desc.inherit[i].file)
			continue;
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
			return -errno;
		ir->old_rd = p[0];
		ir->child = p[1];
		/* The test's end blocks, as a shell's pipe would. */
		fcntl(p[1], F_SETFL, 0);
	}
	return 0;
}

/* Close every fd from 3 up but the KEEP[N] ones. */
void close_fds_except(const int *keep, int n)
{
	unsigned int from = 3;

	for (;;) {
		unsigned int next = ~0U;

		for (int i = 0; i < n; i++)
			if (keep[i] >= (int)from && (unsigned int)keep[i] < next)
				next = (unsigned int)keep[i];
		if (next > from)
			close_range(from, next == ~0U ? ~0U : next - 1, 0);
		if (next == ~0U)
			break;
		from = next + 1;
	}
}

/* In the test's child before exec: its pipe ends at their numbers; close the rest. */
void inherit_child_fds(struct run *r)
{
	int keep[MAX_INHERIT], n = 0;

	for (int i = 0; i < r->desc.nr_inherit; i++) {
		if (r->inh[i].child < 0)
			continue;
		dup2(r->inh[i].child, r->desc.inherit[i].fd);
		keep[n++] = r->desc.inherit[i].fd;
	}
	close_fds_except(keep, n);
}

/*
 * In criu's child before exec: each fd to inherit at the number the test
 * had it (as a shell hands criu the job's stdout as its own stdout: criu
 * must move it out of the way of the task's fd); close the rest.
 */
void inherit_criu_fds(struct run *r)
{
	int keep[MAX_INHERIT], hi[MAX_INHERIT], n = 0;

	/* Out of the way first: a target number may be one of our fds. */
	for (int i = 0; i < r->desc.nr_inherit; i++)
		hi[i] = r->inh[i].pass < 0 ? -1 : fcntl(r->inh[i].pass, F_DUPFD_CLOEXEC, INHERIT_BASE);
	for (int i = 0; i < r->desc.nr_inherit; i++) {
		if (hi[i] < 0)
			continue;
		dup2(hi[i], r->desc.inherit[i].fd);
		keep[n++] = r->desc.inherit[i].fd;
	}
	close_fds_except(keep, n);
}

/* The test is ready: close our copy of its ends; note the flags and offset of its files. */
int inherit_ready(struct run *r)
{
	for (int i = 0; i < r->desc.nr_inherit; i++) {
		struct inherit_run *ir = &r->inh[i];
		char path[64], *info;

		if (ir->child >= 0) {
			close(ir->child);
			ir->child = -1;
		}
		xsnprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", r->pid, r->desc.inherit[i].fd);
		info = read_file(path);
		if (!info || sscanf(strstr(info, "pos:") ? strstr(info, "pos:") : "", "pos: %lld", &ir->pos) != 1 ||
		    !strstr(info, "flags:") || sscanf(strstr(info, "flags:"), "flags: %o", &ir->flags) != 1) {
			set_reason(r, "inherit: cannot read %s", path);
			free(info);
			return -EIO;
		}
		free(info);
	}
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	char *s = read_file(from);
	int fd, ret = 0;

	if (!s)
		return -errno;
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -EIO;
	if (fd >= 0)
		close(fd);
	free(s);
	return ret;
}

/* Before the restore: the replacements, and the options that name them. */
int inherit_prepare(struct run *r)
{
	for (int i = 0; i < r->desc.nr_inherit; i++) {
		const struct inherit *in = &r->desc.inherit[i];
		struct inherit_run *ir = &r->inh[i];
		char path[PATH_MAX], orig[PATH_MAX + 8];
		struct stat sb;
		int p[2];

		if (!in->file) {
			if (fstat(ir->old_rd, &sb) || pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
				set_reason(r, "inherit: pipe: %s", strerror(errno));
				return -EIO;
			}
			fcntl(p[1], F_SETFL, 0);
			ir->new_rd = p[0];
			ir->pass = p[1];
			xsnprintf(ir->key, sizeof(ir->key), "pipe:[%lu]", (unsigned long)sb.st_ino);
		} else {
			xsnprintf(path, sizeof(path), "%s/%s", r->dir, in->name);
			xsnprintf(orig, sizeof(orig), "%s.orig", path);
			if (rename(path, orig) || copy_file(orig, path)) {
				set_reason(r, "inherit: cannot replace %s: %s", path, strerror(errno));
				return -EIO;
			}
			ir->pass = open(path, (int)(ir->flags & ~(unsigned int)(O_CLOEXEC | O_CREAT)) | O_CLOEXEC);
			if (ir->pass < 0 || lseek(ir->pass, ir->pos, SEEK_SET) != ir->pos) {
				set_reason(r, "inherit: cannot open %s: %s", path, strerror(errno));
				return -EIO;
			}
			/* CRIU's key for a file: its path without the leading '/'. */
			xsnprintf(ir->key, sizeof(ir->key), "%s", path + 1);
		}
		xsnprintf(ir->opt, sizeof(ir->opt), "fd[%d]:%s", in->fd, ir->key);
		xsnprintf(ir->rpc, sizeof(ir->rpc), "%d:%s", in->fd, ir->key);
	}
	return 0;
}

/* " --inherit-fd fd[K]:KEY" for each, into BUF. */
void inherit_cli_opts(struct run *r, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < r->desc.nr_inherit && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " --inherit-fd %s", r->inh[i].opt);
}

/* After the restore: fd N of the test is the very open file the runner passed. */
int inherit_check_restored(struct run *r)
{
	for (int i = 0; i < r->desc.nr_inherit; i++) {
		int fd = r->desc.inherit[i].fd;

		if (syscall(SYS_kcmp, getpid(), r->pid, KCMP_FILE, r->inh[i].pass, fd) != 0) {
			set_reason(r, "inherit: fd %d of the restored task is not the inherited %s", fd,
				   r->inh[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

static int expect(struct run *r, const char *what, const char *got, const char *want)
{
	if (got && !strcmp(got, want))
		return 0;
	set_reason(r, "inherit: %s has \"%s\", expected \"%s\"", what, got ? got : "(unreadable)", want);
	return -EINVAL;
}

static char *drain(int fd)
{
	static char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n < 0 && errno != EAGAIN ? NULL : buf;
}

/* The test has ended: what went where. RESTORED: there was a restore. */
int inherit_check_end(struct run *r, bool restored)
{
	int ret = 0;

	for (int i = 0; i < r->desc.nr_inherit && !ret; i++) {
		const struct inherit *in = &r->desc.inherit[i];
		struct inherit_run *ir = &r->inh[i];
		char path[PATH_MAX], orig[PATH_MAX + 8], *s;

		if (!in->file) {
			ret = expect(r, "the old pipe", drain(ir->old_rd),
				     restored ? INHERIT_BEFORE : INHERIT_BEFORE INHERIT_AFTER);
			if (!ret && restored)
				ret = expect(r, "the inherited pipe", drain(ir->new_rd), INHERIT_AFTER);
			continue;
		}
		xsnprintf(path, sizeof(path), "%s/%s", r->dir, in->name);
		xsnprintf(orig, sizeof(orig), "%s.orig", path);
		s = read_file(path);
		ret = expect(r, in->name, s, INHERIT_BEFORE INHERIT_AFTER);
		free(s);
		if (!ret && restored) {
			s = read_file(orig);
			ret = expect(r, "the file it had before the dump", s, INHERIT_BEFORE);
			free(s);
		}
	}
	return ret;
}

void inherit_close(struct run *r)
{
	for (int i = 0; i < r->desc.nr_inherit; i++) {
		int *fds[] = { &r->inh[i].old_rd, &r->inh[i].child, &r->inh[i].pass, &r->inh[i].new_rd };

		for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++) {
			if (*fds[k] >= 0)
				close(*fds[k]);
			*fds[k] = -1;
		}
	}
}

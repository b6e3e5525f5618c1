// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * --inherit-fd fd[N]:RESOURCE, as CRIU has it: fd N, which criu got from
 * its caller (on the command line, or in swrk from the RPC client),
 * stands in for the external resource RESOURCE wherever the tree used
 * it. RESOURCE names a file of files.img the way CRIU names it:
 * "pipe:[PIPE_ID]", "socket:[INODE]", or a regular file's path (CRIU
 * writes it without the leading '/'; both forms match here). Such a file
 * is never handed to its plugin: the task gets a dup of fd N, so it shares
 * the caller's open file (offset and status flags are the caller's).
 *
 * The hidden form debug[N]:TEXT writes TEXT to fd N, as CRIU does.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "images/image.h"
#include "log/log.h"
#include "options/options.h"
#include "restore/restore.h"

/* "PREFIX[N]:REST" -> N and REST; false if VAL has another shape. */
static bool parse_slot(const char *val, const char *prefix, int *fd, const char **rest)
{
	size_t len = strlen(prefix);
	char *end;
	long n;

	if (strncmp(val, prefix, len) || val[len] != '[' || val[len + 1] < '0' || val[len + 1] > '9')
		return false;
	errno = 0;
	n = strtol(val + len + 1, &end, 10);
	if (errno || n > 0x7fffffff || end[0] != ']' || end[1] != ':' || !end[2])
		return false;
	*fd = (int)n;
	*rest = end + 2;
	return true;
}

static int add_inherit(struct rst_tree *t, int fd, const char *key)
{
	struct rst_inherit *n = realloc(t->inherit, (t->nr_inherit + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->inherit = n;
	n[t->nr_inherit].fd = fd;
	n[t->nr_inherit].old = -1;
	n[t->nr_inherit].key = strdup(key);
	if (!n[t->nr_inherit].key)
		return -ENOMEM;
	t->nr_inherit++;
	return 0;
}

int rst_inherit_parse(struct rst_tree *t)
{
	const struct options *o = t->opts.o;
	size_t nr = o ? opt_list_len(o, OPT_INHERIT_FD) : 0;
	const char *val, *rest;
	int fd, ret;

	for (size_t i = 0; i < nr; i++) {
		val = opt_list_at(o, OPT_INHERIT_FD, i);
		if (parse_slot(val, "debug", &fd, &rest)) {
			if (write(fd, rest, strlen(rest)) < 0 || write(fd, "\n", 1) < 0)
				pr_perror("--inherit-fd %s: cannot write to fd %d", val, fd);
			continue;
		}
		if (!parse_slot(val, "fd", &fd, &rest)) {
			err_ctx_set_remedy("write it as fd[N]:RESOURCE, e.g. fd[3]:pipe:[12345]");
			pr_err("--inherit-fd: bad value \"%s\"", val);
			return -EINVAL;
		}
		if (fcntl(fd, F_GETFD) < 0) {
			err_ctx_set_remedy("pass the fd on to criu (do not close it or mark it close-on-exec)");
			pr_err("--inherit-fd %s: fd %d is not open in criu", val, fd);
			return -EBADF;
		}
		for (size_t k = 0; k < t->nr_inherit; k++) {
			if (!strcmp(t->inherit[k].key, rest)) {
				pr_err("--inherit-fd %s: %s is given twice", val, rest);
				return -EINVAL;
			}
		}
		ret = add_inherit(t, fd, rest);
		if (ret)
			return ret;
		pr_info("--inherit-fd: fd %d stands for %s", fd, rest);
	}
	return 0;
}

void rst_inherit_free(struct rst_tree *t)
{
	for (size_t i = 0; i < t->nr_inherit; i++)
		free(t->inherit[i].key);
	free(t->inherit);
	t->inherit = NULL;
	t->nr_inherit = 0;
}

int rst_inherit_move_high(struct rst_tree *t, int min)
{
	for (size_t i = 0; t && i < t->nr_inherit; i++) {
		int old = t->inherit[i].fd, n;

		if (old >= min)
			continue;
		/* Two keys may name one fd: move it once. */
		for (size_t k = 0; k < i; k++) {
			if (t->inherit[k].fd >= min && t->inherit[k].old == old) {
				t->inherit[i].old = old;
				t->inherit[i].fd = t->inherit[k].fd;
				break;
			}
		}
		if (t->inherit[i].fd >= min)
			continue;
		n = fcntl(old, F_DUPFD_CLOEXEC, min);
		if (n < 0) {
			pr_perror("cannot move the inherited fd %d above %d", old, min);
			return -errno;
		}
		t->inherit[i].old = old;
		t->inherit[i].fd = n;
	}
	/* Only now: a number moved away may be another key's too. */
	for (size_t i = 0; t && i < t->nr_inherit; i++) {
		if (t->inherit[i].old >= 0 && t->inherit[i].old < min)
			close(t->inherit[i].old);
		t->inherit[i].old = -1;
	}
	return 0;
}

/* Does KEY name file F, as CRIU names its files? */
static bool key_names(const char *key, const struct rst_file *f)
{
	const FileEntry *fe = f->fe;
	char buf[64];

	switch (f->type) {
	case FD_TYPES__PIPE:
		if (!fe->pipe)
			return false;
		snprintf(buf, sizeof(buf), "pipe:[%u]", fe->pipe->pipe_id);
		return !strcmp(key, buf);
	case FD_TYPES__UNIXSK:
		if (!fe->usk)
			return false;
		snprintf(buf, sizeof(buf), "socket:[%u]", fe->usk->ino);
		return !strcmp(key, buf);
	case FD_TYPES__INETSK:
		if (!fe->isk)
			return false;
		snprintf(buf, sizeof(buf), "socket:[%u]", fe->isk->ino);
		return !strcmp(key, buf);
	case FD_TYPES__REG:
		if (!fe->reg || !fe->reg->name)
			return false;
		return !strcmp(key, fe->reg->name) ||
		       (fe->reg->name[0] == '/' && !strcmp(key, fe->reg->name + 1));
	default:
		return false;
	}
}

int rst_inherit_open(const struct rst_ctx *c, const struct rst_file *f, int *out)
{
	const struct rst_tree *t = c->tree;

	for (size_t i = 0; t && f->fe && i < t->nr_inherit; i++) {
		int fd;

		if (!key_names(t->inherit[i].key, f))
			continue;
		fd = fcntl(t->inherit[i].fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			pr_perror("pid %d: cannot dup the inherited fd %d for %s", c->pid,
				  t->inherit[i].fd, t->inherit[i].key);
			return -errno;
		}
		pr_info("pid %d: file id %u is %s: the inherited fd", c->pid, f->id,
			t->inherit[i].key);
		*out = fd;
		return 1;
	}
	return 0;
}

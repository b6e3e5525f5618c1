// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which sockets the dumped tree holds, read once the tree is frozen
 * (CP_STAGE_NETWORK_LOCK): the inodes behind the fds of every process of
 * the tree, found from the root through /proc/PID/task/TID/children. With
 * it a socket's dump knows at once whether its peer is outside the tree,
 * as CRIU knows from its list of every unix socket: the dump then stops,
 * or with --ext-unix-sk saves the outside peer as an entry of its own
 * (USK_EXTERN) so that the restore can connect to its name again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockets.h"

static int add_u32(uint32_t **v, size_t *n, uint32_t x)
{
	uint32_t *t = realloc(*v, (*n + 1) * sizeof(*t));

	if (!t)
		return -ENOMEM;
	t[(*n)++] = x;
	*v = t;
	return 0;
}

/* The socket inodes of PID's fds. A process that is gone meanwhile has none. */
static int scan_fds(pid_t pid, struct sk_state *st)
{
	char path[64], link[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		char lp[sizeof(path) + sizeof(de->d_name) + 1];
		ssize_t n;
		unsigned long ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(lp, sizeof(lp), "%s/%s", path, de->d_name);
		n = readlink(lp, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (sscanf(link, "socket:[%lu]", &ino) == 1)
			ret = add_u32(&st->tree_inos, &st->n_tree_inos, (uint32_t)ino);
	}
	closedir(d);
	return ret;
}

/* Append the children of every thread of PID to the list of pids. */
static int add_children(pid_t pid, uint32_t **pids, size_t *n)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		char cp[sizeof(path) + sizeof(de->d_name) + 16];
		unsigned long c;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cp, sizeof(cp), "%s/%s/children", path, de->d_name);
		f = fopen(cp, "re");
		if (!f)
			continue;
		while (!ret && fscanf(f, "%lu", &c) == 1)
			ret = add_u32(pids, n, (uint32_t)c);
		fclose(f);
	}
	closedir(d);
	return ret;
}

int usk_collect_tree(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct sk_state *st = sk_state(p);
	pid_t root = ctx->real_pid ? ctx->real_pid : ctx->pid;
	uint32_t *pids = NULL;
	size_t n = 0;
	int ret;

	free(st->tree_inos);
	st->tree_inos = NULL;
	st->n_tree_inos = 0;
	st->tree_known = false;
	if (root <= 0)
		return 0;
	ret = add_u32(&pids, &n, (uint32_t)root);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = scan_fds((pid_t)pids[i], st);
		if (!ret)
			ret = add_children((pid_t)pids[i], &pids, &n);
	}
	free(pids);
	st->tree_known = !ret;
	if (!ret)
		pr_debug("the tree of pid %d holds %zu sockets", (int)root, st->n_tree_inos);
	return ret;
}

bool usk_in_tree(const struct sk_state *st, uint32_t ino)
{
	if (!st->tree_known)
		return true; /* unknown: the check after the dump decides */
	for (size_t i = 0; i < st->n_tree_inos; i++)
		if (st->tree_inos[i] == ino)
			return true;
	return false;
}

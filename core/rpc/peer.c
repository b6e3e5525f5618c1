// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#define LOG_PREFIX "rpc: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/log.h>

#include "rpc/peer.h"

int peer_get(int sk, bool swrk, struct rpc_peer *peer)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		int ret = -errno;

		pr_perror("Can't get the credentials of the client on socket %d", sk);
		return ret;
	}
	peer->pid = cr.pid;
	peer->uid = cr.uid;
	peer->gid = cr.gid;
	peer->swrk = swrk;
	peer->privileged = cr.uid == 0;
	return 0;
}

int peer_task_uid(pid_t pid, uid_t *ruid, uid_t *euid)
{
	char path[64], line[256];
	unsigned long r, e;
	int ret = -EINVAL;
	FILE *f;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2) {
			*ruid = r;
			*euid = e;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int peer_may_act_on(const struct rpc_peer *peer, pid_t pid)
{
	uid_t ruid, euid;
	int ret;

	ret = peer_task_uid(pid, &ruid, &euid);
	if (ret == -ESRCH) {
		pr_err("No process with pid %d", (int)pid);
		return ret;
	}
	if (ret) {
		pr_err("Can't read the owner of pid %d: %s", (int)pid, strerror(-ret));
		return ret;
	}
	if (peer->privileged)
		return 0;
	if (ruid != peer->uid || euid != peer->uid) {
		pr_err("Client pid %d (uid %u) may not act on pid %d, which belongs to uid %u", (int)peer->pid,
		       (unsigned)peer->uid, (int)pid, (unsigned)euid);
		return -EPERM;
	}
	return 0;
}

int peer_may_use_file(const struct rpc_peer *peer, const char *path)
{
	struct stat st;

	if (peer->privileged)
		return 0;
	if (lstat(path, &st) < 0) {
		int ret = -errno;

		pr_perror("Can't stat %s", path);
		return ret;
	}
	if (S_ISLNK(st.st_mode) || st.st_uid != peer->uid) {
		pr_err("Client uid %u may not use %s: it is not a file of its own", (unsigned)peer->uid, path);
		return -EPERM;
	}
	return 0;
}

int peer_open_fd(const struct rpc_peer *peer, int fd, bool dir, int flags)
{
	char path[64];
	int ret;

	if (fd < 0) {
		pr_err("Bad client fd %d", fd);
		return -EBADF;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)peer->pid, fd);
	ret = open(path, flags | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
	if (ret < 0) {
		ret = -errno;
		pr_perror("Can't open fd %d of client pid %d", fd, (int)peer->pid);
	}
	return ret;
}

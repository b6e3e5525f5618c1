/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who is on the other end of an RPC socket, and what that client may
 * touch. In service mode criu runs as root for anybody who can connect
 * (the socket is 0666), so every request is checked against the client's
 * credentials (SO_PEERCRED) before criu acts on it.
 */
#ifndef CORE_RPC_PEER_H
#define CORE_RPC_PEER_H

#include <stdbool.h>
#include <sys/types.h>

struct rpc_peer {
	pid_t pid; /* the client process (SO_PEERCRED) */
	uid_t uid;
	gid_t gid;
	bool swrk;	 /* criu swrk: the client started us and we inherited its fds */
	bool privileged; /* uid 0: no ownership checks */
};

/* Fill PEER from the socket SK. Returns 0 or a negative errno. */
int peer_get(int sk, bool swrk, struct rpc_peer *peer);

/*
 * The real and effective uid of PID from /proc/PID/status. Returns 0,
 * -ESRCH when there is no such process, or another negative errno.
 */
int peer_task_uid(pid_t pid, uid_t *ruid, uid_t *euid);

/*
 * May PEER act on process PID? Root may act on anything; any other
 * client only on processes whose real and effective uid are its own.
 * Returns 0, -ESRCH (no such process) or -EPERM, having logged why.
 */
int peer_may_act_on(const struct rpc_peer *peer, pid_t pid);

/*
 * May PEER name the file at PATH (a config file, ...)? Root may; others
 * only files they own that are not symlinks. Returns 0 or -EPERM/-errno.
 */
int peer_may_use_file(const struct rpc_peer *peer, const char *path);

/*
 * Open the client's fd number FD (a directory when DIR) through
 * /proc/PEER/fd/FD. Returns our new fd (close-on-exec) or a negative errno.
 */
int peer_open_fd(const struct rpc_peer *peer, int fd, bool dir, int flags);

#endif /* CORE_RPC_PEER_H */

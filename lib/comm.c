// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcriu transport: reach criu (spawn "criu swrk FD", connect to a
 * service socket, or use the caller's fd), send one criu_req per
 * SOCK_SEQPACKET packet and read criu_resp packets, answering
 * notifications on the way.
 *
 * The swrk start-up is the one pycriu and CRIU's library use, because a
 * client may hand our library's socket to either: the child writes its
 * own pid as a raw native int into its end of the socket pair, then execs
 * "BINARY swrk FD".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcriu-priv.h"

int lc_saved_errno;
int lc_orphan_pts_master_fd = -1;

static ssize_t write_full(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * The forked child: become "criu swrk SK". It must not return. ERR_FD is
 * a close-on-exec pipe: an errno written there tells the parent that exec
 * failed; EOF tells it that exec worked.
 */
static void swrk_child(const char *binary, int sk, int err_fd, bool daemonize)
{
	sigset_t mask;
	char fd_arg[16];
	int err;
	pid_t me;

	/*
	 * The caller is told to block SIGCHLD around restores so that a
	 * restored tree exiting early cannot confuse it; criu itself needs
	 * SIGCHLD to notice restore helpers dying.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);

	if (fcntl(sk, F_SETFD, 0) < 0)
		goto fail;
	/* A self-dump must not find its own criu inside the dumped tree. */
	if (daemonize && daemon(0, 1) < 0)
		goto fail;

	me = getpid();
	if (write_full(sk, &me, sizeof(me)) != sizeof(me))
		goto fail;

	snprintf(fd_arg, sizeof(fd_arg), "%d", sk);
	execlp(binary, binary, "swrk", fd_arg, (char *)NULL);
fail:
	err = errno;
	write_full(err_fd, &err, sizeof(err));
	_exit(1);
}

static int swrk_connect(criu_opts *opts, bool daemonize)
{
	int sks[2], pipefd[2];
	int ret, child_err;
	pid_t pid, swrk_pid;
	ssize_t n;

	if (!opts->service_binary)
		return -ECONNREFUSED;
	if (socketpair(AF_LOCAL, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sks) < 0)
		return -errno;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = -errno;
		goto err_sks;
	}

	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto err_pipe;
	}
	if (pid == 0) {
		close(sks[0]);
		close(pipefd[0]);
		swrk_child(opts->service_binary, sks[1], pipefd[1], daemonize);
	}
	close(sks[1]);
	sks[1] = -1;
	close(pipefd[1]);
	pipefd[1] = -1;

	opts->spawn_pid = pid;
	ret = -ECONNREFUSED;
	n = read_full(sks[0], &swrk_pid, sizeof(swrk_pid));
	if (n != sizeof(swrk_pid))
		goto err_child;
	/* The daemon(3) middle child has exited by now: reap it at once. */
	if (daemonize) {
		waitpid(pid, NULL, 0);
		opts->spawn_pid = -1;
	}
	opts->swrk_pid = swrk_pid;

	n = read_full(pipefd[0], &child_err, sizeof(child_err));
	if (n != 0) {
		ret = (n == sizeof(child_err) && child_err > 0) ? -child_err : -ECONNREFUSED;
		goto err_child;
	}
	close(pipefd[0]);
	return sks[0];

err_child:
	if (opts->spawn_pid > 0)
		waitpid(opts->spawn_pid, NULL, 0);
	opts->spawn_pid = -1;
	opts->swrk_pid = -1;
err_pipe:
	close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
err_sks:
	close(sks[0]);
	if (sks[1] >= 0)
		close(sks[1]);
	return ret;
}

static int sk_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_LOCAL };
	size_t len;
	int fd, ret;

	if (!path)
		return -ECONNREFUSED;
	len = strlen(path);
	if (len >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, len);

	fd = socket(AF_LOCAL, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, offsetof(struct sockaddr_un, sun_path) + len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int lc_connect(criu_opts *opts, bool daemonize)
{
	int fd;

	switch (opts->service_comm) {
	case CRIU_COMM_FD:
		return opts->service_fd >= 0 ? opts->service_fd : -EBADF;
	case CRIU_COMM_BIN:
		fd = swrk_connect(opts, daemonize);
		break;
	case CRIU_COMM_SK:
		fd = sk_connect(opts->service_address);
		break;
	default:
		fd = -EINVAL;
	}
	if (fd < 0)
		lc_saved_errno = -fd;
	return fd;
}

/*
 * Like CRIU's library we close the socket after the call in every mode,
 * CRIU_COMM_FD included: criu serves one request per connection unless
 * keep_open is set.
 */
void lc_disconnect(criu_opts *opts, int fd)
{
	if (fd >= 0)
		close(fd);
	if (opts->service_comm == CRIU_COMM_BIN) {
		/* Not our child when daemonized: criu reaps itself then. */
		if (opts->spawn_pid > 0)
			waitpid(opts->spawn_pid, NULL, 0);
		opts->spawn_pid = -1;
		opts->swrk_pid = -1;
	}
}

static int send_req(int fd, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	criu_req__pack(req, buf);
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -ECOMM;
	free(buf);
	return ret;
}

/* Keep an fd that came with a packet (orphan-pts-master). */
static void take_fds(struct msghdr *mh)
{
	struct cmsghdr *ch;

	for (ch = CMSG_FIRSTHDR(mh); ch; ch = CMSG_NXTHDR(mh, ch)) {
		int fd;

		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS || ch->cmsg_len < CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&fd, CMSG_DATA(ch), sizeof(fd));
		lc_orphan_pts_master_fd = fd;
	}
}

static int recv_resp(int fd, CriuResp **resp)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = { 0 };
	struct iovec iov;
	uint8_t *buf;
	ssize_t len, n;
	int ret = 0;

	do
		len = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	if (len == 0)
		return -ECOMM; /* criu closed the connection */
	if ((size_t)len > LC_MAX_PACKET)
		return -EMSGSIZE;

	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	do
		n = recvmsg(fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	take_fds(&mh);
	if (n != len) {
		ret = -ECOMM;
		goto out;
	}
	*resp = criu_resp__unpack(NULL, len, buf);
	if (!*resp)
		ret = -EBADMSG;
out:
	free(buf);
	return ret;
}

static int send_notify_ack(int fd, bool ok)
{
	CriuReq ack = CRIU_REQ__INIT;

	ack.type = CRIU_REQ_TYPE__NOTIFY;
	ack.has_notify_success = true;
	ack.notify_success = ok;
	return send_req(fd, &ack);
}

int lc_transact(criu_opts *opts, int fd, CriuReq *req, CriuResp **resp)
{
	int ret;

	*resp = NULL;
	if (send_req(fd, req) < 0)
		return -ECOMM;

	for (;;) {
		int cb_ret = 0;

		if (recv_resp(fd, resp) < 0) {
			*resp = NULL;
			return -ECOMM;
		}
		if ((*resp)->type != CRIU_REQ_TYPE__NOTIFY)
			break;

		if (opts->notify && (*resp)->notify)
			cb_ret = opts->notify((*resp)->notify->script, (*resp)->notify);
		ret = send_notify_ack(fd, cb_ret == 0);
		criu_resp__free_unpacked(*resp, NULL);
		*resp = NULL;
		/* A refused notification fails the call with the callback's value. */
		if (cb_ret)
			return cb_ret;
		if (ret)
			return -ECOMM;
	}

	if ((*resp)->has_cr_errno)
		lc_saved_errno = (*resp)->cr_errno;
	if ((*resp)->type != req->type) {
		if ((*resp)->type == CRIU_REQ_TYPE__EMPTY && !(*resp)->success)
			return -EINVAL;
		return -EBADMSG;
	}
	return 0;
}

int lc_call(criu_opts *opts, CriuReq *req, CriuResp **resp)
{
	bool daemonize;
	int fd, ret;

	/* A DUMP without a pid dumps the caller itself. */
	daemonize = req->type == CRIU_REQ_TYPE__DUMP && req->opts && !req->opts->has_pid;

	*resp = NULL;
	fd = lc_connect(opts, daemonize);
	if (fd < 0)
		return -ECONNREFUSED;
	ret = lc_transact(opts, fd, req, resp);
	lc_disconnect(opts, fd);
	return ret;
}

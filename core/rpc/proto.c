// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#define LOG_PREFIX "rpc: "

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criu/log.h>

#include "rpc/proto.h"

static size_t max_req_size(void)
{
	static size_t limit;

	if (!limit) {
		const char *env = getenv("CRIU_RPC_MAX_REQ");
		unsigned long v = env ? strtoul(env, NULL, 0) : 0;

		limit = (v && v < RPC_MAX_REQ_SIZE) ? v : RPC_MAX_REQ_SIZE;
	}
	return limit;
}

int rpc_recv_req(int sk, CriuReq **req)
{
	ssize_t len, n;
	uint8_t *buf;
	int ret = 0;

	do
		len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (len < 0 && errno == EINTR);
	if (len < 0) {
		ret = -errno;
		if (ret == -ECONNRESET)
			return 1;
		pr_perror("Can't read a request from socket %d", sk);
		return ret;
	}
	if (len == 0) {
		/* EOF, or an empty packet: drop it so we don't see it again. */
		recv(sk, NULL, 0, MSG_DONTWAIT);
		return 1;
	}
	if ((size_t)len > max_req_size()) {
		recv(sk, NULL, 0, 0); /* discards the whole packet */
		pr_err("Request of %zd bytes refused: the limit is %zu", len, max_req_size());
		return -EMSGSIZE;
	}

	buf = malloc(len);
	if (!buf) {
		recv(sk, NULL, 0, 0);
		pr_err("No memory for a request of %zd bytes", len);
		return -ENOMEM;
	}
	do
		n = recv(sk, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n != len) {
		ret = n < 0 ? -errno : -EBADMSG;
		pr_err("Short read of a request: %zd of %zd bytes", n, len);
		goto out;
	}
	*req = criu_req__unpack(NULL, len, buf);
	if (!*req) {
		pr_err("Can't decode a request of %zd bytes: not a criu_req", len);
		ret = -EBADMSG;
	}
out:
	free(buf);
	return ret;
}

int rpc_send_resp(int sk, const CriuResp *resp, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = { 0 };
	struct iovec iov;
	size_t len;
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	len = criu_resp__get_packed_size(resp);
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	criu_resp__pack(resp, buf);

	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *ch;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &fd, sizeof(int));
	}
	do
		n = sendmsg(sk, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		pr_perror("Can't send an answer on socket %d", sk);
	} else if ((size_t)n != len) {
		ret = -EIO;
		pr_err("Short send of an answer: %zd of %zu bytes", n, len);
	}
	free(buf);
	return ret;
}

int rpc_send_error(int sk, CriuReqType type, int err, const char *msg)
{
	CriuResp resp = CRIU_RESP__INIT;

	resp.type = type;
	resp.success = false;
	if (err) {
		resp.has_cr_errno = true;
		resp.cr_errno = err;
	}
	resp.cr_errmsg = (char *)msg;
	return rpc_send_resp(sk, &resp, -1);
}

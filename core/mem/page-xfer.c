// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The dump side of the page-server protocol (page-xfer.h).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "page-xfer: "

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criu/log.h>

#include "mem/page-xfer.h"
#include "options/options.h"

_Static_assert(sizeof(struct ps_iov) == 24, "struct ps_iov is CRIU's page_server_iov");

int ps_decode_dst(uint64_t dst_id, uint64_t *id)
{
	*id = dst_id >> PS_TYPE_BITS;
	switch (dst_id & PS_TYPE_MASK) {
	case PS_TYPE_PID:
	case 10: case 11: case 16: case 17: /* CR_FD_PAGEMAP of CRIU 1.0 .. 3.2 */
		return PS_TYPE_PID;
	case PS_TYPE_SHMEM:
	case 27: case 28: case 29: case 32: case 33: case 34: /* CR_FD_SHMEM_PAGEMAP, same */
		return PS_TYPE_SHMEM;
	default:
		return -1;
	}
}

static int send_all(int sk, const void *buf, size_t len, int flags)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(sk, p, len, flags | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int sk, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(sk, buf, len, MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -ECONNRESET;
}

static int send_iov(int sk, uint32_t cmd, uint32_t nr_pages, uint64_t vaddr, uint64_t dst_id,
		    int flags)
{
	struct ps_iov pi = { .cmd = cmd, .nr_pages = nr_pages, .vaddr = vaddr, .dst_id = dst_id };
	int ret = send_all(sk, &pi, sizeof(pi), flags);

	if (ret)
		pr_err("Can't send command %#x to the page server: %s", cmd, strerror(-ret));
	return ret;
}

int ps_connect(const struct options *o, int *sk)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL, *a;
	const char *addr = opt_str(o, OPT_ADDRESS);
	char port[16];
	int ret, fd = -1;

	if (opt_bool(o, OPT_TLS)) {
		pr_err("--tls: page server connections without TLS only; this criu has no TLS");
		return -EOPNOTSUPP;
	}
	if (opt_is_set(o, OPT_PS_SOCKET)) {
		*sk = (int)opt_int(o, OPT_PS_SOCKET);
		pr_info("sending pages through the socket at fd %d", *sk);
		return 0;
	}
	if (!addr || !opt_is_set(o, OPT_PORT) || !opt_int(o, OPT_PORT)) {
		pr_err("--page-server needs --address and a --port other than 0 (or --ps-socket)");
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%lld", opt_int(o, OPT_PORT));
	ret = getaddrinfo(addr, port, &hints, &ai);
	if (ret) {
		pr_err("Can't resolve the page server address %s: %s", addr, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	ret = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		pr_err("Can't connect to the page server at %s:%s: %s", addr, port, strerror(-ret));
		return ret;
	}
	pr_info("connected to the page server at %s:%s", addr, port);
	*sk = fd;
	return 0;
}

int ps_open(int sk, uint64_t dst_id)
{
	int one = 1, ret;
	char has_parent;

	ret = send_iov(sk, PS_IOV_OPEN2, 0, 0, dst_id, 0);
	if (ret)
		return ret;
	/* The answer is waited for: push the command now. */
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = recv_all(sk, &has_parent, 1);
	if (ret)
		pr_err("The page server does not answer the open of %#llx: %s",
		       (unsigned long long)dst_id, strerror(-ret));
	return ret;
}

int ps_send_add(int sk, uint64_t dst_id, uint64_t vaddr, uint32_t nr_pages)
{
	return send_iov(sk, (uint32_t)PS_PE_PRESENT << PS_CMD_BITS | PS_IOV_ADD_F, nr_pages, vaddr,
			dst_id, MSG_MORE);
}

int ps_send_data(int sk, const void *data, size_t len)
{
	return send_all(sk, data, len, 0);
}

int ps_send_pages(int sk, uint64_t dst_id, uint64_t vaddr, const void *data, uint64_t nr_pages)
{
	const char *p = data;
	int ret = 0;

	/* nr_pages of ADD_F is 32 bits: a big range goes as several entries. */
	while (nr_pages && !ret) {
		uint32_t n = nr_pages > PS_MAX_ADD_PAGES ? PS_MAX_ADD_PAGES : (uint32_t)nr_pages;

		ret = ps_send_add(sk, dst_id, vaddr, n);
		if (!ret)
			ret = send_all(sk, p, (size_t)n * 4096, 0);
		p += (size_t)n * 4096;
		vaddr += (uint64_t)n * 4096;
		nr_pages -= n;
	}
	return ret;
}

int ps_finish(int sk, bool ok)
{
	int32_t status = -1;
	int ret;

	ret = send_iov(sk, ok ? PS_IOV_CLOSE : PS_IOV_FORCE_CLOSE, 0, 0, 0, 0);
	if (ret)
		return ret;
	ret = recv_all(sk, &status, sizeof(status));
	if (ret) {
		pr_err("The page server did not confirm the end of the transfer: %s", strerror(-ret));
		return ret;
	}
	if (status) {
		pr_err("The page server reports failure %d", status);
		return -EIO;
	}
	return 0;
}

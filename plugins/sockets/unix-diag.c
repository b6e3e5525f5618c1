// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the kernel knows about a unix socket, from NETLINK_SOCK_DIAG: its
 * peer, name, queue lengths and shutdown state (nothing of this can be
 * read through the fd). One request per socket, by inode.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockets.h"

/* The payload of attribute RTA, checked to hold at least WANT bytes. */
static const void *attr_data(const struct nlattr *a, size_t want)
{
	if (a->nla_len < NLA_HDRLEN + want)
		return NULL;
	return (const char *)a + NLA_HDRLEN;
}

static int parse_attrs(const char *p, size_t len, struct usk_diag *out)
{
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = NLA_ALIGN(a->nla_len);
		const void *d;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EBADMSG;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case UNIX_DIAG_NAME:
			out->namelen = a->nla_len - NLA_HDRLEN;
			if (out->namelen > USK_NAME_MAX)
				return -EBADMSG;
			memcpy(out->name, (const char *)a + NLA_HDRLEN, out->namelen);
			out->name[out->namelen] = 0;
			break;
		case UNIX_DIAG_PEER:
			if (!(d = attr_data(a, sizeof(uint32_t))))
				return -EBADMSG;
			memcpy(&out->peer, d, sizeof(uint32_t));
			break;
		case UNIX_DIAG_RQLEN: {
			struct unix_diag_rqlen rq;

			if (!(d = attr_data(a, sizeof(rq))))
				return -EBADMSG;
			memcpy(&rq, d, sizeof(rq));
			out->has_rqlen = true;
			out->rqlen = rq.udiag_rqueue;
			out->wqlen = rq.udiag_wqueue;
			break;
		}
		case UNIX_DIAG_VFS: {
			struct unix_diag_vfs v;

			if (!(d = attr_data(a, sizeof(v))))
				return -EBADMSG;
			memcpy(&v, d, sizeof(v));
			out->has_vfs = true;
			out->vfs_dev = v.udiag_vfs_dev;
			out->vfs_ino = v.udiag_vfs_ino;
			break;
		}
		case UNIX_DIAG_ICONS:
			out->n_icons = (a->nla_len - NLA_HDRLEN) / sizeof(uint32_t);
			out->icons = (const char *)a + NLA_HDRLEN;
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (!(d = attr_data(a, 1)))
				return -EBADMSG;
			out->shutdown = *(const uint8_t *)d;
			break;
		default:
			break;
		}
		if (alen >= len)
			break;
		p += alen;
		len -= alen;
	}
	return 0;
}

int usk_diag_parse(const void *buf, size_t len, struct usk_diag *out)
{
	const struct nlmsghdr *h = buf;
	const struct unix_diag_msg *m;

	memset(out, 0, sizeof(*out));
	if (len < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EBADMSG;
		return e->error < 0 ? e->error : -EBADMSG;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	m = NLMSG_DATA(h);
	if (m->udiag_family != AF_UNIX)
		return -EBADMSG;
	out->ino = m->udiag_ino;
	out->type = m->udiag_type;
	out->state = m->udiag_state;
	return parse_attrs((const char *)m + NLMSG_ALIGN(sizeof(*m)),
			   h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m))), out);
}

int usk_diag_get(uint32_t ino, struct usk_diag *out)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	union {
		char buf[8192];
		struct nlmsghdr align;
	} ans;
	ssize_t n;
	int sk, ret;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (sk < 0) {
		ret = -errno;
		pr_perror("cannot open a NETLINK_SOCK_DIAG socket");
		return ret;
	}
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = ino;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_ino = ino;
	req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
	req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0u; /* INET_DIAG_NOCOOKIE */
	if (sendto(sk, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) != sizeof(req)) {
		ret = -errno;
		pr_perror("cannot ask sock_diag about unix socket %u", ino);
		goto out;
	}
	n = recv(sk, ans.buf, sizeof(ans.buf), 0);
	if (n < 0) {
		ret = -errno;
		pr_perror("no answer from sock_diag about unix socket %u", ino);
		goto out;
	}
	ret = usk_diag_parse(ans.buf, (size_t)n, out);
	if (ret == -EBADMSG)
		pr_err("sock_diag gave a malformed answer (%zd bytes) about unix socket %u", n, ino);
	else if (!ret && out->ino != ino) {
		pr_err("sock_diag answered about socket %u when asked about %u", out->ino, ino);
		ret = -EBADMSG;
	}
out:
	close(sk);
	return ret;
}

static bool has_icon(const struct usk_diag *d, uint32_t ino)
{
	for (uint32_t i = 0; i < d->n_icons; i++) {
		uint32_t v;

		memcpy(&v, (const char *)d->icons + i * sizeof(v), sizeof(v));
		if (v == ino)
			return true;
	}
	return false;
}

int usk_diag_find_listener(uint32_t client, uint32_t *listener)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	union {
		char buf[32768];
		struct nlmsghdr align;
	} ans;
	bool done = false;
	int sk, ret = -ENOENT;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (sk < 0) {
		ret = -errno;
		pr_perror("cannot open a NETLINK_SOCK_DIAG socket");
		return ret;
	}
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = 1u << USK_LISTEN;
	req.r.udiag_show = UDIAG_SHOW_ICONS;
	if (sendto(sk, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) != sizeof(req)) {
		ret = -errno;
		pr_perror("cannot ask sock_diag for the listening unix sockets");
		goto out;
	}
	while (!done) {
		ssize_t n = recv(sk, ans.buf, sizeof(ans.buf), 0);
		struct nlmsghdr *h = &ans.align;

		if (n <= 0) {
			ret = n < 0 ? -errno : -EBADMSG;
			pr_err("sock_diag: no list of listening unix sockets: %s", strerror(-ret));
			break;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct usk_diag d;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_type == NLMSG_ERROR && ret == -ENOENT)
					ret = usk_diag_parse(h, h->nlmsg_len, &d);
				done = true;
				break;
			}
			if (usk_diag_parse(h, h->nlmsg_len, &d))
				continue;
			if (ret == -ENOENT && has_icon(&d, client)) {
				*listener = d.ino;
				ret = 0;
			}
		}
	}
out:
	close(sk);
	return ret;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu page-server: receive the pages of a "criu dump --page-server" (or
 * pre-dump) over one connection, in CRIU's protocol (mem/page-xfer.h),
 * and write pagemap-*.img and pages-*.img into -D as a local dump would.
 * The other images stay with the dumping side; both directories together
 * restore. One connection is served, then the server exits, as CRIU's.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "page-server: "

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criu/log.h>

#include "pagemap.pb-c.h"

#include "actions.h"
#include "dump/dump.h"
#include "mem/page-xfer.h"
#include "options/options.h"
#include "rpc/daemon.h"

/* The pagemap being received. */
struct ps_session {
	struct img_dir *dir;
	int sk;
	int pipe[2];		/* socket -> pipe -> pages file */
	uint32_t pages_id;	/* last pages-N.img */
	uint64_t dst_id;	/* of the open pagemap */
	struct image *pm, *pages;
	int pages_fd;
	bool have_pe;		/* an entry waits in pe: the next may extend it */
	uint64_t pe_vaddr, pe_nr;
	uint32_t pe_flags;
	uint64_t nr_entries, nr_pages;
};

static int flush_pe(struct ps_session *s)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;

	if (!s->have_pe)
		return 0;
	s->have_pe = false;
	pe.vaddr = s->pe_vaddr;
	pe.compat_nr_pages = s->pe_nr > UINT32_MAX ? 0 : (uint32_t)s->pe_nr;
	pe.has_nr_pages = true;
	pe.nr_pages = s->pe_nr;
	pe.has_flags = true;
	pe.flags = s->pe_flags;
	s->nr_entries++;
	return img_write_msg(s->pm, &pe.base);
}

static int close_pagemap(struct ps_session *s)
{
	int ret = 0, r;

	if (!s->pm)
		return 0;
	ret = flush_pe(s);
	r = img_close(s->pages);
	ret = ret ? ret : r;
	r = img_close(s->pm);
	ret = ret ? ret : r;
	s->pm = s->pages = NULL;
	s->pages_fd = -1;
	return ret;
}

static int pagemap_name(uint64_t dst_id, char *name, size_t size)
{
	uint64_t id;

	switch (ps_decode_dst(dst_id, &id)) {
	case PS_TYPE_PID:
		snprintf(name, size, "pagemap-%llu.img", (unsigned long long)id);
		return 0;
	case PS_TYPE_SHMEM:
		snprintf(name, size, "pagemap-shmem-%llu.img", (unsigned long long)id);
		return 0;
	default:
		pr_err("The dump side names pagemap %#llx of an unknown type %llu",
		       (unsigned long long)dst_id, (unsigned long long)(dst_id & PS_TYPE_MASK));
		return -EPROTO;
	}
}

/* Is there a parent pagemap for DST_ID (the dump may then send holes)? */
static int has_parent(struct ps_session *s, uint64_t dst_id)
{
	char name[96], path[128];

	if (pagemap_name(dst_id, name, sizeof(name)))
		return 0;
	snprintf(path, sizeof(path), "parent/%s", name);
	return faccessat(img_dir_fd(s->dir), path, F_OK, 0) == 0;
}

static int open_pagemap(struct ps_session *s, uint64_t dst_id)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	char name[96], pages_name[32];
	int ret;

	ret = close_pagemap(s);
	if (!ret)
		ret = pagemap_name(dst_id, name, sizeof(name));
	if (ret)
		return ret;
	head.pages_id = ++s->pages_id;
	snprintf(pages_name, sizeof(pages_name), "pages-%u.img", head.pages_id);
	ret = img_open_write(s->dir, name, PAGEMAP_MAGIC, &s->pm);
	if (!ret)
		ret = img_write_msg(s->pm, &head.base);
	if (!ret)
		ret = img_open_write(s->dir, pages_name, PAGES_MAGIC, &s->pages);
	if (!ret) {
		s->pages_fd = img_fd(s->pages);
		if (s->pages_fd < 0)
			ret = s->pages_fd;
	}
	if (ret) {
		img_close(s->pages);
		img_close(s->pm);
		s->pm = s->pages = NULL;
		return ret;
	}
	s->dst_id = dst_id;
	pr_info("receiving %s with %s", name, pages_name);
	return 0;
}

static int send_answer(int sk, const void *buf, size_t len)
{
	if (send(sk, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		int ret = -errno;

		pr_perror("Can't answer the dump side");
		return ret ? ret : -EPIPE;
	}
	return 0;
}

/* Move LEN bytes from the socket into the pages file. */
static int receive_data(struct ps_session *s, size_t len)
{
	while (len) {
		ssize_t in = splice(s->sk, NULL, s->pipe[1], NULL, len, SPLICE_F_MOVE);

		if (in < 0 && errno == EINTR)
			continue;
		if (in <= 0) {
			int ret = in < 0 ? -errno : -ECONNRESET;

			pr_err("The dump side sent %zu bytes too few pages for %s: %s", len,
			       img_name(s->pm), strerror(-ret));
			return ret;
		}
		len -= (size_t)in;
		while (in) {
			ssize_t out = splice(s->pipe[0], NULL, s->pages_fd, NULL, (size_t)in, SPLICE_F_MOVE);

			if (out <= 0) {
				int ret = out < 0 ? -errno : -EIO;

				pr_perror("Can't write pages into %s", img_name(s->pages));
				return ret;
			}
			in -= out;
		}
	}
	return 0;
}

/* ADD_F, ADD and HOLE: one pagemap entry, and its pages when present. */
static int add_entry(struct ps_session *s, const struct ps_iov *pi, uint32_t flags)
{
	int ret;

	if (!s->pm || s->dst_id != pi->dst_id) {
		/* Old CRIUs sent pages without an open. */
		ret = open_pagemap(s, pi->dst_id);
		if (ret)
			return ret;
	}
	if (!pi->nr_pages || pi->vaddr % 4096 || (flags & ~(PS_PE_PARENT | PS_PE_LAZY | PS_PE_PRESENT))) {
		pr_err("%s: bad entry from the dump side: %u pages at %#llx, flags %#x", img_name(s->pm),
		       pi->nr_pages, (unsigned long long)pi->vaddr, flags);
		return -EPROTO;
	}
	if (s->have_pe && s->pe_flags == flags && s->pe_vaddr + s->pe_nr * 4096 == pi->vaddr) {
		s->pe_nr += pi->nr_pages;
	} else {
		ret = flush_pe(s);
		if (ret)
			return ret;
		s->have_pe = true;
		s->pe_vaddr = pi->vaddr;
		s->pe_nr = pi->nr_pages;
		s->pe_flags = flags;
	}
	if (!(flags & PS_PE_PRESENT))
		return 0;
	s->nr_pages += pi->nr_pages;
	return receive_data(s, (size_t)pi->nr_pages * 4096);
}

/* Serve commands until CLOSE; 0 when the transfer ended well. */
static int serve(struct ps_session *s)
{
	for (;;) {
		struct ps_iov pi;
		uint32_t cmd, flags;
		ssize_t n;
		int ret;

		n = recv(s->sk, &pi, sizeof(pi), MSG_WAITALL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(pi)) {
			ret = n < 0 ? -errno : -ECONNRESET;
			pr_err("The dump side went away before it closed the transfer%s%s",
			       n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			return ret;
		}
		cmd = pi.cmd & PS_CMD_MASK;
		flags = pi.cmd >> PS_CMD_BITS;
		switch (cmd) {
		case PS_IOV_OPEN:
		case PS_IOV_OPEN2:
			ret = open_pagemap(s, pi.dst_id);
			if (!ret && cmd == PS_IOV_OPEN2) {
				char parent = (char)has_parent(s, pi.dst_id);

				ret = send_answer(s->sk, &parent, 1);
			}
			break;
		case PS_IOV_PARENT: {
			int parent = has_parent(s, pi.dst_id);

			ret = send_answer(s->sk, &parent, sizeof(parent));
			break;
		}
		case PS_IOV_ADD_F:
			ret = add_entry(s, &pi, flags);
			break;
		case PS_IOV_ADD:
			ret = add_entry(s, &pi, PS_PE_PRESENT);
			break;
		case PS_IOV_HOLE:
			ret = add_entry(s, &pi, PS_PE_PARENT);
			break;
		case PS_IOV_CLOSE:
		case PS_IOV_FORCE_CLOSE: {
			int32_t status = 0;

			ret = close_pagemap(s);
			if (ret)
				return ret;
			if (pi.cmd == PS_IOV_FORCE_CLOSE)
				pr_warn("the dump side failed; what it sent is kept");
			return send_answer(s->sk, &status, sizeof(status));
		}
		case PS_IOV_GET:
			pr_err("The dump side asks for pages (PS_IOV_GET): lazy pages are not supported");
			return -EOPNOTSUPP;
		default:
			pr_err("Unknown page-server command %#x from the dump side", pi.cmd);
			return -EPROTO;
		}
		if (ret)
			return ret;
	}
}

/* Listen on --address (any) and --port (a free one when not given or 0). */
static int ps_listen(const struct options *o, int *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	const char *addr = opt_str(o, OPT_ADDRESS);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addrinfo *ai = NULL;
	char service[16];
	int ret, sk, one = 1;

	snprintf(service, sizeof(service), "%lld", opt_is_set(o, OPT_PORT) ? opt_int(o, OPT_PORT) : 0);
	ret = getaddrinfo(addr, service, &hints, &ai);
	if (ret) {
		pr_err("Can't resolve the address %s to listen on: %s", addr ? addr : "(any)",
		       gai_strerror(ret));
		return -EADDRNOTAVAIL;
	}
	sk = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (sk < 0) {
		ret = -errno;
		pr_perror("Can't create the page server socket");
		goto out;
	}
	setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(sk, ai->ai_addr, ai->ai_addrlen) < 0 || listen(sk, 1) < 0 ||
	    getsockname(sk, (struct sockaddr *)&ss, &len) < 0) {
		ret = -errno;
		pr_perror("Can't listen on %s port %s", addr ? addr : "(any)", service);
		close(sk);
		goto out;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	ret = sk;
out:
	freeaddrinfo(ai);
	return ret;
}

static int check_options(const struct options *o)
{
	if (opt_bool(o, OPT_LAZY_PAGES)) {
		pr_err("page-server --lazy-pages is not supported: there are no lazy pages");
		return -EOPNOTSUPP;
	}
	if (opt_bool(o, OPT_TLS)) {
		pr_err("--tls: this criu has no TLS for the page server");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Wait until the dump side closes, so that the TIME_WAIT is on its side. */
static void wait_peer_close(int sk)
{
	char c;

	if (recv(sk, &c, 1, 0) > 0)
		pr_warn("the dump side sent more after it closed the transfer");
}

int action_page_server(struct options *o, struct action_result *res)
{
	struct ps_session s = { .sk = -1, .pipe = { -1, -1 }, .pages_fd = -1 };
	int lsk = -1, ready_fd = -1, port = 0, ret;

	ret = check_options(o);
	if (!ret)
		ret = dump_open_images_dir(o, &s.dir);
	if (ret)
		return ret;
	if (pipe2(s.pipe, O_CLOEXEC) < 0) {
		ret = -errno;
		pr_perror("Can't make the page server's pipe");
		goto out;
	}
	if (opt_is_set(o, OPT_PS_SOCKET)) {
		s.sk = (int)opt_int(o, OPT_PS_SOCKET);
		pr_info("receiving pages on the socket at fd %d", s.sk);
	} else {
		lsk = ps_listen(o, &port);
		if (lsk < 0) {
			ret = lsk;
			goto out;
		}
		if (!opt_is_set(o, OPT_PORT) || !opt_int(o, OPT_PORT)) {
			/* Whoever started us needs to know where to send the pages. */
			printf("Port: %d\n", port);
			fflush(stdout);
		}
		pr_info("listening on port %d, images go to %s", port, img_dir_path(s.dir));
	}
	if (opt_bool(o, OPT_DAEMON)) {
		ret = daemon_detach(&ready_fd);
		if (ret) {
			pr_err("Can't go to the background: %s", strerror(-ret));
			goto out;
		}
	}
	res->ps_port = port;
	res->ps_pid = getpid();
	if (opt_str(o, OPT_PIDFILE))
		ret = daemon_write_pidfile(opt_str(o, OPT_PIDFILE));
	if (!ret)
		ret = daemon_status_ready(o);
	if (ret)
		goto out;
	daemon_release_parent(&ready_fd);

	if (lsk >= 0) {
		do
			s.sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
		while (s.sk < 0 && errno == EINTR);
		if (s.sk < 0) {
			ret = -errno;
			pr_perror("Can't accept the dump side's connection");
			goto out;
		}
		close(lsk);
		lsk = -1;
	}
	ret = serve(&s);
	if (!ret) {
		if (!opt_is_set(o, OPT_PS_SOCKET))
			wait_peer_close(s.sk);
		pr_info("received %llu pages in %llu pagemap entries, %u pages images",
			(unsigned long long)s.nr_pages, (unsigned long long)s.nr_entries, s.pages_id);
	}
out:
	{
		int r = close_pagemap(&s);

		ret = ret ? ret : r;
	}
	if (ready_fd >= 0)
		close(ready_fd); /* the waiting parent exits 1 */
	if (s.sk >= 0)
		close(s.sk);
	if (lsk >= 0)
		close(lsk);
	if (s.pipe[0] >= 0) {
		close(s.pipe[0]);
		close(s.pipe[1]);
	}
	img_dir_close(s.dir);
	return ret;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Dump side of unix sockets: one UnixSkEntry (FileEntry field usk) per
 * socket, from sock_diag and getsockopt, and the messages waiting in its
 * receive queue in sk-queues.img (a SkPacketEntry naming the socket's
 * file id, then the bytes), as CRIU writes them.
 *
 * The queue is read without taking it: with SO_PEEK_OFF set, each
 * MSG_PEEK recvmsg() returns the next message (or the next bytes of a
 * stream), then the peek offset is switched off again. A message that
 * carries fds (SCM_RIGHTS) cannot be saved: the dump stops.
 *
 * Which peers are in the tree is known only once every task is dumped,
 * so the check that each socket's peer was dumped too (or is allowed
 * outside with --ext-unix-sk) runs at CP_STAGE_POST_DUMP, which fails the
 * dump and lets the tree run on.
 *
 * A socket connected to criu's own RPC socket belongs to a process that
 * dumps itself: it is saved closed and marked USK_SERVICE (as CRIU does),
 * and its restore gives the process the answer "restored" on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sk-packet.pb-c.h"
#include "sockets.h"

int usk_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	int domain;
	socklen_t len = sizeof(domain);

	(void)p;
	if (!S_ISSOCK(fd->st.st_mode))
		return -ENOTSUP;
	if (getsockopt(fd->local_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX)
		return -ENOTSUP;
	return 0;
}

static int get_int_opt(int sk, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(sk, SOL_SOCKET, opt, val, &len) ? -errno : 0;
}

/* The socket options CRIU saves for every socket, as far as unix sockets have them. */
static int usk_dump_opts(const struct cp_fd_desc *fd, SkOptsEntry *so)
{
	struct timeval tv;
	socklen_t len;
	int v, ret;

	ret = get_int_opt(fd->local_fd, SO_SNDBUF, &v);
	so->so_sndbuf = (uint32_t)v;
	if (!ret)
		ret = get_int_opt(fd->local_fd, SO_RCVBUF, &v);
	so->so_rcvbuf = (uint32_t)v;
	len = sizeof(tv);
	if (!ret && getsockopt(fd->local_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len))
		ret = -errno;
	so->so_snd_tmo_sec = (uint64_t)tv.tv_sec;
	so->so_snd_tmo_usec = (uint64_t)tv.tv_usec;
	len = sizeof(tv);
	if (!ret && getsockopt(fd->local_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len))
		ret = -errno;
	so->so_rcv_tmo_sec = (uint64_t)tv.tv_sec;
	so->so_rcv_tmo_usec = (uint64_t)tv.tv_usec;
	if (!ret)
		ret = get_int_opt(fd->local_fd, SO_PASSCRED, &v);
	so->has_so_passcred = true;
	so->so_passcred = v != 0;
	if (!ret)
		ret = get_int_opt(fd->local_fd, SO_PASSSEC, &v);
	so->has_so_passsec = true;
	so->so_passsec = v != 0;
	if (ret)
		pr_err("fd %d of pid %d: cannot read the options of unix socket %lu: %s", fd->fd, (int)fd->pid,
		       (unsigned long)fd->st.st_ino, strerror(-ret));
	return ret;
}

static void close_passed_fds(struct msghdr *mh, bool *rights)
{
	for (struct cmsghdr *ch = CMSG_FIRSTHDR(mh); ch; ch = CMSG_NXTHDR(mh, ch)) {
		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS)
			continue;
		*rights = true;
		for (size_t i = 0; i < (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
			close(((int *)CMSG_DATA(ch))[i]);
	}
}

static int queue_write(struct cp_plugin *p, uint32_t id, const void *buf, size_t len)
{
	struct sk_state *st = sk_state(p);
	SkPacketEntry pe = SK_PACKET_ENTRY__INIT;
	int ret;

	if (!st->queues) {
		st->queues = cp_image_open_write(p, SK_QUEUES_IMG, SK_QUEUES_MAGIC);
		if (!st->queues)
			return errno ? -errno : -EIO;
	}
	pe.id_for = id;
	pe.length = (uint32_t)len;
	ret = cp_image_write_msg(st->queues, &pe.base);
	if (!ret && len)
		ret = cp_image_write_raw(st->queues, buf, len);
	return ret;
}

/* Save the messages waiting in the socket of FD (file ID) to sk-queues.img. */
static int usk_dump_queue(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, const SkOptsEntry *so)
{
	size_t size = (so->so_rcvbuf > so->so_sndbuf ? so->so_rcvbuf : so->so_sndbuf) + 1;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 253)];
		struct cmsghdr align;
	} control;
	int off = 0, old = -1, ret = 0, n = 0;
	socklen_t olen = sizeof(old);
	size_t total = 0;
	char *buf;

	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	/* The task's own peek offset, if it set one, is given back afterwards. */
	if (getsockopt(fd->local_fd, SOL_SOCKET, SO_PEEK_OFF, &old, &olen))
		old = -1;
	if (setsockopt(fd->local_fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off))) {
		ret = -errno;
		pr_perror("fd %d of pid %d: cannot peek into unix socket %lu (SO_PEEK_OFF)", fd->fd, (int)fd->pid,
			  (unsigned long)fd->st.st_ino);
		goto out;
	}
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = size };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		bool rights = false;
		ssize_t r;

		r = recvmsg(fd->local_fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno != EAGAIN)
				ret = -errno;
			if (ret)
				pr_perror("fd %d of pid %d: cannot read the queue of unix socket %lu", fd->fd,
					  (int)fd->pid, (unsigned long)fd->st.st_ino);
			break;
		}
		close_passed_fds(&mh, &rights);
		if (rights || (mh.msg_flags & MSG_CTRUNC)) {
			pr_err("fd %d of pid %d: unix socket %lu has fds in flight (SCM_RIGHTS) in its queue; "
			       "they cannot be saved",
			       fd->fd, (int)fd->pid, (unsigned long)fd->st.st_ino);
			ret = -EBUSY;
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			pr_err("fd %d of pid %d: a message of more than %zu bytes waits in unix socket %lu", fd->fd,
			       (int)fd->pid, size, (unsigned long)fd->st.st_ino);
			ret = -EMSGSIZE;
			break;
		}
		if (r == 0)
			break; /* the peer shut down its side: nothing more comes */
		ret = queue_write(p, id, buf, (size_t)r);
		if (ret)
			break;
		n++;
		total += (size_t)r;
	}
	if (setsockopt(fd->local_fd, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old)) && !ret) {
		ret = -errno;
		pr_perror("fd %d of pid %d: cannot set the peek offset back to %d", fd->fd, (int)fd->pid, old);
	}
	if (!ret && n)
		pr_debug("unix socket %lu: %d messages, %zu bytes queued", (unsigned long)fd->st.st_ino, n, total);
out:
	free(buf);
	return ret;
}

static int remember(struct cp_plugin *p, const struct cp_fd_desc *fd, const UnixSkEntry *ue, bool no_check,
		    bool inflight)
{
	struct sk_state *st = sk_state(p);
	struct usk_dumped *d = realloc(st->dumped, (st->n_dumped + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	st->dumped = d;
	d[st->n_dumped++] = (struct usk_dumped){
		.ino = ue->ino,
		.peer = ue->peer,
		.id = ue->id,
		.pid = fd->pid,
		.fd = fd->fd,
		.no_check = no_check,
		.listening = ue->state == USK_LISTEN,
		.inflight = inflight,
	};
	return 0;
}

/*
 * A stream socket that connected to a listening socket which has not
 * accepted it yet is connected to an embryo socket that no fd holds
 * (sock_diag shows its peer as 0, and the listening socket lists it
 * among its in-flight connections). As CRIU does, its peer is saved as
 * the listening socket, and the restore connects it there again. What it
 * sent waits in the embryo, where it cannot be read: such a socket is
 * refused. (A stream whose peer was closed also shows peer 0, but is shut
 * down both ways.)
 */
static int usk_dump_inflight(const struct cp_fd_desc *fd, struct usk_diag *dg, bool *inflight)
{
	uint32_t listener;
	int ret;

	*inflight = false;
	if (dg->type == SOCK_DGRAM || dg->state != USK_ESTABLISHED || dg->peer ||
	    dg->shutdown == (USK_RCV_SHUTDOWN | USK_SEND_SHUTDOWN))
		return 0;
	ret = usk_diag_find_listener(dg->ino, &listener);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (dg->has_rqlen && dg->wqlen) {
		pr_err("fd %d of pid %d: unix socket %u sent %u bytes on a connection that listening socket %u "
		       "has not accepted yet; they cannot be saved",
		       fd->fd, (int)fd->pid, dg->ino, dg->wqlen, listener);
		return -EBUSY;
	}
	pr_debug("unix socket %u waits to be accepted by %u", dg->ino, listener);
	dg->peer = listener;
	*inflight = true;
	return 0;
}

/* A name the restore can bind again: abstract, or an absolute path. */
static int usk_dump_name(const struct cp_fd_desc *fd, const struct usk_diag *dg, UnixSkEntry *ue, FilePermsEntry *perms)
{
	struct stat sb;

	ue->name.len = dg->namelen;
	ue->name.data = (uint8_t *)dg->name;
	if (!dg->namelen || !dg->name[0])
		return 0;
	if (dg->name[0] != '/') {
		pr_err("fd %d of pid %d: unix socket %u is bound to the relative path \"%s\", which is not "
		       "supported",
		       fd->fd, (int)fd->pid, dg->ino, dg->name);
		return -EINVAL;
	}
	/* The socket file is gone (or is another file now): bind, then unlink on restore. */
	if (stat(dg->name, &sb) || (dg->has_vfs && sb.st_ino != dg->vfs_ino)) {
		ue->has_deleted = true;
		ue->deleted = true;
		return 0;
	}
	/* Its mode and owner, given back to the new socket file (CRIU's file_perms). */
	perms->mode = sb.st_mode & 07777;
	perms->uid = sb.st_uid;
	perms->gid = sb.st_gid;
	ue->file_perms = perms;
	return 0;
}

/* The socket INO (fd FD of PID) has its peer outside the tree: say so, naming the peer. */
static int outside_err(int fd, pid_t pid, uint32_t ino, uint32_t peer)
{
	struct usk_diag pd;

	if (usk_diag_get(peer, &pd))
		pd.namelen = 0;
	pr_err("fd %d of pid %d: unix socket %u is connected to socket %u%s%s%s outside the dumped tree "
	       "(use --ext-unix-sk to dump it anyway)",
	       fd, (int)pid, ino, peer, pd.namelen ? " bound to " : "", pd.namelen && !pd.name[0] ? "@" : "",
	       pd.namelen ? pd.name + !pd.name[0] : "");
	return -EXDEV;
}

/*
 * UE's peer is outside the tree. Without --ext-unix-sk the dump stops
 * here. With it, the peer gets an entry of its own, as CRIU writes one
 * (USK_EXTERN, its name), which no fd uses: the restore connects UE to
 * that name again.
 */
static int usk_dump_ext_peer(struct cp_plugin *p, const struct cp_fd_desc *fd, const UnixSkEntry *ue)
{
	struct sk_state *st = sk_state(p);
	struct usk_diag pd;
	uint32_t peer_id;
	bool ext = false;
	int ret;

	cp_opt_bool("ext-unix-sk", &ext);
	if (!ext)
		return outside_err(fd->fd, fd->pid, ue->ino, ue->peer);
	if (usk_diag_get(ue->peer, &pd))
		memset(&pd, 0, sizeof(pd));
	if (!pd.ino) {
		pd.ino = ue->peer;
		pd.type = (uint8_t)ue->type;
	}
	st->ext_peer = &pd;
	ret = cp_file_dump_as(p, &sk_unix_ext_ops, fd, &peer_id);
	st->ext_peer = NULL;
	if (!ret)
		pr_info("fd %d of pid %d: unix socket %u is connected to socket %u outside the tree (%s%s), saved "
			"as external (file id %u)",
			fd->fd, (int)fd->pid, ue->ino, ue->peer, pd.namelen && !pd.name[0] ? "@" : "",
			pd.namelen ? pd.name + !pd.name[0] : "no name", peer_id);
	return ret;
}

/* sk_unix_ext_ops.dump(): the entry of the outside peer st->ext_peer. */
int usk_ext_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	const struct usk_diag *pd = sk_state(p)->ext_peer;
	UnixSkEntry ue = UNIX_SK_ENTRY__INIT;
	SkOptsEntry so = SK_OPTS_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;

	(void)fd;
	if (!pd)
		return -EINVAL; /* only through usk_dump_ext_peer() */
	ue.id = id;
	ue.ino = pd->ino;
	ue.type = pd->type;
	ue.state = pd->state;
	ue.uflags = USK_EXTERN;
	ue.fown = &fown;
	ue.opts = &so;
	ue.name.len = pd->namelen;
	ue.name.data = (uint8_t *)pd->name;
	return cp_payload_pack(out, &ue.base);
}

int usk_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	UnixSkEntry ue = UNIX_SK_ENTRY__INIT;
	SkOptsEntry so = SK_OPTS_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	FilePermsEntry perms = FILE_PERMS_ENTRY__INIT;
	struct usk_diag dg;
	uint64_t rpc_ino = 0;
	bool save = true, service, inflight = false, ext_peer = false;
	int ret;

	ret = usk_diag_get((uint32_t)fd->st.st_ino, &dg);
	if (ret) {
		if (ret != -EBADMSG)
			pr_err("fd %d of pid %d: sock_diag does not know unix socket %lu: %s", fd->fd, (int)fd->pid,
			       (unsigned long)fd->st.st_ino, strerror(-ret));
		return ret;
	}
	ret = usk_dump_inflight(fd, &dg, &inflight);
	if (!ret)
		ret = usk_dump_opts(fd, &so);
	if (!ret)
		ret = usk_dump_name(fd, &dg, &ue, &perms);
	if (ret)
		return ret;
	service = dg.peer && !cp_rpc_service_sk_ino(&rpc_ino) && rpc_ino == dg.peer;

	ue.id = id;
	ue.ino = dg.ino;
	ue.type = dg.type;
	ue.state = dg.state;
	ue.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	ue.backlog = dg.state == USK_LISTEN ? dg.wqlen : 0;
	ue.peer = dg.peer;
	ue.fown = &fown;
	ue.opts = &so;
	ue.has_shutdown = dg.shutdown != 0;
	ue.shutdown = (SkShutdown)(dg.shutdown & (USK_RCV_SHUTDOWN | USK_SEND_SHUTDOWN));
	if (service) {
		/* As CRIU: saved closed, and answered "restored" on restore. */
		ue.state = USK_CLOSE;
		ue.peer = 0;
		ue.uflags |= USK_SERVICE;
		pr_info("fd %d of pid %d is connected to criu's RPC socket: the process dumps itself", fd->fd,
			(int)fd->pid);
	}
	if (ue.peer && !service && !inflight && !usk_in_tree(sk_state(p), ue.peer)) {
		ret = usk_dump_ext_peer(p, fd, &ue);
		if (ret)
			return ret;
		ext_peer = true;
	}
	cp_plugin_opt_bool(p, "queue-data", &save);
	if (save && dg.state != USK_LISTEN && !service) {
		ret = usk_dump_queue(p, fd, id, &so);
		if (ret)
			return ret;
	}
	ret = remember(p, fd, &ue, service || ext_peer, inflight);
	if (!ret)
		ret = cp_payload_pack(out, &ue.base);
	return ret;
}

static const struct usk_dumped *find_dumped(const struct sk_state *st, uint32_t ino)
{
	for (size_t i = 0; i < st->n_dumped; i++)
		if (st->dumped[i].ino == ino)
			return &st->dumped[i];
	return NULL;
}

/*
 * Every peer must be in the tree too, as the other end of a pair. (Not
 * -ENOTSUP, which a hook returns for "not mine": the core would go on.)
 */
static int usk_check_peers(struct sk_state *st)
{
	bool ext = false;
	int ret = 0;

	cp_opt_bool("ext-unix-sk", &ext);
	for (size_t i = 0; i < st->n_dumped && !ret; i++) {
		const struct usk_dumped *d = &st->dumped[i], *peer;

		if (!d->peer || d->no_check)
			continue;
		peer = find_dumped(st, d->peer);
		if (peer && (peer->peer == d->ino || (d->inflight && peer->listening)))
			continue;
		if (peer) {
			/* A datagram socket connected to a bound one that is not its peer. */
			pr_err("fd %d of pid %d: unix socket %u is connected to socket %u, whose peer is another "
			       "socket; this is not supported",
			       d->fd, (int)d->pid, d->ino, d->peer);
			ret = -EINVAL;
			break;
		}
		if (ext) {
			pr_warn("fd %d of pid %d: unix socket %u is connected to socket %u, which was not "
				"dumped; --ext-unix-sk: it is restored unconnected",
				d->fd, (int)d->pid, d->ino, d->peer);
			continue;
		}
		ret = outside_err(d->fd, d->pid, d->ino, d->peer);
	}
	return ret;
}

int usk_post_dump(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct sk_state *st = sk_state(p);
	int ret = 0, r;

	if (!ctx->ret)
		ret = usk_check_peers(st);
	r = cp_image_close(st->queues);
	st->queues = NULL;
	free(st->dumped);
	st->dumped = NULL;
	st->n_dumped = 0;
	free(st->tree_inos);
	st->tree_inos = NULL;
	st->n_tree_inos = 0;
	st->tree_known = false;
	return ret ? ret : r;
}

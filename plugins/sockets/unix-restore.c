// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore side of unix sockets. criu reads the unix entries of files.img
 * and the queued messages of sk-queues.img once (CP_STAGE_RESTORE_INIT);
 * the tasks inherit them.
 *
 * Two sockets that are each other's peer are made together, with
 * socketpair(): group() gives both the same key, so one task (the
 * lowest common ancestor of their users) opens both and the others
 * inherit them. The pair is made when its first end is asked for; both
 * ends wait at high fd numbers until they are asked for. The messages
 * queued for an end are written back from its peer, before either end is
 * shut down again.
 *
 * A socket without a peer is made on its own: bound again to its name
 * (a socket file left behind by the dumped socket is replaced), set
 * listening, its queued datagrams sent to its name. A stream socket whose
 * peer was gone is made as a pair whose other end is closed after the
 * queued bytes are written, so that it reads them and then end of file
 * (an unbound datagram socket whose peer is gone, the same way: it keeps
 * the datagrams its peer sent).
 * The socket of a process that dumped itself over RPC (USK_SERVICE) is
 * made the same way, with criu's answer "restored" as the queued message.
 *
 * A connection that was waiting to be accepted (its peer in the images is
 * a listening socket) connects to the listening socket's name again; it
 * is grouped with the listening socket, which is made first if need be
 * and kept until asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "sk-packet.pb-c.h"
#include "sockets.h"

/* ------------------------------------------------------------------ */
/* Images                                                               */

static int load_files(struct cp_plugin *p, struct sk_state *st)
{
	struct cp_image *img = cp_image_open_read(p, SK_FILES_IMG, SK_FILES_MAGIC);
	FileEntry *fe;
	unsigned long n = 0;
	int ret;

	if (!img)
		return errno ? -errno : -EIO;
	while ((ret = cp_image_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&fe)) == 1) {
		struct usk_image *im;

		n++;
		if (fe->type != FD_TYPES__UNIXSK) {
			file_entry__free_unpacked(fe, NULL);
			continue;
		}
		if (!fe->usk || !fe->usk->opts || !fe->usk->fown) {
			pr_err("%s: entry %lu (file id %u): a unix socket without its UnixSkEntry", SK_FILES_IMG, n,
			       fe->id);
			file_entry__free_unpacked(fe, NULL);
			ret = -EINVAL;
			break;
		}
		im = realloc(st->images, (st->n_images + 1) * sizeof(*im));
		if (!im) {
			file_entry__free_unpacked(fe, NULL);
			ret = -ENOMEM;
			break;
		}
		st->images = im;
		st->images[st->n_images++] = (struct usk_image){ .id = fe->id, .fe = fe };
	}
	cp_image_close(img);
	return ret < 0 ? ret : 0;
}

static const UnixSkEntry *image_by_ino(const struct sk_state *st, uint32_t ino)
{
	for (size_t i = 0; i < st->n_images; i++)
		if (st->images[i].fe->usk->ino == ino)
			return st->images[i].fe->usk;
	return NULL;
}

static const UnixSkEntry *image_by_id(const struct sk_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->n_images; i++)
		if (st->images[i].id == id)
			return st->images[i].fe->usk;
	return NULL;
}

static int load_queues(struct cp_plugin *p, struct sk_state *st)
{
	struct cp_image *img = cp_image_open_read(p, SK_QUEUES_IMG, SK_QUEUES_MAGIC);
	SkPacketEntry *pe;
	unsigned long n = 0;
	int ret;

	if (!img)
		return errno ? -errno : -EIO;
	while ((ret = cp_image_read_msg(img, &sk_packet_entry__descriptor, (ProtobufCMessage **)&pe)) == 1) {
		struct usk_packet *pk;
		uint8_t *data = NULL;

		n++;
		ret = 0;
		if (pe->n_scm) {
			pr_err("%s: entry %lu: a message with control data (fds in flight) is not supported",
			       SK_QUEUES_IMG, n);
			ret = -EINVAL;
		} else if (pe->length > (64u << 20)) {
			pr_err("%s: entry %lu: a message of %u bytes is too big", SK_QUEUES_IMG, n, pe->length);
			ret = -EINVAL;
		} else if (!(data = malloc(pe->length ? pe->length : 1))) {
			ret = -ENOMEM;
		} else {
			ret = cp_image_read_raw(img, data, pe->length);
		}
		if (!ret && !image_by_id(st, pe->id_for) && (ret = -EINVAL))
			pr_err("%s: entry %lu: the message is for file id %u, which is no unix socket", SK_QUEUES_IMG,
			       n, pe->id_for);
		pk = ret ? NULL : realloc(st->packets, (st->n_packets + 1) * sizeof(*pk));
		if (!ret && !pk)
			ret = -ENOMEM;
		if (ret) {
			free(data);
			sk_packet_entry__free_unpacked(pe, NULL);
			break;
		}
		st->packets = pk;
		st->packets[st->n_packets++] =
			(struct usk_packet){ .id_for = pe->id_for, .len = pe->length, .data = data };
		sk_packet_entry__free_unpacked(pe, NULL);
	}
	cp_image_close(img);
	return ret < 0 ? ret : 0;
}

int usk_restore_init(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct sk_state *st = sk_state(p);
	int ret;

	(void)ctx;
	if (st->loaded)
		return 0;
	ret = load_files(p, st);
	if (!ret && st->n_images)
		ret = load_queues(p, st);
	st->loaded = !ret;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Making sockets                                                       */

static UnixSkEntry *unpack(const struct cp_file *file)
{
	UnixSkEntry *ue = unix_sk_entry__unpack(NULL, file->payload_len, file->payload);

	if (!ue)
		pr_err("files.img: file id %u: malformed UnixSkEntry (%zu bytes)", file->id, file->payload_len);
	else if (ue->type != SOCK_STREAM && ue->type != SOCK_DGRAM && ue->type != SOCK_SEQPACKET) {
		pr_err("files.img: file id %u: unix socket %u of unknown type %u", file->id, ue->ino, ue->type);
		unix_sk_entry__free_unpacked(ue, NULL);
		ue = NULL;
	}
	return ue;
}

/* Both ends are in the images and each is the other's peer. */
static const UnixSkEntry *pair_peer(const struct sk_state *st, const UnixSkEntry *ue)
{
	const UnixSkEntry *pe = ue->peer ? image_by_ino(st, ue->peer) : NULL;

	return pe && pe->peer == ue->ino && pe->type == ue->type ? pe : NULL;
}

/* The listening socket on which UE waits to be accepted, if any. */
static const UnixSkEntry *listener_of(const struct sk_state *st, const UnixSkEntry *ue)
{
	const UnixSkEntry *pe = ue->peer && ue->type != SOCK_DGRAM ? image_by_ino(st, ue->peer) : NULL;

	return pe && pe->state == USK_LISTEN && pe->type == ue->type ? pe : NULL;
}

/* Does a connection wait on the listening socket UE? */
static bool has_waiting(const struct sk_state *st, const UnixSkEntry *ue)
{
	for (size_t i = 0; i < st->n_images; i++)
		if (listener_of(st, st->images[i].fe->usk) == image_by_ino(st, ue->ino))
			return true;
	return false;
}

int usk_group(struct cp_plugin *p, const struct cp_file *file, uint64_t *key)
{
	UnixSkEntry *ue = unpack(file);
	const UnixSkEntry *pe;

	if (!ue)
		return -EINVAL;
	pe = pair_peer(sk_state(p), ue);
	if (pe) {
		uint32_t lo = ue->ino < pe->ino ? ue->ino : pe->ino, hi = ue->ino ^ pe->ino ^ lo;

		*key = ((uint64_t)lo << 32) | hi;
	} else if ((pe = listener_of(sk_state(p), ue))) {
		*key = ((uint64_t)pe->ino << 32) | pe->ino; /* with the connections waiting on it */
	} else if (ue->state == USK_LISTEN && has_waiting(sk_state(p), ue)) {
		*key = ((uint64_t)ue->ino << 32) | ue->ino;
	}
	unix_sk_entry__free_unpacked(ue, NULL);
	return 0;
}

/*
 * Move FD out of the way of the task's fds, which the core places with
 * dup2(): to FILE->keep_fd_min or above (ABI 1.2), or, from an older
 * core, near the top of RLIMIT_NOFILE. Stays where it is if that fails.
 */
static int keep_high(const struct cp_file *file, int fd)
{
	struct rlimit rl;
	long base = 0;
	int n;

	if (CP_FILE_HAS(file, keep_fd_min) && file->keep_fd_min > 0)
		base = file->keep_fd_min;
	else if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur >= 64)
		base = rl.rlim_cur > 1024 ? (long)rl.rlim_cur - 384 : (long)rl.rlim_cur / 2;
	if (base > fd) {
		n = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
		if (n >= 0) {
			close(fd);
			return n;
		}
		pr_warn("cannot keep a unix socket at fd %ld or above: %s", base, strerror(errno));
	}
	return fd;
}

/* Buffer sizes first: the queued messages are charged to the sender's. */
static int set_bufs(int fd, const UnixSkEntry *ue)
{
	int snd = (int)(ue->opts->so_sndbuf / 2), rcv = (int)(ue->opts->so_rcvbuf / 2);

	if (snd > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)))
		goto fail;
	if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)))
		goto fail;
	return 0;
fail:
	pr_perror("unix socket %u: cannot set its buffer sizes (%u, %u)", ue->ino, ue->opts->so_sndbuf,
		  ue->opts->so_rcvbuf);
	return -errno;
}

/* What is left once the socket exists: flags and options. */
static int set_opts(int fd, const UnixSkEntry *ue)
{
	const SkOptsEntry *so = ue->opts;
	struct timeval tv;
	int on;

	if (fcntl(fd, F_SETFL, ue->flags & O_NONBLOCK) < 0)
		goto fail;
	on = so->has_so_passcred && so->so_passcred;
	if (on && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)))
		goto fail;
	on = so->has_so_passsec && so->so_passsec;
	if (on && setsockopt(fd, SOL_SOCKET, SO_PASSSEC, &on, sizeof(on)))
		goto fail;
	tv.tv_sec = (time_t)so->so_snd_tmo_sec;
	tv.tv_usec = (suseconds_t)so->so_snd_tmo_usec;
	if ((tv.tv_sec || tv.tv_usec) && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		goto fail;
	tv.tv_sec = (time_t)so->so_rcv_tmo_sec;
	tv.tv_usec = (suseconds_t)so->so_rcv_tmo_usec;
	if ((tv.tv_sec || tv.tv_usec) && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		goto fail;
	return 0;
fail:
	pr_perror("unix socket %u: cannot set its flags and options", ue->ino);
	return -errno;
}

static int send_all(int from, const struct usk_packet *pk, const struct sockaddr_un *to, socklen_t tolen,
		    const UnixSkEntry *ue)
{
	for (size_t done = 0; done < pk->len || (!pk->len && !done);) {
		ssize_t n = sendto(from, pk->data + done, pk->len - done, MSG_DONTWAIT | MSG_NOSIGNAL,
				   (const struct sockaddr *)to, to ? tolen : 0);

		if (n < 0) {
			pr_perror("unix socket %u: cannot put back a queued message of %zu bytes", ue->ino, pk->len);
			return -errno;
		}
		if (!pk->len)
			break;
		done += (size_t)n;
	}
	return 0;
}

/* Put back the messages queued for UE (file ID), sent from FROM. */
static int fill_queue(const struct sk_state *st, uint32_t id, int from, const struct sockaddr_un *to, socklen_t tolen,
		      const UnixSkEntry *ue)
{
	size_t n = 0, bytes = 0;

	for (size_t i = 0; i < st->n_packets; i++) {
		int ret;

		if (st->packets[i].id_for != id)
			continue;
		ret = send_all(from, &st->packets[i], to, tolen, ue);
		if (ret)
			return ret;
		n++;
		bytes += st->packets[i].len;
	}
	if (n)
		pr_debug("unix socket %u: %zu messages, %zu bytes put back", ue->ino, n, bytes);
	return 0;
}

static bool has_queue(const struct sk_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->n_packets; i++)
		if (st->packets[i].id_for == id)
			return true;
	return false;
}

static int set_shutdown(int fd, const UnixSkEntry *ue)
{
	static const int how[] = {
		[SK_SHUTDOWN__READ] = SHUT_RD, [SK_SHUTDOWN__WRITE] = SHUT_WR, [SK_SHUTDOWN__BOTH] = SHUT_RDWR
	};

	if (!ue->has_shutdown || ue->shutdown == SK_SHUTDOWN__NONE)
		return 0;
	if ((unsigned)ue->shutdown > SK_SHUTDOWN__BOTH) {
		pr_err("unix socket %u: bad shutdown state %d", ue->ino, (int)ue->shutdown);
		return -EINVAL;
	}
	if (shutdown(fd, how[ue->shutdown]) && errno != ENOTCONN) {
		pr_perror("unix socket %u: cannot shut it down again", ue->ino);
		return -errno;
	}
	return 0;
}

/* The pair of UE and its peer PE: made, filled and shut down the first time. */
static int pair_get(struct sk_state *st, const struct cp_file *file, const UnixSkEntry *ue, const UnixSkEntry *pe,
		    struct usk_pair **out)
{
	const UnixSkEntry *e[2] = { ue, pe };
	struct usk_pair *pr;
	int fds[2], ret = 0;

	for (size_t i = 0; i < st->n_pairs; i++) {
		if (st->pairs[i].ino[0] == ue->ino || st->pairs[i].ino[1] == ue->ino) {
			*out = &st->pairs[i];
			return 0;
		}
	}
	pr = realloc(st->pairs, (st->n_pairs + 1) * sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	st->pairs = pr;
	if (socketpair(AF_UNIX, (int)ue->type | SOCK_CLOEXEC, 0, fds)) {
		ret = -errno;
		pr_perror("cannot make the pair of unix sockets %u and %u", ue->ino, pe->ino);
		return ret;
	}
	for (int i = 0; i < 2 && !ret; i++)
		ret = set_bufs(fds[i], e[i]);
	for (int i = 0; i < 2 && !ret; i++)
		ret = fill_queue(st, e[i]->id, fds[!i], NULL, 0, e[i]);
	for (int i = 0; i < 2 && !ret; i++)
		ret = set_shutdown(fds[i], e[i]);
	if (ret) {
		close(fds[0]);
		close(fds[1]);
		return ret;
	}
	pr = &st->pairs[st->n_pairs++];
	for (int i = 0; i < 2; i++) {
		struct stat sb;

		pr->ino[i] = e[i]->ino;
		pr->new_ino[i] = fstat(fds[i], &sb) ? 0 : sb.st_ino;
		pr->fds[i] = keep_high(file, fds[i]);
	}
	pr_debug("unix sockets %u and %u made again as a pair", ue->ino, pe->ino);
	*out = pr;
	return 0;
}

/* Hand out the kept end INO of PR; the core moves it to its fd number. */
static int pair_take(struct usk_pair *pr, uint32_t ino, int *out)
{
	int i = pr->ino[0] == ino ? 0 : 1;

	if (pr->fds[i] < 0) {
		pr_err("unix socket %u is asked for twice", ino);
		return -EEXIST;
	}
	*out = pr->fds[i];
	pr->fds[i] = -1;
	return 0;
}

/* A stream socket whose peer is gone: a pair, filled, whose other end is closed. */
static int orphan_make(const struct sk_state *st, const UnixSkEntry *ue, bool service, int *out)
{
	int fds[2], ret;

	if (socketpair(AF_UNIX, (int)ue->type | SOCK_CLOEXEC, 0, fds)) {
		ret = -errno;
		pr_perror("cannot make unix socket %u", ue->ino);
		return ret;
	}
	ret = set_bufs(fds[0], ue);
	if (!ret && service) {
		ret = cp_rpc_send_dump_restored(fds[1]);
		if (ret)
			pr_err("unix socket %u: cannot put criu's answer \"restored\" on it: %s", ue->ino,
			       strerror(-ret));
	}
	if (!ret)
		ret = fill_queue(st, ue->id, fds[1], NULL, 0, ue);
	close(fds[1]);
	if (!ret)
		ret = set_shutdown(fds[0], ue);
	if (ret) {
		close(fds[0]);
		return ret;
	}
	*out = fds[0];
	return 0;
}

/* The address of UE's name; *LEN is 0 when it has none. */
static void name_addr(const UnixSkEntry *ue, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = ue->name.len;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*len = 0;
	if (!n || n > sizeof(sa->sun_path))
		return;
	memcpy(sa->sun_path, ue->name.data, n);
	if (sa->sun_path[0]) /* a path: the kernel's name may end with its NUL */
		n = strnlen(sa->sun_path, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

/* Bind FD to UE's name again; a socket file the dumped socket left behind is replaced. */
static int bind_name(int fd, const UnixSkEntry *ue, const struct sockaddr_un *sa, socklen_t len)
{
	const char *path = sa->sun_path[0] ? sa->sun_path : NULL;
	struct stat sb;

	if (path && !lstat(path, &sb)) {
		if (!S_ISSOCK(sb.st_mode)) {
			pr_err("unix socket %u: %s exists and is no socket; cannot bind to it again", ue->ino, path);
			return -EEXIST;
		}
		if (unlink(path)) {
			pr_perror("unix socket %u: cannot remove the old socket file %s", ue->ino, path);
			return -errno;
		}
	}
	if (bind(fd, (const struct sockaddr *)sa, len)) {
		int ret = -errno;

		pr_perror("unix socket %u: cannot bind it to %s%s", ue->ino, path ? "" : "@",
			  path ? path : sa->sun_path + 1);
		return ret;
	}
	if (path && ue->file_perms &&
	    (chmod(path, ue->file_perms->mode & 07777) || chown(path, ue->file_perms->uid, ue->file_perms->gid))) {
		pr_perror("unix socket %u: cannot give %s its mode %#o and owner %u:%u again", ue->ino, path,
			  ue->file_perms->mode, ue->file_perms->uid, ue->file_perms->gid);
		return -errno;
	}
	if (path && ue->has_deleted && ue->deleted && unlink(path)) {
		pr_perror("unix socket %u: cannot remove %s again (it was deleted)", ue->ino, path);
		return -errno;
	}
	return 0;
}

/* Send the datagrams queued for UE to its name, from a socket of our own. */
static int fill_by_name(const struct sk_state *st, const UnixSkEntry *ue, const struct sockaddr_un *sa, socklen_t len)
{
	int from, ret;

	if (!len || ue->type != SOCK_DGRAM) {
		pr_err("unix socket %u (file id %u) has queued messages but no peer and no name to send "
		       "them to; this is not supported",
		       ue->ino, ue->id);
		return -EINVAL;
	}
	from = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (from < 0) {
		pr_perror("cannot make a socket to refill unix socket %u", ue->ino);
		return -errno;
	}
	ret = set_bufs(from, ue);
	if (!ret)
		ret = fill_queue(st, ue->id, from, sa, len, ue);
	close(from);
	return ret;
}

/* A socket with no peer in the images: unconnected, maybe bound and listening. */
static int single_make(const struct sk_state *st, const UnixSkEntry *ue, int *out)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, ret;

	fd = socket(AF_UNIX, (int)ue->type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot make unix socket %u", ue->ino);
		return ret;
	}
	name_addr(ue, &sa, &len);
	ret = set_bufs(fd, ue);
	if (!ret && len)
		ret = bind_name(fd, ue, &sa, len);
	if (!ret && ue->state == USK_LISTEN && listen(fd, (int)ue->backlog)) {
		ret = -errno;
		pr_perror("unix socket %u: cannot listen again", ue->ino);
	}
	if (!ret && has_queue(st, ue->id))
		ret = fill_by_name(st, ue, &sa, len);
	if (!ret)
		ret = set_shutdown(fd, ue);
	if (ret) {
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

static struct usk_listener *kept_listener(struct sk_state *st, uint32_t ino)
{
	for (size_t i = 0; i < st->n_listeners; i++)
		if (st->listeners[i].ino == ino)
			return &st->listeners[i];
	return NULL;
}

/* A listening socket: the one made early for its connections, or a new one. */
static int listener_open(struct sk_state *st, const UnixSkEntry *ue, int *out)
{
	struct usk_listener *l = kept_listener(st, ue->ino);
	int ret;

	if (!l) {
		/* Remembered (handed out) so that a connection opened later does not make another. */
		l = realloc(st->listeners, (st->n_listeners + 1) * sizeof(*l));
		if (!l)
			return -ENOMEM;
		st->listeners = l;
		ret = single_make(st, ue, out);
		if (!ret)
			st->listeners[st->n_listeners++] = (struct usk_listener){ .ino = ue->ino, .fd = -1 };
		return ret;
	}
	if (l->fd < 0) {
		pr_err("unix socket %u is asked for twice", ue->ino);
		return -EEXIST;
	}
	*out = l->fd;
	l->fd = -1;
	return 0;
}

/* UE waits to be accepted by LE: make LE first if need be, then connect to it again. */
static int inflight_make(struct sk_state *st, const struct cp_file *file, const UnixSkEntry *ue, const UnixSkEntry *le,
			 int *out)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, ret;

	if (!kept_listener(st, le->ino)) {
		struct usk_listener *l = realloc(st->listeners, (st->n_listeners + 1) * sizeof(*l));
		struct stat sb;
		int lfd;

		if (!l)
			return -ENOMEM;
		st->listeners = l;
		ret = single_make(st, le, &lfd);
		if (ret)
			return ret;
		l = &st->listeners[st->n_listeners++];
		l->ino = le->ino;
		l->new_ino = fstat(lfd, &sb) ? 0 : sb.st_ino;
		l->fd = keep_high(file, lfd);
	}
	name_addr(le, &sa, &len);
	if (!len || (le->has_deleted && le->deleted)) {
		pr_err("unix socket %u waits to be accepted by socket %u, which has no name to connect to "
		       "again",
		       ue->ino, le->ino);
		return -EINVAL;
	}
	fd = socket(AF_UNIX, (int)ue->type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot make unix socket %u", ue->ino);
		return ret;
	}
	ret = set_bufs(fd, ue);
	if (!ret && connect(fd, (struct sockaddr *)&sa, len)) {
		ret = -errno;
		pr_perror("unix socket %u: cannot connect to listening socket %u again", ue->ino, le->ino);
	}
	if (!ret)
		ret = set_shutdown(fd, ue);
	if (ret) {
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

/*
 * UE's peer PE was outside the tree (--ext-unix-sk): a datagram socket is
 * connected to the peer's name again, as CRIU does; a stream socket
 * cannot be (the other end would be a new connection the peer never
 * accepted) and is restored connected to nothing.
 */
static int ext_make(struct sk_state *st, const UnixSkEntry *ue, const UnixSkEntry *pe, int *out)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, ret;

	name_addr(pe, &sa, &len);
	if (ue->type != SOCK_DGRAM || !len) {
		pr_warn("unix socket %u: its peer %u was outside the tree (--ext-unix-sk)%s; it is restored "
			"connected to nothing",
			ue->ino, pe->ino, len ? "" : " and has no name");
		return ue->type == SOCK_DGRAM ? single_make(st, ue, out) : orphan_make(st, ue, false, out);
	}
	ret = single_make(st, ue, &fd);
	if (ret)
		return ret;
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		ret = -errno;
		pr_perror("unix socket %u: cannot connect to its outside peer %s%s again", ue->ino,
			  sa.sun_path[0] ? "" : "@", sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1);
		close(fd);
		return ret;
	}
	pr_info("unix socket %u connected again to its outside peer %s%s", ue->ino, sa.sun_path[0] ? "" : "@",
		sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1);
	*out = fd;
	return 0;
}

int usk_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	struct sk_state *st = sk_state(p);
	const UnixSkEntry *pe;
	struct usk_pair *pr = NULL;
	UnixSkEntry *ue;
	int fd = -1, ret;

	ue = unpack(file);
	if (!ue)
		return -EINVAL;
	pe = pair_peer(st, ue);
	if (ue->uflags & USK_SERVICE) {
		ret = orphan_make(st, ue, true, &fd);
		if (!ret)
			pr_info("pid %d: fd %d gets criu's answer \"restored\" to its own dump", (int)file->pid,
				file->fd);
	} else if (pe) {
		ret = pair_get(st, file, ue, pe, &pr);
		if (!ret)
			ret = pair_take(pr, ue->ino, &fd);
	} else if (ue->peer && (pe = image_by_ino(st, ue->peer)) && (pe->uflags & USK_EXTERN)) {
		ret = ext_make(st, ue, pe, &fd);
	} else if ((pe = listener_of(st, ue))) {
		ret = inflight_make(st, file, ue, pe, &fd);
	} else if (ue->state == USK_LISTEN) {
		ret = listener_open(st, ue, &fd);
	} else if (ue->peer && ue->type != SOCK_DGRAM) {
		pr_warn("unix socket %u (file id %u): its peer %u was outside the tree (--ext-unix-sk); it is "
			"restored connected to nothing",
			ue->ino, file->id, ue->peer);
		ret = orphan_make(st, ue, false, &fd);
	} else if (ue->state == USK_ESTABLISHED && (ue->type != SOCK_DGRAM || !ue->name.len)) {
		ret = orphan_make(st, ue, false, &fd); /* its peer was closed; what it sent waits still */
	} else {
		if (ue->peer)
			pr_warn("unix socket %u (file id %u): its peer %u was outside the tree (--ext-unix-sk); "
				"it is restored unconnected",
				ue->ino, file->id, ue->peer);
		ret = single_make(st, ue, &fd);
	}
	if (!ret)
		ret = set_opts(fd, ue);
	if (ret) {
		if (fd >= 0)
			close(fd);
	} else {
		*out_fd = fd;
	}
	unix_sk_entry__free_unpacked(ue, NULL);
	return ret;
}

int usk_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx)
{
	struct sk_state *st = sk_state(p);

	(void)ctx;
	/* Ends nobody took (inherited from the task that made them): close them if still ours. */
	for (size_t i = 0; i < st->n_pairs; i++) {
		for (int k = 0; k < 2; k++) {
			struct stat sb;
			int fd = st->pairs[i].fds[k];

			if (fd >= 0 && !fstat(fd, &sb) && S_ISSOCK(sb.st_mode) && sb.st_ino == st->pairs[i].new_ino[k])
				close(fd);
		}
	}
	for (size_t i = 0; i < st->n_listeners; i++) {
		struct stat sb;
		int fd = st->listeners[i].fd;

		if (fd >= 0 && !fstat(fd, &sb) && S_ISSOCK(sb.st_mode) && sb.st_ino == st->listeners[i].new_ino)
			close(fd);
	}
	free(st->pairs);
	st->pairs = NULL;
	st->n_pairs = 0;
	free(st->listeners);
	st->listeners = NULL;
	st->n_listeners = 0;
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The unix socket kind of the sockets plugin, against the mock core:
 * sock_diag answers parsed (and malformed ones refused); a socketpair
 * with messages queued both ways dumped, closed and made again as one
 * pair with the same messages; group() gives both ends one key; a socket
 * whose peer was not dumped fails the dump (and passes with
 * --ext-unix-sk, which saves the outside peer as a USK_EXTERN entry);
 * fds in flight and data sent on a connection not
 * accepted yet are refused, such a connection is saved with the
 * listening socket as its peer; the socket connected to criu's RPC socket is marked
 * USK_SERVICE and restored holding the answer "restored".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mock-sdk.h"
#include "rpc.pb-c.h"
#include "sockets.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static struct cp_plugin *start(void)
{
	return mock_plugin_start("sockets", criu_plugin_descriptor.init);
}

static uint32_t ino_of(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) ? 0 : (uint32_t)sb.st_ino;
}

/* files.img as the core writes it, with the dumped unix sockets F[0..N). */
static void write_files_img(const struct mock_file *f, size_t n)
{
	struct cp_image *img = cp_image_open_write(NULL, SK_FILES_IMG, SK_FILES_MAGIC);

	REQUIRE(img);
	for (size_t i = 0; i < n; i++) {
		FileEntry fe = FILE_ENTRY__INIT;

		fe.type = FD_TYPES__UNIXSK;
		fe.id = f[i].id;
		fe.usk = unix_sk_entry__unpack(NULL, f[i].len, f[i].payload);
		REQUIRE(fe.usk);
		CHECK_EQ(cp_image_write_msg(img, &fe.base), 0);
		unix_sk_entry__free_unpacked(fe.usk, NULL);
	}
	CHECK_EQ(cp_image_close(img), 0);
}

static void t_diag_parse(void)
{
	union {
		char buf[256];
		struct nlmsghdr align;
	} u;
	struct nlmsghdr *h = (struct nlmsghdr *)u.buf;
	struct unix_diag_msg *m = NLMSG_DATA(h);
	struct nlattr *a;
	struct nlmsgerr *e;
	struct usk_diag d;
	uint32_t peer = 77;

	memset(&u, 0, sizeof(u));
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m->udiag_family = AF_UNIX;
	m->udiag_type = SOCK_DGRAM;
	m->udiag_state = USK_ESTABLISHED;
	m->udiag_ino = 42;
	a = (struct nlattr *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	a->nla_type = UNIX_DIAG_PEER;
	a->nla_len = NLA_HDRLEN + sizeof(peer);
	memcpy((char *)a + NLA_HDRLEN, &peer, sizeof(peer));
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	a->nla_type = UNIX_DIAG_NAME;
	a->nla_len = NLA_HDRLEN + 4;
	memcpy((char *)a + NLA_HDRLEN, "\0abc", 4);
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	a->nla_type = UNIX_DIAG_SHUTDOWN;
	a->nla_len = NLA_HDRLEN + 1;
	*((uint8_t *)a + NLA_HDRLEN) = USK_SEND_SHUTDOWN;
	h->nlmsg_len = (uint32_t)((char *)a + NLA_ALIGN(a->nla_len) - u.buf);

	CHECK_EQ(usk_diag_parse(u.buf, h->nlmsg_len, &d), 0);
	CHECK_EQ(d.ino, 42u);
	CHECK_EQ(d.peer, 77u);
	CHECK_EQ(d.type, SOCK_DGRAM);
	CHECK_EQ(d.namelen, 4u);
	CHECK(!memcmp(d.name, "\0abc", 4));
	CHECK_EQ(d.shutdown, USK_SEND_SHUTDOWN);

	/* An attribute longer than the message, a short message, a kernel error. */
	a->nla_len = 200;
	CHECK_EQ(usk_diag_parse(u.buf, h->nlmsg_len, &d), -EBADMSG);
	CHECK_EQ(usk_diag_parse(u.buf, 8, &d), -EBADMSG);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	e = NLMSG_DATA(h);
	e->error = -ENOENT;
	CHECK_EQ(usk_diag_parse(u.buf, h->nlmsg_len, &d), -ENOENT);
}

static void t_diag_real(void)
{
	struct usk_diag d;
	int sv[2];

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	REQUIRE(send(sv[0], "abc", 3, 0) == 3);
	REQUIRE(!shutdown(sv[0], SHUT_WR));
	CHECK_EQ(usk_diag_get(ino_of(sv[1]), &d), 0);
	CHECK_EQ(d.ino, ino_of(sv[1]));
	CHECK_EQ(d.peer, ino_of(sv[0]));
	CHECK_EQ(d.type, SOCK_STREAM);
	CHECK(d.has_rqlen && d.rqlen == 3);
	CHECK_EQ(d.shutdown, USK_RCV_SHUTDOWN);
	close(sv[0]);
	close(sv[1]);
}

static void recv_is(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	CHECK(n == (ssize_t)strlen(want));
	if (n >= 0) {
		buf[n] = 0;
		CHECK_STR(buf, want);
	}
}

static void t_pair_round_trip(void)
{
	struct mock_file f[2];
	struct cp_file cf = { .size = sizeof(cf), .type = SK_TYPE_UNIX };
	uint64_t k0 = 0, k1 = 0;
	int sv[2], n0 = -1, n1 = -1;
	struct cp_plugin *p;

	p = start();
	REQUIRE(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	REQUIRE(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "two", 3, 0) == 3);
	REQUIRE(send(sv[1], "back", 4, 0) == 4);
	CHECK_EQ(mock_dump_own_fd(sv[0], 1, &f[0]), 0);
	CHECK_EQ(mock_dump_own_fd(sv[1], 2, &f[1]), 0);
	CHECK_EQ(mock_run_hooks_ret(CP_STAGE_POST_DUMP, 0), 0);
	/* The dump took nothing from the queues. */
	recv_is(sv[1], "one");
	close(sv[0]);
	close(sv[1]);
	write_files_img(f, 2);

	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_INIT), 0);
	for (int i = 0; i < 2; i++) {
		cf.id = f[i].id;
		cf.payload = f[i].payload;
		cf.payload_len = f[i].len;
		CHECK_EQ(usk_group(p, &cf, i ? &k1 : &k0), 0);
	}
	CHECK(k0 && k0 == k1);
	CHECK_EQ(mock_open_file(&f[1], 11, &n1, NULL), 0);
	CHECK_EQ(mock_open_file(&f[0], 10, &n0, NULL), 0);
	REQUIRE(n0 >= 0 && n1 >= 0);
	recv_is(n1, "one");
	recv_is(n1, "two");
	recv_is(n0, "back");
	CHECK(send(n0, "new", 3, 0) == 3);
	recv_is(n1, "new");
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	close(n0);
	close(n1);
	mock_file_free(&f[0]);
	mock_file_free(&f[1]);
}

static void t_peer_not_dumped(void)
{
	struct mock_file f;
	int sv[2];

	start();
	REQUIRE(!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(mock_dump_own_fd(sv[0], 1, &f), 0);
	CHECK_EQ(mock_run_hooks_ret(CP_STAGE_POST_DUMP, 0), -EXDEV);
	CHECK_LOG("outside the dumped tree (use --ext-unix-sk");
	mock_file_free(&f);

	mock_set_opt("ext-unix-sk", "yes");
	CHECK_EQ(mock_dump_own_fd(sv[0], 1, &f), 0);
	CHECK_EQ(mock_run_hooks_ret(CP_STAGE_POST_DUMP, 0), 0);
	CHECK_LOG("--ext-unix-sk: it is restored unconnected");
	mock_file_free(&f);
	close(sv[0]);
	close(sv[1]);
}

/* Peers outside the tree are known once the tree is listed (network lock): the dump of the socket decides. */
static void t_outside_at_dump(void)
{
	struct cp_image *img;
	struct mock_file f;
	FileEntry *fe;
	bool ext_seen = false;
	int sv[2];

	start();
	CHECK_EQ(mock_run_hooks(CP_STAGE_NETWORK_LOCK), 0); /* our tree, before the pair exists */
	REQUIRE(!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(mock_dump_own_fd(sv[0], 1, &f), -EXDEV);
	CHECK_LOG("outside the dumped tree (use --ext-unix-sk");

	mock_set_opt("ext-unix-sk", "yes");
	CHECK_EQ(mock_dump_own_fd(sv[0], 1, &f), 0);
	CHECK_EQ(mock_run_hooks_ret(CP_STAGE_POST_DUMP, 0), 0);
	img = cp_image_open_read(NULL, SK_FILES_IMG, SK_FILES_MAGIC);
	REQUIRE(img);
	while (cp_image_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&fe) == 1) {
		if (fe->usk && fe->usk->ino == ino_of(sv[1]) && (fe->usk->uflags & USK_EXTERN))
			ext_seen = true;
		file_entry__free_unpacked(fe, NULL);
	}
	cp_image_close(img);
	CHECK(ext_seen);
	mock_file_free(&f);
	close(sv[0]);
	close(sv[1]);
}

static void t_fds_in_flight(void)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
	struct mock_file f;
	int sv[2];

	start();
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(ch), &sv[0], sizeof(int));
	REQUIRE(sendmsg(sv[0], &mh, 0) == 1);
	CHECK_EQ(mock_dump_own_fd(sv[1], 1, &f), -EBUSY);
	CHECK_LOG("fds in flight (SCM_RIGHTS)");
	close(sv[0]);
	close(sv[1]);
}

/* A connection not accepted yet: its peer is saved as the listening socket, unless it sent data. */
static void t_inflight(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			    (size_t)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "criu-test-%d", getpid()));
	struct mock_file f;
	UnixSkEntry *ue;
	int l, c;

	start();
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(l >= 0 && c >= 0 && !bind(l, (struct sockaddr *)&sa, len) && !listen(l, 4));
	REQUIRE(!connect(c, (struct sockaddr *)&sa, len));
	CHECK_EQ(mock_dump_own_fd(c, 1, &f), 0);
	ue = unix_sk_entry__unpack(NULL, f.len, f.payload);
	REQUIRE(ue);
	CHECK_EQ(ue->peer, ino_of(l));
	unix_sk_entry__free_unpacked(ue, NULL);
	mock_file_free(&f);
	REQUIRE(send(c, "x", 1, 0) == 1);
	CHECK_EQ(mock_dump_own_fd(c, 2, &f), -EBUSY);
	CHECK_LOG("on a connection that listening socket");
	close(c);
	close(l);
}

static void t_service(void)
{
	struct mock_file f;
	UnixSkEntry *ue;
	CriuResp *resp;
	uint8_t buf[128];
	int sv[2], n = -1;
	ssize_t len;

	start();
	REQUIRE(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	mock_set_rpc_sk_ino(ino_of(sv[1])); /* sv[1] plays criu's RPC socket */
	CHECK_EQ(mock_dump_own_fd(sv[0], 1, &f), 0);
	CHECK_EQ(mock_run_hooks_ret(CP_STAGE_POST_DUMP, 0), 0); /* its peer is criu: not outside */
	ue = unix_sk_entry__unpack(NULL, f.len, f.payload);
	REQUIRE(ue);
	CHECK(ue->uflags & USK_SERVICE);
	CHECK_EQ(ue->peer, 0u);
	CHECK_EQ(ue->state, USK_CLOSE);
	unix_sk_entry__free_unpacked(ue, NULL);
	close(sv[0]);
	close(sv[1]);
	write_files_img(&f, 1);

	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_INIT), 0);
	CHECK_EQ(mock_open_file(&f, 3, &n, NULL), 0);
	REQUIRE(n >= 0);
	len = recv(n, buf, sizeof(buf), MSG_DONTWAIT);
	REQUIRE(len > 0);
	resp = criu_resp__unpack(NULL, (size_t)len, buf);
	REQUIRE(resp);
	CHECK_EQ(resp->type, CRIU_REQ_TYPE__DUMP);
	CHECK(resp->success && resp->dump && resp->dump->has_restored && resp->dump->restored);
	criu_resp__free_unpacked(resp, NULL);
	close(n);
	mock_file_free(&f);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_diag_parse),	     TAP_TEST(t_diag_real),	  TAP_TEST(t_pair_round_trip),
		TAP_TEST(t_peer_not_dumped), TAP_TEST(t_outside_at_dump), TAP_TEST(t_fds_in_flight),
		TAP_TEST(t_inflight),	     TAP_TEST(t_service),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat probes about networking: TCP repair, socket ioctls and options,
 * tun, sock_diag, netns ids and link moves. Whatever creates sockets that
 * talk, or links, runs in a child inside fresh network namespaces, so the
 * host never sees a port or an interface of ours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/net_namespace.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/un.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include <criu/log.h>

#include "check/kerndat-priv.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

/* What the network children found. */
struct kd_net_out {
	bool tcp_repair, tcp_repair_window, tcp_half_closed;
	bool tun, tun_ns;
	bool link_nsid, newifindex;
};

/* Move into a new network namespace and bring its loopback up. */
static int kd_new_netns(void)
{
	struct ifreq ifr;
	int s, ret = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			ret = -errno;
	} else {
		ret = -errno;
	}
	close(s);
	return ret;
}

static int kd_tcp_pair(int *srv, int *cli)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int lsk;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsk < 0)
		return -errno;
	if (bind(lsk, (struct sockaddr *)&addr, sizeof(addr)) || listen(lsk, 1) ||
	    getsockname(lsk, (struct sockaddr *)&addr, &len))
		return -errno;
	*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&addr, sizeof(addr)))
		return -errno;
	*srv = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
	if (*srv < 0)
		return -errno;
	close(lsk);
	return 0;
}

static int kd_tcp_child(void *arg, void *out)
{
	struct kd_net_out *o = out;
	struct tcp_repair_window win;
	socklen_t len = sizeof(win);
	int on = 1, off = 0, srv = -1, cli = -1;
	char c;

	(void)arg;
	if (kd_new_netns() || kd_tcp_pair(&srv, &cli))
		return 0;
	o->tcp_repair = setsockopt(cli, SOL_TCP, TCP_REPAIR, &on, sizeof(on)) == 0;
	if (!o->tcp_repair)
		return 1;
	o->tcp_repair_window = getsockopt(cli, SOL_TCP, TCP_REPAIR_WINDOW, &win, &len) == 0;
	if (setsockopt(cli, SOL_TCP, TCP_REPAIR, &off, sizeof(off)))
		return 1;
	/* Half-closed: our FIN went out and was seen, so we sit in FIN_WAIT2. */
	if (shutdown(cli, SHUT_WR) || read(srv, &c, 1) != 0)
		return 1;
	o->tcp_half_closed = setsockopt(cli, SOL_TCP, TCP_REPAIR, &on, sizeof(on)) == 0;
	return 1;
}

static int kd_tun_child(void *arg, void *out)
{
	struct kd_net_out *o = out;
	unsigned int index = 0;
	struct ifreq ifr;
	int fd, nsfd;

	(void)arg;
	if (kd_new_netns())
		return 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	/* C/R of tun devices needs to pick the ifindex before attaching. */
	o->tun = ioctl(fd, TUNSETIFINDEX, &index) == 0;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "criukd%d");
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr))
		return 1;
	nsfd = ioctl(fd, TUNGETDEVNETNS);
	o->tun_ns = nsfd >= 0;
	return 1;
}

/* A netlink request: header, family header and attributes. */
struct kd_nlreq {
	struct nlmsghdr h;
	char buf[1024];
};

static struct rtattr *kd_nla_put(struct kd_nlreq *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void kd_nla_end(struct kd_nlreq *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)r + r->h.nlmsg_len - (char *)nest);
}

static void *kd_nl_init(struct kd_nlreq *r, unsigned short type, unsigned short flags, size_t hdr_len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | flags;
	r->h.nlmsg_len = NLMSG_LENGTH(hdr_len);
	r->h.nlmsg_seq = 1;
	return NLMSG_DATA(&r->h);
}

/*
 * Send R on FD and read the answer. Returns the NLMSG_ERROR code (0 or
 * -errno), 0 at the end of a dump, or 1 when a data message came (the
 * first is copied to REPLY). Errors on the socket itself are -errno.
 */
static int kd_nl_talk(int fd, struct kd_nlreq *r, void *reply, size_t reply_size)
{
	bool dump = r->h.nlmsg_flags & NLM_F_DUMP, got = false;
	char buf[8192];

	if (send(fd, &r->h, r->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		int len;

		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				/* A dump that failed to start reports its error here. */
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *(int *)NLMSG_DATA(h) < 0)
					return *(int *)NLMSG_DATA(h);
				return got ? 1 : 0;
			}
			if (!got && reply) {
				size_t sz = h->nlmsg_len < reply_size ? h->nlmsg_len : reply_size;

				memcpy(reply, h, sz);
			}
			got = true;
		}
		if (got && !dump)
			return 1;
	}
}

static int kd_nl_open(int proto)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool kd_raw_diag(int family)
{
	struct kd_nlreq r;
	struct inet_diag_req_v2 *req;
	int fd, ret;

	fd = kd_nl_open(NETLINK_SOCK_DIAG);
	if (fd < 0)
		return false;
	req = kd_nl_init(&r, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, sizeof(*req));
	req->sdiag_family = (unsigned char)family;
	req->sdiag_protocol = IPPROTO_RAW;
	req->idiag_states = ~0U;
	ret = kd_nl_talk(fd, &r, NULL, 0);
	close(fd);
	if (ret < 0)
		pr_debug("raw sock_diag for family %d: %s", family, strerror(-ret));
	return ret >= 0;
}

static bool kd_nsid(void)
{
	struct kd_nlreq r;
	struct rtgenmsg *g;
	int fd, nsfd, ret;

	fd = kd_nl_open(NETLINK_ROUTE);
	if (fd < 0)
		return false;
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		close(fd);
		return false;
	}
	g = kd_nl_init(&r, RTM_GETNSID, 0, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	kd_nla_put(&r, NETNSA_FD, &(uint32_t){ (uint32_t)nsfd }, sizeof(uint32_t));
	ret = kd_nl_talk(fd, &r, NULL, 0);
	close(nsfd);
	close(fd);
	return ret == 1;
}

/* RTM_NEWLINK for a veth pair NAME/PEER; the peer goes to PEER_NS if >= 0. */
static int kd_veth(int nl, const char *name, const char *peer, int peer_ns)
{
	struct rtattr *linkinfo, *data, *peer_info;
	struct ifinfomsg *ifi, pifi;
	struct kd_nlreq r;

	ifi = kd_nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	kd_nla_put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = kd_nla_put(&r, IFLA_LINKINFO, NULL, 0);
	kd_nla_put(&r, IFLA_INFO_KIND, "veth", 5);
	data = kd_nla_put(&r, IFLA_INFO_DATA, NULL, 0);
	peer_info = kd_nla_put(&r, VETH_INFO_PEER, NULL, 0);
	/* The peer's attributes follow its own ifinfomsg. */
	memset(&pifi, 0, sizeof(pifi));
	memcpy(RTA_DATA(peer_info), &pifi, sizeof(pifi));
	r.h.nlmsg_len += NLMSG_ALIGN(sizeof(pifi));
	kd_nla_put(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	if (peer_ns >= 0)
		kd_nla_put(&r, IFLA_NET_NS_FD, &(uint32_t){ (uint32_t)peer_ns }, sizeof(uint32_t));
	kd_nla_end(&r, peer_info);
	kd_nla_end(&r, data);
	kd_nla_end(&r, linkinfo);
	return kd_nl_talk(nl, &r, NULL, 0);
}

static bool kd_link_has_nsid(int nl, const char *name)
{
	char reply[4096];
	struct nlmsghdr *h = (struct nlmsghdr *)reply;
	struct ifinfomsg *ifi;
	struct rtattr *rta;
	struct kd_nlreq r;
	int len;

	ifi = kd_nl_init(&r, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	kd_nla_put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	memset(reply, 0, sizeof(reply));
	if (kd_nl_talk(nl, &r, reply, sizeof(reply)) != 1 || h->nlmsg_type != RTM_NEWLINK)
		return false;
	if (h->nlmsg_len > sizeof(reply))
		h->nlmsg_len = sizeof(reply);
	len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	for (rta = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_LINK_NETNSID)
			return true;
	return false;
}

/* Move link IFINDEX to namespace NS, asking for index NEW_INDEX there. */
static int kd_move_link(int nl, int ifindex, int ns, int new_index)
{
	struct ifinfomsg *ifi;
	struct kd_nlreq r;

	ifi = kd_nl_init(&r, RTM_NEWLINK, NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	kd_nla_put(&r, IFLA_NET_NS_FD, &(uint32_t){ (uint32_t)ns }, sizeof(uint32_t));
	kd_nla_put(&r, IFLA_NEW_IFINDEX, &(int32_t){ new_index }, sizeof(int32_t));
	return kd_nl_talk(nl, &r, NULL, 0);
}

/*
 * In a child with two new network namespaces A and B (we stay in B):
 * a veth whose peer lives in A must report IFLA_LINK_NETNSID, and a link
 * moved from B to A with IFLA_NEW_IFINDEX must get that index there.
 */
static int kd_link_child(void *arg, void *out)
{
	struct kd_net_out *o = out;
	int ns_a, nl, idx;

	(void)arg;
	if (unshare(CLONE_NEWNET))
		return 0;
	ns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns_a < 0 || unshare(CLONE_NEWNET))
		return 0;
	nl = kd_nl_open(NETLINK_ROUTE);
	if (nl < 0)
		return 0;
	if (kd_veth(nl, "criukd0", "criukd1", ns_a) == 0)
		o->link_nsid = kd_link_has_nsid(nl, "criukd0");
	if (kd_veth(nl, "criukd2", "criukd3", -1) == 0) {
		idx = (int)if_nametoindex("criukd3");
		if (idx > 0 && kd_move_link(nl, idx, ns_a, 4242) == 0 && setns(ns_a, CLONE_NEWNET) == 0)
			o->newifindex = if_nametoindex("criukd3") == 4242;
	}
	return 1;
}

static bool kd_nftables(void)
{
	struct nfgenmsg *g;
	struct kd_nlreq r;
	int fd, ret;

	fd = kd_nl_open(NETLINK_NETFILTER);
	if (fd < 0)
		return false;
	g = kd_nl_init(&r, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, 0, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	ret = kd_nl_talk(fd, &r, NULL, 0);
	close(fd);
	return ret == 1;
}

static void kd_probe_sockopts(struct kerndat *kd)
{
	int s, fd, val = 3;
	socklen_t len = sizeof(val);

	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		fd = ioctl(s, SIOCGSKNS);
		kd->sk_ns = fd >= 0;
		if (fd >= 0)
			close(fd);
		if (setsockopt(s, SOL_SOCKET, SO_BUF_LOCK, &val, sizeof(val)) == 0) {
			val = 0;
			kd->sockopt_buf_lock = getsockopt(s, SOL_SOCKET, SO_BUF_LOCK, &val, &len) == 0 && val == 3;
		}
		close(s);
	}
	s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		val = 1;
		kd->ipv6_freebind = setsockopt(s, SOL_IPV6, IPV6_FREEBIND, &val, sizeof(val)) == 0;
		close(s);
	}
}

static void kd_probe_unix_file(struct kerndat *kd)
{
	char dir[] = "/tmp/criu-kerndat-XXXXXX";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int s, fd;

	if (!mkdtemp(dir))
		return;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/s", dir);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			fd = ioctl(s, SIOCUNIXFILE);
			kd->sk_unix_file = fd >= 0;
			if (fd >= 0)
				close(fd);
			unlink(addr.sun_path);
		}
		close(s);
	}
	rmdir(dir);
}

void kerndat_probe_net(struct kerndat *kd)
{
	struct kd_net_out o;

	memset(&o, 0, sizeof(o));
	kd_in_child("tcp repair", kd_tcp_child, NULL, &o, sizeof(o));
	kd->tcp_repair = o.tcp_repair;
	kd->tcp_repair_window = o.tcp_repair_window;
	kd->tcp_half_closed = o.tcp_half_closed;

	memset(&o, 0, sizeof(o));
	if (access("/dev/net/tun", F_OK) == 0)
		kd_in_child("tun", kd_tun_child, NULL, &o, sizeof(o));
	kd->tun = o.tun;
	kd->tun_ns = o.tun_ns;

	memset(&o, 0, sizeof(o));
	kd_in_child("links", kd_link_child, NULL, &o, sizeof(o));
	kd->link_nsid = o.link_nsid;
	kd->newifindex = o.newifindex;

	kd_probe_sockopts(kd);
	kd_probe_unix_file(kd);
	kd->net_diag_raw = kd_raw_diag(AF_INET) && kd_raw_diag(AF_INET6);
	kd->nsid = kd_nsid();
	kd->nftables_kernel = kd_nftables();
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The pidfd store (pidfd-store.h).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "pidfd-store: "

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <criu/log.h>

#include "dump/pidfd-store.h"
#include "pstree/pstree.h"

struct pidfd_entry {
	pid_t pid;
	int pidfd;
};

static int store_sk = -1;
static struct pidfd_entry *entries;
static size_t n_entries;

bool pidfd_store_ready(void)
{
	return store_sk >= 0;
}

/* An unnamed socket gets an abstract name and is connected to itself, once. */
static int bind_to_itself(int sk, pid_t client, int fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int buf = INT_MAX / 2;
	struct timespec ts;
	socklen_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* sun_path[0] stays 0: an abstract name, nobody else can reach it. */
	len = (socklen_t)snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
				  "criu-pidfd-store-%d-%d-%lld.%09ld", (int)client, fd, (long long)ts.tv_sec,
				  ts.tv_nsec);
	len += 1 + sizeof(sa_family_t);
	/* Room for many tasks' messages: the queue is all the store has. */
	setsockopt(sk, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(sk, (struct sockaddr *)&addr, len) || connect(sk, (struct sockaddr *)&addr, len)) {
		int ret = -errno;

		pr_perror("Can't bind the pidfd store socket to itself");
		return ret;
	}
	return 0;
}

int pidfd_store_attach(pid_t client, int fd)
{
	struct sockaddr_un addr;
	socklen_t len = sizeof(addr);
	int pidfd, sk, type = 0, ret;
	socklen_t tlen = sizeof(type);

	pidfd = (int)syscall(SYS_pidfd_open, client, 0);
	if (pidfd < 0) {
		ret = -errno;
		pr_perror("pidfd_store_sk: can't open a pidfd of the client %d", (int)client);
		return ret;
	}
	sk = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	ret = sk < 0 ? -errno : 0;
	close(pidfd);
	if (ret) {
		pr_err("pidfd_store_sk: can't take fd %d of the client %d: %s", fd, (int)client, strerror(-ret));
		return ret;
	}
	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &tlen) || type != SOCK_DGRAM ||
	    getsockname(sk, (struct sockaddr *)&addr, &len) || addr.sun_family != AF_UNIX) {
		pr_err("pidfd_store_sk: fd %d of the client is not an AF_UNIX SOCK_DGRAM socket", fd);
		ret = -EINVAL;
		goto err;
	}
	if (len == sizeof(sa_family_t)) {
		ret = bind_to_itself(sk, client, fd);
		if (ret)
			goto err;
	}
	if (store_sk >= 0)
		close(store_sk);
	store_sk = sk;
	pr_info("the pidfd store is fd %d of the client %d", fd, (int)client);
	return 0;
err:
	close(sk);
	return ret;
}

void pidfd_store_unload(void)
{
	for (size_t i = 0; i < n_entries; i++)
		close(entries[i].pidfd);
	free(entries);
	entries = NULL;
	n_entries = 0;
}

/* One queued message: its pid and pidfd. 1, 0 when the queue is empty, or <0. */
static int recv_entry(struct pidfd_entry *e)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &e->pid, .iov_len = sizeof(e->pid) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *ch;
	ssize_t n;

	n = recvmsg(store_sk, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	ch = CMSG_FIRSTHDR(&mh);
	if (n != sizeof(e->pid) || !ch || ch->cmsg_type != SCM_RIGHTS ||
	    ch->cmsg_len != CMSG_LEN(sizeof(int))) {
		/* Whatever fd came along is closed with the message. */
		if (ch && ch->cmsg_type == SCM_RIGHTS && ch->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int fd;

			memcpy(&fd, CMSG_DATA(ch), sizeof(fd));
			close(fd);
		}
		pr_err("The pidfd store holds a message that is not a pid and its pidfd");
		return -EBADMSG;
	}
	memcpy(&e->pidfd, CMSG_DATA(ch), sizeof(int));
	return 1;
}

int pidfd_store_load(bool has_parent)
{
	int ret;

	pidfd_store_unload();
	if (store_sk < 0)
		return 0;
	for (;;) {
		struct pidfd_entry e, *ne;

		ret = recv_entry(&e);
		if (ret <= 0)
			break;
		ne = realloc(entries, (n_entries + 1) * sizeof(*ne));
		if (!ne) {
			close(e.pidfd);
			ret = -ENOMEM;
			break;
		}
		entries = ne;
		entries[n_entries++] = e;
	}
	if (ret < 0) {
		pr_err("Can't read the pidfd store: %s", strerror(-ret));
		pidfd_store_unload();
		return ret;
	}
	if (!n_entries && has_parent) {
		pr_err("The pidfd store is empty: pass the pidfd_store_sk of the previous iteration");
		return -ENOENT;
	}
	pr_info("%zu pidfds from the previous iteration", n_entries);
	return 0;
}

static struct pidfd_entry *find(pid_t pid)
{
	for (size_t i = 0; i < n_entries; i++)
		if (entries[i].pid == pid)
			return &entries[i];
	return NULL;
}

/* 1 when the task of E has exited, 0 when it runs, or <0. */
static int exited(const struct pidfd_entry *e)
{
	struct pollfd p = { .fd = e->pidfd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n > 0;
}

int pidfd_store_check_reuse(pid_t pid)
{
	struct pidfd_entry *e = find(pid);
	int ret;

	if (!e) {
		pr_warn("pid %d is new since the previous iteration (pid reuse)", (int)pid);
		return 1;
	}
	ret = exited(e);
	if (ret < 0)
		pr_err("Can't poll the stored pidfd of pid %d: %s", (int)pid, strerror(-ret));
	else if (ret)
		pr_warn("pid %d was reused: the task of the previous iteration has exited", (int)pid);
	else
		pr_info("pid %d is the task of the previous iteration", (int)pid);
	return ret;
}

int pidfd_store_check_tree(const struct pstree *t, bool has_parent)
{
	int ret = 0;

	/* Reuse only matters against a parent; this criu saves every page anyway. */
	if (!has_parent || store_sk < 0)
		return 0;
	for (size_t i = 0; i < t->n && ret >= 0; i++)
		if (!t->items[i].zombie)
			ret = pidfd_store_check_reuse(t->items[i].pid);
	return ret < 0 ? ret : 0;
}

int pidfd_store_add_tree(const struct pstree *t)
{
	int ret = 0;

	for (size_t i = 0; i < t->n && !ret; i++)
		ret = pidfd_store_add(t->items[i].pid);
	return ret;
}

int pidfd_store_add(pid_t pid)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &pid, .iov_len = sizeof(pid) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct pidfd_entry *e = find(pid);
	struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
	int pidfd, ret = 0;

	if (store_sk < 0)
		return 0;
	/* The stored pidfd, when it still names this task, else a new one. */
	if (e && exited(e) == 0) {
		pidfd = e->pidfd;
	} else {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0) {
			ret = -errno;
			pr_perror("Can't open a pidfd of pid %d", (int)pid);
			return ret;
		}
	}
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(ch), &pidfd, sizeof(int));
	if (sendmsg(store_sk, &mh, MSG_DONTWAIT) != sizeof(pid)) {
		ret = -errno;
		pr_perror("Can't queue the pidfd of pid %d in the pidfd store", (int)pid);
	}
	if (!e || pidfd != e->pidfd)
		close(pidfd);
	return ret;
}

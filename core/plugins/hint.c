// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which plugin would handle an fd that no loaded plugin matched, so the
 * error can say "the sockets plugin handles this" instead of just "no".
 * This is a guess from what the kernel shows (the /proc/PID/fd link and
 * the file mode); it never decides anything.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "plugins/plugins.h"

struct link_hint {
	const char *prefix;
	const char *plugin;
};

/*
 * Link prefixes, most specific first. Anon inodes print as
 * "anon_inode:[eventfd]" or, for some, without brackets
 * ("anon_inode:inotify"); namespace files as "net:[4026531840]".
 */
static const struct link_hint link_hints[] = {
	{ "pipe:[", "files" },
	{ "anon_inode:[eventfd]", "files" },
	{ "anon_inode:[eventpoll]", "files" },
	{ "anon_inode:[signalfd]", "files" },
	{ "anon_inode:[timerfd]", "files" },
	{ "anon_inode:inotify", "files" },
	{ "anon_inode:[fanotify]", "files" },
	{ "/memfd:", "files" },
	{ "net:[", "namespaces" },
	{ "uts:[", "namespaces" },
	{ "ipc:[", "namespaces" },
	{ "time:[", "namespaces" },
	{ "mnt:[", "mounts" },
	{ "cgroup:[", "cgroups" },
};

/* An established (not listening, not closed) TCP socket goes to tcp. */
static bool is_connected_tcp(int fd)
{
	struct tcp_info ti;
	socklen_t len;
	int val;

	if (fd < 0)
		return false;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) || (val != AF_INET && val != AF_INET6))
		return false;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &val, &len) || val != IPPROTO_TCP)
		return false;
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return false;
	return ti.tcpi_state != TCP_LISTEN && ti.tcpi_state != TCP_CLOSE;
}

const char *plugins_hint_for_fd(const struct cp_fd_desc *fd)
{
	const char *link = fd->link ? fd->link : "";
	mode_t mode = fd->st.st_mode;

	if (!strncmp(link, "socket:[", 8) || S_ISSOCK(mode))
		return is_connected_tcp(fd->local_fd) ? "tcp" : "sockets";
	for (size_t i = 0; i < sizeof(link_hints) / sizeof(link_hints[0]); i++)
		if (!strncmp(link, link_hints[i].prefix, strlen(link_hints[i].prefix)))
			return link_hints[i].plugin;
	/* Other anon inodes (bpf-map, perf_event, userfaultfd, io_uring): nobody yet. */
	if (!strncmp(link, "anon_inode:", 11))
		return NULL;
	if (S_ISCHR(mode))
		return "devices";
	if (S_ISREG(mode) || S_ISDIR(mode) || S_ISFIFO(mode) || S_ISBLK(mode) || S_ISLNK(mode))
		return "files";
	return NULL;
}

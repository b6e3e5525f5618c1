// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PAGE_SERVER and PAGE_SERVER_CHLD over RPC.
 *
 * The page server runs in a process S of its own: for PAGE_SERVER a
 * detached daemon (setsid, double fork), for PAGE_SERVER_CHLD a child of
 * this worker that the client later reaps with WAIT_PID. The worker
 * answers once S is ready: S's --status-fd is a pipe whose byte (or
 * EOF, when S failed) the worker waits for. The answer carries S's pid
 * and the port it listens on, found in /proc when it was picked by the
 * kernel.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "rpc: "

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>

#include "log/log.h"
#include "rpc/notify.h"
#include "rpc/proto.h"
#include "rpc/worker.h"

/* How long a page server may take to get ready. */
#define PS_READY_TIMEOUT_MS 30000

/* What S tells the worker through the info pipe. */
struct ps_info {
	pid_t pid;
	int err;       /* 0, or the negative errno S failed with */
	char msg[512]; /* its first error */
};

static bool fd_is_socket(pid_t pid, const char *fdname, unsigned long *ino)
{
	char path[320], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, fdname);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return sscanf(link, "socket:[%lu]", ino) == 1;
}

/* The port a listening TCP socket of PID is bound to, or 0. */
static int listen_port_in(pid_t pid, const char *table, const unsigned long *inos, size_t n_inos)
{
	char path[64], line[512];
	int port = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, table);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!port && fgets(line, sizeof(line), f)) {
		char local[128];
		unsigned int lport, state;
		unsigned long ino;

		if (sscanf(line, " %*d: %127[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*d %*d %lu", local, &lport, &state,
			   &ino) != 4)
			continue;
		if (state != 0x0A) /* TCP_LISTEN */
			continue;
		for (size_t i = 0; i < n_inos; i++)
			if (inos[i] == ino)
				port = lport;
	}
	fclose(f);
	return port;
}

static int listen_port(pid_t pid)
{
	unsigned long inos[64];
	size_t n = 0;
	struct dirent *de;
	char path[64];
	int port = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < sizeof(inos) / sizeof(inos[0]))
		if (de->d_name[0] != '.' && fd_is_socket(pid, de->d_name, &inos[n]))
			n++;
	closedir(d);
	if (n)
		port = listen_port_in(pid, "tcp", inos, n);
	if (n && !port)
		port = listen_port_in(pid, "tcp6", inos, n);
	return port;
}

/* In S: run the page server; never returns. */
static void ps_child(struct rpc_conn *c, const CriuReq *req, bool daemon, int ready_fd, int info_fd)
{
	static const struct opt_origin org = { .kind = OPT_ORIGIN_RPC };
	struct action_result res = { 0 };
	struct ps_info info = { 0 };
	struct rpc_req_ctx ctx;
	struct options *o = NULL;
	int ret;

	if (daemon) {
		pid_t pid;

		setsid();
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid > 0)
			_exit(0);
	}
	/* S's stdout is the client's: "Port: N" is for the command line only. */
	{
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			close(null);
		}
	}
	info.pid = getpid();
	/* First record: our pid. */
	if (write(info_fd, &info, sizeof(info)) != sizeof(info))
		_exit(1);

	rpc_req_ctx_init(&ctx);
	err_first_reset();
	ret = rpc_opts_build(&c->peer, req->opts, c->base, ACT_PAGE_SERVER, true, &ctx, &o);
	if (!ret)
		ret = opt_set_bool(o, OPT_DAEMON, false, &org);
	if (!ret)
		ret = opt_set_int(o, OPT_STATUS_FD, ready_fd, &org);
	if (!ret)
		ret = rpc_enter_dirs_and_log(&c->peer, o, true);
	if (!ret) {
		opts_log_config(o);
		notify_rpc_attach(c->sk, ctx.notify_scripts);
		ret = action_page_server(o, &res);
		if (ret > 0)
			ret = -EINVAL;
	}
	if (ret) {
		const char *msg = err_first_summary();

		info.err = ret;
		snprintf(info.msg, sizeof(info.msg), "%s", msg ? msg : strerror(-ret));
	}
	/* Second record, on failure only: why. */
	if (ret && write(info_fd, &info, sizeof(info)) < 0)
		pr_perror("Can't report to the RPC worker");
	_exit(ret ? 1 : 0);
}

/* Wait for S's ready byte; 0 when ready, else a negative errno. */
static int wait_ready(int ready_fd)
{
	struct pollfd p = { .fd = ready_fd, .events = POLLIN };
	char byte;
	int n;

	do
		n = poll(&p, 1, PS_READY_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	n = read(ready_fd, &byte, 1);
	return n == 1 ? 0 : -ECHILD;
}

int rpc_page_server(struct rpc_conn *c, const CriuReq *req, bool daemon)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;
	struct ps_info info = { 0 };
	int ready[2], infop[2];
	pid_t child;
	int ret;

	err_first_reset();
	if (pipe2(ready, O_CLOEXEC) < 0) {
		ret = -errno;
		pr_perror("Can't make the page server's status pipe");
		return rpc_reply(c, req->type, ret, NULL);
	}
	if (pipe2(infop, O_CLOEXEC) < 0) {
		ret = -errno;
		pr_perror("Can't make the page server's info pipe");
		goto err_ready;
	}
	child = fork();
	if (child < 0) {
		ret = -errno;
		pr_perror("Can't fork the page server");
		goto err_info;
	}
	if (child == 0) {
		close(ready[0]);
		close(infop[0]);
		ps_child(c, req, daemon, ready[1], infop[1]);
	}
	close(ready[1]);
	close(infop[1]);
	ready[1] = infop[1] = -1;
	if (daemon)
		waitpid(child, NULL, 0); /* the middle process of the double fork */

	if (read(infop[0], &info, sizeof(info)) != sizeof(info)) {
		ret = -ECHILD;
		pr_err("The page server process died at once");
		goto err_info;
	}
	ret = wait_ready(ready[0]);
	if (ret) {
		/* S failed: its report says why (or it died without one). */
		ssize_t n = read(infop[0], &info, sizeof(info));

		if (n == sizeof(info) && info.err) {
			close(ready[0]);
			close(infop[0]);
			return rpc_send_error(c->sk, req->type, -info.err, info.msg);
		}
		pr_err("The page server (pid %d) did not get ready: %s", (int)info.pid, strerror(-ret));
		goto err_info;
	}
	close(ready[0]);
	close(infop[0]);

	ps.has_pid = true;
	ps.pid = info.pid;
	ps.has_port = true;
	if (req->opts && req->opts->ps && req->opts->ps->has_port && req->opts->ps->port)
		ps.port = req->opts->ps->port;
	else
		ps.port = listen_port(info.pid);
	resp.ps = &ps;
	return rpc_reply(c, req->type, 0, &resp);

err_info:
	close(infop[0]);
	if (infop[1] >= 0)
		close(infop[1]);
err_ready:
	close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	return rpc_reply(c, req->type, ret, NULL);
}

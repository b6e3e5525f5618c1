// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The two RPC front ends: "criu swrk FD" serves the socket its client
 * (libcriu, pycriu) handed over; "criu service" listens on a unix
 * SOCK_SEQPACKET socket and forks a worker per connection.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "rpc: "

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>

#include "actions.h"
#include "options/options.h"
#include "rpc/daemon.h"
#include "rpc/notify.h"
#include "rpc/worker.h"

#define SERVICE_DEFAULT_ADDRESS "criu_service.socket"
#define SERVICE_BACKLOG 16

/*
 * A client may start us with 0, 1 or 2 closed (pycriu does); anything we
 * open would then land there and a stray write to "stderr" would hit it.
 */
static int fill_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		nfd = open("/dev/null", O_RDWR);
		if (nfd < 0)
			return -errno;
		if (nfd != fd) {
			/* A lower fd was free first; the loop fills them in order. */
			close(nfd);
			return -EBADF;
		}
	}
	return 0;
}

int action_swrk(struct options *o, int fd, struct action_result *res)
{
	struct stat st;
	int ret;

	(void)res;
	if (fd < 0) {
		pr_msg("Usage: criu swrk <fd>\n");
		return -EINVAL;
	}
	ret = fill_std_fds();
	if (ret) {
		pr_err("Can't fill in the standard fds: %s", strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		pr_err("swrk: fd %d is not a socket", fd);
		return -EBADF;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	ret = rpc_serve(fd, true, o);
	close(fd);
	return ret;
}

static int service_listen(const char *address)
{
	struct sockaddr_un addr = { .sun_family = AF_LOCAL };
	size_t len = strlen(address);
	int sk, ret;

	if (len >= sizeof(addr.sun_path)) {
		pr_err("The service address %s is too long", address);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, address, len);
	sk = socket(AF_LOCAL, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		ret = -errno;
		pr_perror("Can't create the service socket");
		return ret;
	}
	if (unlink(address) < 0 && errno != ENOENT) {
		ret = -errno;
		pr_perror("Can't remove the old socket %s", address);
		goto err;
	}
	if (bind(sk, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		pr_perror("Can't bind the service socket to %s", address);
		goto err;
	}
	/* Anybody may connect; each request is checked against its client. */
	if (chmod(address, 0666) < 0) {
		ret = -errno;
		pr_perror("Can't chmod the service socket %s", address);
		goto err;
	}
	if (listen(sk, SERVICE_BACKLOG) < 0) {
		ret = -errno;
		pr_perror("Can't listen on %s", address);
		goto err;
	}
	return sk;
err:
	close(sk);
	return ret;
}

/* In the worker: serve one connection and exit. */
static void service_worker(int lsk, int sk)
{
	int ret;

	close(lsk);
	/* The service ignores SIGCHLD; our own children must be waitable. */
	signal(SIGCHLD, SIG_DFL);
	ret = rpc_serve(sk, false, NULL);
	close(sk);
	_exit(ret ? 1 : 0);
}

int action_service(struct options *o, struct action_result *res)
{
	struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
	const char *address = opt_str(o, OPT_ADDRESS);
	const char *dir = opt_str(o, OPT_WORK_DIR);
	int lsk, ret, ready_fd = -1;

	(void)res;
	signal(SIGPIPE, SIG_IGN);
	if (dir && chdir(dir) < 0) {
		ret = -errno;
		pr_perror("Can't enter the work dir %s", dir);
		return ret;
	}
	if (!address) {
		address = SERVICE_DEFAULT_ADDRESS;
		pr_warn("No --address given: using %s in the work dir", address);
	}
	lsk = service_listen(address);
	if (lsk < 0)
		return lsk;
	pr_info("The service listens on %s", address);

	if (opt_bool(o, OPT_DAEMON)) {
		ret = daemon_detach(&ready_fd);
		if (ret) {
			pr_err("Can't go to the background: %s", strerror(-ret));
			goto out;
		}
	}
	if (opt_str(o, OPT_PIDFILE)) {
		ret = daemon_write_pidfile(opt_str(o, OPT_PIDFILE));
		if (ret)
			goto out;
	}
	/* Before SIGCHLD is ignored: status-ready scripts are waited for. */
	ret = daemon_status_ready(o);
	if (ret)
		goto out;
	/* Workers are reaped by the kernel: nobody waits for them. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	daemon_release_parent(&ready_fd);

	for (;;) {
		pid_t pid;
		int sk;

		sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
		if (sk < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			pr_perror("Can't accept a connection");
			/* Out of fds or memory: give the workers a moment. */
			sleep(1);
			continue;
		}
		pid = fork();
		if (pid < 0)
			pr_perror("Can't fork a worker");
		else if (pid == 0)
			service_worker(lsk, sk);
		close(sk);
	}
out:
	if (ready_fd >= 0)
		close(ready_fd);
	close(lsk);
	return ret;
}

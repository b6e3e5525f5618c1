// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stage notifications: the RPC client's NOTIFY exchange and the
 * --action-script scripts, from one call (see notify.h).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "notify: "

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>

#include "options/options.h"
#include "rpc/notify.h"
#include "rpc/proto.h"

/* One RPC connection per criu process: the worker (or its action child). */
static int rpc_sk = -1;
static bool rpc_enabled;

void notify_rpc_attach(int sk, bool enabled)
{
	rpc_sk = sk;
	rpc_enabled = sk >= 0 && enabled;
}

/* Add the client's answer to query-ext-files to --external. */
static int take_external(struct options *o, const CriuReq *ans)
{
	int ret = 0;

	if (!ans->opts)
		return 0;
	for (size_t i = 0; !ret && i < ans->opts->n_external; i++) {
		static const struct opt_origin org = { .kind = OPT_ORIGIN_RPC };

		pr_info("query-ext-files: external %s", ans->opts->external[i]);
		ret = opt_list_add(o, OPT_EXTERNAL, ans->opts->external[i], &org);
	}
	return ret;
}

static int notify_rpc(struct options *o, const char *name, pid_t pid, int fd)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify n = CRIU_NOTIFY__INIT;
	CriuReq *ans = NULL;
	int ret;

	n.script = (char *)name;
	if (pid > 0) {
		n.has_pid = true;
		n.pid = pid;
	}
	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	resp.notify = &n;

	ret = rpc_send_resp(rpc_sk, &resp, fd);
	if (ret) {
		pr_err("Can't send the %s notification", name);
		return ret;
	}
	ret = rpc_recv_req(rpc_sk, &ans);
	if (ret) {
		pr_err("No answer to the %s notification", name);
		return ret > 0 ? -ECONNRESET : ret;
	}
	if (ans->type != CRIU_REQ_TYPE__NOTIFY) {
		pr_err("The client answered the %s notification with request type %d", name, ans->type);
		ret = -EBADMSG;
	} else if (!ans->has_notify_success || !ans->notify_success) {
		pr_err("The client refused the %s notification", name);
		ret = -ECANCELED;
	} else if (o && !strcmp(name, "query-ext-files")) {
		ret = take_external(o, ans);
	}
	criu_req__free_unpacked(ans, NULL);
	return ret;
}

/* CRTOOLS_IMAGE_DIR: the images dir as an absolute path. */
static void images_dir_env(const struct options *o, char *buf, size_t size)
{
	const char *dir = o ? opt_str(o, OPT_IMAGES_DIR) : NULL;

	buf[0] = '\0';
	if (!dir)
		dir = ".";
	if (!realpath(dir, buf))
		snprintf(buf, size, "%s", dir);
}

static int run_script(const char *script, const char *name, const char *imgdir, pid_t pid)
{
	char pidbuf[16];
	int status;
	pid_t child;

	child = fork();
	if (child < 0) {
		int ret = -errno;

		pr_perror("Can't fork for the %s script %s", name, script);
		return ret;
	}
	if (child == 0) {
		setenv("CRTOOLS_SCRIPT_ACTION", name, 1);
		setenv("CRTOOLS_IMAGE_DIR", imgdir, 1);
		if (pid > 0) {
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
			setenv("CRTOOLS_INIT_PID", pidbuf, 1);
		} else {
			unsetenv("CRTOOLS_INIT_PID");
		}
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			int ret = -errno;

			pr_perror("Can't wait for the %s script %s", name, script);
			return ret;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		pr_err("Action script %s failed for %s with exit code %d", script, name, WEXITSTATUS(status));
	else
		pr_err("Action script %s was killed by signal %d during %s", script, WTERMSIG(status), name);
	return -ECANCELED;
}

int notify_event_fd(struct options *o, const char *name, pid_t pid, int fd)
{
	char imgdir[PATH_MAX];
	size_t n;
	int ret;

	pr_debug("Stage %s (pid %d)", name, (int)pid);
	if (rpc_enabled) {
		ret = notify_rpc(o, name, pid, fd);
		if (ret)
			return ret;
	}
	/* query-ext-files asks the RPC client for data: scripts can't answer. */
	n = (o && strcmp(name, "query-ext-files")) ? opt_list_len(o, OPT_ACTION_SCRIPT) : 0;
	if (!n)
		return 0;
	images_dir_env(o, imgdir, sizeof(imgdir));
	for (size_t i = 0; i < n; i++) {
		ret = run_script(opt_list_at(o, OPT_ACTION_SCRIPT, i), name, imgdir, pid);
		if (ret)
			return ret;
	}
	return 0;
}

int notify_event(struct options *o, const char *name, pid_t pid)
{
	return notify_event_fd(o, name, pid, -1);
}

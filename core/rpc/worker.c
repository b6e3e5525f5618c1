// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One RPC connection: the request loop and a handler per request type.
 *
 * As in CRIU, DUMP and RESTORE run in the worker itself (a restored tree
 * must be the worker's child, or with rst_sibling its parent's), while
 * CHECK, the pre-dumps, cpuinfo and FEATURE_CHECK run in a forked child,
 * so that nothing they change (work dir, log, caches) outlives them on a
 * keep_open connection. A child that dies without answering is answered
 * for by the worker. Nothing a client sends can end the server: bad
 * packets are answered (or the connection closed) and logged.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "rpc: "

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>

#include "config.h"
#include "check/check.h"
#include "log/log.h"
#include "plugins/plugins.h"
#include "rpc/notify.h"
#include "rpc/proto.h"
#include "rpc/sdk.h"
#include "rpc/worker.h"

static const char *req_name(CriuReqType type)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type);

	return v ? v->name : "unknown";
}

int rpc_reply(struct rpc_conn *c, CriuReqType type, int ret, CriuResp *resp)
{
	CriuResp empty = CRIU_RESP__INIT;
	const char *msg;

	if (!resp)
		resp = &empty;
	resp->type = type;
	resp->success = ret == 0;
	if (ret < 0) {
		resp->has_cr_errno = true;
		resp->cr_errno = -ret;
		msg = err_first_summary();
		resp->cr_errmsg = (char *)(msg ? msg : strerror(-ret));
	}
	return rpc_send_resp(c->sk, resp, -1);
}

/* A setup failure: EPERM and ESRCH say what happened, the rest is EBADRQC. */
static int setup_errno(int ret)
{
	return (ret == -EPERM || ret == -ESRCH || ret == -ENOTSUP) ? ret : -EBADRQC;
}

/*
 * The log file of a client without root, in a directory that client
 * controls: a symlink or a hard link planted under the log's name must
 * not make criu (root) truncate someone else's file. Open it without
 * following links, accept only a private regular file, then hand it to
 * the client.
 */
static int open_client_log(const struct rpc_peer *peer, const char *name)
{
	struct stat st;
	int fd, ret;

	fd = open(name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_perror("Can't open the log file %s", name);
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != 0 && st.st_uid != peer->uid) || (st.st_uid == 0 && st.st_size)) {
		pr_err("Log file %s is not a private file of the client", name);
		close(fd);
		return -EPERM;
	}
	if (ftruncate(fd, 0) < 0 || fchown(fd, peer->uid, peer->gid) < 0) {
		ret = -errno;
		pr_perror("Can't prepare the log file %s", name);
		close(fd);
		return ret;
	}
	log_set_fd(fd);
	return 0;
}

int rpc_enter_dirs_and_log(const struct rpc_peer *peer, struct options *o, bool need_images)
{
	const char *dir = opt_str(o, OPT_WORK_DIR);
	const char *log = opt_str(o, OPT_LOG_FILE);
	int ret;

	if (!dir && (need_images || opt_is_set(o, OPT_IMAGES_DIR)))
		dir = opt_str(o, OPT_IMAGES_DIR);
	if (dir && chdir(dir) < 0) {
		ret = -errno;
		pr_perror("Can't enter the work dir %s", dir);
		return ret;
	}
	log_set_level(opt_int(o, OPT_VERBOSITY));
	if (!log)
		return 0;
	if (!peer->privileged)
		return open_client_log(peer, log);
	ret = log_open_file(log, opt_bool(o, OPT_LOG_PID));
	if (ret)
		pr_err("Can't open the log file %s: %s", log, strerror(-ret));
	return ret;
}

int rpc_req_setup(struct rpc_conn *c, const CriuReq *req, enum action act, bool need_images, struct rpc_req_ctx *ctx,
		  struct options **o)
{
	int ret;

	err_first_reset();
	err_ctx_reset();
	err_ctx_set_stage("rpc options");
	ret = rpc_opts_build(&c->peer, req->opts, c->base, act, need_images, ctx, o);
	if (!ret) {
		ret = rpc_enter_dirs_and_log(&c->peer, *o, need_images);
		if (ret) {
			opts_free(*o);
			*o = NULL;
		}
	}
	if (ret) {
		rpc_reply(c, req->type, setup_errno(ret), NULL);
		return ret;
	}
	pr_info("RPC %s request from pid %d (uid %u)", req_name(req->type), (int)c->peer.pid, (unsigned)c->peer.uid);
	opts_log_config(*o);
	notify_rpc_attach(c->sk, ctx->notify_scripts);
	err_ctx_set_stage(NULL);
	return 0;
}

/* Run the action a request type asks for. */
static int run_action(CriuReqType type, struct options *o, struct action_result *res)
{
	switch (type) {
	case CRIU_REQ_TYPE__CHECK:
		return action_check(o, res);
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
		return action_cpuinfo_dump(o, res);
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
		return action_cpuinfo_check(o, res);
	case CRIU_REQ_TYPE__PRE_DUMP:
	case CRIU_REQ_TYPE__SINGLE_PRE_DUMP:
		return action_pre_dump(o, res);
	case CRIU_REQ_TYPE__DUMP:
		return action_dump(o, res);
	case CRIU_REQ_TYPE__RESTORE:
		return action_restore(o, res);
	default:
		return -EINVAL;
	}
}

/* Which pid does this dump act on, and may the client ask for it? */
static int dump_target(struct rpc_conn *c, struct options *o, const struct rpc_req_ctx *ctx)
{
	static const struct opt_origin org = { .kind = OPT_ORIGIN_RPC };
	pid_t pid;
	int ret;

	if (!ctx->has_pid) {
		/* No pid: the client dumps itself. */
		ret = opt_set_int(o, OPT_TREE, c->peer.pid, &org);
		if (ret)
			return ret;
	}
	pid = opt_int(o, OPT_TREE);
	err_ctx_set_task(pid, 0);
	return peer_may_act_on(&c->peer, pid);
}

/* What do_action() and run_forked() return besides a negative errno. */
#define ANSWERED_OK 0
#define ANSWERED_FAILED 1 /* the answer says success=false */

/*
 * Set up and run one action request, then answer it. Returns
 * ANSWERED_OK or ANSWERED_FAILED once the answer is sent, or a negative
 * errno when it could not be. O_OUT: when the action succeeded, keep the
 * options for the caller (restore's exec_cmd).
 */
static int do_action(struct rpc_conn *c, const CriuReq *req, enum action act, bool need_images, struct options **o_out)
{
	struct action_result res = { 0 };
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp dump = CRIU_DUMP_RESP__INIT;
	CriuRestoreResp restore = CRIU_RESTORE_RESP__INIT;
	struct rpc_req_ctx ctx;
	struct options *o = NULL;
	int ret, sent = 0;

	rpc_req_ctx_init(&ctx);
	ret = rpc_req_setup(c, req, act, need_images, &ctx, &o);
	if (ret)
		goto out; /* answered by rpc_req_setup() */

	if (act == ACT_DUMP || act == ACT_PRE_DUMP) {
		ret = dump_target(c, o, &ctx);
		if (ret)
			goto answer;
	}
	if (act == ACT_RESTORE) {
		static const struct opt_origin org = { .kind = OPT_ORIGIN_RPC };

		/* Creating tasks from images means choosing their credentials. */
		if (!c->peer.privileged) {
			pr_err("Client uid %u may not restore through the service: it needs root",
			       (unsigned)c->peer.uid);
			ret = -EPERM;
			goto answer;
		}
		/* RPC restores are always detached: the client gets the pid. */
		ret = opt_set_bool(o, OPT_RESTORE_DETACHED, true, &org);
		if (ret)
			goto answer;
	}

	/* As on the command line, only these actions use plugins. */
	if (act == ACT_DUMP || act == ACT_PRE_DUMP || act == ACT_RESTORE) {
		ret = plugins_load(o);
		if (!ret)
			ret = run_action(req->type, o, &res);
		plugins_unload();
	} else {
		ret = run_action(req->type, o, &res);
	}
	if (ret > 0)
		ret = -EINVAL; /* actions return 0 or a negative errno */
	if (req->type == CRIU_REQ_TYPE__CPUINFO_CHECK && !ret && res.cpuinfo_mismatch) {
		pr_err("The CPU does not match the one in the images");
		ret = -ENOTSUP;
	}
	if (req->type == CRIU_REQ_TYPE__DUMP) {
		dump.has_restored = true;
		dump.restored = false;
		resp.dump = &dump;
	}
	if (req->type == CRIU_REQ_TYPE__RESTORE) {
		restore.pid = ret ? -1 : res.restored_pid;
		resp.restore = &restore;
	}
answer:
	notify_rpc_attach(-1, false);
	sent = rpc_reply(c, req->type, ret, &resp);
out:
	if (o_out && !ret && !sent)
		*o_out = o;
	else
		opts_free(o);
	rpc_req_ctx_fini(&ctx);
	if (sent)
		return sent;
	return ret ? ANSWERED_FAILED : ANSWERED_OK;
}

/* FEATURE_CHECK: which of the asked features this kernel has. */
static int do_feature_check(struct rpc_conn *c, const CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuFeatures have = CRIU_FEATURES__INIT;
	const CriuFeatures *want = req->features;
	bool mem_track = false, lazy_pages = false, pidfd_store = false;
	int ret;

	err_first_reset();
	ret = check_features_rpc(want && want->has_mem_track ? &mem_track : NULL,
				 want && want->has_lazy_pages ? &lazy_pages : NULL,
				 want && want->has_pidfd_store ? &pidfd_store : NULL);
	if (ret)
		return rpc_reply(c, req->type, ret, NULL);
	/* Only what was asked is answered. */
	if (want && want->has_mem_track) {
		have.has_mem_track = true;
		have.mem_track = mem_track;
	}
	if (want && want->has_lazy_pages) {
		have.has_lazy_pages = true;
		have.lazy_pages = lazy_pages;
	}
	if (want && want->has_pidfd_store) {
		have.has_pidfd_store = true;
		have.pidfd_store = pidfd_store;
	}
	resp.type = req->type;
	resp.success = true;
	resp.features = &have;
	return rpc_send_resp(c->sk, &resp, -1);
}

static int do_version(struct rpc_conn *c, const CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuVersion v = CRIU_VERSION__INIT;

	v.major_number = CRIU_COMPAT_MAJOR;
	v.minor_number = CRIU_COMPAT_MINOR;
	/* libcriu counts a git build as the next minor (40300 for 4.2). */
	if (strcmp(CRIU_GITID, "unknown"))
		v.gitid = (char *)CRIU_GITID;
	v.name = (char *)RPC_SERVER_NAME;
	resp.type = req->type;
	resp.success = true;
	resp.version = &v;
	return rpc_send_resp(c->sk, &resp, -1);
}

static int do_wait_pid(struct rpc_conn *c, const CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	int status, ret = 0;

	err_first_reset();
	if (!req->has_pid) {
		pr_err("WAIT_PID without a pid");
		return rpc_reply(c, req->type, -EINVAL, NULL);
	}
	while (waitpid((pid_t)req->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			pr_perror("Can't wait for pid %u", req->pid);
			return rpc_reply(c, req->type, ret, NULL);
		}
	}
	resp.has_status = true;
	resp.status = status;
	return rpc_reply(c, req->type, 0, &resp);
}

/*
 * Run a handler in a forked child that answers the request itself; if
 * it dies without answering, answer for it here. Returns ANSWERED_OK,
 * ANSWERED_FAILED or a negative errno (the connection is unusable).
 */
static int run_forked(struct rpc_conn *c, const CriuReq *req, enum action act, bool need_images)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		int ret = -errno;

		pr_perror("Can't fork for the %s request", req_name(req->type));
		return rpc_reply(c, req->type, ret, NULL);
	}
	if (pid == 0) {
		int ret;

		if (req->type == CRIU_REQ_TYPE__FEATURE_CHECK)
			ret = do_feature_check(c, req);
		else
			ret = do_action(c, req, act, need_images, NULL);
		/* _exit: nothing of the worker's (atexit, stdio) must run twice. */
		_exit(ret == ANSWERED_OK ? 0 : ret == ANSWERED_FAILED ? 2 : 1);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("Can't wait for the %s child %d", req_name(req->type), (int)pid);
			return -errno;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return ANSWERED_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return ANSWERED_FAILED;
	if (WIFSIGNALED(status)) {
		char msg[128];

		/* The child died before it could answer: say so. */
		snprintf(msg, sizeof(msg), "criu's %s worker was killed by signal %d", req_name(req->type),
			 WTERMSIG(status));
		pr_err("%s", msg);
		return rpc_send_error(c->sk, req->type, EINTR, msg) ?: ANSWERED_FAILED;
	}
	return -ECOMM; /* it could not answer: the connection is gone */
}

/* After a successful restore: exec the client's command (exec_cmd). */
static void exec_after_restore(struct options *o)
{
	size_t n = opt_list_len(o, OPT_EXEC_CMD);
	char **argv;
	int logfd;

	if (!n)
		return;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return;
	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)opt_list_at(o, OPT_EXEC_CMD, i);
	/* Its output goes where criu's log goes. */
	logfd = log_get_fd();
	if (logfd >= 0 && logfd != STDOUT_FILENO)
		dup2(logfd, STDOUT_FILENO);
	if (logfd >= 0 && logfd != STDERR_FILENO)
		dup2(logfd, STDERR_FILENO);
	pr_info("Executing %s after restore", argv[0]);
	execvp(argv[0], argv);
	pr_perror("Can't exec %s after restore", argv[0]);
	free(argv);
}

/*
 * PRE_DUMP: one answer per PRE_DUMP, all on this connection, until the
 * client ends the series with DUMP. Anything else breaks the sequence.
 */
static int do_pre_dump_series(struct rpc_conn *c, CriuReq *first)
{
	CriuReq *req = first;
	int ret;

	for (;;) {
		ret = run_forked(c, req, ACT_PRE_DUMP, true);
		if (req != first)
			criu_req__free_unpacked(req, NULL);
		req = NULL;
		/* A failed pre-dump ends the series, as in CRIU. */
		if (ret)
			return ret < 0 ? ret : 0;

		ret = rpc_recv_req(c->sk, &req);
		if (ret)
			return ret > 0 ? 0 : ret;
		if (req->type == CRIU_REQ_TYPE__DUMP) {
			ret = do_action(c, req, ACT_DUMP, true, NULL);
			criu_req__free_unpacked(req, NULL);
			return ret < 0 ? ret : 0;
		}
		if (req->type != CRIU_REQ_TYPE__PRE_DUMP) {
			err_first_reset();
			pr_err("Bad req seq: %s after PRE_DUMP", req_name(req->type));
			rpc_reply(c, CRIU_REQ_TYPE__EMPTY, -EBADRQC, NULL);
			criu_req__free_unpacked(req, NULL);
			return -EBADRQC;
		}
	}
}

static bool keep_open_allowed(CriuReqType type)
{
	switch (type) {
	case CRIU_REQ_TYPE__PAGE_SERVER:
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
	case CRIU_REQ_TYPE__FEATURE_CHECK:
	case CRIU_REQ_TYPE__VERSION:
		return true;
	default:
		return false;
	}
}

/* Serve one request: 0, or a negative errno when the connection broke. */
static int serve_one_type(struct rpc_conn *c, CriuReq *req)
{
	struct options *o = NULL;
	int ret;

	switch (req->type) {
	case CRIU_REQ_TYPE__VERSION:
		return do_version(c, req);
	case CRIU_REQ_TYPE__FEATURE_CHECK:
		return run_forked(c, req, ACT_CHECK, false);
	case CRIU_REQ_TYPE__CHECK:
		return run_forked(c, req, ACT_CHECK, false);
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
		return run_forked(c, req, ACT_CPUINFO_DUMP, true);
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
		return run_forked(c, req, ACT_CPUINFO_CHECK, true);
	case CRIU_REQ_TYPE__SINGLE_PRE_DUMP:
		return run_forked(c, req, ACT_PRE_DUMP, true);
	case CRIU_REQ_TYPE__PRE_DUMP:
		return do_pre_dump_series(c, req);
	case CRIU_REQ_TYPE__DUMP:
		return do_action(c, req, ACT_DUMP, true, NULL);
	case CRIU_REQ_TYPE__RESTORE:
		ret = do_action(c, req, ACT_RESTORE, true, &o);
		if (o)
			exec_after_restore(o);
		opts_free(o);
		return ret;
	case CRIU_REQ_TYPE__PAGE_SERVER:
		return rpc_page_server(c, req, true);
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
		return rpc_page_server(c, req, false);
	case CRIU_REQ_TYPE__WAIT_PID:
		return do_wait_pid(c, req);
	default:
		err_first_reset();
		pr_err("Unknown request type %d from pid %d", (int)req->type, (int)c->peer.pid);
		rpc_send_error(c->sk, CRIU_REQ_TYPE__EMPTY, EINVAL, err_first_summary());
		return 0;
	}
}

static int serve_one(struct rpc_conn *c, CriuReq *req)
{
	int ret = serve_one_type(c, req);

	return ret < 0 ? ret : 0; /* a failed action was answered: go on */
}

int rpc_serve(int sk, bool swrk, const struct options *base)
{
	struct rpc_conn c = { .sk = sk, .base = base };
	CriuReq *req;
	int ret;

	ret = peer_get(sk, swrk, &c.peer);
	if (!ret)
		ret = rpc_sdk_set_service_sk(sk);
	if (ret)
		return ret;
	pr_debug("Serving pid %d (uid %u) on socket %d", (int)c.peer.pid, (unsigned)c.peer.uid, sk);

	for (;;) {
		bool keep;

		err_first_reset();
		req = NULL;
		ret = rpc_recv_req(sk, &req);
		if (ret == 1)
			return 0; /* the client is done */
		if (ret < 0) {
			/* Answer what we can, then drop the connection: we lost sync. */
			rpc_send_error(sk, CRIU_REQ_TYPE__EMPTY, -ret, err_first_summary());
			return ret == -EMSGSIZE || ret == -EBADMSG ? 0 : ret;
		}

		keep = req->has_keep_open && req->keep_open;
		if (keep && !keep_open_allowed(req->type)) {
			pr_err("keep_open is not allowed for %s requests: dropped", req_name(req->type));
			criu_req__free_unpacked(req, NULL);
			return 0;
		}
		ret = serve_one(&c, req);
		criu_req__free_unpacked(req, NULL);
		if (ret || !keep)
			return ret == -EPIPE || ret == -ECONNRESET ? 0 : ret;
	}
}

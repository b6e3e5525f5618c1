// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcriu actions: one criu_req each (criu_dump_iters: a PRE_DUMP series
 * ended by a DUMP on one connection). Each sets errno to criu's cr_errno
 * (or 0) on return; see criu.h for the return values.
 */
#include <errno.h>
#include <string.h>

#include "libcriu-priv.h"

/* Finish an action call: free the answer and publish cr_errno. */
static int finish(CriuResp *resp, int ret)
{
	if (resp)
		criu_resp__free_unpacked(resp, NULL);
	errno = lc_saved_errno;
	return ret;
}

CRIU_EXPORT int criu_local_check(criu_opts *opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	lc_saved_errno = 0;
	if (!opts)
		return finish(NULL, -EINVAL);
	/* Like CRIU's library, CHECK carries no options. */
	req.type = CRIU_REQ_TYPE__CHECK;
	ret = lc_call(opts, &req, &resp);
	if (!ret)
		ret = resp->success ? 0 : -EBADE;
	return finish(resp, ret);
}

static int do_dump(criu_opts *opts, bool pre_dump)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	lc_saved_errno = 0;
	if (!opts)
		return finish(NULL, -EINVAL);
	req.type = pre_dump ? CRIU_REQ_TYPE__SINGLE_PRE_DUMP : CRIU_REQ_TYPE__DUMP;
	req.opts = opts->rpc;
	ret = lc_call(opts, &req, &resp);
	if (!ret) {
		if (!resp->success)
			ret = -EBADE;
		else if (!pre_dump && resp->dump && resp->dump->has_restored && resp->dump->restored)
			ret = 1; /* we are the restored copy of a self-dump */
	}
	return finish(resp, ret);
}

CRIU_EXPORT int criu_local_dump(criu_opts *opts)
{
	return do_dump(opts, false);
}

CRIU_EXPORT int criu_local_pre_dump(criu_opts *opts)
{
	return do_dump(opts, true);
}

CRIU_EXPORT int criu_local_dump_iters(criu_opts *opts, int (*more)(criu_predump_info pi))
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int fd, ret, uret;

	lc_saved_errno = 0;
	/* An iterative self-dump is not supported, nor a missing callback. */
	if (!opts || !more || !opts->rpc->has_pid)
		return finish(NULL, -EINVAL);

	fd = lc_connect(opts, false);
	if (fd < 0)
		return finish(NULL, -ECONNREFUSED);

	req.opts = opts->rpc;
	req.type = CRIU_REQ_TYPE__PRE_DUMP;
	for (;;) {
		ret = lc_transact(opts, fd, &req, &resp);
		if (ret)
			goto out;
		if (!resp->success) {
			ret = -EBADE;
			goto out;
		}
		criu_resp__free_unpacked(resp, NULL);
		resp = NULL;

		uret = more(NULL);
		if (uret < 0) {
			ret = uret;
			goto out;
		}
		if (uret == 0)
			break;
	}

	req.type = CRIU_REQ_TYPE__DUMP;
	ret = lc_transact(opts, fd, &req, &resp);
	if (!ret)
		ret = resp->success ? 0 : -EBADE;
out:
	lc_disconnect(opts, fd);
	return finish(resp, ret);
}

CRIU_EXPORT int criu_local_restore(criu_opts *opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	lc_saved_errno = 0;
	if (!opts)
		return finish(NULL, -EINVAL);
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = opts->rpc;
	ret = lc_call(opts, &req, &resp);
	if (!ret) {
		if (resp->success && resp->restore)
			ret = resp->restore->pid;
		else
			ret = resp->success ? -EBADMSG : -EBADE;
	}
	return finish(resp, ret);
}

/*
 * The restored root becomes our child: criu must run as our child too,
 * so this always uses swrk, with the default binary if the options name
 * a service socket or fd (as CRIU's library does).
 */
CRIU_EXPORT int criu_local_restore_child(criu_opts *opts)
{
	enum criu_service_comm saved_comm;
	char *saved_binary;
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	bool saved_has, saved_val;
	int fd, ret;

	lc_saved_errno = 0;
	if (!opts)
		return finish(NULL, -EINVAL);

	saved_comm = opts->service_comm;
	saved_binary = opts->service_binary;
	if (saved_comm != CRIU_COMM_BIN || !saved_binary) {
		opts->service_comm = CRIU_COMM_BIN;
		opts->service_binary = (char *)LC_DEFAULT_BINARY;
	}
	fd = lc_connect(opts, false);
	opts->service_comm = saved_comm;
	opts->service_binary = saved_binary;
	if (fd < 0)
		return finish(NULL, -ECONNREFUSED);

	saved_has = opts->rpc->has_rst_sibling;
	saved_val = opts->rpc->rst_sibling;
	opts->rpc->has_rst_sibling = true;
	opts->rpc->rst_sibling = true;
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = opts->rpc;
	ret = lc_transact(opts, fd, &req, &resp);
	opts->rpc->has_rst_sibling = saved_has;
	opts->rpc->rst_sibling = saved_val;

	/* lc_disconnect reaps the swrk child we forked, whatever the mode. */
	saved_comm = opts->service_comm;
	opts->service_comm = CRIU_COMM_BIN;
	lc_disconnect(opts, fd);
	opts->service_comm = saved_comm;

	if (!ret) {
		if (resp->success && resp->restore)
			ret = resp->restore->pid;
		else
			ret = resp->success ? -EBADMSG : -EBADE;
	}
	return finish(resp, ret);
}

CRIU_EXPORT int criu_local_get_version(criu_opts *opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	lc_saved_errno = 0;
	if (!opts)
		return finish(NULL, -EINVAL);
	req.type = CRIU_REQ_TYPE__VERSION;
	req.opts = opts->rpc;
	ret = lc_call(opts, &req, &resp);
	if (ret)
		return finish(resp, ret);
	if (!resp->success || !resp->version)
		return finish(resp, -EBADE);

	ret = resp->version->major_number * 10000 + resp->version->minor_number * 100;
	if (resp->version->has_sublevel)
		ret += resp->version->sublevel;
	/* A build from git counts as the next minor release (runc's rule). */
	if (resp->version->gitid) {
		ret -= ret % 100;
		ret += 100;
	}
	return finish(resp, ret);
}

CRIU_EXPORT int criu_local_check_version(criu_opts *opts, int minimum)
{
	int version = criu_local_get_version(opts);

	if (version < 0)
		return version;
	return version >= minimum ? 1 : 0;
}

CRIU_EXPORT int criu_local_feature_check(criu_opts *opts, struct criu_feature_check *features, size_t size)
{
	struct criu_feature_check want = { 0 };
	CriuFeatures asked = CRIU_FEATURES__INIT;
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp = NULL;
	int ret;

	lc_saved_errno = 0;
	/* A shorter struct from an older caller is fine, a longer one is not. */
	if (!opts || !features || size > sizeof(want))
		return finish(NULL, -EINVAL);
	memcpy(&want, features, size);

	if (want.mem_track)
		asked.has_mem_track = asked.mem_track = true;
	if (want.lazy_pages)
		asked.has_lazy_pages = asked.lazy_pages = true;
	if (want.pidfd_store)
		asked.has_pidfd_store = asked.pidfd_store = true;

	req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	req.opts = opts->rpc;
	req.features = &asked;
	ret = lc_call(opts, &req, &resp);
	if (ret)
		return finish(resp, ret);
	if (!resp->success)
		return finish(resp, -EBADE);

	memset(&want, 0, sizeof(want));
	if (resp->features) {
		want.mem_track = resp->features->has_mem_track && resp->features->mem_track;
		want.lazy_pages = resp->features->has_lazy_pages && resp->features->lazy_pages;
		want.pidfd_store = resp->features->has_pidfd_store && resp->features->pidfd_store;
	}
	memcpy(features, &want, size);
	return finish(resp, 0);
}

/* The global twins */

CRIU_EXPORT int criu_check(void)
{
	return criu_local_check(lc_global());
}

CRIU_EXPORT int criu_dump(void)
{
	return criu_local_dump(lc_global());
}

CRIU_EXPORT int criu_pre_dump(void)
{
	return criu_local_pre_dump(lc_global());
}

CRIU_EXPORT int criu_dump_iters(int (*more)(criu_predump_info pi))
{
	return criu_local_dump_iters(lc_global(), more);
}

CRIU_EXPORT int criu_restore(void)
{
	return criu_local_restore(lc_global());
}

CRIU_EXPORT int criu_restore_child(void)
{
	return criu_local_restore_child(lc_global());
}

CRIU_EXPORT int criu_get_version(void)
{
	return criu_local_get_version(lc_global());
}

CRIU_EXPORT int criu_check_version(int minimum)
{
	return criu_local_check_version(lc_global(), minimum);
}

CRIU_EXPORT int criu_feature_check(struct criu_feature_check *features, size_t size)
{
	return criu_local_feature_check(lc_global(), features, size);
}

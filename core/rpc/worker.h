/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serving one RPC connection: read criu_req packets, run each request,
 * answer with criu_resp. Used by "criu swrk FD" (the inherited socket)
 * and by each forked worker of "criu service".
 */
#ifndef CORE_RPC_WORKER_H
#define CORE_RPC_WORKER_H

#include <stdbool.h>

#include "actions.h"
#include "options/options.h"
#include "rpc.pb-c.h"
#include "rpc/peer.h"
#include "rpc/rpc-opts.h"

/* The name VERSION answers carry. */
#define RPC_SERVER_NAME "criu-plugin-edition"

struct rpc_conn {
	int sk;
	struct rpc_peer peer;
	/* swrk: the options criu swrk started with; service: NULL. */
	const struct options *base;
};

/*
 * Serve SK until the client closes it or sends a request without
 * keep_open. SWRK: criu was started by the client (swrk-only options are
 * allowed). Returns 0, or a negative errno when the connection failed;
 * a failed request is answered, not returned.
 */
int rpc_serve(int sk, bool swrk, const struct options *base);

/*
 * Prepare one request's options (rpc_opts_build), enter the work dir,
 * open the log and log the effective configuration, attach
 * notifications. On failure the error answer of TYPE has been sent and
 * a negative errno is returned.
 */
int rpc_req_setup(struct rpc_conn *c, const CriuReq *req, enum action act, bool need_images, struct rpc_req_ctx *ctx,
		  struct options **o);

/*
 * Enter the request's work dir (default: the images dir) and open its
 * log there. A client without root gets a log file criu opened safely
 * for it (no links followed) and owns. Returns 0 or a negative errno.
 */
int rpc_enter_dirs_and_log(const struct rpc_peer *peer, struct options *o, bool need_images);

/*
 * Answer a request of TYPE whose action returned RET (0 or a negative
 * errno): success, and on failure cr_errno and cr_errmsg (the first error
 * logged). RESP may carry the type-specific part; NULL for none.
 */
int rpc_reply(struct rpc_conn *c, CriuReqType type, int ret, CriuResp *resp);

/* PAGE_SERVER (daemon) and PAGE_SERVER_CHLD (a child of this worker). */
int rpc_page_server(struct rpc_conn *c, const CriuReq *req, bool daemon);

#endif /* CORE_RPC_WORKER_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Turning a criu_req's criu_opts into a struct options.
 *
 * There is no mapping table here: the one option table
 * (core/options/options.def) says which criu_opts field each option
 * comes from (rpc_field), and the protobuf-c field descriptor says how
 * to read it. Fields whose meaning differs from a plain value (client fds,
 * page-server info, structured lists, enums whose numbers differ, the
 * config file) have a converter of their own.
 */
#ifndef CORE_RPC_RPC_OPTS_H
#define CORE_RPC_RPC_OPTS_H

#include <stdbool.h>

#include "options/options.h"
#include "rpc.pb-c.h"
#include "rpc/peer.h"

#define RPC_MAX_HELD_FDS 4

/* What a request carries besides option values. */
struct rpc_req_ctx {
	bool notify_scripts;	    /* criu_opts.notify_scripts */
	bool has_pid;		    /* criu_opts.pid was given */
	int held[RPC_MAX_HELD_FDS]; /* fds opened for the client (images dir, ...) */
	int n_held;
};

void rpc_req_ctx_init(struct rpc_req_ctx *ctx);
/* Close what rpc_opts_build() opened. */
void rpc_req_ctx_fini(struct rpc_req_ctx *ctx);

/*
 * Build the options of one request for action ACT. BASE (may be NULL)
 * holds values that apply under the request's (criu swrk keeps what its
 * own command line and config files said; a service worker starts from
 * the defaults). RO may be NULL (no opts). NEED_IMAGES: the action needs
 * an images directory.
 *
 * Order: defaults, BASE, the criu_opts fields, then criu_opts.config_file,
 * which overrides them. A client without root may not use options that
 * reach beyond what it owns: those fail with -EPERM.
 *
 * Returns 0 and *OUT (free with opts_free), or a negative errno after
 * logging the reason with pr_err (the first error becomes cr_errmsg).
 */
int rpc_opts_build(const struct rpc_peer *peer, const CriuOpts *ro, const struct options *base, enum action act,
		   bool need_images, struct rpc_req_ctx *ctx, struct options **out);

/* Copy every value of SRC that is not a default into DST, keeping origins. */
int rpc_opts_inherit(struct options *dst, const struct options *src);

#endif /* CORE_RPC_RPC_OPTS_H */

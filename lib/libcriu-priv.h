/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to libcriu: the options object behind the opaque criu_opts, and
 * the transport shared by the action calls. Nothing here is installed.
 */
#ifndef LIBCRIU_PRIV_H
#define LIBCRIU_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "criu.h"

/* Everything public is marked; the rest is hidden by -fvisibility=hidden. */
#define CRIU_EXPORT __attribute__((visibility("default")))

/* The default binary for CRIU_COMM_BIN, found through PATH. */
#define LC_DEFAULT_BINARY "criu"
/* The default service socket for CRIU_COMM_SK with a NULL address. */
#define LC_DEFAULT_ADDRESS "./criu_service.socket"
/* Answers bigger than this are refused (criu's are a few hundred bytes). */
#define LC_MAX_PACKET (8u << 20)

struct criu_opts {
	CriuOpts *rpc; /* what goes into criu_req.opts */
	int (*notify)(char *action, criu_notify_arg_t na);
	enum criu_service_comm service_comm;
	char *service_address; /* CRIU_COMM_SK */
	int service_fd;	       /* CRIU_COMM_FD */
	char *service_binary;  /* CRIU_COMM_BIN */
	pid_t swrk_pid;	       /* the "criu swrk" of the current call */
	pid_t spawn_pid;       /* the child we forked (differs when daemonized) */
};

/* The options the criu_X() calls use; created on first use if needed. */
criu_opts *lc_global(void);

/* cr_errno of the last answer, for errno on return (0 if none). */
extern int lc_saved_errno;

/*
 * Reach criu as OPTS says. DAEMONIZE detaches the swrk child from the
 * caller (a self-dump must not find criu in the tree it dumps).
 * Returns the socket or a negative errno (-ECONNREFUSED and the like).
 */
int lc_connect(criu_opts *opts, bool daemonize);
/* Close the socket (not a CRIU_COMM_FD one twice) and reap the swrk child. */
void lc_disconnect(criu_opts *opts, int fd);
/*
 * Send REQ and wait for the answer of the same type, answering any
 * notifications on the way with OPTS's callback. On 0, *RESP is the
 * answer (free with criu_resp__free_unpacked); it may also be set when a
 * negative value says the answer was not the expected one.
 */
int lc_transact(criu_opts *opts, int fd, CriuReq *req, CriuResp **resp);
/* lc_connect + lc_transact + lc_disconnect. */
int lc_call(criu_opts *opts, CriuReq *req, CriuResp **resp);

/* The fd received with the last orphan-pts-master notification, or -1. */
extern int lc_orphan_pts_master_fd;

#endif /* LIBCRIU_PRIV_H */

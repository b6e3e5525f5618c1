/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The RPC wire: one protobuf message per SOCK_SEQPACKET packet, no length
 * prefix, no magic. criu_req from the client, criu_resp back.
 */
#ifndef CORE_RPC_PROTO_H
#define CORE_RPC_PROTO_H

#include "rpc.pb-c.h"

/*
 * The biggest request we read; a bigger one is discarded with an error.
 * (A unix SEQPACKET packet cannot be much bigger than 500 KiB anyway;
 * the environment variable CRIU_RPC_MAX_REQ lowers the limit so that
 * tests reach this path.)
 */
#define RPC_MAX_REQ_SIZE (8u << 20)

/*
 * Read one request. Returns 0 and *REQ (free with criu_req__free_unpacked),
 * 1 when the client closed the connection, -EMSGSIZE when the packet was
 * bigger than the limit, -EBADMSG when it was not a criu_req (both
 * discarded and logged), or another negative errno.
 */
int rpc_recv_req(int sk, CriuReq **req);

/*
 * Send RESP; with FD >= 0, also pass FD (SCM_RIGHTS). Never raises
 * SIGPIPE. Returns 0 or a negative errno.
 */
int rpc_send_resp(int sk, const CriuResp *resp, int fd);

/*
 * Send an error answer of TYPE: success=false, cr_errno ERR (if non-zero)
 * and cr_errmsg MSG (if not NULL). Returns what rpc_send_resp returns.
 */
int rpc_send_error(int sk, CriuReqType type, int err, const char *msg);

#endif /* CORE_RPC_PROTO_H */

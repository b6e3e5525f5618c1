/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core side of the RPC part of the plugin SDK (core/rpc/sdk.c).
 */
#ifndef CORE_RPC_SDK_H
#define CORE_RPC_SDK_H

/*
 * Remember SK (the socket of the RPC connection being served; -1: none)
 * so that cp_rpc_service_sk_ino() can name it. Returns 0 or a negative errno.
 */
int rpc_sdk_set_service_sk(int sk);

#endif /* CORE_RPC_SDK_H */
